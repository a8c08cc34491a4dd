"""What `c2c run` prints as it goes: one line per layer when it starts and when it is done, with
counts and the time it took (`bronze: 688 files, 31.2M rows landed, 4m12s`), Spark's stage progress
bar on a terminal, and the summary at the end. `--quiet` (schedulers) prints none of it; the run
report keeps the same timings whatever is printed."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from lakehouse.settings import Settings


def elapsed(seconds: float) -> str:
    """12.3s, 4m12s, 1h03m."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def count(n: float) -> str:
    """A row count as people read it: 812, 31.2k, 31.2M, 1.4B."""
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{int(n)}"


class Progress:
    """Prints `<layer>: <what>` lines on `stream` (stdout by default), unless quiet."""

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream
        self.started = time.perf_counter()

    def say(self, layer: str, what: str, seconds: float | None = None) -> None:
        if self.quiet:
            return
        tail = f", {elapsed(seconds)}" if seconds is not None else ""
        print(f"{layer}: {what}{tail}", file=self.stream or sys.stdout, flush=True)


def with_progress_bar(settings: Settings) -> Settings:
    """Settings whose Spark session draws its stage progress bar on the terminal (stderr)."""
    conf = {**settings.spark.conf, "spark.ui.showConsoleProgress": "true"}
    return settings.model_copy(update={"spark": settings.spark.model_copy(update={"conf": conf})})


def print_summary(settings: Settings, report: dict) -> None:
    run_id = report["run_id"]
    print(f"run {run_id} finished on the {report['engine']} engine ({settings.env})")
    print(f"  raw:     {settings.storage.raw_root}")
    b = report["bronze"]
    quarantined = sum(f.get("quarantined", 0) for f in b["files"].values())
    landed = sum(f.get("landed", 0) for f in b["files"].values())
    print(
        f"  bronze:  {b['files_new']} new files, {b['files_duplicate']} duplicates: "
        f"{landed:,} rows landed, {quarantined:,} quarantined"
    )
    silver = report.get("silver")
    if isinstance(silver, dict):
        written = sum(t["rows_written"] for t in silver.values())
        held = sum(t["rows_quarantined"] for t in silver.values())
        print(f"  silver:  {len(silver)} tables, {written:,} rows written, {held:,} held back in quarantine")
    else:
        print(f"  silver:  {silver}")
    identity = report.get("identity")
    if isinstance(identity, dict):
        line = f"  identity: {identity['records']:,} person records -> {identity['persons']:,} persons"
        evaluation = identity.get("evaluation")
        if evaluation:
            line += (
                f" (vs truth: pairwise F1 {evaluation['pairwise']['f1']:.4f}, "
                f"B-cubed F1 {evaluation['bcubed']['f1']:.4f})"
            )
        print(line + f"; model version {identity['model']['version']}")
    elif identity:
        print(f"  identity: {identity}")
    gold = report.get("gold")
    if isinstance(gold, dict):
        marts = ", ".join(
            f"{name} {m['cohort_members']:,} in cohorts (match rate {m['match_rate']:.3f})"
            for name, m in gold["marts"].items()
        )
        print(f"  gold:    {marts}")
        print(f"  site:    {gold['published_files']} published tables in {gold['site_data']}")
    elif gold:
        print(f"  gold:    {gold}")
    for gate, summary in report["quality"]["gates"].items():
        print(
            f"  gate {gate}: {summary['passed']}/{summary['checks']} checks passed, "
            f"{len(summary['warnings'])} warnings"
        )
    if report["quality"]["data_docs"]:
        print(f"  quality: {report['quality']['data_docs']}")
    print(f"  lake:    {settings.storage.root}")
    print(f"  report:  {settings.runs_dir() / run_id / 'report.json'}")
    print("  tables:  c2c tables   (or make run && .venv/bin/c2c tables)")
