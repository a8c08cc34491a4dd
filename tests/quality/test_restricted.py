"""Checks of a restricted table (silver person records) let no value of it out of the restricted zone:
ops.quality_results, the run report, the blocked gate's message and Data Docs get counts and the
positions of failing rows (their files), never a birth date, a name or a record key. An unrestricted
table keeps its example values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import great_expectations.expectations as gxe
import pytest

from lakehouse.settings import QualitySettings
from lakehouse.storage import open_storage
from lakehouse.tables import OPS_QUALITY_RESULTS, SILVER_K12_ENROLLMENTS, SILVER_PERSON_RECORDS
from quality.gate import SILVER_GATE, check_table
from quality.gx_runner import GxValidator, is_restricted
from quality.positions import index_positions, position_columns
from quality.results import QualityGateFailed, stop_if_blocked, summarize
from quality.store import write_results
from tests.quality.test_gate import K12, k12_row

RUN_DATE = date(2026, 11, 28)
FIRST, LAST = "QUINTESSA", "VANTERPOOL"
# Every value of the failing rows, as text, as Python prints a date, and without separators.
SECRETS = [
    "12345678-123456789", "123456789", "87654321-987654321", "987654321", "44444444-444444444",
    "1850-03-04", "1850, 3, 4", "18500304", "2091-07-08", "2091, 7, 8", "20910708",
    "1966-02-03", "1966, 2, 3", FIRST, LAST, "tok-dup", "ssn-tok",
]  # fmt: skip


def person(key, token, birth, file):
    return (
        "edd", key, token, FIRST, None, LAST, LAST, None, birth, "F", f"ssn-{token}", None, None, None,
        None, None, None, "90001", True, file, file,
    )  # fmt: skip


RECORDS = [
    person("12345678-123456789", "tok-dup1", date(1850, 3, 4), "edd/DE9C_2019Q1.txt"),  # born too early
    person("12345678-123456789", "tok-dup2", date(1987, 6, 5), "edd/DE9C_2019Q2.txt"),  # the same key
    person("87654321-987654321", "tok-3", date(2091, 7, 8), "edd/DE9C_2019Q3.txt"),  # born too late
    person("55555555-555555555", "tok-4", date(1987, 6, 5), "edd/DE9C_2019Q1.txt"),
    person("44444444-444444444", None, date(1966, 2, 3), "edd/DE9C_2019Q4.txt"),  # no token: held back
]


def leaks(root: Path, skip: Path) -> dict[str, list[str]]:
    """Every file under `root` but outside `skip`, with the secrets found in it."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and skip not in path.parents:
            text = path.read_bytes().decode("utf-8", "replace").lower()
            hits = [s for s in SECRETS if s.lower() in text]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


def in_text(text: str) -> list[str]:
    return [s for s in SECRETS if s.lower() in text.lower()]


def test_a_blocked_restricted_table_reports_counts_and_positions_and_no_value(spark, settings, tmp_path):
    storage = open_storage(spark, settings)
    docs = settings.var_dir / "quality" / "docs"
    validator = GxValidator(docs)
    checked = check_table(
        spark.createDataFrame(RECORDS, SILVER_PERSON_RECORDS.schema),
        SILVER_PERSON_RECORDS,
        storage=storage,
        validator=validator,
        quality=QualitySettings(),
        run_id="r1",
        run_date=RUN_DATE,
        previous_rows=None,
    )
    try:
        results = checked.results
        write_results(spark, storage, results, run_id="r1", checked_at=datetime.now(UTC))
        assert validator.build_docs() is not None
        with pytest.raises(QualityGateFailed) as blocked:
            stop_if_blocked(SILVER_GATE, results, settings, "r1")
        report = settings.runs_dir() / "r1" / "report.json"
        report.parent.mkdir(parents=True)
        report.write_text(
            json.dumps({"gates": summarize(results), "results": [r.as_dict() for r in results]}, default=str)
        )
        message = str(blocked.value)
        stored = storage.read(OPS_QUALITY_RESULTS).collect()

        # Counts and positions are there.
        by_id = {r.check_id: r for r in results}
        key, births, held = by_id["key_unique"], by_id["birth_date_range"], by_id["quarantine_rate"]
        assert all(r.restricted for r in results)
        assert (key.blocks, key.unexpected_count, key.element_count) == (True, 2, 4)
        assert sorted(key.examples) == ["edd/DE9C_2019Q1.txt", "edd/DE9C_2019Q2.txt"]
        assert (births.policy, births.success, births.unexpected_count) == ("warn", False, 2)
        assert sorted(births.examples) == ["edd/DE9C_2019Q1.txt", "edd/DE9C_2019Q3.txt"]
        assert (held.blocks, held.unexpected_count, held.examples) == (True, 1, ["edd/DE9C_2019Q4.txt"])
        assert by_id["schema"].observed_value is not None  # the column names: no value of a row
        assert "expect_compound_columns_to_be_unique(source,source_record_key): 2 of 4 rows" in message
        assert "rows at: edd/DE9C_2019Q" in message
        row = next(r for r in stored if r["check_id"] == "key_unique")
        assert (row["unexpected_count"], sorted(json.loads(row["examples"]))) == (2, key.examples)

        # And no value: not in any file outside the restricted root (Data Docs, ops.quality_results,
        # the report), nor in what was read back or raised.
        assert any(docs.rglob("*.html"))
        assert leaks(tmp_path, Path(settings.storage.restricted_root)) == {}
        assert in_text(message) == []
        assert in_text(json.dumps([r.asDict() for r in stored], default=str)) == []
        assert in_text(json.dumps([r.as_dict() for r in results], default=str)) == []
    finally:
        checked.discard(storage)


