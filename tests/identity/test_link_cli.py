"""`c2c link`: a researcher's roster linked to another (or deduplicated) from the command line."""

from __future__ import annotations

import csv
import json
import random
import stat

import pytest

from jobs import cli
from jobs.link_job import MARKER, MARKER_TEXT
from tests.jobs.test_cli import c2c

FIRST = [
    "William",
    "Maria",
    "Ana",
    "John",
    "Jose",
    "Linh",
    "Aisha",
    "Carlos",
    "Emily",
    "Kenji",
    "Sofia",
    "Omar",
]
LAST = ["Garcia", "Lopez", "Nguyen", "Smith", "Hernandez", "Tran", "Khan", "Rivera", "Brown", "Sato", "Reyes"]
MAP = "first=given_name,last=family_name,dob=birth_date,ssn=ssn"


def _people(n: int, rng: random.Random) -> list[dict[str, str]]:
    people = []
    for i in range(n):
        people.append(
            {
                "first": FIRST[i % len(FIRST)],
                "last": LAST[(i * 7) % len(LAST)],
                "dob": f"{rng.randrange(1980, 2010)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "ssn": f"{rng.randrange(100, 899)}{rng.randrange(10, 99)}{rng.randrange(1000, 9999)}",
            }
        )
    return people


def _write(path, rows):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["sid", "first", "last", "dob", "ssn", "school"])
        writer.writeheader()
        writer.writerows(rows)


