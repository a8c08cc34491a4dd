"""`c2c link`: a researcher's roster linked to another (or deduplicated) from the command line."""

from __future__ import annotations

import csv
import random

import pytest

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


@pytest.mark.slow
def test_link_two_rosters_writes_pairs_and_clusters(rosters):
    folder, truth = rosters
    done = c2c(
        "link", "--left", "left.csv", "--right", "right.csv", "--id", "sid", "--map", MAP, "--out", "out",
        cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with (folder / "out" / "pairs.csv").open() as handle:
        pairs = list(csv.DictReader(handle))
    found = {(p["left_id"], p["right_id"]) for p in pairs}
    assert found <= truth  # no false link
    assert len(found) >= 76  # the SSN-less rows may fall short of the threshold on so little data
    assert all(0.9 <= float(p["match_probability"]) <= 1 for p in pairs)
    with (folder / "out" / "clusters.csv").open() as handle:
        clusters = list(csv.DictReader(handle))
    assert list(clusters[0]) == ["file", "sid", "cluster_id", "school"]  # unmapped columns carried along
    assert len(clusters) == 200
    cluster = {(r["file"], r["sid"]): r["cluster_id"] for r in clusters}
    assert all(cluster[("left", a)] == cluster[("right", b)] for a, b in found)


@pytest.mark.slow
def test_link_errors_name_the_file_row_and_column(rosters):
    folder, _ = rosters
    cases = [
        (["--map", "first=given_name,nope=family_name"], "left.csv: no column 'nope'"),
        (["--map", "first=forename"], "unknown role 'forename'"),
        (["--map", MAP, "--date-format", "%d.%m.%Y"], "left.csv, row 2, column 'dob': birth date"),
        (["--map", MAP, "--date-format", "%Q"], "--date-format '%Q' cannot be parsed"),
        (["--map", MAP, "--right", "missing.csv"], "missing.csv: no such file"),
    ]
    for extra, message in cases:
        done = c2c("link", "--left", "left.csv", "--id", "sid", "--out", "out", *extra, cwd=folder)
        assert done.returncode == 2 and message in done.stderr, (extra, done.stderr)
    (folder / "dup.csv").write_text("sid,first\n1,Ana\n1,Ana\n")
    done = c2c(
        "link", "--left", "dup.csv", "--id", "sid", "--map", "first=given_name", "--out", "o", cwd=folder
    )
    assert done.returncode == 2 and "dup.csv, row 3, column 'sid': id '1' is repeated" in done.stderr
