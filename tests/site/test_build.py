"""The site builder on small hand-made published tables (written by the real lakehouse.publish writer)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from jobs import cli
from lakehouse.geo import load_topology
from lakehouse.gold.catalog import Catalog, Curve, Flow, Mart, Metric, Parts
from lakehouse.publish.tables import write_mart
from lakehouse.site import NoPublishedTablesError, SiteError, build_site
from lakehouse.site.build import COUNTIES_JS_HEADER, DATA_JS_HEADER, MARKER, OWN_FILES, STATIC_FILES
from lakehouse.site.payload import _flows as _flows_of
from lakehouse.site.payload import metric_label
from tests.conftest import ROOT

PLACED = Metric("placed", "Teaching within a year.")
WAGE = Metric("wage", "Median wage of the placed.", kind="median", value="placed", among=(("placed", True),))
TEACHERS = Mart(
    name="teacher_pipeline",
    title="Teacher training pipeline",
    cohort="first_teaching_credential",
    cohort_definition="First credential in year Y.",
    breakdowns=("credential_type",),
    coverage="Public schools only.",
    metrics=(PLACED, WAGE),
)
STUDENTS = Mart(
    name="student_pathways",
    title="Student pathways",
    cohort="high_school_graduates",
    cohort_definition="Graduates of year Y.",
    breakdowns=("gender",),
    coverage="California colleges only.",
    metrics=(Metric("enrolled", "Enrolled in college."),),
)
CATALOG = Catalog(
    vintage=2024, cpi_base_year=2024, min_cell_size=11, employment_threshold=1, marts=(TEACHERS, STUDENTS)
)


def _cell(metric, year, dim, group, kind, d, n, value, real=None, suppressed=False):
    return dict(
        metric=metric, cohort_year=year, dimension=dim, group=group, kind=kind, denominator=d, numerator=n,
        value=value, value_real=real, denominator_suppressed=suppressed, numerator_suppressed=suppressed,
        value_suppressed=suppressed, suppression="primary" if suppressed else "",
    )  # fmt: skip


TEACHER_CELLS = pd.DataFrame(
    [
        _cell("placed", 2020, "statewide", "All", "rate", 100, 60, 0.6),
        _cell("wage", 2020, "statewide", "All", "median", 60, None, 41234.5, 43000.0),
        _cell("placed", 2020, "credential_type", "intern", "rate", 40, 22, 0.55),
        _cell("placed", 2020, "credential_type", "preliminary", "rate", 60, 38, 0.6333),
        _cell("wage", 2020, "credential_type", "preliminary", "median", 38, None, 40000.0, 41700.0),
        _cell("placed", 2021, "credential_type", "intern", "rate", 5, 3, 0.6, suppressed=True),
    ]
)
STUDENT_CELLS = pd.DataFrame([_cell("enrolled", 2019, "statewide", "All", "rate", 200, 120, 0.6)])


def _publish(data: Path) -> None:
    for mart, cells in ((STUDENTS, STUDENT_CELLS), (TEACHERS, TEACHER_CELLS)):
        write_mart(cells, mart, CATALOG, data, vintage=2024, match_rate=0.95, run_id="r1")


def _payload(site: Path) -> dict:
    text = (site / "assets" / "data.js").read_text()
    assert text.startswith(DATA_JS_HEADER + "window.C2C_DATA = ") and text.endswith(";\n")
    return json.loads(text[len(DATA_JS_HEADER + "window.C2C_DATA = ") : -2])


def test_the_page_gets_exactly_the_published_cells(tmp_path):
    site = tmp_path / "site"
    _publish(site / "data")
    built = build_site(site / "data", site, min_cell_size=11)
    assert built.index == site / "index.html" and built.tables == 4
    assert built.marts == ("teacher_pipeline", "student_pathways")  # the first product leads
    for name in STATIC_FILES:
        assert (site / name).is_file(), name
    teachers = _payload(site)["marts"][0]
    assert teachers["title"] == "Teacher training pipeline"
    assert teachers["metrics"] == [
        {"name": "placed", "label": "Placed", "description": "Teaching within a year.", "kind": "rate",
         "columns": ["placed_denominator", "placed_numerator", "placed_rate"]},
        {"name": "wage", "label": "Wage", "description": "Median wage of the placed.", "kind": "median",
         "columns": ["wage_count", "wage_median", "wage_median_real"]},
    ]  # fmt: skip
    statewide, by_type = teachers["tables"]
    assert statewide["dimension"] == "statewide" and statewide["rows"] == [
        [2020, "All", 100, 60, 0.6, 60, 41234.5, 43000.0]
    ]
    assert by_type["name"] == "teacher_pipeline__by_credential_type"
    assert (by_type["label"], by_type["csv"]) == (
        "Credential type",
        "data/teacher_pipeline__by_credential_type.csv",
    )
    assert (by_type["years"], by_type["groups"]) == ([2020, 2021], ["intern", "preliminary"])
    assert by_type["rows"] == [
        [2020, "intern", 40, 22, 0.55, None, None, None],  # None: no one in the cell (blank in the CSV)
        [2020, "preliminary", 60, 38, 0.6333, 38, 40000.0, 41700.0],
        [2021, "intern", "suppressed", "suppressed", "suppressed", None, None, None],
    ]
    notes = by_type["notes"]
    assert notes["match_rate"] == 0.95 and notes["cells_with_suppression"] == 1
    assert (
        notes["data_vintage"].startswith("academic year 2023-24") and "below 11" in notes["suppression_note"]
    )
    assert notes["cohort_definition"] == "First credential in year Y." and notes["coverage"]
    for table in teachers["tables"]:  # every download link resolves from the site folder
        assert (site / table["csv"]).is_file() and (site / table["sidecar"]).is_file()


def test_a_curve_reaches_the_page_with_its_kind_and_points(tmp_path):
    """A mart's curves go through the sidecar to the page, points in x order, with their metrics'
    kind (the page draws rates and medians on different axes)."""
    retained = [
        Metric(f"retained_{k}y", f"Teaching {k} years on.", among=(("placed", True),)) for k in (1, 3)
    ]
    curve = Curve("Still teaching", "Years after placement", ((1, "retained_1y"), (3, "retained_3y")))
    mart = dataclasses.replace(TEACHERS, metrics=(PLACED, *retained, WAGE), curves=(curve,))
    cells = pd.DataFrame(
        [
            _cell(m, 2020, "statewide", "All", "rate", 40, 30, 0.75)
            for m in ("placed", "retained_1y", "retained_3y")
        ]
    )
    data = tmp_path / "site" / "data"
    write_mart(cells, mart, CATALOG, data, vintage=2024, match_rate=0.95, run_id="r1")
    meta = json.loads((data / "teacher_pipeline__statewide.json").read_text())
    points = [{"x": 1, "metric": "retained_1y"}, {"x": 3, "metric": "retained_3y"}]
    assert meta["curves"] == [{"title": "Still teaching", "axis": "Years after placement", "points": points}]
    build_site(data, tmp_path / "site", min_cell_size=11)
    (teachers,) = _payload(tmp_path / "site")["marts"]
    assert teachers["curves"] == [
        {"title": "Still teaching", "axis": "Years after placement", "kind": "rate", "points": points}
    ]


def test_parts_reach_the_page_with_their_whole_and_labels(tmp_path):
    """A mart's parts (where graduates first enrolled) go through the sidecar to the page, in the
    catalog's order."""
    enrolled = Metric("enrolled", "Enrolled in college.")
    at = [Metric(f"enrolled_{s}", f"First enrolled at {s}.") for s in ("ccc", "uc")]
    split = Parts("First college", "enrolled", (("Community college", "enrolled_ccc"), ("UC", "enrolled_uc")))
    mart = dataclasses.replace(STUDENTS, metrics=(enrolled, *at), parts=(split,))
    cells = pd.DataFrame(
        [
            _cell("enrolled", 2020, "statewide", "All", "rate", 400, 300, 0.75),
            _cell("enrolled_ccc", 2020, "statewide", "All", "rate", 400, 200, 0.5),
            _cell("enrolled_uc", 2020, "statewide", "All", "rate", 400, 100, 0.25),
        ]
    )
    data = tmp_path / "site" / "data"
    write_mart(cells, mart, CATALOG, data, vintage=2024, match_rate=0.95, run_id="r1")
    meta = json.loads((data / "student_pathways__statewide.json").read_text())
    parts = [
        {"label": "Community college", "metric": "enrolled_ccc"},
        {"label": "UC", "metric": "enrolled_uc"},
    ]
    assert meta["parts"] == [{"title": "First college", "whole": "enrolled", "parts": parts}]
    build_site(data, tmp_path / "site", min_cell_size=11)
    (students,) = _payload(tmp_path / "site")["marts"]
    assert students["parts"] == meta["parts"]


