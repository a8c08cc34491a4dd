"""The raw->bronze gate: `check_bronze_load` checks what a bronze load did (parse rates per source
family and of mostly unreadable files, unrecognized files, row-count drift per family) before silver
is rebuilt from it. Nothing here commits."""

from __future__ import annotations

import great_expectations.expectations as gxe
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.settings import QualitySettings
from lakehouse.sources.layouts import family_of
from quality.gx_runner import GxValidator
from quality.results import CheckResult


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
    silver is rebuilt from it: each source family's parse rate over the load (landed / raw rows,
    fail below `min_parse_rate` once at least `min_bad_rows` of its rows failed: one bad line in a
    20-row file is 95%, and says nothing about the source), each file that is mostly unreadable
    (fail below `min_file_parse_rate` with at least `min_file_rows` rows: a file in the wrong layout
    or encoding), unrecognized files (warn), and each family's rows in this load against its previous
    load (warn beyond `row_count_drift`). A blocked load stays blocked on later runs until its files
    are fixed or the threshold is changed: the pending files are checked again."""
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
    recognized = [f for f in files if family_of(f[0]) is not None]
    families: dict[str, list[int]] = {}
    for name, raw, landed, *_ in recognized:
        totals = families.setdefault(_family_key(name), [0, 0])
        totals[0] += raw
        totals[1] += landed
    by_family = [
        (
            family,
            raw,
            landed,
            raw - landed,
            landed / raw if raw else 1.0,
            raw - landed >= quality.min_bad_rows,
        )
        for family, (raw, landed) in sorted(families.items())
    ]
    # A rate not yet judged (too few bad rows, too small a file) is checked as 1.0: it cannot fail.
    per_family = spark.createDataFrame(
        [(family, raw, rate if judged else 1.0) for family, raw, _, _, rate, judged in by_family],
        "family STRING, raw_rows BIGINT, parse_rate DOUBLE",
    )
    note = f"landed / raw rows per source family over the load, judged from {quality.min_bad_rows} bad rows"
    results = _rate_check(
        validator, per_family, "per source family", "parse_rate", quality.min_parse_rate, note
    )
    low = [
        f"{family} ({rate:.1%} of {raw:,} rows)"
        for family, raw, _, _, rate, judged in by_family
        if judged and rate < quality.min_parse_rate
    ]
    per_file = spark.createDataFrame(
        [(name, raw, rate if raw >= quality.min_file_rows else 1.0) for name, raw, _, _, rate in recognized],
        "file STRING, raw_rows BIGINT, parse_rate DOUBLE",
    )
    note = f"a file of {quality.min_file_rows}+ rows that is mostly unreadable"
    results += _rate_check(
        validator, per_file, "per file", "file_parse_rate", quality.min_file_parse_rate, note
    )
    unreadable = [
        f"{name} ({rate:.1%})"
        for name, raw, *_, rate in recognized
        if raw >= quality.min_file_rows and rate < quality.min_file_parse_rate
    ]
    for r in results:
        if r.check_id == "parse_rate" and low:
            r.examples = low[:10]
        if r.check_id == "file_parse_rate" and unreadable:
            r.examples = unreadable[:10]
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


def _rate_check(
    validator: GxValidator, frame: DataFrame, part: str, check_id: str, minimum: float, note: str
) -> list[CheckResult]:
    """`frame`'s parse_rate at least `minimum` (policy fail), as check `check_id` of bronze.files."""
    expectation = gxe.ExpectColumnValuesToBeBetween(
        column="parse_rate",
        min_value=minimum,
        max_value=1.0,
        meta={"policy": "fail", "check_id": check_id, "note": note},
    )
    return validator.validate(
        frame, gate="raw->bronze", table_name="bronze.files", part=part, expectations=[expectation]
    )


def _family_key(file: str) -> str:
    """A recognized file's source family: its agency folder and layout (`calpads/SENR`)."""
    return f"{file.split('/', 1)[0]}/{family_of(file)}"


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
