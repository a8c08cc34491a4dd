"""The gates: checks that stand between a transform and the commit that promotes its output.

`check_table` checks one silver table without computing it twice or caching it: the built frame is
staged (its files written but not committed, `Storage.stage`) with the row rules applied in the same
pass, and a Spark `Observation` on that write counts rows, held-back rows and each rule's breaks. The
remaining checks read the staged files back: record tokens against person records (on distinct
tokens; orphans are moved to quarantine and the rest staged again, the rare path), unknown codes, and
the GX suite. The job then commits every table's staged files, or aborts them all (jobs/silver_job.py).
`check_bronze_load` checks what a bronze load did (parse rates per file, row-count drift per family)
before silver is rebuilt from it. Nothing here commits.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import date

import great_expectations.expectations as gxe
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from lakehouse.settings import QualitySettings
from lakehouse.sources.layouts import family_of
from lakehouse.storage import Storage
from lakehouse.storage.base import Staged
from lakehouse.tables import SILVER_PERSON_RECORDS, SILVER_QUARANTINE, Table
from quality.gx_runner import GxValidator
from quality.results import CheckResult
from quality.rules import (
    REASONS,
    RI_REASON,
    RI_RULE,
    filter_held_back,
    filter_passed,
    orphan_tokens,
    with_reasons,
)
from quality.suites import expectations, row_rules

SILVER_GATE = "bronze->silver"


@dataclass
class TableCheck:
    """A checked table: its rows to promote, staged and uncommitted (`staged`, read back as `passed`),
    its rows to hold back (`held_back`, in quarantine's shape) and every check's result."""

    table: Table
    staged: Staged
    passed: DataFrame
    held_back: DataFrame
    results: list[CheckResult]
    rows: int = 0
    held: int = 0
    unknown_codes: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    scratch: list[Staged] = field(default_factory=list)  # superseded stages `held_back` may still read

    @property
    def blocked(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocks]

    def discard(self, storage: Storage) -> None:
        """Delete whatever is still staged (a no-op for a committed stage)."""
        for staged in [self.staged, *self.scratch]:
            storage.abort(staged)


def _quarantine_rows(held: DataFrame, table: Table, run_id: str) -> DataFrame:
    columns = [c for c in held.columns if c != REASONS]
    if table is SILVER_PERSON_RECORDS:
        file, row = F.col("first_file"), F.lit(0).cast("bigint")  # 0: the record as a whole
    else:
        file, row = F.col("source_file"), F.col("source_row")
    return held.select(
        F.lit(table.name).alias("table_name"),
        file.alias("source_file"),
        row.alias("source_row"),
        F.concat_ws("; ", REASONS).alias("reason"),
        F.to_json(F.struct(*columns)).alias("record"),
        F.lit(run_id).alias("run_id"),
    )


def check_table(
    df: DataFrame,
    table: Table,
    *,
    storage: Storage,
    validator: GxValidator,
    quality: QualitySettings,
    run_id: str,
    run_date: date,
    previous_rows: int | None,
    known_records: DataFrame | None = None,
) -> TableCheck:
    """Check a built silver table and stage its passing rows (see the module docstring). The caller
    commits `staged` or calls `discard`."""
    rules = row_rules(table, run_date=run_date)
    flagged = with_reasons(df, rules)
    observation = Observation(f"gate-{table.name}-{uuid.uuid4().hex[:8]}")
    counted = flagged.observe(
        observation,
        F.count(F.lit(1)).alias("rows"),
        F.count_if(F.size(REASONS) > 0).alias("held"),
        *[F.count_if(F.array_contains(REASONS, r.reason)).alias(f"rule{i}") for i, r in enumerate(rules)],
        *_coded(df),
    )
    started = time.perf_counter()
    stage_args = {"run_id": run_id, "step": f"silver/{table.name}", "schema_mode": "overwrite"}
    staged = storage.stage(filter_passed(counted), table, "overwrite", **stage_args)
    counts = observation.get
    rows, held = counts["rows"], counts["held"]
    seconds = {"build_rules_and_stage": round(time.perf_counter() - started, 3)}
    passed = storage.staged_frame(staged)
    held_back = [_quarantine_rows(filter_held_back(flagged), table, run_id)] if held else []
    results = [
        _counted(table, r.name, "c2c_row_rule", None, "quarantine", counts[f"rule{i}"], rows, r.reason)
        for i, r in enumerate(rules)
    ]
    scratch: list[Staged] = []
    if known_records is not None:
        started = time.perf_counter()
        orphans = orphan_tokens(passed, known_records).collect()
        bad = 0
        if orphans:
            # The rare path: the orphans' rows go to quarantine, the rest is staged again.
            marks = passed.sparkSession.createDataFrame([(r[0],) for r in orphans], "record_token STRING")
            orphan_rows = passed.join(F.broadcast(marks), "record_token", "left_semi")
            bad = orphan_rows.count()
            held_back.append(
                _quarantine_rows(orphan_rows.withColumn(REASONS, F.array(F.lit(RI_REASON))), table, run_id)
            )
            scratch.append(staged)
            staged = storage.stage(
                passed.join(F.broadcast(marks), "record_token", "left_anti").select(*passed.columns),
                table,
                "overwrite",
                **stage_args,
            )
            passed = storage.staged_frame(staged)
            held += bad
        ri = _counted(table, RI_RULE, "c2c_row_rule", "record_token", "quarantine", bad, rows, RI_REASON)
        ri.observed_value = f"{len(orphans)} record tokens without a person record"
        results.append(ri)
        seconds["referential_integrity"] = round(time.perf_counter() - started, 3)
    share = held / rows if rows else 0.0
    quarantine = _counted(
        table, "quarantine_rate", "c2c_quarantine_rate", None, "fail", held, rows,
        f"at most {quality.max_quarantine_rate:.1%} of rows may be held back",
    )  # fmt: skip
    quarantine.success = share <= quality.max_quarantine_rate
    if not quarantine.success:
        quarantine.examples = _examples(
            held_back[0] if held_back else passed.limit(0), table, quarantined=True
        )
    results.append(quarantine)
    unknown = _unknown_codes(passed) if counts.get("coded") else {}
    for column, n in sorted(unknown.items()):
        check = _counted(
            table, f"known_codes:{column}", "c2c_known_codes", column, "fail", n, rows,
            f"codes missing from conf/codes/ (at most {quality.max_unknown_code_rate:.1%} allowed)",
        )  # fmt: skip
        check.success = n / rows <= quality.max_unknown_code_rate
        if not check.success:
            check.examples = _examples(passed.filter(F.array_contains("unknown_codes", column)), table)
        results.append(check)
    suite = expectations(table, run_date=run_date, previous_rows=previous_rows, drift=quality.row_count_drift)
    started = time.perf_counter()
    results += validator.validate(passed, gate=SILVER_GATE, table_name=table.fqn, expectations=suite)
    seconds["expectations"] = round(time.perf_counter() - started, 3)
    if not held_back:
        held_back = [passed.sparkSession.createDataFrame([], SILVER_QUARANTINE.schema)]
    return TableCheck(
        table=table,
        staged=staged,
        passed=passed,
        held_back=held_back[0] if len(held_back) == 1 else held_back[0].unionByName(held_back[1]),
        results=results,
        rows=rows,
        held=held,
        unknown_codes=unknown,
        seconds=seconds,
        scratch=scratch,
    )


def _coded(df: DataFrame) -> list:
    """Observed during staging: the columns with an unknown code anywhere (a set of column-name
    combinations, so small). Empty, the usual case, spares the per-column count."""
    if "unknown_codes" not in df.columns:
        return []
    combos = F.collect_set(F.when(F.size("unknown_codes") > 0, F.col("unknown_codes")))
    return [F.size(F.array_distinct(F.flatten(combos))).alias("coded")]


def _unknown_codes(passed: DataFrame) -> dict[str, int]:
    """Rows with an unknown code, per source column, among the staged rows (one column read back).
    Rows held back by a rule are in quarantine, whatever their codes."""
    if "unknown_codes" not in passed.columns:
        return {}
    label = F.explode(F.array_distinct("unknown_codes")).alias("column")
    return {r["column"]: r["count"] for r in passed.select(label).groupBy("column").count().collect()}


def _counted(
    table: Table, check_id: str, kind: str, column: str | None, policy: str, bad: int, rows: int, note: str
) -> CheckResult:
    return CheckResult(
        gate=SILVER_GATE,
        table_name=table.fqn,
        check_id=check_id,
        expectation=kind,
        column_name=column,
        policy=policy,
        success=bad == 0,
        element_count=rows,
        unexpected_count=bad,
        unexpected_percent=100.0 * bad / rows if rows else 0.0,
        message=note,
    )


def _examples(rows: DataFrame, table: Table, *, quarantined: bool = False) -> list[str]:
    if quarantined:  # quarantine's shape: the file, and the row (0 for a person record as a whole)
        picked = rows.select("source_file", "source_row").limit(5).collect()
        return [f"{r[0]}" + (f" row {r[1]}" if r[1] else "") for r in picked]
    file, row = ("first_file", None) if table is SILVER_PERSON_RECORDS else ("source_file", "source_row")
    picked = rows.select(file, *([row] if row else [])).limit(5).collect()
    return [f"{r[0]}" + (f" row {r[1]}" if row else "") for r in picked]


def check_bronze_load(
    spark: SparkSession,
    pending: list[dict],
    ledger: DataFrame | None,
    load_id: str,
    *,
    validator: GxValidator,
    quality: QualitySettings,
) -> list[CheckResult]:
    """Checks of what bronze landed since silver was last promoted (`pending`: ledger rows), before
    silver is rebuilt from it: each recognized file's parse rate (landed / raw rows, fail below
    `min_parse_rate`), unrecognized files (warn), and each family's rows in this load against its
    previous load (warn beyond `row_count_drift`). A blocked load stays blocked on later runs until
    its files are fixed or the threshold is changed: the pending files are checked again."""
    files = [
        (
            f["file"],
            f["raw_rows"],
            f["landed_rows"],
            f["quarantined_rows"],
            (f["landed_rows"] / f["raw_rows"]) if f["raw_rows"] else 1.0,
        )
        for f in sorted(pending, key=lambda f: f["file"])
    ]
    if not files:
        return []
    recognized = spark.createDataFrame(
        [f for f in files if family_of(f[0]) is not None],
        "file STRING, raw_rows BIGINT, landed_rows BIGINT, quarantined_rows BIGINT, parse_rate DOUBLE",
    )
    suite = [
        gxe.ExpectColumnValuesToBeBetween(
            column="parse_rate",
            min_value=quality.min_parse_rate,
            max_value=1.0,
            meta={"policy": "fail", "check_id": "parse_rate", "note": "landed / raw rows per file"},
        )
    ]
    results = validator.validate(
        recognized, gate="raw->bronze", table_name="bronze.files", expectations=suite
    )
    low = [
        f"{name} ({rate:.1%})"
        for name, *_, rate in files
        if family_of(name) and rate < quality.min_parse_rate
    ]
    for r in results:
        if r.check_id == "parse_rate" and low:
            r.examples = low[:10]
    unrecognized = [name for name, *_ in files if family_of(name) is None]
    results.append(
        CheckResult(
            gate="raw->bronze",
            table_name="bronze.files",
            check_id="recognized_files",
            expectation="c2c_recognized_files",
            column_name="file",
            policy="warn",
            success=not unrecognized,
            element_count=len(files),
            unexpected_count=len(unrecognized),
            examples=unrecognized[:10],
            message="files matching no layout in lakehouse/sources/layouts.py are quarantined whole",
        )
    )
    results += _drift(ledger, load_id, quality)
    return results


def _drift(ledger: DataFrame | None, load_id: str, quality: QualitySettings) -> list[CheckResult]:
    if ledger is None:
        return []
    per_load = (
        ledger.filter(F.col("status") == "landed")
        .groupBy("family", "load_id")
        .agg(F.sum("landed_rows").alias("rows"), F.max("ingested_at").alias("at"))
        .collect()
    )
    results = []
    for family in sorted({r["family"] for r in per_load if r["family"]}):
        loads = sorted((r for r in per_load if r["family"] == family), key=lambda r: r["at"])
        current = [r for r in loads if r["load_id"] == load_id]
        earlier = [r for r in loads if r["load_id"] != load_id]
        if not current or not earlier:
            continue
        now, before = current[0]["rows"], earlier[-1]["rows"]
        ok = abs(now - before) <= quality.row_count_drift * before
        results.append(
            CheckResult(
                gate="raw->bronze",
                table_name=f"bronze.{family}",
                check_id="row_count_drift",
                expectation="c2c_row_count_drift",
                column_name=None,
                policy="warn",
                success=ok,
                observed_value=f"{now} rows this load, {before} in the previous load",
                message=f"a load may differ from the previous one by {quality.row_count_drift:.0%}",
            )
        )
    return results