def test_flows_reach_the_page_with_their_stages_in_order(tmp_path):
    """A mart's flow (graduates, enrolled, completed) goes through the sidecar to the page, its stages
    in the catalog's order; a table that lacks a stage's measure gets no flow."""
    enrolled = Metric("enrolled", "Enrolled in college.")
    completed = Metric("completed", "Completed.", among=(("enrolled", True),))
    flow = Flow("Through college", "Graduates", (("Enrolled", "enrolled"), ("Completed", "completed")))
    mart = dataclasses.replace(STUDENTS, metrics=(enrolled, completed), flows=(flow,))
    cells = pd.DataFrame(
        [
            _cell("enrolled", 2020, "statewide", "All", "rate", 400, 300, 0.75),
            _cell("completed", 2020, "statewide", "All", "rate", 300, 120, 0.4),
        ]
    )
    data = tmp_path / "site" / "data"
    write_mart(cells, mart, CATALOG, data, vintage=2024, match_rate=0.95, run_id="r1")
    meta = json.loads((data / "student_pathways__statewide.json").read_text())
    stages = [{"label": "Enrolled", "metric": "enrolled"}, {"label": "Completed", "metric": "completed"}]
    assert meta["flows"] == [{"title": "Through college", "cohort": "Graduates", "stages": stages}]
    build_site(data, tmp_path / "site", min_cell_size=11)
    (students,) = _payload(tmp_path / "site")["marts"]
    assert students["flows"] == meta["flows"]
    assert _flows_of(meta, [{"name": "enrolled"}]) == []


