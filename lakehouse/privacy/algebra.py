"""Which suppressed counts a reader can compute exactly from the published ones.

With the equations A x = b over the suppressed cells x (the published cells moved to b), a suppressed
quantity v.x is determined iff v lies in the row space of A. Equations only share cells within one
cohort year (and relations within one group), so the system falls apart into small connected
components, and each is reduced on its own.

Arithmetic is exact integer Gauss-Jordan elimination (each row kept primitive by dividing out its
gcd), not float rank: coefficients are small integers, elimination on them stays small, and an exact
answer means a tolerance can never turn "recoverable" into "safe". Rows switch to Python integers if
they ever grow past 2**31, so there is no overflow either.

Beyond linear algebra, one inference from non-negativity is checked: when the suppressed cells of an
equation all carry the same sign and their total is 0, every one of them is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import lcm

import numpy as np

from lakehouse.privacy.equations import Equations

_SAFE_MAGNITUDE = 2**31  # a * x - b * y stays inside int64 while all four are below this


@dataclass(frozen=True)
class Exposure:
    """A suppressed quantity a reader can compute: one cell, or (d, n) meaning d - n of a rate row.
    `published` are the published cells of the exposing equation (or combination of equations) whose
    suppression would break that computation."""

    target: tuple[int, ...]
    published: tuple[int, ...]
    how: str  # "linear" or "zero total"


def hidden_per_equation(eqs: Equations, hidden: np.ndarray) -> np.ndarray:
    """How many suppressed cells each equation has (1 means it gives that cell away)."""
    if eqs.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.add.reduceat(hidden[eqs.cells].astype(np.int64), eqs.ptr[:-1])


def equation_exposures(eqs: Equations, count: np.ndarray, hidden: np.ndarray, eq: int) -> list[Exposure]:
    """What one equation reveals on its own: its single suppressed cell, or all of them when they
    share a sign and add up to 0."""
    members, coefs = eqs.terms(eq)
    is_hidden = hidden[members]
    published = tuple(int(c) for c in members[~is_hidden])
    suppressed = members[is_hidden]
    if len(suppressed) == 1:
        return [Exposure((int(suppressed[0]),), published, "linear")]
    signs = np.sign(coefs[is_hidden])
    if len(suppressed) > 1 and (signs == signs[0]).all() and not count[suppressed].any():
        return [Exposure((int(c),), published, "zero total") for c in suppressed]
    return []


def components(eqs: Equations, hidden: np.ndarray) -> list[np.ndarray]:
    """Suppressed cells grouped by the equations that connect them, each sorted, in cell order."""
    parent: dict[int, int] = {}

    def root(cell: int) -> int:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    for eq in np.flatnonzero(hidden_per_equation(eqs, hidden) > 0):
        members = eqs.terms(eq)[0]
        suppressed = [int(c) for c in members[hidden[members]]]
        for cell in suppressed:
            parent.setdefault(cell, cell)
        first = root(suppressed[0])
        for cell in suppressed[1:]:
            other = root(cell)
            if other != first:
                parent[max(first, other)] = min(first, other)
                first = min(first, other)
    groups: dict[int, list[int]] = {}
    for cell in sorted(parent):
        groups.setdefault(root(cell), []).append(cell)
    return [np.array(cells, dtype=np.int64) for cells in groups.values()]


def component_exposures(
    eqs: Equations, hidden: np.ndarray, component: np.ndarray, small_gap: np.ndarray
) -> list[Exposure]:
    """Every cell of the component that the component's equations determine, with the published
    cells of the combination that determines it. Also d - n of the rows flagged in `small_gap` (rate
    rows whose d - n is below the threshold: the count the primary rule protects besides d and n)
    when both counts are suppressed, so neither target alone would show it."""
    eq_ids = np.unique(np.concatenate([eqs.of_cell(c) for c in component]))
    matrix, columns = _matrix(eqs, hidden, component, eq_ids)
    k = len(component)
    reduced, pivot_row = _eliminate(matrix, k)
    published = columns[k:]
    # A cell is determined when its pivot row has nothing else left on suppressed cells.
    alone = np.count_nonzero(reduced[:, :k], axis=1) == 1
    exposures = [
        Exposure((int(component[i]),), tuple(int(c) for c in published[reduced[r, k:] != 0]), "linear")
        for i, r in sorted(pivot_row.items())
        if alone[r]
    ]
    for target in _gap_targets(component, small_gap):
        weights = _combination(reduced, pivot_row, k, target)
        if weights is not None:
            cells = tuple(int(component[i]) for i in target)
            exposures.append(Exposure(cells, tuple(int(c) for c in published[weights != 0]), "linear"))
    return exposures


def _gap_targets(component: np.ndarray, small_gap: np.ndarray) -> list[dict[int, int]]:
    position = {int(c): i for i, c in enumerate(component)}
    return [
        {position[c]: 1, position[c + 1]: -1}
        for c in position
        if c % 2 == 0 and c + 1 in position and small_gap[c // 2]
    ]


def _matrix(
    eqs: Equations, hidden: np.ndarray, component: np.ndarray, eq_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Integer matrix of the equations: suppressed columns first (the component), then published."""
    members = np.concatenate([eqs.terms(e)[0] for e in eq_ids])
    published = np.unique(members[~hidden[members]])
    columns = np.concatenate([component, published])
    column_of = {int(c): i for i, c in enumerate(columns)}
    matrix = np.zeros((len(eq_ids), len(columns)), dtype=np.int64)
    for row, eq in enumerate(eq_ids):
        cells, coefs = eqs.terms(eq)
        matrix[row, [column_of[int(c)] for c in cells]] = coefs
    return matrix, columns


