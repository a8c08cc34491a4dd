"""The shape of every step of `c2c run`: `run(ctx) -> LayerReport`.

A step reads what it needs from the `RunContext` (the Spark session, settings, storage, the run's id
and date, the quality validator, the progress printer, and the reports of the steps before it) and
returns a `LayerReport`: its section of report.json, the line it prints when done, its checks and
its timings. A step fills nothing in for its caller; the pipeline puts the reports together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType

from pyspark.sql import SparkSession

from jobs.progress import Progress
from lakehouse.settings import Settings
from lakehouse.storage import Storage
from quality.gx_runner import GxValidator
from quality.results import CheckResult, QualityGateFailed


@dataclass(frozen=True)
class LayerReport:
    """What one step did. `ran` is False when the step had nothing to do (its inputs are where its
    last promotion left them); `section` is then the reason, in words. A step whose gate blocked
    returns its report with `blocked` set: the pipeline records the run as blocked and raises it."""

    name: str
    section: dict | str  # report.json's section for the step
    line: str  # printed when the step is done
    ran: bool = True
    checks: tuple[CheckResult, ...] = ()
    timings_s: Mapping[str, float] = field(default_factory=dict)  # merged into report.json's timings_s
    blocked: QualityGateFailed | None = None  # the step's gate kept its stage out of the next layer
    silent: bool = False  # a step that does not apply to this run: no line, no section

    @classmethod
    def unchanged(cls, name: str, reason: str) -> LayerReport:
        return cls(name=name, section=f"unchanged ({reason})", line=f"unchanged ({reason})", ran=False)

    @classmethod
    def blocked_at(
        cls,
        name: str,
        blocked: QualityGateFailed,
        checks: Sequence[CheckResult],
        timings_s: Mapping[str, float],
    ) -> LayerReport:
        """The report of a step whose gate kept its stage out of the next layer (`promote` raised
        `blocked`): its section says so, and its checks go to the run's quality results."""
        section = f"blocked at the {blocked.gate} gate"
        return cls(name, section, "blocked", checks=tuple(checks), timings_s=timings_s, blocked=blocked)


@dataclass(frozen=True)
class RunContext:
    spark: SparkSession
    settings: Settings
    storage: Storage
    run_id: str
    run_date: date
    validator: GxValidator | None
    progress: Progress
    earlier: Mapping[str, LayerReport] = field(default_factory=lambda: MappingProxyType({}))

    def after(self, report: LayerReport) -> RunContext:
        """The context the next step gets: this one, with `report` among the earlier steps'."""
        return replace(self, earlier=MappingProxyType({**self.earlier, report.name: report}))


def context(spark: SparkSession, settings: Settings, *, run_id: str, quiet: bool = True) -> RunContext:
    """A context to run steps one by one outside `c2c run` (benchmarks, notebooks): today's date, no
    Data Docs, progress printed unless `quiet`."""
    from datetime import UTC, datetime

    from lakehouse.storage import open_storage

    return RunContext(
        spark,
        settings,
        open_storage(spark, settings),
        run_id,
        datetime.now(UTC).date(),
        GxValidator(None),
        Progress(quiet=quiet),
    )
