"""Landing exactly once per raw file content: a file sent again with new content replaces its landed
version, a retried landing never appends what its earlier attempt committed, a cut last line and an
empty file are recorded rather than landed as if whole, and the count-back over all loads stops a
landing that finds a file's rows in bronze other than once.

Each test lands a small raw tree written here (a wage file, an enrollment file) into its own lake.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from lakehouse.sources.landing import LandingError, ResentFileError, land
from lakehouse.sources.layouts import LAYOUTS
from lakehouse.sources.planning import RawFile, batched, plan
from lakehouse.sources.split import TRUNCATED
from lakehouse.storage import Storage, open_storage
from lakehouse.tables import BRONZE, BRONZE_FILES, BRONZE_QUARANTINE, Table

pytestmark = pytest.mark.filterwarnings("ignore:'PYARROW_IGNORE_TIMEZONE':UserWarning")

WAGES, ENROLL, ENROLL_2020 = "edd/DE9C_20201.csv", "calpads/SENR_2019.txt", "calpads/SENR_2020.txt"
WAGE_LINES = [
    "10175328,20201,048071296,Ana,L,Muñoz,8450.00",
    "10359349,20201,611203348,Grace,M,Lee,21033.17",
    "10359349,20201,611203349,Tom,,Lee,12x",  # not a number: quarantined
]
CORRECTED_WAGES = [
    "10175328,20201,048071296,Ana,L,Muñoz,8540.00",
    "10359349,20201,611203348,Grace,M,Lee,21033.17",
]
ENROLL_LINES = [
    "2018-19^19647331932979^1038472651^0004417^05^20180815^20190607^E155^",
    "2018-19^19647331932979^1092834110^0004983^06^20180815^20190111^T160^",
]
ENROLL_2020_LINES = ["2019-20^19647331932979^1038472651^0004417^06^20190814^20200605^E155^"]
BAD_WAGE = "unparseable number in TOTAL_SUBJECT_WAGES: '12x'"
QUARANTINE = ["file", "row_number", "raw_text", "reason", "load_id"]


def _put(raw: Path, name: str, content: str | bytes) -> str:
    """Write a raw file; return its SHA-256."""
    path = raw / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _file(family: str, lines: list[str]) -> str:
    return "\n".join([LAYOUTS[family].header, *lines]) + "\n"


def _bronze(storage: Storage, family: str) -> DataFrame:
    names = [n for n, _ in LAYOUTS[family].columns]
    return storage.read(BRONZE[family]).select(*names, "_source_file", "_row_number", "_load_id")


def _expected(spark, family: str, file: str, lines: list[str], load_id: str, rows: list[int]) -> DataFrame:
    """Bronze rows of `file` as landed: the fields of the lines at physical rows `rows` (header = 1)."""
    names = [n for n, _ in LAYOUTS[family].columns]
    delimiter = "," if LAYOUTS[family].kind == "csv" else LAYOUTS[family].kind
    records = [(*lines[n - 2].split(delimiter), file, n, load_id) for n in rows]
    columns = {**dict.fromkeys(names, pa.string()), "_source_file": pa.string()}
    columns |= {"_row_number": pa.int64(), "_load_id": pa.string()}
    arrays = {c: pa.array([r[i] for r in records], t) for i, (c, t) in enumerate(columns.items())}
    return spark.createDataFrame(pa.table(arrays))


def _quarantine(storage: Storage) -> list[tuple]:
    return sorted(tuple(r) for r in storage.read(BRONZE_QUARANTINE).select(*QUARANTINE).collect())


def _versions(storage: Storage) -> dict[str, int | None]:
    return {t.fqn: storage.info(t).version for t in [*BRONZE.values(), BRONZE_QUARANTINE, BRONZE_FILES]}


def _ledger(storage: Storage, *columns: str) -> list[tuple]:
    return sorted(tuple(r) for r in storage.read(BRONZE_FILES).select(*columns).collect())


def _fail_writing(storage: Storage, failing: Table, monkeypatch) -> None:
    """The storage's writes to `failing` raise a full disk; the others go through."""
    write = storage.write

    def write_unless_failing(df, table, *args, **kwargs):
        if table == failing:
            raise OSError("disk full")
        return write(df, table, *args, **kwargs)

    monkeypatch.setattr(storage, "write", write_unless_failing)


def _raw(file: str, content: str) -> RawFile:
    sha = hashlib.sha256(content.encode()).hexdigest()
    return RawFile(file, f"file:/raw/{file}", sha, len(content))


