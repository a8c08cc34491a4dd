"""The gates: checks that stand between a transform and the write that promotes its output.

`check_table` runs one silver table's checks on the built (not yet written) frame: the row rules in
one pass (rows that break one are held back for quarantine), the rule and unknown-code counts in one
aggregate job, then the GX suite on the rows that passed. `check_bronze_load` checks what a bronze
load did (parse rates per file, row-count drift per family) before silver is rebuilt from it.
Nothing here writes: the job decides, from the results, whether to promote (quality/store.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

import great_expectations.expectations as gxe
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.settings import QualitySettings
from lakehouse.sources.layouts import family_of
from lakehouse.tables import SILVER_PERSON_RECORDS, Table
from quality.gx_runner import GxValidator
from quality.results import CheckResult
from quality.rules import (
    REASONS,
    RI_REASON,
    RI_RULE,
    filter_held_back,
    filter_passed,
    orphan_tokens,
    with_orphans_held_back,
    with_reasons,
)
from quality.suites import expectations, row_rules

SILVER_GATE = "bronze->silver"


@dataclass
class TableCheck:
    """A checked table: rows to promote (persisted), rows to hold back, and every check's result."""

    table: Table
    passed: DataFrame
    held_back: DataFrame
    results: list[CheckResult]
    rows: int = 0
    held: int = 0
    unknown_codes: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    _cached: list[DataFrame] = field(default_factory=list)

    @property
    def blocked(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocks]

    def release(self) -> None:
        for df in self._cached:
            df.unpersist()


def _labels(df: DataFrame) -> Column:
    """Per row: 'row', 'held' if any rule broke, 'rule:<reason>' per broken rule, 'code:<column>' per
    unknown code: counted in one groupBy."""
    parts = [
        F.array(F.lit("row")),
        F.when(F.size(REASONS) > 0, F.array(F.lit("held"))).otherwise(F.array().cast("array<string>")),
        F.transform(REASONS, lambda r: F.concat(F.lit("rule:"), r)),
    ]
    if "unknown_codes" in df.columns:
        parts.append(F.transform(F.array_distinct("unknown_codes"), lambda c: F.concat(F.lit("code:"), c)))
    return F.concat(*parts)


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
    validator: GxValidator,
    quality: QualitySettings,
    run_id: str,
    run_date: date,
    previous_rows: int | None,
    known_records: DataFrame | None = None,
) -> TableCheck:
    """Check a built silver table before it is written (see the module docstring)."""
    rules = row_rules(table, run_date=run_date)
    flagged = with_reasons(df, rules).persist(StorageLevel.MEMORY_AND_DISK)
    cached = [flagged]
    started = time.perf_counter()
    orphans = 0
    if known_records is not None:
        found = orphan_tokens(flagged, known_records).persist(StorageLevel.MEMORY_AND_DISK)
        cached.append(found)
        orphans = found.count()
        if orphans:
            flagged = with_orphans_held_back(flagged, found, small=orphans < 1_000_000)
            flagged = flagged.persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(flagged)
    counts = {
        r["label"]: r["count"]
        for r in flagged.select(F.explode(_labels(flagged)).alias("label")).groupBy("label").count().collect()
    }
    rows, held = counts.get("row", 0), counts.get("held", 0)
    seconds = {"build_and_rules": round(time.perf_counter() - started, 3)}
    passed = filter_passed(flagged)
    results = []
    for rule in rules:
        bad = counts.get(f"rule:{rule.reason}", 0)
        results.append(_counted(table, rule.name, "c2c_row_rule", None, "quarantine", bad, rows, rule.reason))
    if known_records is not None:
        bad = counts.get(f"rule:{RI_REASON}", 0)
        ri = _counted(table, RI_RULE, "c2c_row_rule", "record_token", "quarantine", bad, rows, RI_REASON)
        ri.observed_value = f"{orphans} record tokens without a person record"
        results.append(ri)
    share = held / rows if rows else 0.0
    quarantine = _counted(
        table, "quarantine_rate", "c2c_quarantine_rate", None, "fail", held, rows,
        f"at most {quality.max_quarantine_rate:.1%} of rows may be held back",
    )  # fmt: skip
    quarantine.success = share <= quality.max_quarantine_rate
    if not quarantine.success:
        quarantine.examples = _examples(filter_held_back(flagged), table)
    results.append(quarantine)
    unknown = {label[5:]: n for label, n in counts.items() if label.startswith("code:")}
    for column, n in sorted(unknown.items()):
        check = _counted(
            table, f"known_codes:{column}", "c2c_known_codes", column, "fail", n, rows,
            f"codes missing from conf/codes/ (at most {quality.max_unknown_code_rate:.1%} allowed)",
        )  # fmt: skip
        check.success = n / rows <= quality.max_unknown_code_rate
        if not check.success:
            check.examples = _examples(flagged.filter(F.array_contains("unknown_codes", column)), table)
        results.append(check)
    suite = expectations(table, run_date=run_date, previous_rows=previous_rows, drift=quality.row_count_drift)
    started = time.perf_counter()
    results += validator.validate(passed, gate=SILVER_GATE, table_name=table.fqn, expectations=suite)
    seconds["expectations"] = round(time.perf_counter() - started, 3)
    return TableCheck(
        table=table,
        passed=passed,
        held_back=_quarantine_rows(filter_held_back(flagged), table, run_id),
        results=results,
        rows=rows,
        held=held,
        unknown_codes=unknown,
        seconds=seconds,
        _cached=cached,
    )


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


def _examples(rows: DataFrame, table: Table) -> list[str]:
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
