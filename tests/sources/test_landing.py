"""Landing a generated state into bronze: every raw row accounted for, reruns change nothing, new
files land incrementally, duplicates and unrecognized files are recorded, not lost."""

from __future__ import annotations

import shutil

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.bronze_job import landed_since_promotion
from lakehouse.settings import QualitySettings
from lakehouse.sources.checks import validate
from lakehouse.sources.landing import land
from lakehouse.storage import open_storage
from lakehouse.synth.corrupt import corrupt
from lakehouse.tables import BRONZE, BRONZE_FILES, BRONZE_QUARANTINE
from quality.bronze_gate import check_bronze_load
from quality.gx_runner import GxValidator


def test_validate_quarantines_bad_dates_and_numbers(spark):
    rows = spark.createDataFrame(
        [
            ("f", "CAASPP", 2, "x", ["2018-19", "1", "05", "ELA", "2500"], None),
            ("f", "CAASPP", 3, "x", ["2018-19", "2", "05", "ELA", "25OO"], None),
            ("f", "CAASPP", 4, "x", None, "wrong column count: 3 fields, layout has 5"),
        ],
        "file STRING, family STRING, row_number BIGINT, raw_text STRING, fields ARRAY<STRING>, reason STRING",
    )
    checked = validate(rows, "CAASPP", ("SCALE_SCORE",), {}).select("row_number", "reason")
    expected = spark.createDataFrame(
        [
            (2, None),
            (3, "unparseable number in SCALE_SCORE: '25OO'"),
            (4, "wrong column count: 3 fields, layout has 5"),
        ],
        "row_number BIGINT, reason STRING",
    )
    assert_df_equality(checked, expected, ignore_row_order=True, ignore_nullable=True)
    dates = spark.createDataFrame(
        [("f", "SENR", 2, "x", ["2018-19", "1", "2", "3", "KN", "20180820", "20191345", "E155", ""], None)],
        rows.schema,
    )
    [row] = validate(
        dates, "SENR", (), {"ENROLL_START_DATE": "%Y%m%d", "ENROLL_EXIT_DATE": "%Y%m%d"}
    ).collect()
    assert row["reason"] == "unparseable date in ENROLL_EXIT_DATE: '20191345' (expected %Y%m%d)"


@pytest.mark.slow
def test_corrupted_state_every_raw_row_is_landed_or_quarantined(spark, settings, state, tmp_path):
    """0.5% of lines corrupted (2,500 people): each structurally broken line is quarantined, every other
    line lands, and the raw->bronze gate passes, since it judges source families over the load and a
    file only when mostly unreadable (one bad line in a file under 20 rows is below 95% parsed and says
    nothing about the source). The 2% run through gold is tests/jobs/test_cli.py's."""
    raw = tmp_path / "raw"
    shutil.copytree(state, raw)
    manifest = corrupt(raw, 0.005, seed=9)
    (raw / "calpads" / "README.txt").write_text("notes from the agency\nsecond line\n")
    storage = open_storage(spark, settings)

    report = land(spark, storage, str(raw))

    data_lines = {}
    for path in raw.rglob("*"):
        rel = path.relative_to(raw).as_posix()
        if path.is_file() and not rel.startswith("_"):
            lines = path.read_bytes().rstrip(b"\n").split(b"\n")
            data_lines[rel] = len(lines) - (
                0 if rel.endswith((".jsonl", "README.txt")) or "/ERS" in rel else 1
            )
    [dup] = manifest["duplicated_files"]
    assert report["files"][dup["file"]] == {"status": "duplicate", "duplicate_of": dup["copy_of"]}
    for rel, n in data_lines.items():
        if rel != dup["file"]:
            counts = report["files"][rel]
            assert counts["raw"] == n == counts["landed"] + counts["quarantined"], rel

    quarantine = storage.read(BRONZE_QUARANTINE)
    found = {
        (r["file"], r["row_number"])
        for r in quarantine.where(~F.col("file").endswith("README.txt")).collect()
    }
    expected = {
        (i["file"], i["line"])
        for i in manifest["injections"]
        if i["kind"] != "invalid_code" and i["file"] != dup["file"]
    }
    assert found == expected
    assert quarantine.where(F.col("file") == "calpads/README.txt").count() == 2
    # an invalid code is bronze's to land as is; silver flags it against the code maps
    code = next(i for i in manifest["injections"] if i["kind"] == "invalid_code" and i["file"] != dup["file"])
    assert (
        storage.read(BRONZE_QUARANTINE)
        .where((F.col("file") == code["file"]) & (F.col("row_number") == code["line"]))
        .count()
        == 0
    )

    gate = check_bronze_load(
        spark,
        landed_since_promotion(storage),
        storage.read(BRONZE_FILES),
        report["load_id"],
        validator=GxValidator(None),
        quality=QualitySettings(),
    )
    assert {r.check_id for r in gate} >= {"parse_rate", "file_parse_rate", "recognized_files"}
    assert [r.check_id for r in gate if r.blocks] == []
    # Some small file is below 95% parsed: what a per-file rule would have blocked the load on.
    landed = [f for f in report["files"].values() if f.get("status") == "landed"]
    assert any(f["quarantined"] > 0.05 * f["raw"] for f in landed)
    [rate] = [r for r in gate if r.check_id == "parse_rate"]
    assert rate.success and rate.element_count == len(BRONZE)  # every family judged, none failing

    versions = {t.fqn: storage.info(t).version for t in [*BRONZE.values(), BRONZE_QUARANTINE, BRONZE_FILES]}
    again = land(spark, storage, str(raw))
    assert again["files_new"] == again["files_duplicate"] == 0
    assert versions == {
        t.fqn: storage.info(t).version for t in [*BRONZE.values(), BRONZE_QUARANTINE, BRONZE_FILES]
    }

    senr = storage.read(BRONZE["SENR"]).count()
    extra = raw / "calpads" / "SENR_2030.txt"
    extra.write_text((raw / "calpads" / "SENR_2019.txt").read_text().replace("2018-19", "2029-30"))
    incremental = land(spark, storage, str(raw))
    assert incremental["files_new"] == 1
    new_rows = incremental["files"]["calpads/SENR_2030.txt"]["landed"]
    assert new_rows > 0 and storage.read(BRONZE["SENR"]).count() == senr + new_rows
    landed = storage.read(BRONZE["SENR"]).where(F.col("_source_file") == "calpads/SENR_2030.txt")
    assert landed.select("_row_number").distinct().count() == new_rows
    assert landed.where(F.col("_record_hash").isNull() | F.col("_load_id").isNull()).count() == 0