def test_breakdowns_follow_the_given_order_after_statewide(tmp_path):
    cells = pd.DataFrame(
        [*TEACHER_CELLS.to_dict("records"), _cell("placed", 2020, "segment", "CSU", "rate", 30, 20, 0.6667)]
    )
    mart = Mart(**{**TEACHERS.__dict__, "breakdowns": ("credential_type", "segment")})
    write_mart(cells, mart, CATALOG, tmp_path / "data", vintage=2024, match_rate=0.9, run_id="r1")
    build_site(tmp_path / "data", tmp_path, min_cell_size=11, breakdown_order=["segment", "credential_type"])
    tables = _payload(tmp_path)["marts"][0]["tables"]
    assert [(t["dimension"], t["label"]) for t in tables] == [
        ("statewide", "Statewide"),
        ("segment", "Preparing segment"),
        ("credential_type", "Credential type"),
    ]


def test_rebuilding_changes_nothing(tmp_path):
    _publish(tmp_path / "data")
    build_site(tmp_path / "data", tmp_path, min_cell_size=11)
    first = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    build_site(tmp_path / "data", tmp_path, min_cell_size=11)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == first


def test_a_count_below_the_minimum_stops_the_build_and_keeps_the_previous_site(tmp_path):
    _publish(tmp_path / "data")
    build_site(tmp_path / "data", tmp_path, min_cell_size=11)
    before = (tmp_path / "assets" / "data.js").read_text()
    path = tmp_path / "data" / "teacher_pipeline__by_credential_type.csv"
    path.write_text(path.read_text().replace("2020,intern,40,22", "2020,intern,40,7"))
    with pytest.raises(SiteError, match=r"by_credential_type\.csv, line 2, column placed_numerator: count 7"):
        build_site(tmp_path / "data", tmp_path, min_cell_size=11)
    assert (tmp_path / "assets" / "data.js").read_text() == before
    assert not (tmp_path / ".staging-site").exists()


