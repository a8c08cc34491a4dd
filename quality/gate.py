"""The gates: checks that stand between a transform and the commit that promotes its output.

A silver table is checked without computing it twice or caching it, in three steps. `stage_table`
stages the built frame (its files written but not committed, `Storage.stage`) with the row rules
applied in the same pass, and a Spark `Observation` on that write counts rows, held-back rows and each
rule's breaks. The other checks read the staged files back: `check_references` checks the record
tokens of every event table against person records in one Spark job (on distinct tokens; orphans are
moved to quarantine and the rest staged again, the rare path), and `finish_check` counts unknown codes
and runs the table's GX suite. `check_table` does the three for one table.
Person records are built from every bronze row: their check also counts, on those bronze rows, the codes
that reach silver only through person records (`record_code_flags`: gender, CAASPP test results, CSU
credential programs not completed), per family and column, against the family's rows.
The job then commits every table's staged files, or aborts them all (jobs/silver_job.py).
Examples of failing rows are their positions (file and row, quality/positions.py); a restricted table's
results (person records) hold no value of it at all, GX's included (quality/gx_runner.py).
The raw->bronze checks are in quality/bronze_gate.py. Nothing here commits.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from functools import reduce

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from lakehouse.settings import QualitySettings
from lakehouse.silver.codes import load_code_maps
from lakehouse.silver.person_records import record_code_flags
from lakehouse.storage import Storage
from lakehouse.storage.base import Staged
from lakehouse.tables import BRONZE, SILVER_PERSON_RECORDS, SILVER_QUARANTINE, Table
from quality.gx_runner import GxValidator
from quality.positions import positions
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
    held_back: DataFrame | None
    results: list[CheckResult]
    rows: int = 0
    held: int = 0
    unknown_codes: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    scratch: list[Staged] = field(default_factory=list)  # superseded stages `held_back` may still read
    held_parts: list[DataFrame] = field(default_factory=list)  # until `finish_check` unions them
    coded: bool = False  # an unknown code was seen while staging
    # Person records only: per bronze row, the codes read only into person records (`_record_codes`)
    source_codes: DataFrame | None = None

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
    """Check one built silver table and stage its passing rows: `stage_table`, then (given
    `known_records`) `check_references`, then `finish_check`. The caller commits `staged` or calls
    `discard`. The silver job runs the three steps over all its tables instead, so that referential
    integrity is one Spark job for every table."""
    checked = stage_table(df, table, storage=storage, run_id=run_id, run_date=run_date)
    if known_records is not None:
        check_references([checked], known_records, storage=storage, run_id=run_id)
    return finish_check(
        checked, validator=validator, quality=quality, run_date=run_date, previous_rows=previous_rows
    )


def stage_table(df: DataFrame, table: Table, *, storage: Storage, run_id: str, run_date: date) -> TableCheck:
    """Stage a built table's rows that pass its row rules, in one pass that also counts rows, held-back
    rows, each rule's breaks and unknown codes (a Spark `Observation`). Held-back rows are computed
    again only when there are some (the rare path)."""
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
    staged = storage.stage(filter_passed(counted), table, "overwrite", **_stage_args(table, run_id))
    counts = observation.get
    rows, held = counts["rows"], counts["held"]
    return TableCheck(
        table=table,
        staged=staged,
        passed=storage.staged_frame(staged),
        held_back=None,
        held_parts=[_quarantine_rows(filter_held_back(flagged), table, run_id)] if held else [],
        results=[
            _counted(table, r.name, "c2c_row_rule", None, "quarantine", counts[f"rule{i}"], rows, r.reason)
            for i, r in enumerate(rules)
        ],
        rows=rows,
        held=held,
        coded=bool(counts.get("coded")),
        seconds={"build_rules_and_stage": round(time.perf_counter() - started, 3)},
        source_codes=_record_codes(storage) if table is SILVER_PERSON_RECORDS else None,
    )


def _record_codes(storage: Storage) -> DataFrame | None:
    """Every landed bronze row that has codes silver reads only into person records (see
    `record_code_flags`): family, position and the columns whose code is unknown. Not computed here:
    `finish_check` counts it in one Spark job."""
    codes = load_code_maps(storage.settings.conf_dir)
    parts = []
    for family, table in BRONZE.items():
        flags = record_code_flags(family, codes)
        if flags is not None and storage.info(table).exists:
            rows = storage.read(table)
            parts.append(
                rows.select(
                    F.lit(family).alias("family"), "_source_file", "_row_number", flags.alias("codes")
                )
            )
    return reduce(DataFrame.unionByName, parts) if parts else None


def _stage_args(table: Table, run_id: str) -> dict:
    return {"run_id": run_id, "step": f"silver/{table.name}", "schema_mode": "overwrite"}


def check_references(
    checks: list[TableCheck], known_records: DataFrame, *, storage: Storage, run_id: str
) -> float:
    """Referential integrity of staged event tables to person records, for all of them in one Spark
    job: each table's distinct record tokens, tagged with the table, anti-joined once with the known
    tokens. A table with orphans (the rare path) moves their rows to quarantine and stages the rest
    again. Adds each table's result; returns the seconds taken."""
    if not checks:
        return 0.0
    started = time.perf_counter()
    tagged = [c.passed.select(F.lit(i).alias("_table"), "record_token") for i, c in enumerate(checks)]
    orphans: dict[int, list[str]] = {}
    for r in orphan_tokens(reduce(DataFrame.unionByName, tagged), known_records, by="_table").collect():
        orphans.setdefault(r["_table"], []).append(r["record_token"])
    for i, check in enumerate(checks):
        tokens, bad = orphans.get(i, []), 0
        if tokens:
            table, passed = check.table, check.passed
            marks = passed.sparkSession.createDataFrame([(t,) for t in tokens], "record_token STRING")
            orphan_rows = passed.join(F.broadcast(marks), "record_token", "left_semi")
            bad = orphan_rows.count()
            reasons = orphan_rows.withColumn(REASONS, F.array(F.lit(RI_REASON)))
            check.held_parts.append(_quarantine_rows(reasons, table, run_id))
            check.scratch.append(check.staged)
            kept = passed.join(F.broadcast(marks), "record_token", "left_anti").select(*passed.columns)
            check.staged = storage.stage(kept, table, "overwrite", **_stage_args(table, run_id))
            check.passed = storage.staged_frame(check.staged)
            check.held += bad
        ri = _counted(
            check.table, RI_RULE, "c2c_row_rule", "record_token", "quarantine", bad, check.rows, RI_REASON
        )
        ri.observed_value = f"{len(tokens)} record tokens without a person record"
        check.results.append(ri)
    return round(time.perf_counter() - started, 3)