def _row(f: RawFile, status: str, at: int, load_id: str = "L") -> dict:
    return {"file": f.file, "sha256": f.sha256, "status": status, "load_id": load_id, "ingested_at": at}


def test_plan_decides_by_file_and_content_hash():
    a1, a2, b = _raw("x/A_1.csv", "one"), _raw("x/A_1.csv", "two"), _raw("x/B_1.csv", "three")
    copy, empty = _raw("x/C_1.csv", "one"), _raw("x/D_1.csv", "")
    ledger = [_row(a1, "landed", 1, "L1"), _row(b, "landed", 1)]

    decided = plan([a1, b, copy, empty], ledger)
    assert (decided.land, decided.duplicates, decided.empty) == ([], [(copy, "x/A_1.csv")], [empty])

    resent = plan([a2, b], ledger)
    assert resent.land == [a2] and resent.replaces == {a1.file: ledger[0]}
    assert resent.load_id() != plan([a2, b], [_row(a1, "landed", 1, "L0"), ledger[1]]).load_id()

    # content that was replaced, sent again: the version in the raw root is the one to hold
    reverted = [_row(a1, "replaced", 1), _row(a2, "landed", 2), ledger[1]]
    assert plan([a1], reverted).replaces == {a1.file: reverted[1]}
    # a ledger written before versions were replaced may hold two landed versions: the later counts
    assert plan([a2], [_row(a1, "landed", 1), _row(a2, "landed", 2)]).land == []
    # settled before: a duplicate, an empty file; an empty file never replaces a landed version
    settled = [_row(copy, "duplicate", 1), _row(empty, "empty", 1), *ledger]
    assert plan([copy, empty], settled).land == plan([copy, empty], settled).empty == []
    emptied = _raw("x/A_1.csv", "")
    assert plan([emptied], ledger).empty == [emptied] and plan([emptied], ledger).replaces == {}
    # landing again on request, the same content
    again = plan([a1, b], ledger, reland=[b.file])
    assert again.land == [b] and again.replaces == {b.file: ledger[1]} and again.resent() == []


def test_a_file_sent_again_with_new_content_replaces_its_landed_version(spark, settings, tmp_path):
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    first_sha = _put(raw, WAGES, _file("DE9C", WAGE_LINES))
    enroll_sha = _put(raw, ENROLL, _file("SENR", ENROLL_LINES))
    first = land(spark, storage, str(raw))
    assert _quarantine(storage) == [(WAGES, 4, WAGE_LINES[2], BAD_WAGE, first["load_id"])]

    second_sha = _put(raw, WAGES, _file("DE9C", CORRECTED_WAGES))
    second = land(spark, storage, str(raw))

    assert second["files"] == {
        WAGES: {"status": "landed", "raw": 2, "landed": 2, "quarantined": 0, "replaces": first_sha}
    }
    assert (second["files_new"], second["files_replaced"]) == (0, 1)
    # The file's rows are the new version's, whole; its old quarantined row is gone; the other file's
    # rows are untouched.
    wages = _bronze(storage, "DE9C").where(F.col("_source_file") == WAGES)
    assertDataFrameEqual(wages, _expected(spark, "DE9C", WAGES, CORRECTED_WAGES, second["load_id"], [2, 3]))
    assert _quarantine(storage) == []
    enroll = _bronze(storage, "SENR")
    assertDataFrameEqual(enroll, _expected(spark, "SENR", ENROLL, ENROLL_LINES, first["load_id"], [2, 3]))
    assert _ledger(storage, "file", "sha256", "status", "replaces", "raw_rows", "load_id") == sorted(
        [
            (ENROLL, enroll_sha, "landed", None, 2, first["load_id"]),
            (WAGES, first_sha, "replaced", None, 3, first["load_id"]),
            (WAGES, second_sha, "landed", first_sha, 2, second["load_id"]),
        ]
    )

    versions = _versions(storage)
    again = land(spark, storage, str(raw))
    assert (again["files_new"], again["files_replaced"], again["files"]) == (0, 0, {})
    assert _versions(storage) == versions


def test_refuse_mode_names_the_re_sent_file_and_writes_nothing(spark, settings, tmp_path):
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    _put(raw, WAGES, _file("DE9C", WAGE_LINES))
    land(spark, storage, str(raw), on_resent="refuse")  # a first version is not a re-sent file
    _put(raw, WAGES, _file("DE9C", CORRECTED_WAGES))
    versions = _versions(storage)

    with pytest.raises(ResentFileError, match=rf"(?s){WAGES}: landed as sha256 .*on_resent='replace'"):
        land(spark, storage, str(raw), on_resent="refuse")

    assert _versions(storage) == versions


