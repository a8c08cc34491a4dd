"""The public static dashboard, built from the published (suppressed) tables only.

`published` reads and checks `<var>/site/data/*.csv` and their sidecars, `payload` regroups them for
the page, `build` writes `index.html`, `assets/` and `data/`. The page itself (static/) is
hand-written HTML, CSS and JavaScript with SVG charts: it opens from disk or any static host and
reaches nothing on the network.
"""

from lakehouse.site.build import SiteBuild, build_site
from lakehouse.site.published import NoPublishedTablesError, SiteError

__all__ = ["NoPublishedTablesError", "SiteBuild", "SiteError", "build_site"]