def _in_process(folder, capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """`c2c ARGS` in this process (its shared Spark session), from `folder`: status, stdout, stderr."""
    monkeypatch.chdir(folder)
    status = cli.main(["--env", "local", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def rosters(tmp_path):
    rng = random.Random(7)
    people = _people(120, rng)
    left = [{"sid": f"L{i}", **p, "school": f"S{i % 5}"} for i, p in enumerate(people[:100])]
    right = []
    for i, p in enumerate(people[20:]):  # people 20..99 are in both files, 100..119 only on the right
        row = {"sid": f"R{i}", **p, "school": "X"}
        if i % 10 == 1:
            row["ssn"] = ""  # no SSN on the right: names and birth date must carry the match
        right.append(row)
    _write(tmp_path / "left.csv", left)
    _write(tmp_path / "right.csv", right)
    truth = {(f"L{20 + i}", f"R{i}") for i in range(80)}
    return tmp_path, truth


def test_values_that_do_not_parse_are_linked_as_missing_and_counted(spark, rosters, capsys, monkeypatch):
    """An impossible birth date, a made-up SSN, a bad ZIP: the rows are linked without those values,
    and summary.json counts them per file and column with the first row numbers (never the values)."""
    folder, _ = rosters
    with (folder / "left.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["dob"], rows[3]["dob"] = "1945-04-93", "2001-13-02"  # day 93, month 13
    rows[5]["ssn"], rows[6]["ssn"] = "999123456", "12345"  # a 9xx area, too short
    rows[7]["dob"] = ""
    _write(folder / "left.csv", rows)
    status, out, err = _in_process(folder, capsys, monkeypatch, "link", "--left", "left.csv", "--id", "sid",
                                   "--map", MAP, "--out", "out")  # fmt: skip
    assert status == 0, err
    assert "4 values did not parse and were linked as missing" in out
    summary = json.loads((folder / "out" / "summary.json").read_text())
    assert summary["values"] == {
        "left.csv": {
            "first": {"role": "given_name", "missing": 0, "unparseable": 0, "first_unparseable_rows": []},
            "last": {"role": "family_name", "missing": 0, "unparseable": 0, "first_unparseable_rows": []},
            "dob": {"role": "birth_date", "missing": 1, "unparseable": 2, "first_unparseable_rows": [2, 5]},
            "ssn": {"role": "ssn", "missing": 0, "unparseable": 2, "first_unparseable_rows": [7, 8]},
        }
    }
    everything = "".join(p.read_text() for p in (folder / "out").iterdir() if p.is_file())
    assert "1945-04-93" not in everything and "999123456" not in everything + out + err


@pytest.mark.slow
def test_link_two_rosters_writes_pairs_and_clusters(rosters):
    folder, truth = rosters
    done = c2c(
        "link", "--left", "left.csv", "--right", "right.csv", "--id", "sid", "--map", MAP, "--out", "out",
        "--carry", "school", cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads((folder / "out" / "summary.json").read_text())
    threshold = summary["threshold"]
    assert threshold["chosen_by"] == "expected F1 of the fitted model"
    assert summary["model"] == "a model trained on the input by EM"
    assert 0 < summary["expected"]["precision"] <= 1 and 0 < summary["expected"]["recall"] <= 1
    with (folder / "out" / "pairs.csv").open() as handle:
        pairs = list(csv.DictReader(handle))
    header = ["left_id", "right_id", "match_probability", "match_weight", "decision", "method"]
    assert list(pairs[0]) == header
    found = {(p["left_id"], p["right_id"]) for p in pairs if p["decision"] == "match"}
    assert found <= truth  # no false link
    assert len(found) >= 76  # the SSN-less rows may fall short of the threshold on so little data
    for p in pairs:  # every pair down to the review floor, decided by the chosen threshold
        probability = float(p["match_probability"])
        assert probability >= summary["review_floor"]
        assert p["decision"] == ("match" if probability >= threshold["match_probability"] else "review")
    assert summary["pairs"] == {"match": len(found), "review": len(pairs) - len(found)}
    with (folder / "out" / "clusters.csv").open() as handle:
        clusters = list(csv.DictReader(handle))
    assert list(clusters[0]) == ["file", "sid", "cluster_id", "school"]  # the column --carry names
    assert len(clusters) == 200
    cluster = {(r["file"], r["sid"]): r["cluster_id"] for r in clusters}
    assert all(cluster[("left", a)] == cluster[("right", b)] for a, b in found)


def test_link_errors_name_the_file_row_and_column(rosters, capsys, monkeypatch):
    folder, _ = rosters
    cases = [
        (["--map", "first=given_name,nope=family_name"], "left.csv: no column 'nope'"),
        (["--map", "first=forename"], "unknown role 'forename'"),
        (["--map", MAP, "--date-format", "%Q"], "--date-format '%Q' cannot be parsed"),
        (["--map", MAP, "--right", "missing.csv"], "missing.csv: no such file"),
        (["--map", MAP, "--date-format", "%y%m%d"], "--date-format '%y%m%d': %y is not supported"),
        (["--map", MAP, "--threshold", "1.5"], "--threshold 1.5: a match probability, above 0 and below 1"),
        (["--map", MAP, "--model", "latest"], "--model 'latest': 'champion' or a version number"),
        (["--map", MAP, "--model", "7"], "--model 7: no such registered version of c2c-person-linkage"),
    ]
    for extra, message in cases:
        args = ["link", "--left", "left.csv", "--id", "sid", "--out", "out", *extra]
        status, _, err = _in_process(folder, capsys, monkeypatch, *args)
        last = err.rstrip("\n").splitlines()[-1]  # (MLflow may log its database setup before it)
        assert status == 2 and last.startswith("c2c: error: ") and message in last, (extra, err)
    (folder / "empty.csv").write_text("sid,first,last,dob,ssn\n")
    args = ["link", "--left", "left.csv", "--right", "empty.csv", "--id", "sid", "--map", MAP, "--out", "out"]
    status, _, err = _in_process(folder, capsys, monkeypatch, *args)
    assert status == 2 and "empty.csv: no rows after the header line; there is nothing to link" in err, err
    (folder / "dup.csv").write_text("sid,first\n1,Ana\n1,Ana\n")
    args = ["link", "--left", "dup.csv", "--id", "sid", "--map", "first=given_name", "--out", "o"]
    status, _, err = _in_process(folder, capsys, monkeypatch, *args)
    assert status == 2 and "dup.csv, row 3, column 'sid': the id of row 2 is repeated" in err
    assert not (folder / "out").exists() and not (folder / "o").exists()


OUTPUTS = {MARKER, "pairs.csv", "clusters.csv", "summary.json"}
OLD_SUMMARY = {"records": 1, "pairs": 0, "clusters": 1, "model": "m", "training_skipped": [], "seconds": 1}


def _files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _link(folder, capsys, monkeypatch, *extra: str) -> tuple[int, str]:
    """`c2c link` in this process (the refusals come before any linking): exit status and stderr."""
    monkeypatch.chdir(folder)
    status = cli.main(["--env", "local", "link", "--left", "left.csv", "--id", "sid", "--map", MAP, *extra])
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    "existing, force, message",
    [
        ({"notes.txt": "mine", "pairs.csv": "a,b"}, False, "not a c2c link output (notes.txt, pairs.csv)"),
        ({"notes.txt": "mine", "pairs.csv": "a,b"}, True, "not a c2c link output (notes.txt, pairs.csv)"),
        ({MARKER: "forged", "pairs.csv": "a,b"}, True, "not a c2c link output (.c2c-link, pairs.csv)"),
        ({MARKER: MARKER_TEXT, "pairs.csv": "a", "notes.txt": "x"}, True, "not a c2c link output"),
        ({"summary.json": "{}", "pairs.csv": "", "clusters.csv": ""}, True, "not a c2c link output"),
        ({MARKER: MARKER_TEXT, "pairs.csv": "a,b"}, False, "holds a previous c2c link output; pass --force"),
        (
            {"summary.json": json.dumps(OLD_SUMMARY), "pairs.csv": "", "clusters.csv": ""},
            False,
            "holds a previous c2c link output; pass --force",  # one written before the marker existed
        ),
    ],
    ids=["foreign", "foreign-force", "forged-marker", "plus-other", "bad-summary", "previous", "old"],
)
def test_link_refuses_an_out_folder_holding_other_files(
    rosters, capsys, monkeypatch, existing, force, message
):
    folder, _ = rosters
    out = folder / "out"
    out.mkdir()
    for name, text in existing.items():
        (out / name).write_text(text)
    before = _files(out)
    status, err = _link(folder, capsys, monkeypatch, "--out", "out", *(["--force"] if force else []))
    assert status == 2 and err.startswith("c2c: error: --out out: ") and message in err, err
    assert err.count("\n") == 1  # one line
    assert _files(out) == before  # left alone, nothing added


def test_link_refuses_an_out_file(rosters, capsys, monkeypatch):
    folder, _ = rosters
    (folder / "out").write_text("mine")
    status, err = _link(folder, capsys, monkeypatch, "--out", "out", "--force")
    assert (status, err) == (2, "c2c: error: --out out: exists and is not a folder\n")
    assert (folder / "out").read_text() == "mine"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--carry", "school,grade"], "left.csv: no column 'grade' to --carry (the file has: sid, first,"),
        (["--right", "other.csv", "--carry", "school"], "other.csv: no column 'school' to --carry"),
        (["--carry", "ssn"], "--carry: 'ssn' is mapped to ssn, and no SSN is ever written"),
        (["--carry", "sid"], "--carry: 'sid' is the id column"),
    ],
    ids=["missing-left", "missing-right", "ssn", "id"],
)
def test_link_carry_names_existing_columns(rosters, capsys, monkeypatch, extra, message):
    folder, _ = rosters
    (folder / "other.csv").write_text("sid,first,last,dob,ssn\nO1,Ana,Lopez,2001-02-03,\n")
    status, err = _link(folder, capsys, monkeypatch, "--out", "out", *extra)
    assert status == 2 and message in err and err.count("\n") == 1, err
    assert not (folder / "out").exists()


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_link_output_is_owner_only_carries_only_named_columns_and_is_replaced_only_with_force(
    spark, rosters, capsys, monkeypatch
):
    folder, _ = rosters
    args = ["link", "--left", "left.csv", "--right", "right.csv", "--id", "sid", "--out", "res/out"]
    unmapped_ssn = "first=given_name,last=family_name,dob=birth_date"  # ssn and school are unmapped
    status, _, err = _in_process(folder, capsys, monkeypatch, *args, "--map", unmapped_ssn)
    assert status == 0, err
    out = folder / "res" / "out"
    assert {p.name for p in out.iterdir()} == OUTPUTS and _mode(out) == 0o700
    assert {name: _mode(out / name) for name in OUTPUTS} == dict.fromkeys(OUTPUTS, 0o600)
    with (out / "clusters.csv").open() as handle:
        clusters = list(csv.DictReader(handle))
    assert list(clusters[0]) == ["file", "sid", "cluster_id"] and len(clusters) == 200
    ssns = set()
    for name in ("left.csv", "right.csv"):
        with (folder / name).open() as handle:
            ssns |= {r["ssn"] for r in csv.DictReader(handle) if r["ssn"]}
    written = "".join(p.read_text() for p in out.iterdir())
    assert not [s for s in ssns if s in written]  # no SSN leaves, even unmapped

    first = _files(out)
    status, _, err = _in_process(folder, capsys, monkeypatch, *args, "--map", unmapped_ssn)
    assert status == 2 and err == (
        "c2c: error: --out res/out: holds a previous c2c link output; pass --force to replace it, "
        "or choose a new or empty folder\n"
    )
    assert _files(out) == first

    status, _, err = _in_process(
        folder, capsys, monkeypatch, *args, "--map", MAP, "--carry", "school", "--force"
    )
    assert status == 0, err
    assert {p.name for p in out.iterdir()} == OUTPUTS and _mode(out) == 0o700
    assert {name: _mode(out / name) for name in OUTPUTS} == dict.fromkeys(OUTPUTS, 0o600)
    with (out / "clusters.csv").open() as handle:
        replaced = list(csv.DictReader(handle))
    assert list(replaced[0]) == ["file", "sid", "cluster_id", "school"]
    schools = {}
    for side, name in (("left", "left.csv"), ("right", "right.csv")):
        with (folder / name).open() as handle:
            schools |= {(side, r["sid"]): r["school"] for r in csv.DictReader(handle)}
    assert {(r["file"], r["sid"]): r["school"] for r in replaced} == schools
    assert json.loads((out / "summary.json").read_text())["records"] == 200