def test_a_retry_after_a_crash_lands_every_raw_row_once_whatever_arrived_since(
    spark, settings, tmp_path, monkeypatch
):
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    _put(raw, WAGES, _file("DE9C", WAGE_LINES))
    _put(raw, ENROLL, _file("SENR", ENROLL_LINES))
    _fail_writing(storage, BRONZE["DE9C"], monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        land(spark, storage, str(raw))
    monkeypatch.undo()
    # The crashed landing had committed the enrollment table, and nothing of the ledger.
    [crashed_load] = [r["_load_id"] for r in _bronze(storage, "SENR").select("_load_id").distinct().collect()]
    assert not storage.info(BRONZE_FILES).exists

    _put(raw, ENROLL_2020, _file("SENR", ENROLL_2020_LINES))  # arrived before the retry
    retry = land(spark, storage, str(raw))

    assert retry["load_id"] != crashed_load
    load = retry["load_id"]
    assertDataFrameEqual(
        _bronze(storage, "SENR"),
        _expected(spark, "SENR", ENROLL, ENROLL_LINES, load, [2, 3]).unionByName(
            _expected(spark, "SENR", ENROLL_2020, ENROLL_2020_LINES, load, [2])
        ),
    )
    assertDataFrameEqual(_bronze(storage, "DE9C"), _expected(spark, "DE9C", WAGES, WAGE_LINES, load, [2, 3]))
    assert _quarantine(storage) == [(WAGES, 4, WAGE_LINES[2], BAD_WAGE, load)]
    assert {f: c["raw"] for f, c in retry["files"].items()} == {WAGES: 3, ENROLL: 2, ENROLL_2020: 1}


def test_batches_hold_about_the_given_bytes_in_file_order():
    files = [
        _raw(name, "x" * size) for name, size in (("b/2", 300), ("a/1", 200), ("c/3", 900), ("d/4", 100))
    ]
    names = [[f.file for f in batch] for batch in batched(files, 600)]
    assert names == [["a/1", "b/2"], ["c/3"], ["d/4"]]  # a file over the size is a batch of its own
    assert [[f.file for f in b] for b in batched(files, None)] == [["a/1", "b/2", "c/3", "d/4"]]
    assert batched([], 600) == [] and batched(files, 600) == batched(list(reversed(files)), 600)


def test_a_landing_in_batches_records_every_file_and_lands_nothing_again(spark, settings, tmp_path):
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    _put(raw, WAGES, _file("DE9C", WAGE_LINES))
    _put(raw, ENROLL, _file("SENR", ENROLL_LINES))
    _put(raw, ENROLL_2020, _file("SENR", ENROLL_2020_LINES))
    progress = []
    first = land(
        spark, storage, str(raw), batch_bytes=1, on_batch=lambda done, total, _: progress.append(done)
    )
    assert progress == [1, 2, 3]
    load = first["load_id"]
    assert _ledger(storage, "file", "status", "load_id") == [
        (ENROLL, "landed", load), (ENROLL_2020, "landed", load), (WAGES, "landed", load)
    ]  # fmt: skip
    assertDataFrameEqual(
        _bronze(storage, "SENR"),
        _expected(spark, "SENR", ENROLL, ENROLL_LINES, load, [2, 3]).unionByName(
            _expected(spark, "SENR", ENROLL_2020, ENROLL_2020_LINES, load, [2])
        ),
    )
    assert _quarantine(storage) == [(WAGES, 4, WAGE_LINES[2], BAD_WAGE, load)]
    versions = _versions(storage)
    again = land(spark, storage, str(raw), batch_bytes=1)
    assert again["files"] == {} and _versions(storage) == versions


def test_a_crash_in_a_later_batch_keeps_the_batches_before_it(spark, settings, tmp_path, monkeypatch):
    """One file per batch: the enrollment file's batch is committed with its ledger row before the wage
    file's batch fails; the retry lands only the wage file, and every raw row is in bronze once."""
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    _put(raw, WAGES, _file("DE9C", WAGE_LINES))
    enroll_sha = _put(raw, ENROLL, _file("SENR", ENROLL_LINES))
    progress = []

    _fail_writing(storage, BRONZE["DE9C"], monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        land(
            spark,
            storage,
            str(raw),
            batch_bytes=1,
            on_batch=lambda done, total, _: progress.append((done, total)),
        )
    monkeypatch.undo()
    assert progress == [(1, 2)]
    [crashed_load] = [r["_load_id"] for r in _bronze(storage, "SENR").select("_load_id").distinct().collect()]
    assert _ledger(storage, "file", "sha256", "status", "load_id", "raw_rows") == [
        (ENROLL, enroll_sha, "landed", crashed_load, 2)
    ]

    retry = land(spark, storage, str(raw), batch_bytes=1)

    load = retry["load_id"]
    assert load != crashed_load and set(retry["files"]) == {WAGES}
    assertDataFrameEqual(
        _bronze(storage, "SENR"), _expected(spark, "SENR", ENROLL, ENROLL_LINES, crashed_load, [2, 3])
    )
    assertDataFrameEqual(_bronze(storage, "DE9C"), _expected(spark, "DE9C", WAGES, WAGE_LINES, load, [2, 3]))
    assert _quarantine(storage) == [(WAGES, 4, WAGE_LINES[2], BAD_WAGE, load)]
    assert [r[:2] for r in _ledger(storage, "file", "load_id", "status")] == [
        (ENROLL, crashed_load),
        (WAGES, load),
    ]
    assert land(spark, storage, str(raw), batch_bytes=1)["files_new"] == 0


def test_a_last_line_cut_without_a_line_end_is_quarantined_as_truncated(spark, settings, tmp_path):
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    cut = WAGE_LINES[1][: WAGE_LINES[1].index("21033.17") + 4]  # "...,2103": still a number
    _put(raw, WAGES, "\n".join([LAYOUTS["DE9C"].header, WAGE_LINES[0], cut]))
    # A CRLF file cut between its last CR and LF: every line is whole.
    _put(raw, ENROLL, "\r\n".join([LAYOUTS["SENR"].header, *ENROLL_LINES]) + "\r")

    report = land(spark, storage, str(raw))

    assert _quarantine(storage) == [(WAGES, 3, cut, TRUNCATED, report["load_id"])]
    load = report["load_id"]
    assertDataFrameEqual(_bronze(storage, "DE9C"), _expected(spark, "DE9C", WAGES, WAGE_LINES, load, [2]))
    assertDataFrameEqual(
        _bronze(storage, "SENR"), _expected(spark, "SENR", ENROLL, ENROLL_LINES, load, [2, 3])
    )
    assert report["files"][WAGES] == {"status": "landed", "raw": 2, "landed": 1, "quarantined": 1}
    assert report["warnings"] == [f"{WAGES}: its last line has no line end; quarantined as truncated"]


def test_an_empty_file_is_recorded_in_the_ledger_and_reported(spark, settings, tmp_path):
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    _put(raw, ENROLL, _file("SENR", ENROLL_LINES))
    _put(raw, ENROLL_2020, b"")
    empty = hashlib.sha256(b"").hexdigest()

    report = land(spark, storage, str(raw))

    assert report["files"][ENROLL_2020] == {"status": "empty"}
    assert report["files_empty"] == 1
    assert report["warnings"] == [f"{ENROLL_2020}: 0 bytes; recorded as empty, nothing landed"]
    columns = ("file", "sha256", "bytes", "status", "raw_rows")
    assert (ENROLL_2020, empty, 0, "empty", 0) in _ledger(storage, *columns)

    # A landed file re-sent as 0 bytes: recorded, and its landed rows stay (a failed transfer, most
    # likely, not a retraction). Nothing is recorded twice.
    _put(raw, ENROLL, b"")
    again = land(spark, storage, str(raw))
    assert again["files"] == {ENROLL: {"status": "empty"}}
    assert _ledger(storage, "file", "status") == sorted(
        [(ENROLL, "landed"), (ENROLL, "empty"), (ENROLL_2020, "empty")]
    )
    assert _bronze(storage, "SENR").count() == len(ENROLL_LINES)
    versions = _versions(storage)
    assert land(spark, storage, str(raw))["files"] == {}
    assert _versions(storage) == versions


def test_the_count_back_over_all_loads_stops_on_a_repeated_row_and_reland_repairs(spark, settings, tmp_path):
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    _put(raw, WAGES, _file("DE9C", WAGE_LINES))
    first = land(spark, storage, str(raw))
    # A row appended again outside landing (as an append of an earlier landing's retry did).
    copy = spark.createDataFrame(storage.read(BRONZE["DE9C"]).where(F.col("_row_number") == 2).toArrow())
    storage.write(copy, BRONZE["DE9C"], "append")
    _put(raw, ENROLL, _file("SENR", ENROLL_LINES))  # something new to land, in another table
    ledger = _ledger(storage, "file", "sha256", "status")

    with pytest.raises(LandingError, match=rf"{WAGES}: 3 raw rows \(2 landed \+ 1 quarantined") as stopped:
        land(spark, storage, str(raw))

    assert ENROLL not in str(stopped.value)
    assert _ledger(storage, "file", "sha256", "status") == ledger  # the landing was not recorded
    repaired = land(spark, storage, str(raw), reland=[WAGES])
    assert repaired["files"][WAGES] == {
        "status": "landed",
        "raw": 3,
        "landed": 2,
        "quarantined": 1,
        "relanded": True,
    }
    assert (repaired["files_new"], repaired["files_relanded"]) == (1, 1)
    load = repaired["load_id"]
    assertDataFrameEqual(_bronze(storage, "DE9C"), _expected(spark, "DE9C", WAGES, WAGE_LINES, load, [2, 3]))
    assert _quarantine(storage) == [(WAGES, 4, WAGE_LINES[2], BAD_WAGE, load)]
    assert load != first["load_id"]


def test_a_ledger_without_the_later_columns_is_read_and_gains_them(spark, settings, tmp_path):
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    first_sha = _put(raw, WAGES, _file("DE9C", WAGE_LINES))
    land(spark, storage, str(raw))
    # The ledger as the first lakes have it: no `replaces`, no `ends_with_newline`.
    later = ", replaces STRING, ends_with_newline BOOLEAN"
    older = Table(layer="bronze", name="files", schema=BRONZE_FILES.schema.removesuffix(later))
    assert older.schema != BRONZE_FILES.schema
    rows = storage.read(BRONZE_FILES).drop("replaces", "ends_with_newline").toArrow()
    storage.write(spark.createDataFrame(rows), older, "overwrite", schema_mode="overwrite")
    assert storage.read(BRONZE_FILES).columns == older.struct(spark).fieldNames()

    second_sha = _put(raw, WAGES, _file("DE9C", CORRECTED_WAGES))
    land(spark, storage, str(raw))

    # The row written before reads as null in both; the new version's row has both.
    assert _ledger(storage, "sha256", "status", "replaces", "ends_with_newline") == sorted(
        [(first_sha, "replaced", None, None), (second_sha, "landed", first_sha, True)]
    )


def test_the_ledger_records_whether_each_file_ends_with_a_line_end(spark, settings, tmp_path):
    """A file ending with its newline, one cut inside its last line (quarantined as truncated, as
    before), a CRLF file cut between its last CR and LF (a whole line), a duplicate of the cut one and a
    0-byte file (null: no last byte)."""
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    ended = _put(raw, WAGES, _file("DE9C", WAGE_LINES))
    cut_text = "\n".join([LAYOUTS["SENR"].header, *ENROLL_LINES])  # no newline after the last line
    cut = _put(raw, ENROLL, cut_text)
    copy = _put(raw, "calpads/SENR_2019_copy.txt", cut_text)
    crlf = _put(raw, ENROLL_2020, "\r\n".join([LAYOUTS["SENR"].header, *ENROLL_2020_LINES]) + "\r")
    empty = _put(raw, "edd/DE9C_20202.csv", b"")

    report = land(spark, storage, str(raw))

    load = report["load_id"]
    rows = [r.asDict() for r in storage.read(BRONZE_FILES).collect()]
    at = rows[0]["ingested_at"]
    assert at is not None and all(r["ingested_at"] == at for r in rows)
    sizes = {str(f.relative_to(raw)): f.stat().st_size for f in raw.rglob("*") if f.is_file()}

    def row(file, sha, status, ends, raw_rows=0, landed=0, quarantined=0, **values) -> dict:
        family = file.split("/")[1].split("_")[0]
        return {
            "source": file.split("/")[0],
            "family": family,
            "file": file,
            "sha256": sha,
            "bytes": sizes[file],
            "status": status,
            "duplicate_of": None,
            "raw_rows": raw_rows,
            "landed_rows": landed,
            "quarantined_rows": quarantined,
            "load_id": load,
            "ingested_at": at,
            "replaces": None,
            "ends_with_newline": ends,
        } | values

    assert sorted(rows, key=lambda r: r["file"]) == [
        row(ENROLL, cut, "landed", False, 2, 1, 1),
        row("calpads/SENR_2019_copy.txt", copy, "duplicate", False, duplicate_of=ENROLL),
        row(ENROLL_2020, crlf, "landed", True, 1, 1, 0),
        row(WAGES, ended, "landed", True, 3, 2, 1),
        row("edd/DE9C_20202.csv", empty, "empty", None),
    ]
    assert _quarantine(storage) == sorted(
        [(ENROLL, 3, ENROLL_LINES[1], TRUNCATED, load), (WAGES, 4, WAGE_LINES[2], BAD_WAGE, load)]
    )
