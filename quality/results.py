"""Check results: one record per check of a gate, whatever ran it (great-expectations or our own
one-pass row rules), in the shape of `ops.quality_results`, plus the message a blocked gate prints.

A result of a restricted table (`restricted`) holds counts, and in `examples` the positions of a few
failing rows (quality/positions.py), never a value: it goes to unrestricted places (ops.quality_results,
the run report, the message on stderr)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

from lakehouse.errors import C2CError
from lakehouse.settings import Settings

POLICIES = ("fail", "quarantine", "warn")


@dataclass
class CheckResult:
    gate: str  # e.g. "bronze->silver", "silver"
    table_name: str
    check_id: str
    expectation: str
    column_name: str | None
    policy: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: str | None = None
    examples: list = field(default_factory=list)  # a restricted table's: positions of rows
    message: str = ""
    restricted: bool = False  # of a restricted table: counts and positions only

    @property
    def blocks(self) -> bool:
        return self.policy == "fail" and not self.success

    def row(self, run_id: str, checked_at: datetime) -> tuple:
        """A row of `ops.quality_results`."""
        return (
            run_id,
            checked_at,
            self.gate,
            self.table_name,
            self.check_id,
            self.expectation,
            self.column_name,
            self.policy,
            self.success,
            self.element_count,
            self.unexpected_count,
            self.unexpected_percent,
            self.observed_value,
            json.dumps(self.examples, default=str),
            self.message,
        )

    def describe(self) -> str:
        where = f"{self.table_name}: {self.expectation}" + (
            f"({self.column_name})" if self.column_name else ""
        )
        if self.unexpected_count is not None and self.element_count is not None:
            pct = f" ({self.unexpected_percent:.2f}%)" if self.unexpected_percent is not None else ""
            what = f"{self.unexpected_count:,} of {self.element_count:,} rows{pct}"
        elif self.observed_value is None and self.restricted:
            what = "observed value withheld (restricted table)"
        else:
            what = f"observed {self.observed_value}"
        label = "rows at" if self.restricted else "examples"
        examples = f"; {label}: {', '.join(map(str, self.examples[:5]))}" if self.examples else ""
        note = f" - {self.message}" if self.message else ""
        return f"{where}: {what}{examples}{note}"

    def as_dict(self) -> dict:
        return asdict(self)


class QualityGateFailed(C2CError):
    """A `fail` check failed: the gate keeps the data out of the next layer."""

    def __init__(self, gate: str, failures: list[CheckResult], where: str) -> None:
        self.gate = gate
        self.failures = failures
        self.results: list[CheckResult] = list(failures)  # every check of the blocked stage, once known
        lines = "\n".join(f"  - {f.describe()}" for f in failures)
        super().__init__(
            f"quality gate {gate} failed: promotion blocked, no table of the next layer was changed.\n"
            f"{lines}\nAll results: {where}"
        )


def summarize(results: list[CheckResult]) -> dict:
    """Counts by policy and outcome, and the failed/warned checks in words, for the run report."""
    summary: dict = {"checks": len(results), "passed": sum(r.success for r in results)}
    for policy in POLICIES:
        bad = [r for r in results if r.policy == policy and not r.success]
        summary[{"fail": "failed", "quarantine": "quarantined", "warn": "warnings"}[policy]] = [
            r.describe() for r in bad
        ]
    return summary


def stop_if_blocked(gate: str, results: list[CheckResult], settings: Settings, run_id: str) -> None:
    """Raise QualityGateFailed when a result of `gate` blocks promotion (a failed `fail` check),
    saying where the run's results and Data Docs are."""
    blocked = [r for r in results if r.blocks]
    if blocked:
        where = (
            f"ops.quality_results (run_id {run_id}), {settings.var_dir / 'quality' / 'docs' / 'index.html'}"
        )
        raise QualityGateFailed(gate, blocked, where)
