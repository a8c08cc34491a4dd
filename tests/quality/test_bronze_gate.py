"""The raw->bronze gate judges sources, not tiny files: a source family's parse rate over the load
fails only once enough of its rows failed, and a single file fails only when it is mostly unreadable."""

from __future__ import annotations

from lakehouse.settings import QualitySettings
from quality.bronze_gate import check_bronze_load
from quality.gx_runner import GxValidator


def _file(name: str, raw: int, landed: int) -> dict:
    return {"file": name, "raw_rows": raw, "landed_rows": landed, "quarantined_rows": raw - landed}


def _verdicts(spark, pending: list[dict]) -> dict[str, tuple[bool, list]]:
    results = check_bronze_load(
        spark, pending, None, "load-1", validator=GxValidator(None), quality=QualitySettings()
    )
    return {r.check_id: (r.success, r.examples) for r in results if r.check_id != "recognized_files"}


def test_one_bad_line_in_each_small_file_does_not_block_the_load(spark):
    """Twelve 19-row wage files with a bad line each: 94.7% per file and per family, but 12 bad rows
    are too few to judge a source by, and no file is mostly unreadable."""
    pending = [_file(f"edd/DE9C_{2010 + i}Q1.csv", 19, 18) for i in range(12)]
    assert _verdicts(spark, pending) == {"parse_rate": (True, []), "file_parse_rate": (True, [])}


def test_a_source_family_below_the_rate_with_enough_bad_rows_blocks_and_is_named(spark):
    pending = [_file(f"edd/DE9C_{2010 + i}Q1.csv", 100, 90) for i in range(3)]  # 30 bad of 300
    pending += [_file("calpads/SENR_2020.txt", 1000, 999)]
    assert _verdicts(spark, pending) == {
        "parse_rate": (False, ["edd/DE9C (90.0% of 300 rows)"]),
        "file_parse_rate": (True, []),
    }


def test_a_mostly_unreadable_file_blocks_alone_and_a_tiny_one_does_not(spark):
    pending = [
        _file("calpads/SENR_2020.txt", 10_000, 10_000),
        _file("calpads/SENR_2021.txt", 40, 10),  # 25%: another layout or encoding
        _file(
            "aiccu/AICCU_ENROLLMENT_2021.csv", 5, 1
        ),  # 20% of five rows: too few to call the file unreadable
    ]
    verdicts = _verdicts(spark, pending)
    assert verdicts["file_parse_rate"] == (False, ["calpads/SENR_2021.txt (25.0%)"])
    assert verdicts["parse_rate"] == (True, [])  # 30 bad of 10,040 SENR rows; 4 of 5 AICCU rows


def test_drift_compares_rows_per_file_with_the_familys_earlier_files(spark):
    """A first load of ten yearly files, then one new year: no warning (the whole load is a tenth of
    the first, its file is like the others); a new file with a third of the usual rows warns."""
    schema = "family STRING, load_id STRING, status STRING, landed_rows BIGINT, file STRING"
    first = [
        ("calpads_senr", "load-0", "landed", 1000 + i, f"calpads/SENR_{2010 + i}.txt") for i in range(10)
    ]
    first.append(("calpads_senr", "load-0", "replaced", 5, "calpads/SENR_2009.txt"))  # not counted

    def drift(new_rows: int) -> tuple[bool, str]:
        ledger = spark.createDataFrame(
            [*first, ("calpads_senr", "load-1", "landed", new_rows, "calpads/SENR_2020.txt")], schema
        )
        pending = [_file("calpads/SENR_2020.txt", new_rows, new_rows)]
        results = check_bronze_load(
            spark, pending, ledger, "load-1", validator=GxValidator(None), quality=QualitySettings()
        )
        [result] = [r for r in results if r.check_id == "row_count_drift"]
        return result.success, result.observed_value

    assert drift(1010) == (
        True,
        "1,010 rows per file in this load (1 files), 1,004 in earlier loads (10 files)",
    )
    assert drift(300)[0] is False
