"""The published mart seen as cells: every count a reader could learn is one cell.

A mart is a long pandas frame, one row per (metric, cohort_year, dimension, group). Each row holds
up to two counts: its denominator and, for a rate row, its numerator. Cells are numbered
`2 * row + field` (field 0 = denominator, 1 = numerator) over the frame's positions, so the
disclosure algebra works on plain integer arrays and never on the frame's index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lakehouse.errors import C2CError

MART_COLUMNS = ("metric", "cohort_year", "dimension", "group", "kind", "denominator", "numerator", "value")
KEY_COLUMNS = ("metric", "cohort_year", "dimension", "group")
FLAG_COLUMNS = ("denominator_suppressed", "numerator_suppressed", "value_suppressed")
STATEWIDE = "statewide"
KINDS = ("rate", "median")
FIELDS = ("denominator", "numerator")
DENOMINATOR, NUMERATOR = 0, 1
DEFAULT_THRESHOLD = 11  # docs/domain.md: a published count below 11 is suppressed


class MartError(C2CError, ValueError):
    """The mart cannot be checked as given: a missing column, a bad count, a duplicate cell, or (when
    the caller asked for `strict`) groups that do not add up to their statewide total."""


@dataclass(frozen=True)
class Relation:
    """A linear identity between counts of different metrics that holds in every
    (cohort_year, dimension, group) cell, declared by the mart's builder.

    `terms` are (coefficient, metric, field) with field "denominator" or "numerator"; the identity is
    sum(coefficient * field of metric) == 0. Example: everyone placed is followed for retention,
    `Relation(((1, "retained_1y", "denominator"), (-1, "placed", "numerator")))`.
    """

    terms: tuple[tuple[int, str, str], ...]

    def __post_init__(self) -> None:
        if not self.terms:
            raise MartError("Relation has no terms: give at least one (coefficient, metric, field).")
        seen = set()
        for coef, metric, field in self.terms:
            if field not in FIELDS:
                raise MartError(f"Relation term {metric}.{field}: field must be one of {FIELDS}.")
            if not isinstance(coef, int | np.integer) or coef == 0:
                raise MartError(f"Relation term {metric}.{field}: coefficient must be a nonzero integer.")
            if (metric, field) in seen:
                raise MartError(f"Relation names {metric}.{field} twice: merge its coefficients.")
            seen.add((metric, field))


@dataclass(frozen=True)
class Cells:
    """Counts of a validated mart as arrays over cell ids (see module docstring)."""

    keys: pd.DataFrame  # metric, cohort_year, dimension, group; positional RangeIndex
    is_rate: np.ndarray  # per row
    is_statewide: np.ndarray  # per row
    count: np.ndarray  # per cell, int64 (0 where the cell does not exist)
    exists: np.ndarray  # per cell: the median rows have no numerator

    @property
    def n_rows(self) -> int:
        return len(self.keys)

    def small_gap(self, threshold: int) -> np.ndarray:
        """Per row: a rate whose denominator-minus-numerator (people without the outcome) is small."""
        return self.is_rate & (self.count[0::2] - self.count[1::2] < threshold)

    def label(self, cell: int, field: str | None = None) -> str:
        """`metric cohort_year dimension=group field`, for messages. No count value, on purpose:
        problem lists end up in logs, and a log must not hold the small count it warns about."""
        metric, year, dimension, group = self.keys.iloc[cell // 2]
        return f"{metric} {year} {dimension}={group} {field or FIELDS[cell % 2]}"


def check_threshold(threshold: int) -> int:
    """The suppression threshold as an int; a count below it is small."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer) or threshold < 1:
        raise MartError(f"threshold must be a whole number >= 1, got {threshold!r}.")
    return int(threshold)


def build_cells(mart: pd.DataFrame) -> Cells:
    """Validate `mart` (columns of MART_COLUMNS) and number its counts as cells."""
    missing = [c for c in MART_COLUMNS if c not in mart.columns]
    if missing:
        raise MartError(f"Mart is missing columns {missing}; expected {list(MART_COLUMNS)}.")
    keys = mart.loc[:, list(KEY_COLUMNS)].reset_index(drop=True)
    kind = mart["kind"].to_numpy()
    _check_kinds(mart, kind)
    _check_unique(keys)
    is_rate = kind == "rate"
    denominator = _counts(mart, "denominator", np.ones(len(mart), dtype=bool))
    numerator = _counts(mart, "numerator", is_rate)
    bad = np.flatnonzero(is_rate & (numerator > denominator))
    if bad.size:
        raise MartError(f"Mart row {bad[0]}: numerator exceeds denominator; a rate row counts a subset.")
    count = np.zeros(2 * len(mart), dtype=np.int64)
    count[0::2], count[1::2] = denominator, np.where(is_rate, numerator, 0)
    exists = np.ones(2 * len(mart), dtype=bool)
    exists[1::2] = is_rate
    is_statewide = (keys["dimension"] == STATEWIDE).to_numpy()
    return Cells(keys, is_rate, is_statewide, count, exists)


def _check_kinds(mart: pd.DataFrame, kind: np.ndarray) -> None:
    bad = np.flatnonzero(~np.isin(kind, KINDS))
    if bad.size:
        raise MartError(f"Mart row {bad[0]}: kind {kind[bad[0]]!r} is not one of {KINDS}.")
    kinds_per_metric = mart.groupby("metric", sort=True)["kind"].nunique()
    mixed = kinds_per_metric[kinds_per_metric > 1]
    if len(mixed):
        raise MartError(f"Metric {mixed.index[0]!r} mixes rate and median rows; give each its own metric.")


def _check_unique(keys: pd.DataFrame) -> None:
    duplicated = np.flatnonzero(keys.duplicated().to_numpy())
    if duplicated.size:
        row = keys.iloc[duplicated[0]]
        raise MartError(f"Mart row {duplicated[0]}: cell {tuple(row)} appears twice; keys are {KEY_COLUMNS}.")


def _counts(mart: pd.DataFrame, column: str, required: np.ndarray) -> np.ndarray:
    """The column as int64 where `required`; raise on a missing, negative or fractional count there."""
    values = pd.to_numeric(mart[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(required & ~(np.isfinite(values) & (values >= 0) & (values == np.round(values))))
    if bad.size:
        raise MartError(
            f"Mart row {bad[0]}, column {column}: {mart[column].iloc[bad[0]]} is not a count "
            "(a whole number >= 0); rate rows need both counts, median rows their denominator."
        )
    return np.where(required, np.nan_to_num(values), 0).astype(np.int64)
