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
    """Checks of what bronze landed since it was last promoted (`pending`: ledger rows), before
    silver may be rebuilt from it: each source family's parse rate over the load (landed / raw rows,
    fail below `min_parse_rate` once at least `min_bad_rows` of its rows failed: one bad line in a
    20-row file is 95%, and says nothing about the source), each file that is mostly unreadable
    (fail below `min_file_parse_rate` with at least `min_file_rows` rows: a file in the wrong layout
    or encoding), unrecognized files (warn), and each family's rows per file in this load against its
    earlier loads' (warn beyond `row_count_drift`). A blocked load stays blocked on later runs until its files
    are fixed, released or excluded by an operator (`c2c quarantine`), or the threshold is changed:
    the pending files are checked again. Only files in status `landed` are judged: a released file's
    parsed rows were accepted as they are, an excluded file's rows left bronze."""
    files, recognized, by_family = _judged(pending, quality)
    if not files:
        return []
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


def _judged(pending: list[dict], quality: QualitySettings) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The pending files the gate judges (status `landed`) as (file, raw, landed, quarantined, rate),
    those a layout recognizes, and per source family (family, raw, landed, bad, rate, judged): judged
    once `min_bad_rows` of its rows failed."""
    files = [
        (
            f["file"],
            f["raw_rows"],
            f["landed_rows"],
            f["quarantined_rows"],
            (f["landed_rows"] / f["raw_rows"]) if f["raw_rows"] else 1.0,
        )
        for f in sorted(pending, key=lambda f: f["file"])
        if f.get("status", "landed") == "landed"
    ]
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
    return files, recognized, by_family


def blocking_files(pending: list[dict], quality: QualitySettings) -> dict[str, str]:
    """Per pending file that makes the gate fail, why, as the gate judges it: the file is mostly
    unreadable, or its source family's parse rate over the load is too low (every file of that family
    with unparsed rows is named). Files the gate does not judge (released, excluded) never block."""
    _, recognized, by_family = _judged(pending, quality)
    low = {
        family: f"family {family}: {rate:.1%} of {raw:,} rows parsed (min {quality.min_parse_rate:.0%})"
        for family, raw, _, _, rate, judged in by_family
        if judged and rate < quality.min_parse_rate
    }
    why = {}
    for name, raw, _, bad, rate in recognized:
        if raw >= quality.min_file_rows and rate < quality.min_file_parse_rate:
            why[name] = f"file: {rate:.1%} of its {raw:,} rows parsed (min {quality.min_file_parse_rate:.0%})"
        elif bad and _family_key(name) in low:
            why[name] = low[_family_key(name)]
    return why


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
    """Per source family in this load, its rows per file against the rows per file of the family's
    earlier loads (warn beyond `row_count_drift`). Like with like: an agency sends one file per year or
    quarter of about the same size, so a normal incremental load (one new file) compares with the
    files before it, where comparing whole loads would set one quarter against a first load of twenty
    years. A file far smaller or larger than its family's usual is what a truncated or doubled extract
    looks like."""
    if ledger is None:
        return []
    per_load = (
        ledger.filter(F.col("status").isin("landed", "released"))
        .groupBy("family", F.col("load_id") == load_id)
        .agg(F.sum("landed_rows").alias("rows"), F.count("*").alias("files"))
        .toDF("family", "current", "rows", "files")
        .collect()
    )
    results = []
    for family in sorted({r["family"] for r in per_load if r["family"]}):
        current = [r for r in per_load if r["family"] == family and r["current"]]
        earlier = [r for r in per_load if r["family"] == family and not r["current"]]
        if not current or not earlier or not current[0]["files"] or not earlier[0]["files"]:
            continue
        now = current[0]["rows"] / current[0]["files"]
        before = earlier[0]["rows"] / earlier[0]["files"]
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
                observed_value=(
                    f"{now:,.0f} rows per file in this load ({current[0]['files']} files), "
                    f"{before:,.0f} in earlier loads ({earlier[0]['files']} files)"
                ),
                message=f"a file may differ from its family's earlier files by {quality.row_count_drift:.0%}",
            )
        )
    return results
