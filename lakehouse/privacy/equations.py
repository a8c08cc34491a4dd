"""The linear equations a reader of the published mart can use: sum(coef * count[cell]) == 0.

Three sources, each kept only where it holds exactly on the true counts (an identity that is off by
one reveals nothing exactly, and using it would make the audit cry wolf):
- additivity: within one (metric, cohort_year) the groups of every dimension add up to the statewide
  row, for denominators and, for rates, numerators;
- declared cross-metric relations, per (cohort_year, dimension, group);
- pooled cohorts (a `cohort_year` labelled `first-last`): sums over the years they pool, and the
  dependences among pools, see `pools`;
- published rates (audit only): a published rate n/d ties the two counts, d_true * n - n_true * d == 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd

import numpy as np
import pandas as pd

from lakehouse.privacy.cells import FIELDS, Cells, MartError, Relation
from lakehouse.privacy.pools import pool_equations


@dataclass(frozen=True)
class Equations:
    """Equations in compressed form, indexed both by equation (`ptr`) and by cell (`cell_ptr`)."""

    ptr: np.ndarray
    cells: np.ndarray
    coefs: np.ndarray
    cell_ptr: np.ndarray
    cell_eqs: np.ndarray

    @property
    def size(self) -> int:
        return len(self.ptr) - 1

    def terms(self, eq: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = self.ptr[eq], self.ptr[eq + 1]
        return self.cells[start:stop], self.coefs[start:stop]

    def of_cell(self, cell: int) -> np.ndarray:
        return self.cell_eqs[self.cell_ptr[cell] : self.cell_ptr[cell + 1]]


def build_equations(
    cells: Cells,
    relations: Sequence[Relation] = (),
    *,
    strict: bool = False,
    published_rates: np.ndarray | None = None,
) -> Equations:
    """All equations of the mart. `strict` raises MartError when a dimension does not add up to its
    statewide row (a builder bug worth stopping for); otherwise that equation is left out.
    `published_rates` (per row) adds the rate equations of the rates a reader can see."""
    parts, problems = _additivity(cells)
    if strict and problems:
        raise MartError("Additivity check failed (strict): " + "; ".join(problems))
    parts += [_relation(cells, relation) for relation in relations]
    pooled, broken = pool_equations(cells)
    if strict and broken:
        raise MartError("Pooled cohorts check failed (strict): " + "; ".join(broken))
    parts += pooled
    if published_rates is not None:
        parts.append(_rates(cells, published_rates))
    return _assemble(2 * cells.n_rows, parts)


_Part = tuple[np.ndarray, np.ndarray, np.ndarray]  # flat cells, flat coefficients, terms per equation
_BREAKDOWN = ["metric", "cohort_year", "dimension"]


def _additivity(cells: Cells) -> tuple[list[_Part], list[str]]:
    keys = cells.keys
    statewide = keys[cells.is_statewide]
    doubled = statewide.duplicated(["metric", "cohort_year"], keep=False)
    if doubled.any():
        metric, year = statewide.loc[doubled, ["metric", "cohort_year"]].iloc[0]
        raise MartError(f"{metric} {year}: more than one statewide row; keep one total per metric and year.")
    total_row = {(m, y): row for row, m, y in statewide[["metric", "cohort_year"]].itertuples(name=None)}
    breakdowns = keys[~cells.is_statewide]
    flat_cells, flat_coefs, lengths, problems = [], [], [], []
    for (metric, year, dimension), at in breakdowns.groupby(_BREAKDOWN, sort=True).indices.items():
        rows = breakdowns.index.to_numpy()[at]
        total = total_row.get((metric, year))
        if total is None:
            problems.append(f"{metric} {year} {dimension}: no statewide row to add up to")
            continue
        for field in range(2 if cells.is_rate[total] else 1):
            members = np.concatenate([[2 * total + field], 2 * rows + field])
            coefs = np.concatenate([[1], -np.ones(len(rows), dtype=np.int64)])
            if (cells.count[members] * coefs).sum() != 0:
                problems.append(
                    f"{metric} {year} {dimension}: {FIELDS[field]}s of the groups differ from statewide"
                )
                continue
            flat_cells.append(members)
            flat_coefs.append(coefs)
            lengths.append(len(members))
    if not lengths:
        return [], problems
    part = (np.concatenate(flat_cells), np.concatenate(flat_coefs), np.array(lengths, dtype=np.int64))
    return [part], problems


def _relation(cells: Cells, relation: Relation) -> _Part:
    """One equation per (cohort_year, dimension, group) where every term exists and the identity holds."""
    frame = cells.keys.assign(row=np.arange(cells.n_rows))
    columns = []
    for i, (_, metric, _) in enumerate(relation.terms):
        of_metric = frame[frame["metric"] == metric]
        columns.append(of_metric.set_index(["cohort_year", "dimension", "group"])["row"].rename(i))
    joined = pd.concat(columns, axis=1, join="inner")
    rows = joined.sort_index().to_numpy(dtype=np.int64)
    fields = np.array([FIELDS.index(field) for _, _, field in relation.terms])
    coefs = np.array([coef for coef, _, _ in relation.terms], dtype=np.int64)
    members = 2 * rows + fields
    keep = cells.exists[members].all(axis=1) & ((cells.count[members] * coefs).sum(axis=1) == 0)
    members = members[keep]
    return members.ravel(), np.tile(coefs, len(members)), np.full(len(members), len(coefs), dtype=np.int64)


def _rates(cells: Cells, published_rates: np.ndarray) -> _Part:
    """n_true * d - d_true * n == 0 per published rate, divided by gcd to keep coefficients small."""
    rows = np.flatnonzero(cells.is_rate & published_rates & (cells.count[0::2] > 0))
    d, n = cells.count[2 * rows], cells.count[2 * rows + 1]
    common = np.array([gcd(int(a), int(b)) for a, b in zip(d, n, strict=True)], dtype=np.int64)
    members = np.stack([2 * rows, 2 * rows + 1], axis=1)
    coefs = np.stack([n // np.maximum(common, 1), -(d // np.maximum(common, 1))], axis=1)
    return members.ravel(), coefs.ravel(), np.full(len(rows), 2, dtype=np.int64)


def _assemble(n_cells: int, parts: list[_Part]) -> Equations:
    """Stack the parts, drop zero coefficients and empty equations, and index by cell."""
    flat_cells = np.concatenate([p[0] for p in parts] + [np.zeros(0, dtype=np.int64)]).astype(np.int64)
    flat_coefs = np.concatenate([p[1] for p in parts] + [np.zeros(0, dtype=np.int64)]).astype(np.int64)
    lengths = np.concatenate([p[2] for p in parts] + [np.zeros(0, dtype=np.int64)])
    eq_of_term = np.repeat(np.arange(len(lengths)), lengths)
    nonzero = flat_coefs != 0
    flat_cells, flat_coefs, eq_of_term = flat_cells[nonzero], flat_coefs[nonzero], eq_of_term[nonzero]
    _, eq_of_term = np.unique(eq_of_term, return_inverse=True)  # renumber without empty equations
    lengths = np.bincount(eq_of_term, minlength=eq_of_term.max() + 1 if eq_of_term.size else 0)
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    order = np.argsort(flat_cells, kind="stable")
    cell_ptr = np.concatenate([[0], np.cumsum(np.bincount(flat_cells, minlength=n_cells))]).astype(np.int64)
    return Equations(ptr, flat_cells, flat_coefs, cell_ptr, eq_of_term[order].astype(np.int64))
