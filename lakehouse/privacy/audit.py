"""Independent check of a flagged mart before it is published: the gate between gold and published.

It trusts nothing `suppress` decided: it reads the flags as a reader would see the table and looks for
(a) published cells that break a primary rule, (b) suppressed counts a reader can compute exactly
from the published values with the additivity equations, the declared relations and the published
rates (exact row-space test per connected component, see `algebra`), and (c) rows left out of the
mart that a reader can tell are 0 (see `absent`). Messages name the cell and the field but never a
count value: problem lists go to logs, and a log must not leak what it warns about.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lakehouse.errors import C2CError
from lakehouse.privacy.absent import absent_related_rows, absent_zero_rows
from lakehouse.privacy.algebra import (
    Exposure,
    component_exposures,
    components,
    equation_exposures,
    hidden_per_equation,
)
from lakehouse.privacy.cells import (
    DEFAULT_THRESHOLD,
    FLAG_COLUMNS,
    KEY_COLUMNS,
    Cells,
    MartError,
    Relation,
    build_cells,
    check_threshold,
)
from lakehouse.privacy.equations import build_equations
from lakehouse.privacy.pools import absent_pool_rows

_Problem = tuple[int, int, str]  # row, field order (denominator, numerator, value, d - n), message


_RUN_SUPPRESS = (
    "Run lakehouse.privacy.suppress on the mart (with the same threshold and relations) and publish "
    "its flags."
)


class DisclosureError(C2CError, ValueError):
    """A table about to be published discloses a small count; `problems` lists every finding."""

    def __init__(self, problems: Sequence[str], shown: int = 10, advice: str = _RUN_SUPPRESS) -> None:
        self.problems = list(problems)
        listed = "\n".join(f"  - {p}" for p in self.problems[:shown])
        more = f"\n  ... and {len(self.problems) - shown} more" if len(self.problems) > shown else ""
        super().__init__(
            f"{len(self.problems)} disclosure problem(s) in the table to publish:\n{listed}{more}\n{advice}"
        )


def audit(
    mart_with_flags: pd.DataFrame,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    relations: Sequence[Relation] = (),
    strict: bool = False,
) -> list[str]:
    """Problems of a flagged mart (the output of `suppress`, or any table with the same flag columns);
    empty means safe to publish. Each names metric, cohort_year, dimension=group and field."""
    threshold = check_threshold(threshold)
    cells = build_cells(mart_with_flags)
    hidden, value_hidden = _read_flags(mart_with_flags, cells)
    problems = _primary_problems(cells, hidden, value_hidden, threshold)
    eqs = build_equations(cells, relations, strict=strict, published_rates=~value_hidden)
    gap = cells.small_gap(threshold)
    exposures = [e for c in components(eqs, hidden) for e in component_exposures(eqs, hidden, c, gap)]
    for eq in np.flatnonzero(hidden_per_equation(eqs, hidden) > 1):
        exposures += [e for e in equation_exposures(eqs, cells.count, hidden, eq) if e.how == "zero total"]
    problems += _exposure_problems(cells, exposures)
    problems += _absent_problems(cells, relations)
    return [message for *_, message in sorted(set(problems))]


def assert_safe(
    mart_with_flags: pd.DataFrame,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    relations: Sequence[Relation] = (),
    strict: bool = False,
) -> None:
    """Raise `DisclosureError` listing the first problems `audit` finds; return None when safe."""
    problems = audit(mart_with_flags, threshold=threshold, relations=relations, strict=strict)
    if problems:
        raise DisclosureError(problems)


def _read_flags(mart: pd.DataFrame, cells: Cells) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in FLAG_COLUMNS if c not in mart.columns]
    if missing:
        raise MartError(f"Mart has no suppression flags {missing}; run lakehouse.privacy.suppress first.")
    flags = {}
    for column in FLAG_COLUMNS:
        values = mart[column]
        if values.isna().any() or not values.isin([True, False]).all():
            raise MartError(f"Column {column} must be True/False in every row (no nulls).")
        flags[column] = values.to_numpy(dtype=bool)
    hidden = np.zeros(2 * cells.n_rows, dtype=bool)
    hidden[0::2] = flags["denominator_suppressed"]
    hidden[1::2] = flags["numerator_suppressed"] & cells.is_rate
    return hidden, flags["value_suppressed"]


def _primary_problems(
    cells: Cells, hidden: np.ndarray, value_hidden: np.ndarray, threshold: int
) -> list[_Problem]:
    d, n, rate = cells.count[0::2], cells.count[1::2], cells.is_rate
    shown_d, shown_n, shown_value = ~hidden[0::2], ~hidden[1::2] & rate, ~value_hidden
    # Numerator and denominator published together give the rate away even if it is flagged.
    rate_visible = rate & (shown_value | (shown_n & shown_d))
    below = f"below the threshold {threshold}"
    checks = [
        (shown_d & (d < threshold), 0, f"published denominator is {below}"),
        (shown_n & (n < threshold), 1, f"published numerator is {below}"),
        (
            rate_visible & ((d < threshold) | (n < threshold) | (d - n < threshold)),
            2,
            f"published rate has a numerator, denominator or denominator-minus-numerator {below}",
        ),
        (
            rate & shown_value & (hidden[0::2] | hidden[1::2]),
            2,
            "published rate with a suppressed numerator or denominator (a rate is published with both)",
        ),
        (~rate & shown_value & (d < threshold), 2, f"published median is over a count {below}"),
    ]
    return [
        (row, order, f"{cells.label(2 * row + min(order, 1), 'value' if order == 2 else None)}: {what}")
        for mask, order, what in checks
        for row in np.flatnonzero(mask).tolist()
    ]


def _exposure_problems(cells: Cells, exposures: list[Exposure]) -> list[_Problem]:
    problems = []
    for exposure in exposures:
        first = exposure.target[0]
        if len(exposure.target) == 2:
            row, order, label = first // 2, 3, cells.label(first, "denominator-minus-numerator")
        else:
            row, order, label = first // 2, first % 2, cells.label(first)
        why = (
            "published cells" if exposure.how == "linear" else "a published total of 0 (no count is negative)"
        )
        problems.append((row, order, f"{label}: suppressed count is exactly recoverable from {why}"))
    return problems


def absent_rows(cells: Cells, relations: Sequence[Relation]) -> pd.DataFrame:
    """Every row left out although a reader can tell it is 0: groups that complete a breakdown, rows a
    relation says are empty (`absent`), and pools of a listed group (`pools`). One key once."""
    found = [absent_zero_rows(cells), absent_related_rows(cells, relations), absent_pool_rows(cells)]
    return pd.concat(found, ignore_index=True).drop_duplicates(list(KEY_COLUMNS)).reset_index(drop=True)


def _absent_problems(cells: Cells, relations: Sequence[Relation]) -> list[_Problem]:
    """Rows left out although a reader can tell they are 0 (see `absent_rows`), after every row."""
    missing = absent_rows(cells, relations)
    return [
        (
            cells.n_rows + i,
            0,
            f"{metric} {year} {dimension}={group} denominator: row left out of the mart, which publishes "
            "a count of 0 (the other groups add up to the statewide row); publish it as a suppressed row",
        )
        for i, (metric, year, dimension, group) in enumerate(
            missing[["metric", "cohort_year", "dimension", "group"]].itertuples(index=False, name=None)
        )
    ]
