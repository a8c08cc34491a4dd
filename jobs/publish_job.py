"""`c2c publish`, and the publish step of `c2c run`: build the public dashboard in `paths.site`
(default `<var>/site/`) from the published tables in its `data/` folder (written by the gold step).
The step runs last in every `c2c run`, so `make run` leaves the site built."""

from __future__ import annotations

import time
from pathlib import Path

from jobs.layer import LayerReport, RunContext
from lakehouse.geo import has_topology, load_topology
from lakehouse.gold.catalog import load_catalog
from lakehouse.gold.cohorts import COHORTS
from lakehouse.gold.outcomes import OUTCOMES
from lakehouse.settings import Settings
from lakehouse.site import SiteBuild, build_site


def data_dir(settings: Settings) -> Path:
    return settings.site_dir / "data"


def build(settings: Settings, *, out: str | Path | None = None) -> SiteBuild:
    """Build the site in `out` (default `paths.site`); the catalog gives the minimum cell size the
    published counts are checked against and the order of the breakdowns, and `conf/geo/` the
    county shapes of the map (a state without them gets no map)."""
    catalog = load_catalog(settings.conf_dir, cohorts=COHORTS, outcomes=OUTCOMES)
    order = [b for mart in catalog.marts for b in mart.breakdowns]
    return build_site(
        data_dir(settings),
        Path(out) if out else settings.site_dir,
        min_cell_size=catalog.min_cell_size,
        breakdown_order=list(dict.fromkeys(order)),
        counties=load_topology(settings.conf_dir) if has_topology(settings.conf_dir) else None,
    )


def build_if_published(settings: Settings) -> SiteBuild | None:
    """The site, or None when gold published nothing (every mart skipped): the run still succeeded."""
    folder = data_dir(settings)
    if not (folder.is_dir() and any(folder.glob("*.csv"))):
        return None
    return build(settings)


def run(ctx: RunContext) -> LayerReport:
    """The site built from the published tables; not built (and the run still succeeds) when gold
    has published none."""
    started = time.perf_counter()
    site = build_if_published(ctx.settings)
    timings = {"publish": round(time.perf_counter() - started, 3)}
    if site is None:
        return LayerReport(
            "publish", {"site": None}, "not built: gold published no tables", ran=False, timings_s=timings
        )
    return LayerReport(
        "publish",
        {"site": str(site.index), "tables": site.tables, "marts": list(site.marts)},
        f"site built from {site.tables} published tables",
        timings_s=timings,
    )


def main(settings: Settings, *, out: str | None = None) -> int:
    site = build(settings, out=out)
    print(f"site built from {site.tables} published tables ({', '.join(site.marts)})")
    print(f"  site:    {site.index.resolve()}")
    print(f"  open:    {site.index.resolve().as_uri()}  (from disk, or copy the folder to any static host)")
    return 0
