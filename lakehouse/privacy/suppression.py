"""Primary and complementary cell suppression for a published aggregate mart (docs/domain.md, privacy rules).

Primary: counts below the threshold, rates whose numerator, denominator or denominator-minus-numerator
is below it, medians over fewer people. Complementary: greedily, while some suppressed count can be
computed from published ones, suppress the smallest published count of the equation (or combination
of equations) that exposes it, keeping the statewide row for last. Single equations are handled first
with cheap counting; what is left is found by the exact row-space test of `algebra`, component by
component, so a large mart costs little more than its small connected pieces. Rows left out of the
mart that a reader can tell are empty are added first as suppressed zeros (`absent`), and the result
is checked with `audit` before it is returned.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lakehouse.privacy.absent import with_zero_rows
from lakehouse.privacy.algebra import (
    Exposure,
    component_exposures,
    components,
    equation_exposures,
    hidden_per_equation,
)
from lakehouse.privacy.audit import DisclosureError, absent_rows, audit
from lakehouse.privacy.cells import (
    DEFAULT_THRESHOLD,
    DENOMINATOR,
    KEY_COLUMNS,
    Cells,
    Relation,
    build_cells,
    check_threshold,
)
from lakehouse.privacy.equations import Equations, build_equations


def suppress(
    mart: pd.DataFrame,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    relations: Sequence[Relation] = (),
    strict: bool = False,
    audited: bool = True,
) -> pd.DataFrame:
    """The mart with suppression flags, ready for `audit` and publication.

    In: the mart columns (metric, cohort_year, dimension, group, kind, denominator, numerator, value).
    Out: the same rows, columns and values, plus `denominator_suppressed`, `numerator_suppressed`,
    `value_suppressed` (bool) and `suppression` ("", "primary" or "complementary"; primary wins).
    After them come the rows the mart leaves out although a reader can tell they are 0 (see
    `absent`): zero counts, no value, suppressed by the primary rule, so a blank does not publish 0.
    Raises `DisclosureError` if some count stays recoverable however many cells are suppressed (the
    output always passes `audit` with the same options).
    Median rows have no numerator (its flag stays False); a median stays published when its count is
    suppressed only as a complement, since it is a statistic of at least `threshold` people.
    `relations` are the cross-metric identities a reader could use; `strict` raises `MartError` when a
    dimension does not add up to its statewide row instead of leaving that equation out.
    `audited=False` leaves the audit to the caller, who must run it on what it publishes (the gold
    gate does, and blocks publication on a problem instead of raising).
    """
    threshold = check_threshold(threshold)
    mart, cells = _completed(mart, relations)
    state = _primary(cells, threshold)
    _Complements(cells, build_equations(cells, relations, strict=strict), state, threshold).run()
    out = _with_flags(mart, cells, state)
    if not audited:
        return out
    # The loop stops when no exposure has a published cell left to suppress. An exposure made of
    # suppressed cells alone (identities forcing a count) is beyond any flag: refuse to hand it on.
    problems = audit(out, threshold=threshold, relations=relations, strict=strict)
    if problems:
        raise DisclosureError(problems, advice=_UNFIXABLE)
    return out


def linked_size(
    mart: pd.DataFrame, *, threshold: int = DEFAULT_THRESHOLD, relations: Sequence[Relation] = ()
) -> int:
    """The most suppressed counts that the mart's equations tie together after primary suppression:
    the size of the largest system the exact check will solve (its cost grows with the cube), known
    before any of it is solved."""
    _, cells = _completed(mart, relations)
    state = _primary(cells, check_threshold(threshold))
    eqs = build_equations(cells, relations)
    return max((len(c) for c in components(eqs, state.hidden)), default=0)


def _completed(mart: pd.DataFrame, relations: Sequence[Relation]) -> tuple[pd.DataFrame, Cells]:
    """The mart with the rows a reader can tell are empty added as zeros (`absent`, `pools`)."""
    cells = build_cells(mart)
    while True:  # a zero row of one kind can make a row of another kind missing
        missing = absent_rows(cells, relations)
        if missing.empty:
            return mart, cells
        mart = with_zero_rows(mart, missing.drop_duplicates(list(KEY_COLUMNS)))
        cells = build_cells(mart)


_UNFIXABLE = (
    "Suppressing more cells cannot help: these counts follow from the mart's identities alone. "
    "Check the relations hold as declared and that no row is left out of the mart."
)


@dataclass
class _State:
    hidden: np.ndarray  # per cell
    value_hidden: np.ndarray  # per row
    primary: np.ndarray  # per row
    complementary: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.complementary = np.zeros_like(self.primary)


def _primary(cells: Cells, threshold: int) -> _State:
    d, n = cells.count[0::2], cells.count[1::2]
    small_d = d < threshold
    # A published rate and denominator give away the numerator, and vice versa: they go together.
    small_rate = cells.is_rate & (small_d | (n < threshold) | (d - n < threshold))
    hidden = np.zeros(2 * cells.n_rows, dtype=bool)
    hidden[0::2], hidden[1::2] = small_d, small_rate
    value_hidden = np.where(cells.is_rate, small_rate, small_d)
    return _State(hidden, value_hidden, small_d | small_rate)


class _Complements:
    """The greedy loop. Keeps, per equation, how many of its cells are suppressed, so a single-equation
    exposure is found by counting; the exact component test runs only when counting finds nothing."""

    def __init__(self, cells: Cells, eqs: Equations, state: _State, threshold: int) -> None:
        self.cells, self.eqs, self.state = cells, eqs, state
        self.small_gap = cells.small_gap(threshold)
        self.suppressed_in = hidden_per_equation(eqs, state.hidden)
        self.queue: deque[int] = deque(range(eqs.size))
        self.clean: set[tuple[int, ...]] = set()
        self.touched: set[int] = set()  # equations that gained a suppressed cell this round

    def run(self) -> None:
        while True:
            self._single_equations()
            if not self._one_per_component():
                return

    def _single_equations(self) -> None:
        while self.queue:
            eq = self.queue.popleft()
            if self.suppressed_in[eq] == 0:
                continue
            for exposure in equation_exposures(self.eqs, self.cells.count, self.state.hidden, eq):
                if exposure.published:
                    self._hide(self._cheapest(exposure))
                    break

    def _one_per_component(self) -> bool:
        """Fix the exposures of every component not known to be clean; False if none had one. One
        elimination of a component serves all its exposures: an exposure whose combination has no
        cell that this round has suppressed still holds (suppressing cells outside a combination
        leaves it computable), so it is fixed at once. One that lost a cell to an earlier fix may be
        fixed already and waits, with any component an earlier fix of this round reached, for the
        next round, when the components are drawn and eliminated again."""
        fixed = False
        self.touched.clear()
        for component in components(self.eqs, self.state.hidden):
            key = tuple(component.tolist())
            if key in self.clean or self._reached(component):
                continue
            exposures = component_exposures(self.eqs, self.state.hidden, component, self.small_gap)
            fixable = [e for e in exposures if e.published]
            if not fixable:
                # Nothing left to suppress can help an exposure made of suppressed cells alone
                # (an identity forcing a count); the audit reports it.
                self.clean.add(key)
                continue
            for exposure in fixable:
                if not self.state.hidden[list(exposure.published)].any():
                    self._hide(self._cheapest(exposure))
            fixed = True
        return fixed

    def _reached(self, component: np.ndarray) -> bool:
        return any(int(eq) in self.touched for cell in component for eq in self.eqs.of_cell(cell))

    def _cheapest(self, exposure: Exposure) -> int:
        """Smallest published count, statewide last, then cell order (ties stay deterministic)."""
        return min(
            exposure.published,
            key=lambda c: (self.cells.is_statewide[c // 2], self.cells.count[c], c),
        )

    def _hide(self, cell: int) -> None:
        row = cell // 2
        newly = [cell]
        # Without its denominator a rate's numerator (and the rate) would reveal it: all three go.
        if cell % 2 == DENOMINATOR and self.cells.is_rate[row]:
            newly.append(cell + 1)
        if self.cells.is_rate[row]:
            self.state.value_hidden[row] = True
        self.state.complementary[row] = True
        for c in newly:
            if self.state.hidden[c]:
                continue
            self.state.hidden[c] = True
            for eq in self.eqs.of_cell(c):
                self.suppressed_in[eq] += 1
                self.queue.append(int(eq))
                self.touched.add(int(eq))


def _with_flags(mart: pd.DataFrame, cells: Cells, state: _State) -> pd.DataFrame:
    out = mart.copy()
    out["denominator_suppressed"] = state.hidden[0::2]
    out["numerator_suppressed"] = state.hidden[1::2] & cells.is_rate
    out["value_suppressed"] = state.value_hidden
    out["suppression"] = np.select(
        [state.primary, state.complementary], ["primary", "complementary"], default=""
    ).astype(object)
    return out
