"""What gold publishes, as one object: every mart's cells suppressed once, masked once, and written
from the same frame to the Delta table gold.published_cells and to the CSV files of the site.

`Publication.of` suppresses each mart's computed cells (lakehouse.privacy.suppress) without auditing
them: the gold gate audits the flags this object holds (the audit needs the true counts behind them),
and both outputs are written from its masked frame, where a suppressed count or value is blank (null)
with its flag set; the CSV writer prints the flag as the word `suppressed`.

With pooled cohorts (lakehouse/gold/pooling.py), a mart's per-year cells and its pooled cells are
suppressed and audited as one table, since a reader holds both (a pooled count is the sum of its
years). Unless the catalog asks for `yearly_breakdowns`, the breakdowns are published pooled only and
the per-year tables are statewide: the per-year counts of a group are then never published, which
keeps every piece the audit solves as small as one cohort's (lakehouse/privacy/pools.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lakehouse.gold.catalog import Catalog, Mart
from lakehouse.gold.marts import mart_relations
from lakehouse.gold.pooling import is_pooled
from lakehouse.privacy import audit, suppress
from lakehouse.privacy.cells import Relation
from lakehouse.privacy.pools import pool_years
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
    flagged: pd.DataFrame  # the cells published, with their suppression flags: what the gate audits
    published: pd.DataFrame  # `flagged` masked: gold.published_cells and the CSV files
    cohort_sizes: dict[int, int]
    match_rate: float
    pooled_cells: pd.DataFrame | None = None  # every pooled cell as computed (cohort_year a label)
    pooling_note: str = ""  # why pooled cohorts are not published, when the catalog asks for them

    @property
    def yearly(self) -> pd.DataFrame:
        """The published per-year cells, `cohort_year` a year."""
        if self.pooled_cells is None:
            return self.published
        part = self.published[~is_pooled(self.published)]
        return part.assign(cohort_year=part["cohort_year"].astype("int64"))

    @property
    def pooled(self) -> pd.DataFrame:
        """The published pooled cells, with `cohort` (the label), `first_year` and `last_year`."""
        if self.pooled_cells is None:
            return self.published.iloc[0:0].assign(cohort="", first_year=0, last_year=0)
        return with_pool_columns(self.published[is_pooled(self.published)])

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
        """`marts`: per mart name, its `mart`, computed `cells`, `cohort_sizes` and `match_rate`, and
        its `pooled` cells when the catalog pools cohorts."""
        published = {}
        for name, m in marts.items():
            options = dict(threshold=catalog.min_cell_size, relations=mart_relations(m["mart"]))
            pooled, note = m.get("pooled"), ""
            if pooled is not None:
                joint = _in_key_order(
                    joint_cells(m["cells"], pooled, yearly_breakdowns=catalog.yearly_breakdowns)
                )
                flagged = suppress(joint, **options, audited=False)
                problems = audit(flagged, **options)
                if problems:
                    # Some count would follow from the mart's identities alone once its years are
                    # pooled (a blank, i.e. nobody, in a related metric gives a small difference
                    # away): publish this mart per year only, as without pooling.
                    pooled, note = (
                        None,
                        f"pooled cohorts not published: {len(problems)} count(s) the pools give away",
                    )
            if pooled is None:
                flagged = suppress(_in_key_order(m["cells"]), **options, audited=False)
            published[name] = MartPublication(
                mart=m["mart"],
                cells=m["cells"],
                flagged=flagged,
                published=mask(flagged),
                cohort_sizes=m["cohort_sizes"],
                match_rate=m["match_rate"],
                pooled_cells=pooled,
                pooling_note=note,
            )
        return cls(catalog=catalog, vintage=vintage, marts=published)

    def metric_cells(self) -> list[pd.DataFrame]:
        return [m.cells for m in self.marts.values()]

    def pooled_metric_cells(self) -> list[pd.DataFrame]:
        return [with_pool_columns(m.pooled_cells) for m in self.marts.values() if m.pooled_cells is not None]

    def published_cells(self) -> list[pd.DataFrame]:
        return [m.yearly for m in self.marts.values()]

    def published_pooled_cells(self) -> list[pd.DataFrame]:
        return [m.pooled for m in self.marts.values() if m.pooled_cells is not None]

    def write_files(self, folder: Path, *, run_id: str) -> list[Path]:
        """Every mart's CSV tables and JSON sidecars in `folder`, from the masked cells."""
        files = []
        for m in self.marts.values():
            common = dict(vintage=self.vintage, match_rate=m.match_rate, run_id=run_id)
            pooling = m.pooled_cells is not None
            yearly = m.mart.breakdowns if self.catalog.yearly_breakdowns or not pooling else ()
            files += write_mart(m.yearly, m.mart, self.catalog, folder, breakdowns=yearly, **common)
            if pooling:
                files += write_mart(m.pooled, m.mart, self.catalog, folder, pooled=True, **common)
        return files


def _in_key_order(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells sorted by their keys: Spark hands them over in no set order, and the suppressor breaks
    ties by row order, so an unsorted frame could suppress differently on the same data."""
    return cells.sort_values(["metric", "cohort_year", "dimension", "group"], kind="stable").reset_index(
        drop=True
    )


def joint_cells(cells: pd.DataFrame, pooled: pd.DataFrame | None, *, yearly_breakdowns: bool) -> pd.DataFrame:
    """The cells to publish as one table for disclosure control: the per-year cells (only the
    statewide ones unless `yearly_breakdowns`) and the pooled cells, `cohort_year` as text (a year
    or a pool's label). Without pooled cells, the per-year cells as they are."""
    if pooled is None:
        return cells
    yearly = cells if yearly_breakdowns else cells[cells["dimension"] == "statewide"]
    yearly = yearly.assign(cohort_year=yearly["cohort_year"].astype("int64").astype(str))
    pooled = pooled.assign(cohort_year=pooled["cohort_year"].astype(str))
    return pd.concat([yearly, pooled], ignore_index=True)


def with_pool_columns(cells: pd.DataFrame) -> pd.DataFrame:
    """Pooled cells with `cohort` (the label), `first_year` and `last_year` in place of `cohort_year`."""
    spans = [pool_years(label) for label in cells["cohort_year"]]
    out = cells.drop(columns=["cohort_year"]).assign(
        cohort=cells["cohort_year"].astype(str).to_numpy(),
        first_year=[s[0] for s in spans],
        last_year=[s[1] for s in spans],
    )
    return out


def mask(flagged: pd.DataFrame) -> pd.DataFrame:
    """The suppressed cells' counts and values blanked (null), flags kept."""
    out = flagged.copy()
    for field, flag in MASKS:
        if field in out.columns:
            out[field] = out[field].where(~out[flag].astype(bool))
    return out
