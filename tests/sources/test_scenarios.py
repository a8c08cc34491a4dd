"""Scenario tests for landing: small hand-made raw files of every source -> bronze, compared whole.

`tests/data/bronze/<source>/` holds a raw tree in that agency's layout and, under `expected/`, the rows
each of its family tables must hold after landing: every raw column as the string in the file (blank
fields and JSON nulls as ""), `_source_file` relative to the raw root and `_row_number` the physical
line (a header is line 1). The trees carry the quirks of real extracts: quoted CSV fields with commas
and doubled quotes, CRLF line ends (cde_elc 2020, dds), UTF-8 names in the fixed width CSU files, JSON
keys out of order and nulls (uc, dor). A file whose last line has no line end while its other lines do
(dhcs 2020) may have been cut in transfer: that line is quarantined as truncated (`_truncated` finds such
lines in a tree), and every other row lands as expected.

`tests/data/bronze/malformed/` holds a file or two per way a raw row can fail to land, and the
quarantine rows and file ledger that landing them must produce (`expected/quarantine.json`,
`expected/files.json`; `landed_row_numbers` there are the lines that reach the family table).

All 16 trees are landed together, in one run (each run pays a fixed cost per table it writes); each test
looks at the rows of its own files.

Expected frames are built from Arrow tables (local relations, collected without a Spark job) and
compared with `assertDataFrameEqual`, which sorts the collected rows in Python: chispa's
`ignore_row_order` sorts both frames in Spark, several times slower for these tiny frames.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from lakehouse.settings import SOURCES
from lakehouse.silver.person_records import family_identities
from lakehouse.sources.landing import land
from lakehouse.sources.layouts import LAYOUTS, family_of
from lakehouse.sources.split import TRUNCATED
from lakehouse.storage import Storage, open_storage
from lakehouse.tables import BRONZE, BRONZE_FILES, BRONZE_QUARANTINE
from tests.conftest import make_settings

# pyspark.testing imports pandas-on-Spark, which warns about an Arrow setting it does not need here.
pytestmark = pytest.mark.filterwarnings("ignore:'PYARROW_IGNORE_TIMEZONE':UserWarning")

DATA = Path(__file__).resolve().parents[1] / "data" / "bronze"
MALFORMED = DATA / "malformed"
STR, INT = pa.string(), pa.int64()
META = {"_source_file": STR, "_row_number": INT}
QUARANTINE = {"source": STR, "family": STR, "file": STR, "row_number": INT, "raw_text": STR, "reason": STR}
LEDGER = {
    "source": STR,
    "family": STR,
    "file": STR,
    "status": STR,
    "raw_rows": INT,
    "landed_rows": INT,
    "quarantined_rows": INT,
}

# Each way a raw row can fail to land, and the malformed files that show it.
FAILURE_KINDS = {
    "wrong column count": ("calpads/SENR_2020.txt", "edd/DE9C_20202.csv"),
    "broken CSV quoting": ("aiccu/AICCU_ENROLLMENT_2021.csv",),
    "fixed width line too short or too long": ("csu/ERSS_2020FA.txt",),
    "invalid JSON": ("dor/VR_CASES_2021.jsonl",),
    "JSON object with other fields": ("uc/enrollment_2020_FA.jsonl",),
    "invalid UTF-8": ("ccc/SB_203.dat",),
    "unparseable date": ("cdss/CALFRESH_2021.csv",),
    "unparseable number": ("edd/DE9C_20211.csv",),
    "header not the layout's": ("dds/CONSUMERS_2021.csv",),
    "empty line": ("wioa/PIRL_2021.txt",),
    "unrecognized file": ("calpads/README.txt",),
    "header only": ("csac/CALGRANT_PAYMENTS_2021.csv",),
}
# Malformed files with tests of their own (at the end: landing bugs found and fixed).
OWN_TEST_FILES = ("dhcs/MEDS_ELIG_2021.txt", "edd/DE9C_20212.csv")


def _frame(spark, columns: dict[str, pa.DataType], rows: list[tuple]) -> DataFrame:
    """A small local DataFrame with these columns (from an Arrow table)."""
    arrays = {name: pa.array([r[i] for r in rows], t) for i, (name, t) in enumerate(columns.items())}
    return spark.createDataFrame(pa.table(arrays))


def _names(family: str) -> list[str]:
    return [n for n, _ in LAYOUTS[family].columns]


def _bronze_columns(family: str) -> dict[str, pa.DataType]:
    return {**dict.fromkeys(_names(family), STR), **META}


def _raw_files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "expected" not in p.relative_to(root).parts
    )


def _truncated(root: Path, prefix: str = "") -> list[tuple]:
    """Quarantine rows (as QUARANTINE) of the last lines without a line end in a tree's files whose
    other lines have one; a CRLF file cut between CR and LF is whole."""
    rows = []
    for name in _raw_files(root):
        content = (root / name).read_bytes()
        lines = content.split(b"\n")
        if len(lines) > 1 and lines[-1] != b"" and not lines[-1].endswith(b"\r"):
            file = prefix + name
            family = family_of(file)
            source = file.split("/")[0]
            rows.append((source, family, file, len(lines), lines[-1].decode(), TRUNCATED))
    return rows


def _copy_raw(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("expected"), dirs_exist_ok=True)


@dataclass(frozen=True)
class Landed:
    storage: Storage
    report: dict
    quarantine: DataFrame  # bronze.quarantine and bronze.files after the run, read once (local frames)
    ledger: DataFrame


def _land(spark, tmp: Path) -> Landed:
    storage = open_storage(spark, make_settings(tmp))
    report = land(spark, storage, str(tmp / "raw"))
    quarantine = storage.read(BRONZE_QUARANTINE).select(*QUARANTINE).toArrow()
    ledger = storage.read(BRONZE_FILES).select(*LEDGER).toArrow()
    return Landed(storage, report, spark.createDataFrame(quarantine), spark.createDataFrame(ledger))


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory) -> Landed:
    """The 15 scenario trees and the malformed tree, landed together in one run."""
    tmp = tmp_path_factory.mktemp("bronze_scenarios")
    scenario_files = {f"{s}/{name}" for s in SOURCES for name in _raw_files(DATA / s)}
    assert not scenario_files & set(_raw_files(MALFORMED)), "a malformed file would replace a scenario file"
    for source in SOURCES:
        _copy_raw(DATA / source, tmp / "raw" / source)
    _copy_raw(MALFORMED, tmp / "raw")
    return _land(spark, tmp)


def _expected_bronze(family: str, path: Path) -> list[tuple]:
    with path.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    assert header == list(_bronze_columns(family)), f"{path}: not the {family} columns plus {list(META)}"
    return [(*r[:-1], int(r[-1])) for r in rows]


@pytest.mark.parametrize("source", SOURCES)
def test_scenario_lands_every_row_as_it_is_in_the_file(spark, landed, source):
    families = sorted(f for f, layout in LAYOUTS.items() if layout.source == source)
    assert sorted(p.stem for p in (DATA / source / "expected").glob("*.csv")) == families
    files = [f"{source}/{name}" for name in _raw_files(DATA / source)]
    truncated = _truncated(DATA / source, f"{source}/")
    cut = {(r[2], r[3]) for r in truncated}

    rows_per_file: dict[tuple[str, str], int] = {}  # (family, file) -> rows
    for family in families:
        expected = _expected_bronze(family, DATA / source / "expected" / f"{family}.csv")
        expected = [r for r in expected if (r[-2], r[-1]) not in cut]
        rows = landed.storage.read(BRONZE[family]).where(F.col("_source_file").isin(*files))
        assertDataFrameEqual(
            rows.select(*_bronze_columns(family)), _frame(spark, _bronze_columns(family), expected)
        )
        for row in expected:
            rows_per_file[family, row[-2]] = rows_per_file.get((family, row[-2]), 0) + 1

    quarantined = landed.quarantine.where(F.col("file").isin(*files))
    assertDataFrameEqual(quarantined, _frame(spark, QUARANTINE, truncated))

    # the ledger: every file of the tree, with all of its data rows landed but a cut last line
    assert sorted(f for _, f in rows_per_file) == files
    bad = {file: 1 for file, _ in cut}
    expected_ledger = [
        (source, fam, file, "landed", n + bad.get(file, 0), n, bad.get(file, 0))
        for (fam, file), n in rows_per_file.items()
    ]
    ledger = landed.ledger.where(F.col("file").isin(*files))
    assertDataFrameEqual(ledger, _frame(spark, LEDGER, expected_ledger))
    for (_, file), n in rows_per_file.items():
        counts = {"raw": n + bad.get(file, 0), "landed": n, "quarantined": bad.get(file, 0)}
        assert landed.report["files"][file] == {"status": "landed", **counts}


def _expected_json(name: str) -> list[dict]:
    return json.loads((MALFORMED / "expected" / name).read_text(encoding="utf-8"))


def test_failure_kinds_cover_every_malformed_file():
    listed = sorted(f for files in FAILURE_KINDS.values() for f in files)
    assert listed == sorted(r["file"] for r in _expected_json("files.json"))
    assert sorted(set(_raw_files(MALFORMED)) - set(listed)) == sorted(OWN_TEST_FILES)


@pytest.mark.parametrize("kind", FAILURE_KINDS)
def test_malformed_rows_are_quarantined_with_the_reason(spark, landed, kind):
    files = FAILURE_KINDS[kind]
    expected = [
        tuple(r[c] for c in QUARANTINE) for r in _expected_json("quarantine.json") if r["file"] in files
    ]
    quarantined = landed.quarantine.where(F.col("file").isin(*files))
    assertDataFrameEqual(quarantined, _frame(spark, QUARANTINE, expected))

    # the file ledger counts back (raw rows = landed + quarantined), and the landed rows are the good ones
    ledger_rows = [r for r in _expected_json("files.json") if r["file"] in files]
    ledger = landed.ledger.where(F.col("file").isin(*files))
    assertDataFrameEqual(ledger, _frame(spark, LEDGER, [tuple(r[c] for c in LEDGER) for r in ledger_rows]))
    for r in ledger_rows:
        assert r["raw_rows"] == r["landed_rows"] + r["quarantined_rows"], r["file"]
        counts = {"raw": r["raw_rows"], "landed": r["landed_rows"], "quarantined": r["quarantined_rows"]}
        # A birth date that does not parse is missing data: the row lands, the value is counted.
        unparseable = {"unparseable": r["unparseable"]} if "unparseable" in r else {}
        assert landed.report["files"][r["file"]] == {"status": "landed", **counts, **unparseable}
        table = BRONZE.get(r["family"])
        if table is None or not landed.storage.info(table).exists:  # unrecognized, or no row of the family
            assert r["landed_row_numbers"] == []
            continue
        rows = landed.storage.read(table).where(F.col("_source_file") == r["file"]).select(*META)
        assertDataFrameEqual(rows, _frame(spark, META, [(r["file"], n) for n in r["landed_row_numbers"]]))


def test_nothing_else_is_quarantined(spark, landed):
    expected = [tuple(r[c] for c in QUARANTINE) for r in _expected_json("quarantine.json")]
    expected += [r for source in SOURCES for r in _truncated(DATA / source, f"{source}/")]
    quarantined = landed.quarantine.where(~F.col("file").isin(*OWN_TEST_FILES))  # scenario files included
    assertDataFrameEqual(quarantined, _frame(spark, QUARANTINE, expected))


# ---- landing bugs these scenarios found (fixed): byte order marks, NaN/Infinity, signed dates


def test_a_byte_order_mark_before_the_header_is_not_part_of_it(spark, landed):
    file = "dhcs/MEDS_ELIG_2021.txt"
    assertDataFrameEqual(landed.quarantine.where(F.col("file") == file), _frame(spark, QUARANTINE, []))
    rows = [
        "90005767H|810992195|Thompson|Rebecca|19810104|F|19|3N|202103|202108",
        "91188204A|612009981|Reyes Ortiz|Guadalupe|19901201|F|37|M1|202111|202212",
    ]
    expected = [(*row.split("|"), file, n) for n, row in enumerate(rows, start=2)]
    columns = _bronze_columns("MEDS_ELIG")
    rows = landed.storage.read(BRONZE["MEDS_ELIG"]).where(F.col("_source_file") == file)
    assertDataFrameEqual(rows.select(*columns), _frame(spark, columns, expected))


def test_not_a_number_and_infinity_are_unparseable_numbers(spark, landed):
    quarantined = landed.quarantine.where(F.col("file") == "edd/DE9C_20212.csv")
    expected = [
        (2, "unparseable number in TOTAL_SUBJECT_WAGES: 'NaN'"),
        (3, "unparseable number in TOTAL_SUBJECT_WAGES: 'Infinity'"),
        (4, "unparseable number in TOTAL_SUBJECT_WAGES: '3120.40d'"),
    ]
    columns = {"row_number": INT, "reason": STR}
    assertDataFrameEqual(quarantined.select(*columns), _frame(spark, columns, expected))


def test_signed_dates_are_quarantined_or_missing_not_fatal(spark, tmp_path):
    """A signed date of an event quarantines its row; a signed birth date is missing data: the row
    lands, the value is counted, and silver reads it as null (the JVM never parses it)."""
    raw = tmp_path / "raw" / "dhcs"
    raw.mkdir(parents=True)
    lines = [
        LAYOUTS["MEDS_ELIG"].header,
        "90005767H|810992195|Thompson|Rebecca|-19810104|F|19|3N|202103|202108",
        "91188204A|612009981|Reyes Ortiz|Guadalupe|19901201|F|37|M1|+202111011|202212",
    ]
    (raw / "MEDS_ELIG_2022.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    run = _land(spark, tmp_path)

    expected = [(3, "unparseable date in ELIG_START_YM: '+202111011' (expected %Y%m)")]
    columns = {"row_number": INT, "reason": STR}
    assertDataFrameEqual(run.quarantine.select(*columns), _frame(spark, columns, expected))
    assert run.report["files"]["dhcs/MEDS_ELIG_2022.txt"] == {
        "status": "landed",
        "raw": 2,
        "landed": 1,
        "quarantined": 1,
        "unparseable": {"BIRTH_DATE": 1},
    }
    landed = run.storage.read(BRONZE["MEDS_ELIG"])
    [person] = family_identities("MEDS_ELIG", landed, key=b"k").select("source_record_key", "birth").collect()
    assert tuple(person) == ("90005767H", None)