def finish_check(
    check: TableCheck,
    *,
    validator: GxValidator,
    quality: QualitySettings,
    run_date: date,
    previous_rows: int | None,
) -> TableCheck:
    """The checks on what is staged: the quarantine rate, unknown codes and the table's GX suite."""
    table, passed, rows, held = check.table, check.passed, check.rows, check.held
    share = held / rows if rows else 0.0
    quarantine = _counted(
        table, "quarantine_rate", "c2c_quarantine_rate", None, "fail", held, rows,
        f"at most {quality.max_quarantine_rate:.1%} of rows may be held back",
    )  # fmt: skip
    quarantine.success = share <= quality.max_quarantine_rate
    if not quarantine.success:
        quarantine.examples = positions(check.held_parts[0] if check.held_parts else passed.limit(0))
    check.results.append(quarantine)
    unknown = _unknown_codes(passed) if check.coded else {}
    for column, n in sorted(unknown.items()):
        result = _counted(
            table, f"known_codes:{column}", "c2c_known_codes", column, "fail", n, rows,
            f"codes missing from conf/codes/ (at most {quality.max_unknown_code_rate:.1%} allowed, "
            f"judged from {quality.min_bad_rows} rows)",
        )  # fmt: skip
        # A rate is judged from `min_bad_rows` unknown codes on, as the raw->bronze gate judges parse
        # rates: one mistyped code in a small table is a count to report, not a load to stop.
        result.success = n < quality.min_bad_rows or n / rows <= quality.max_unknown_code_rate
        if not result.success:
            result.examples = positions(passed.filter(F.array_contains("unknown_codes", column)))
        check.results.append(result)
    check.unknown_codes = unknown
    if check.source_codes is not None:
        _check_source_codes(check, quality)
    suite = expectations(table, run_date=run_date, previous_rows=previous_rows, drift=quality.row_count_drift)
    started = time.perf_counter()
    check.results += validator.validate(
        passed, gate=SILVER_GATE, table_name=table.fqn, expectations=suite, restricted=table.restricted
    )
    check.seconds["expectations"] = round(time.perf_counter() - started, 3)
    parts = check.held_parts or [passed.sparkSession.createDataFrame([], SILVER_QUARANTINE.schema)]
    check.held_back = reduce(DataFrame.unionByName, parts)
    return check


def _check_source_codes(check: TableCheck, quality: QualitySettings) -> None:
    """Unknown codes of the bronze rows person records are built from (`_record_codes`), in one Spark
    job: per family and column, against that family's landed rows. Each is reported as
    `<family>.<column>` among the person records' unknown codes, its result on the bronze table."""
    flagged = check.source_codes
    # One "" per row, to count the family's rows in the same aggregation, then one entry per unknown code.
    entries = F.explode(F.concat(F.array(F.lit("")), "codes")).alias("column")
    counts = flagged.select("family", entries).groupBy("family", "column").count().collect()
    rows = {r["family"]: r["count"] for r in counts if r["column"] == ""}
    for r in sorted((r for r in counts if r["column"] != ""), key=lambda r: (r["family"], r["column"])):
        family, column, bad = r["family"], r["column"], r["count"]
        result = _counted(
            BRONZE[family], f"known_codes:{column}", "c2c_known_codes", column, "fail", bad, rows[family],
            f"codes missing from conf/codes/, read into silver.person_records "
            f"(at most {quality.max_unknown_code_rate:.1%} allowed, judged from {quality.min_bad_rows} rows)",
        )  # fmt: skip
        result.success = bad < quality.min_bad_rows or bad / rows[family] <= quality.max_unknown_code_rate
        if not result.success:
            bad_rows = flagged.filter((F.col("family") == family) & F.array_contains("codes", column))
            result.examples = positions(bad_rows)
        check.results.append(result)
        check.unknown_codes[f"{family}.{column}"] = bad


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
        restricted=table.restricted,
    )
