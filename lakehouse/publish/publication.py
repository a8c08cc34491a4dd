"""What gold publishes, as one object: every mart's cells suppressed once, masked once, and written
from the same frame to the Delta table gold.published_cells and to the CSV files of the site.

`Publication.of` suppresses each mart's computed cells (lakehouse.privacy.suppress) without auditing
them: the gold gate audits the flags this object holds (the audit needs the true counts behind them),
and both outputs are written from its masked frame, where a suppressed count or value is blank (null)
with its flag set; the CSV writer prints the flag as the word `suppressed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lakehouse.gold.catalog import Catalog, Mart
from lakehouse.gold.marts import mart_relations
from lakehouse.privacy import suppress
from lakehouse.privacy.cells import Relation
from lakehouse.publish.tables import write_mart

# Each measure and the flag that hides it.
MASKS = (
    ("denominator", "denominator_suppressed"),
    ("numerator", "numerator_suppressed"),
    ("value", "value_suppressed"),
    ("value_real", "value_suppressed"),
)


@dataclass(frozen=True)
class MartPublication:
    mart: Mart
    cells: pd.DataFrame  # every cell as computed: gold.metric_cells, never published
    flagged: pd.DataFrame  # the cells with their suppression flags: what the gate audits
    published: pd.DataFrame  # `flagged` masked: gold.published_cells and the CSV files
    cohort_sizes: dict[int, int]
    match_rate: float

    @property
    def relations(self) -> list[Relation]:
        return mart_relations(self.mart)


@dataclass(frozen=True)
class Publication:
    catalog: Catalog
    vintage: int
    marts: dict[str, MartPublication]

    @classmethod
    def of(cls, catalog: Catalog, vintage: int, marts: dict[str, dict]) -> Publication:
        """`marts`: per mart name, its `mart`, computed `cells`, `cohort_sizes` and `match_rate`."""
        published = {}
        for name, m in marts.items():
            flagged = suppress(
                m["cells"],
                threshold=catalog.min_cell_size,
                relations=mart_relations(m["mart"]),
                audited=False,
            )
            published[name] = MartPublication(
                mart=m["mart"],
                cells=m["cells"],
                flagged=flagged,
                published=mask(flagged),
                cohort_sizes=m["cohort_sizes"],
                match_rate=m["match_rate"],
            )
        return cls(catalog=catalog, vintage=vintage, marts=published)

    def metric_cells(self) -> list[pd.DataFrame]:
        return [m.cells for m in self.marts.values()]

    def published_cells(self) -> list[pd.DataFrame]:
        return [m.published for m in self.marts.values()]

    def write_files(self, folder: Path, *, run_id: str) -> list[Path]:
        """Every mart's CSV tables and JSON sidecars in `folder`, from the masked cells."""
        files = []
        for m in self.marts.values():
            files += write_mart(
                m.published,
                m.mart,
                self.catalog,
                folder,
                vintage=self.vintage,
                match_rate=m.match_rate,
                run_id=run_id,
            )
        return files


def mask(flagged: pd.DataFrame) -> pd.DataFrame:
    """The suppressed cells' counts and values blanked (null), flags kept."""
    out = flagged.copy()
    for field, flag in MASKS:
        if field in out.columns:
            out[field] = out[field].where(~out[flag].astype(bool))
    return out
