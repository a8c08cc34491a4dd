"""Quality gates: row rules hold rows back in one pass, fail checks block promotion with a message that
names the table, check, row count and examples, and results land in ops.quality_results."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import pipeline
from lakehouse.settings import QualitySettings
from lakehouse.sources.layouts import LAYOUTS
from lakehouse.storage import open_storage
from lakehouse.tables import OPS_QUALITY_RESULTS, OPS_RUNS, SILVER_K12_ENROLLMENTS, SILVER_PERSON_RECORDS
from quality.gate import check_references, check_table, finish_check, stage_table
from quality.gx_runner import GxValidator
from quality.results import QualityGateFailed

ROOT = Path(__file__).resolve().parents[2]
K12 = (
    "source STRING, record_token STRING, academic_year INT, school_cds STRING, district_code STRING, "
    "county_code STRING, grade INT, entry_date DATE, exit_date DATE, exit_code STRING, exit_category STRING, "
    "completion_status STRING, completion STRING, unknown_codes ARRAY<STRING>, source_file STRING, "
    "source_row BIGINT"
)


def k12_row(token, row, *, entry=date(2018, 8, 20), grade=5, exit_code="E155", unknown=()):
    return (
        "calpads", token, 2019, "19647331234567", "1964733", "19", grade, entry, date(2019, 6, 10), exit_code,
        "year_end", None, None, list(unknown), "calpads/SENR_2019.txt", row,
    )  # fmt: skip


def test_rules_hold_back_bad_rows_and_fail_checks_report_them(spark, settings):
    events = spark.createDataFrame(
        [
            k12_row("t1", 2),
            k12_row(None, 3),  # no record key
            k12_row("t9", 4),  # no person record
            k12_row("t2", 5, entry=date(1850, 1, 1)),  # implausible date
            k12_row("t2", 6, exit_code="X1", unknown=["EXIT_CODE"]),  # unknown code: counted, kept
        ],
        K12,
    )
    known = spark.createDataFrame([("t1",), ("t2",)], "record_token STRING")
    quality = QualitySettings(max_quarantine_rate=0.7, max_unknown_code_rate=0.1, min_bad_rows=1)
    storage = open_storage(spark, settings)
    checked = check_table(
        events,
        SILVER_K12_ENROLLMENTS,
        storage=storage,
        validator=GxValidator(None),
        quality=quality,
        run_id="r1",
        run_date=date(2026, 11, 28),
        previous_rows=None,
        known_records=known,
    )
    try:
        held = checked.held_back.select("table_name", "source_file", "source_row", "reason")
        expected = spark.createDataFrame(
            [
                (
                    "k12_enrollments",
                    "calpads/SENR_2019.txt",
                    3,
                    "no source record key: the row cannot be tied to a person record",
                ),
                (
                    "k12_enrollments",
                    "calpads/SENR_2019.txt",
                    4,
                    "no matching person record (referential integrity)",
                ),
                (
                    "k12_enrollments",
                    "calpads/SENR_2019.txt",
                    5,
                    "implausible entry_date: outside 1900-01-01..2027-11-29",
                ),
            ],  # fmt: skip
            "table_name STRING, source_file STRING, source_row BIGINT, reason STRING",
        )
        assert_df_equality(held, expected, ignore_row_order=True, ignore_nullable=True)
        assert sorted(r["source_row"] for r in checked.passed.collect()) == [2, 6]
        assert checked.passed.columns == events.columns  # the gate adds no column to what it promotes
        by_id = {r.check_id: r for r in checked.results}
        assert (by_id["quarantine_rate"].success, by_id["quarantine_rate"].unexpected_count) == (True, 3)
        unknown = by_id["known_codes:EXIT_CODE"]
        assert (unknown.blocks, unknown.unexpected_count, unknown.element_count) == (True, 1, 5)
        assert not storage.info(SILVER_K12_ENROLLMENTS).exists  # staged, not committed
        assert unknown.examples == ["calpads/SENR_2019.txt row 6"]
        assert "known_codes" not in [r.check_id for r in checked.blocked if r is not unknown]
        assert by_id["schema"].success and by_id["grade_range"].success
        assert by_id["record_in_person_records"].observed_value == "1 record tokens without a person record"
        message = str(QualityGateFailed("bronze->silver", checked.blocked, "ops.quality_results"))
        assert "silver.k12_enrollments: c2c_known_codes(EXIT_CODE): 1 of 5 rows (20.00%)" in message
        assert "examples: calpads/SENR_2019.txt row 6" in message
    finally:
        checked.discard(storage)


def test_a_gx_fail_check_blocks_with_examples(spark, settings):
    events = spark.createDataFrame([k12_row("t1", 2, grade=14), k12_row("t1", 3)], K12)
    storage = open_storage(spark, settings)
    checked = check_table(
        events,
        SILVER_K12_ENROLLMENTS,
        storage=storage,
        validator=GxValidator(None),
        quality=QualitySettings(),
        run_id="r1",
        run_date=date(2026, 11, 28),
        previous_rows=100,
        known_records=spark.createDataFrame([("t1",)], "record_token STRING"),
    )
    try:
        blocked = {r.check_id: r for r in checked.blocked}
        assert list(blocked) == ["grade_range"]
        assert (blocked["grade_range"].unexpected_count, blocked["grade_range"].examples) == (1, [14])
        drift = next(r for r in checked.results if r.check_id == "row_count_drift")
        assert (drift.policy, drift.success, drift.observed_value) == ("warn", False, "2")
    finally:
        checked.discard(storage)


def test_references_of_several_tables_are_checked_together_and_kept_apart(spark, settings):
    """One anti-join for every table: each table's orphans go to its own quarantine, and only the
    table with orphans is staged again."""
    storage = open_storage(spark, settings)
    run = {"storage": storage, "run_id": "r1", "run_date": date(2026, 11, 28)}
    first = stage_table(
        spark.createDataFrame([k12_row("t1", 2), k12_row("t9", 3), k12_row("t9", 4)], K12),
        SILVER_K12_ENROLLMENTS,
        **run,
    )
    second = stage_table(
        spark.createDataFrame([k12_row("t2", 2), k12_row("t1", 3)], K12), SILVER_K12_ENROLLMENTS, **run
    )
    second_stage = second.staged
    known = spark.createDataFrame([("t1",), ("t2",)], "record_token STRING")
    later = {"run_date": run["run_date"], "previous_rows": None}
    try:
        check_references([first, second], known, storage=storage, run_id="r1")
        for check in (first, second):
            finish_check(check, validator=GxValidator(None), quality=QualitySettings(), **later)
        ri = [next(r for r in c.results if r.check_id == "record_in_person_records") for c in (first, second)]
        assert [(r.unexpected_count, r.observed_value) for r in ri] == [
            (2, "1 record tokens without a person record"),
            (0, "0 record tokens without a person record"),
        ]
        assert sorted(r["source_row"] for r in first.passed.collect()) == [2]
        assert sorted(r["source_row"] for r in first.held_back.collect()) == [3, 4]
        assert (first.held, second.held, second.held_back.count()) == (2, 0, 0)
        assert second.staged is second_stage and not second.scratch
        assert sorted(r["source_row"] for r in second.passed.collect()) == [2, 3]
    finally:
        first.discard(storage)
        second.discard(storage)


def _write(path: Path, family: str, rows: list[list[str]]) -> None:
    layout = LAYOUTS[family]
    lines = [layout.header] + [layout.kind.join(r) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.slow
def test_gate_blocks_promotion_until_the_code_map_is_fixed(spark, settings, tmp_path):
    raw = tmp_path / "raw"
    students = [f"10000000{i:02d}" for i in range(12)]
    _write(
        raw / "calpads" / "SINF_2019.txt",
        "SINF",
        [["2018-19", "19647331234567", s, "", "ANA", "", "LOPEZ", "20080101", "F", "Y", "500", "", "EO", "N",
          "N", "N", "90001"] for s in students],
    )  # fmt: skip
    _write(
        raw / "calpads" / "SENR_2019.txt",
        "SENR",
        [["2018-19", "19647331234567", s, "", "05", "20180820", "20190610", "E155", ""] for s in students],
    )
    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    codes = conf / "codes" / "calpads.yml"
    original = codes.read_text()
    codes.write_text(original.replace('  "E155": year_end\n', ""))  # an out-of-date code map
    settings = settings.model_copy(
        update={
            "conf_dir": str(conf),
            "storage": settings.storage.model_copy(update={"raw_root": str(raw)}),
            # 12 students: the unknown-code rate is judged from 10 bad rows here (20 by default).
            "quality": settings.quality.model_copy(update={"min_bad_rows": 10}),
        }
    )
    storage = open_storage(spark, settings)

    with pytest.raises(QualityGateFailed) as blocked:
        pipeline.run(spark, settings, run_id="r1")
    message = str(blocked.value)
    assert "quality gate bronze->silver failed: promotion blocked" in message
    assert "silver.k12_enrollments: c2c_known_codes(EXIT_CODE): 12 of 12 rows (100.00%)" in message
    assert "examples: calpads/SENR_2019.txt row 2" in message
    assert not storage.info(SILVER_PERSON_RECORDS).exists  # nothing promoted, not even passing tables
    assert not storage.info(SILVER_K12_ENROLLMENTS).exists
    failed = storage.read(OPS_QUALITY_RESULTS).where((F.col("run_id") == "r1") & ~F.col("success"))
    assert [(r["table_name"], r["check_id"], r["policy"]) for r in failed.collect()] == [
        ("silver.k12_enrollments", "known_codes:EXIT_CODE", "fail")
    ]
    report = json.loads((settings.runs_dir() / "r1" / "report.json").read_text())
    assert report["status"] == "blocked"
    assert (Path(report["quality"]["data_docs"])).is_file()
    runs = storage.read(OPS_RUNS).select("run_id", "status").collect()
    assert [(r["run_id"], r["status"]) for r in runs] == [("r1", "blocked")]

    codes.write_text(original)  # the code map is fixed: the next run promotes
    report = pipeline.run(spark, settings, run_id="r2")
    assert report["status"] == "succeeded"
    assert report["silver"]["silver.k12_enrollments"]["rows_written"] == 12
    assert storage.read(SILVER_K12_ENROLLMENTS).where(F.col("exit_category") == "year_end").count() == 12