def test_a_table_without_its_sidecar_is_refused(tmp_path):
    _publish(tmp_path / "data")
    (tmp_path / "data" / "student_pathways__statewide.json").unlink()
    with pytest.raises(SiteError, match=r"student_pathways__statewide\.csv: no sidecar"):
        build_site(tmp_path / "data", tmp_path, min_cell_size=11)


@pytest.mark.parametrize("make", [lambda d: None, lambda d: d.mkdir()])
def test_no_published_tables_names_the_folder(tmp_path, make):
    make(tmp_path / "data")
    with pytest.raises(NoPublishedTablesError, match=re.escape(str(tmp_path / "data"))):
        build_site(tmp_path / "data", tmp_path, min_cell_size=11)


def test_cli_publish_errors_exit_2_and_builds_elsewhere(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--env", "local", "publish"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("c2c: error: ") and str(tmp_path / "var" / "site" / "data") in err
    _publish(tmp_path / "var" / "site" / "data")
    assert cli.main(["--env", "local", "publish", "--out", "www"]) == 0
    assert str(tmp_path / "www" / "index.html") in capsys.readouterr().out
    published = sorted(p.name for p in (tmp_path / "var" / "site" / "data").iterdir())
    assert sorted(p.name for p in (tmp_path / "www" / "data").iterdir()) == published


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "foreign",
    [
        {"notes.txt": "mine"},
        {"index.html": "<p>my own page</p>"},  # only names the builder writes, but not its build
        {"data/survey.csv": "a,b\n1,2\n"},
        {"assets/data.js": "var mine = 1;", "index.html": "<p>mine</p>"},
        {"data/x.csv": "a\n", "notes.txt": "mine", MARKER + "x": ""},
    ],
    ids=["other-file", "own-index", "own-data", "own-assets", "mixed"],
)
def test_cli_publish_refuses_a_folder_it_did_not_build(tmp_path, monkeypatch, capsys, foreign):
    monkeypatch.chdir(tmp_path)
    _publish(tmp_path / "var" / "site" / "data")
    for name, text in foreign.items():
        (tmp_path / "www" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "www" / name).write_text(text)
    assert cli.main(["--env", "local", "publish", "--out", "www"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"c2c: error: {tmp_path / 'www'}: not a site built by `c2c publish` (it holds ")
    assert err.count("\n") == 1
    assert _files(tmp_path / "www") == {name: text.encode() for name, text in foreign.items()}


def test_cli_publish_rebuilds_its_own_site_and_an_older_one_without_the_marker(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _publish(tmp_path / "var" / "site" / "data")
    assert cli.main(["--env", "local", "publish", "--out", "www"]) == 0
    first = _files(tmp_path / "www")
    assert MARKER in first and "index.html" in first and "data/student_pathways__statewide.csv" in first
    assert cli.main(["--env", "local", "publish", "--out", "www"]) == 0
    assert _files(tmp_path / "www") == first
    (tmp_path / "www" / MARKER).unlink()  # as an older build left it
    assert cli.main(["--env", "local", "publish", "--out", "www"]) == 0
    assert _files(tmp_path / "www") == first
    # the pipeline's own folder: the gold step's data/ first, then the site, then rebuilt on re-runs
    assert cli.main(["--env", "local", "publish"]) == 0
    assert cli.main(["--env", "local", "publish"]) == 0
    site = _files(tmp_path / "var" / "site")
    assert {n: b for n, b in site.items() if not n.startswith("data/")} == {
        n: b for n, b in first.items() if not n.startswith("data/")
    }


def _by_dimension(payload: dict) -> dict[str, dict]:
    return {t["dimension"]: t for t in payload["marts"][0]["tables"]}


def test_a_county_breakdown_is_named_and_mapped(tmp_path):
    """With the state's county shapes, county codes get their names and the page gets the shapes,
    keyed by the same codes the tables publish; without them, no map and codes as published."""
    cells = pd.DataFrame(
        [*TEACHER_CELLS.to_dict("records"),
         _cell("placed", 2020, "county", "19", "rate", 30, 20, 0.6667),
         _cell("placed", 2020, "county", "37", "rate", 4, 2, 0.5, suppressed=True)]
    )  # fmt: skip
    mart = Mart(**{**TEACHERS.__dict__, "breakdowns": ("credential_type", "county")})
    write_mart(cells, mart, CATALOG, tmp_path / "data", vintage=2024, match_rate=0.9, run_id="r1")
    build_site(tmp_path / "data", tmp_path, min_cell_size=11, counties=load_topology(ROOT / "conf"))
    by_county = _by_dimension(_payload(tmp_path))["county"]
    assert by_county["groups"] == ["19", "37"]
    assert by_county["group_labels"] == {"19": "Los Angeles", "37": "San Diego"}
    text = (tmp_path / "assets" / "counties.js").read_text()
    assert text.startswith(COUNTIES_JS_HEADER + "window.C2C_COUNTIES = ")
    shapes = json.loads(text[len(COUNTIES_JS_HEADER + "window.C2C_COUNTIES = ") : -2])
    ids = sorted(g["id"] for g in shapes["objects"]["counties"]["geometries"])
    assert ids == [f"{n:02d}" for n in range(1, 59)]

    build_site(tmp_path / "data", tmp_path, min_cell_size=11)
    assert _by_dimension(_payload(tmp_path))["county"]["group_labels"] == {}
    assert (
        tmp_path / "assets" / "counties.js"
    ).read_text() == COUNTIES_JS_HEADER + "window.C2C_COUNTIES = null;\n"


# The charting library as its npm packages publish it (lakehouse/site/static/vendor/README.md).
VENDORED = {
    "assets/vega.min.js": "ea6a5936381d06f912466354e2b6a20eb66c4d41f1ca9dff1e0236dfee6ee392",
    "assets/vega-lite.min.js": "35a9821df838825b05a6a73e9414b58747a1b18321583858ed903c66393a5c7e",
    "assets/vega-embed.min.js": "c7111a41190080938b14c1de00074d9bda16ef2199e2919dd038cddf97d87354",
}


def test_the_charting_library_is_the_published_build(tmp_path):
    _publish(tmp_path / "data")
    build_site(tmp_path / "data", tmp_path, min_cell_size=11)
    assert set(STATIC_FILES) - set(OWN_FILES) == set(VENDORED)
    for name, digest in VENDORED.items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest, name


def test_the_page_reaches_nothing_on_the_network(tmp_path):
    """Our own files name no network address and fetch nothing. The vendored library has loaders it
    never uses here; the page's Content-Security-Policy (`default-src 'none'`) forbids them, and the
    browser test checks that only local files load."""
    _publish(tmp_path / "data")
    build_site(tmp_path / "data", tmp_path, min_cell_size=11, counties=load_topology(ROOT / "conf"))
    index = (tmp_path / "index.html").read_text()
    assert "default-src 'none'; script-src 'self'; style-src 'self'" in index
    for name in (*OWN_FILES, "assets/data.js", "assets/counties.js"):
        text = (tmp_path / name).read_text()
        urls = set(re.findall(r"[a-z]+://[^\s\"'<>)]+", text)) - {"http://www.w3.org/2000/svg"}
        assert not urls, (name, urls)  # the SVG namespace is a name, never fetched
        assert not re.search(r"""(src|href)\s*=\s*["']//""", text), name
        assert "fetch(" not in text and "XMLHttpRequest" not in text, name


@pytest.mark.parametrize(
    "name, label",
    [
        ("placed", "Placed"),
        ("retained_same_district_3y", "Retained same district 3 years"),
        ("retained_1y", "Retained 1 year"),
        ("enrolled_16mo", "Enrolled 16 months"),
        ("completed_150pct", "Completed 150%"),
        ("enrolled_8yr", "Enrolled 8 years"),
        ("enrolled_16mo_csu", "Enrolled 16 months CSU"),
        ("enrolled_16mo_other", "Enrolled 16 months other"),
    ],
)
def test_metric_labels(name, label):
    assert metric_label(name) == label