def test_column_aggregates_of_a_restricted_table_are_pass_fail_only(spark, settings, tmp_path):
    """GX's observed value of a min or a max is a value of the column: none is asked for."""
    docs = settings.var_dir / "quality" / "docs"
    validator = GxValidator(docs)
    suite = [
        gxe.ExpectColumnMinToBeBetween(column="birth_date", min_value=date(1900, 1, 1)),
        gxe.ExpectTableRowCountToBeBetween(min_value=10, meta={"check_id": "rows"}),
        gxe.ExpectColumnMaxToBeBetween(column="birth_date", max_value=RUN_DATE),
    ]
    df = spark.createDataFrame(RECORDS, SILVER_PERSON_RECORDS.schema)
    results = validator.validate(
        df, gate=SILVER_GATE, table_name=SILVER_PERSON_RECORDS.fqn, expectations=suite
    )
    validator.build_docs()
    assert [r.expectation for r in results] == [e.expectation_type for e in suite]
    low, rows, high = results
    assert [(r.success, r.observed_value) for r in (low, high)] == [(False, None), (False, None)]
    assert (rows.success, rows.observed_value) == (False, "5")  # a count, kept
    assert "observed value withheld (restricted table)" in low.describe()
    assert leaks(tmp_path, Path(settings.storage.restricted_root)) == {}
    assert in_text(json.dumps([r.as_dict() for r in results], default=str)) == []


def test_an_unrestricted_table_keeps_its_example_values(spark, settings):
    validator = GxValidator(settings.var_dir / "quality" / "docs")
    suite = [
        gxe.ExpectColumnValuesToBeBetween(column="grade", min_value=0, max_value=12),
        gxe.ExpectColumnMaxToBeBetween(column="grade", max_value=12),
    ]
    df = spark.createDataFrame([k12_row("t1", 2, grade=14), k12_row("t1", 3)], K12)
    values, top = validator.validate(
        df, gate=SILVER_GATE, table_name=SILVER_K12_ENROLLMENTS.fqn, expectations=suite
    )
    assert (values.restricted, values.unexpected_count, values.examples) == (False, 1, [14])
    assert top.observed_value == "14"
    assert "examples: 14" in values.describe()
    validator.build_docs()
    pages = [p.read_text() for p in (settings.var_dir / "quality" / "docs").rglob("*.html")]
    assert any("k12_enrollments" in page for page in pages)


def test_positions_and_zones():
    assert position_columns(["a", "source_file", "source_row"]) == ("source_file", "source_row")
    assert position_columns(["_source_file", "_row_number"]) == ("_source_file", "_row_number")
    assert position_columns(["first_file", "last_file"]) == ("first_file", None)
    assert position_columns(["birth_date"]) is None  # counts only
    grouped = {"partial_unexpected_index_list": [{"source_file": ["a.txt", "b.txt"], "source_row": [2, 7]}]}
    assert index_positions(grouped, "source_file", "source_row") == ["a.txt row 2", "b.txt row 7"]
    per_row = {"partial_unexpected_index_list": [{"first_file": "a.txt", "birth_date": "1850-03-04"}]}
    assert index_positions(per_row, "first_file", None) == ["a.txt"]
    assert is_restricted("silver.person_records") and is_restricted("bronze.quarantine")
    assert not is_restricted("silver.k12_enrollments") and not is_restricted("bronze.files")
    assert is_restricted("no.such_table")  # unknown: treated as restricted
