"""Stage -> gate -> commit: the one way a layer's new data reaches the next layer.

A layer builds its new data as a stage the next layer cannot see (silver and gold: uncommitted
Delta writes and a staging folder; bronze: rows landed per file, which silver reads only at the
versions bronze's manifest names). `promote` judges the stage's checks at the layer's gate: a
`fail` check that failed discards the stage and raises QualityGateFailed, carrying every check of
the stage so that the run still stores them; otherwise it commits. Whatever is left staged after the
commit, or after an error in it, is discarded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from lakehouse.settings import Settings
from quality.results import CheckResult, QualityGateFailed, stop_if_blocked

S = TypeVar("S")
R = TypeVar("R")


@dataclass
class Stage(Generic[S]):
    """What a layer built and has not committed (`staged`), and the checks its gate judges."""

    staged: S
    checks: list[CheckResult] = field(default_factory=list)


def promote(
    gate: str,
    stage: Stage[S],
    *,
    commit: Callable[[S], R],
    discard: Callable[[S], None],
    settings: Settings,
    run_id: str,
) -> R:
    """Commit `stage` if no check of it blocks `gate`; otherwise discard it and raise
    QualityGateFailed (its `results` are all of the stage's checks)."""
    try:
        try:
            stop_if_blocked(gate, stage.checks, settings, run_id)
        except QualityGateFailed as blocked:
            blocked.results = list(stage.checks)
            raise
        return commit(stage.staged)
    finally:
        discard(stage.staged)