def _eliminate(matrix: np.ndarray, k: int) -> tuple[np.ndarray, dict[int, int]]:
    """Fraction-free Gauss-Jordan on the first k columns: afterwards each pivot column is zero
    outside its pivot row. Returns the rows and {pivot column: row}."""
    rows = matrix.copy()
    pivot_row: dict[int, int] = {}
    top = 0
    for col in range(k):
        if top == rows.shape[0]:
            break
        candidates = np.flatnonzero(rows[top:, col])
        if not candidates.size:
            continue
        # The smallest pivot keeps the numbers small.
        pick = top + candidates[np.argmin(np.abs(rows[top + candidates, col]))]
        if pick != top:
            rows[[top, pick]] = rows[[pick, top]]
        others = np.flatnonzero(rows[:, col])
        others = others[others != top]
        if others.size:
            involved = rows[np.append(others, top)]
            if rows.dtype != object and np.abs(involved).max() >= _SAFE_MAGNITUDE:
                rows = rows.astype(object)
            block = rows[top, col] * rows[others] - rows[others, col][:, None] * rows[top]
            divisor = np.gcd.reduce(block, axis=1)
            divisor[divisor == 0] = 1
            rows[others] = block // divisor[:, None]
        pivot_row[col] = top
        top += 1
    return rows, pivot_row


def _combination(
    rows: np.ndarray, pivot_row: dict[int, int], k: int, target: dict[int, int]
) -> np.ndarray | None:
    """If sum(target[i] * x_i) is in the row space, the published part of the combination of rows
    that equals it (scaled by an integer); else None. In reduced form the weights are forced: a
    pivot row is the only row nonzero at its pivot column, so it enters with the target's value
    there (zero for pivots outside the target); rows without a pivot add nothing on suppressed cells."""
    used = [(i, pivot_row[i], coef) for i, coef in target.items() if i in pivot_row]
    if not used:
        return None
    scale = lcm(*(int(rows[r, i]) for i, r, _ in used))
    combined = sum((coef * scale // int(rows[r, i])) * rows[r].astype(object) for i, r, coef in used)
    expected = np.zeros(k, dtype=object)
    for i, coef in target.items():
        expected[i] = coef * scale
    if not (combined[:k] == expected).all():
        return None
    return np.asarray(combined[k:])
