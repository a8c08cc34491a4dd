"""Cutting lines by layout: every failure kind gets its own reason, good lines their fields."""

from __future__ import annotations

import pytest

from lakehouse.settings import SOURCES
from lakehouse.sources import spec
from lakehouse.sources.layouts import DATE_FORMATS, LAYOUTS, NUMERIC
from lakehouse.sources.spec import SourceSpec, all_specs, spec_problems
from lakehouse.sources.split import TRUNCATED, cut, split_file

SENR_HEADER = LAYOUTS["SENR"].header
SENR_ROW = "2018-19^13610036545362^1007894995^5728466^10^20180820^20190610^E155^"


def test_every_family_in_the_layouts_has_a_spec_whose_columns_are_its_own():
    specs = all_specs()
    assert [s.source for s in specs] == list(SOURCES) and len(specs) == 15
    assert {f: s.source for s in specs for f in s.families()} == {
        f: layout.source for f, layout in LAYOUTS.items()
    }
    assert {f: c for s in specs for f, c in s.numeric.items()} == {f: NUMERIC.get(f, ()) for f in LAYOUTS}
    assert specs[SOURCES.index("csu")] == SourceSpec(
        "csu",
        {"ERSS": ("UNITS",), "ERSD": (), "ERST": ("ACADEMIC_YEAR",), "ERSFA": ("ACADEMIC_YEAR", "AMOUNT")},
    )
    for s in specs:
        for family, layout in s.families().items():
            columns = {name for name, _ in layout.columns}
            assert set(s.numeric[family]) <= columns and set(s.dates(family)) <= columns, family
    assert spec_problems(LAYOUTS, NUMERIC, DATE_FORMATS, SOURCES) == []


def test_a_spec_naming_a_column_or_family_its_layouts_lack_is_caught(monkeypatch):
    numeric = {**NUMERIC, "CAASPP": ("SCALE_SCORE", "SCALE"), "CAASP": ("SCALE_SCORE",)}
    dates = {**DATE_FORMATS, "SENR": {"ENROLL_START_DATE": "%Y%m%d", "ENROLL_END": "%Y%m%d"}}
    layouts = {f: layout for f, layout in LAYOUTS.items() if layout.source != "wioa"}
    assert spec_problems(layouts, numeric, dates, (*SOURCES, "nowhere")) == [
        "CAASPP has no number columns SCALE",
        "number columns for CAASP, which no layout has",
        "SENR has no date columns ENROLL_END",
        "date columns for PIRL, which no layout has",
        "source wioa has no layout",
        "source nowhere has no layout",
    ]
    assert spec_problems(LAYOUTS, NUMERIC, DATE_FORMATS, SOURCES[1:]) == [
        "layouts of cde_elc, which is not a source"
    ]
    monkeypatch.setattr(spec, "NUMERIC", {**NUMERIC, "SENR": ("GRADE",)})
    with pytest.raises(ValueError, match="SENR has no number columns GRADE"):
        all_specs()


def test_good_lines_of_each_kind():
    assert cut(LAYOUTS["SENR"], SENR_ROW) == (SENR_ROW.split("^"), None)
    csv_line = '10076096,20201,977822660,"Ramirez, Jr",J,Garcia,13369.04'
    assert cut(LAYOUTS["DE9C"], csv_line)[0][3] == "Ramirez, Jr"
    fixed = "CSUB  9876543212019FA"
    assert cut(LAYOUTS["ERSFA"], "CSUB  123456789" + "2019" + "B" + "00005742") == (
        ["CSUB", "123456789", "2019", "B", "00005742"],
        None,
    )
    assert len(fixed) < 28
    jsonl = '{"campus": "UCB", "uc_student_id": "1", "degree": "BA", "cip": "26.0101", "conferred": null}'
    assert cut(LAYOUTS["degrees"], jsonl) == (["UCB", "1", "BA", "26.0101", ""], None)


@pytest.mark.parametrize(
    "family, line, reason",
    [
        ("SENR", "2018-19^1^2", "wrong column count: 3 fields, layout has 9"),
        ("SENR", SENR_ROW + "^EXTRA", "wrong column count: 10 fields, layout has 9"),
        ("ERSFA", "CSUB  123", "wrong line length: 9 characters, layout has 28"),
        ("degrees", '{"campus": "UCB", "uc_stu', "malformed JSON"),
        ("degrees", '{"campus": "UCB"}', "wrong fields: missing"),
        ("DE9C", '1,2,"3', "malformed CSV: unexpected end of data"),
        ("SENR", "   ", "empty line"),
    ],
)
def test_lines_that_cannot_be_cut(family, line, reason):
    fields, why = cut(LAYOUTS[family], line)
    assert fields is None and why.startswith(reason)


def test_split_file_numbers_physical_lines_and_flags_encoding_and_headers():
    content = (SENR_HEADER + "\n" + SENR_ROW + "\n").encode() + b"MU\xd1OZ^x\n" + (SENR_ROW + "\r\n").encode()
    rows = list(split_file("calpads/SENR_2019.txt", content))
    assert [(r[2], r[5]) for r in rows] == [
        (2, None),
        (3, "not valid UTF-8: byte 0xd1 at position 2"),
        (4, None),
    ]
    assert rows[0][1] == "SENR" and rows[0][3] == SENR_ROW

    wrong_header = list(split_file("calpads/SENR_2019.txt", b"A^B\n" + SENR_ROW.encode() + b"\n"))
    assert [r[2] for r in wrong_header] == [1, 2]
    assert all(r[5].startswith("file header does not match the SENR layout") for r in wrong_header)

    unknown = list(split_file("calpads/NOTES.txt", b"hello\nworld\n"))
    assert [(r[2], r[5]) for r in unknown] == [(1, "unrecognized file: no layout matches its name")] * 1 + [
        (2, "unrecognized file: no layout matches its name")
    ]


def test_a_last_line_without_a_line_end_is_truncated_when_the_other_lines_have_one():
    wage = "10175328,20201,048071296,Ana,L,Lee,10020.61"
    cut = LAYOUTS["DE9C"].header + "\n" + wage + "\n" + wage[:-5]  # "...,1002": a number still
    rows = list(split_file("edd/DE9C_20201.csv", cut.encode()))
    assert [(r[2], r[3], r[5]) for r in rows] == [(2, wage, None), (3, wage[:-5], TRUNCATED)]
    assert rows[1][4] is None

    # cut inside a UTF-8 character: truncated, not "not valid UTF-8"
    name_cut = (LAYOUTS["DE9C"].header + "\n" + wage + "\n").encode() + b"10175328,20201,1,Ana,L,Mu\xc3"
    assert [r[5] for r in split_file("edd/DE9C_20201.csv", name_cut)] == [None, TRUNCATED]

    # a CRLF file cut between its last CR and LF keeps the whole line
    crlf = (SENR_HEADER + "\r\n" + SENR_ROW + "\r\n" + SENR_ROW + "\r").encode()
    assert [(r[2], r[3], r[5]) for r in split_file("calpads/SENR_2019.txt", crlf)] == [
        (2, SENR_ROW, None),
        (3, SENR_ROW, None),
    ]
    # one line and no line end: no other line to judge by (a JSON lines file of one record)
    record = '{"campus": "UCB", "uc_student_id": "1", "degree": "BA", "cip": "26.0101", "conferred": null}'
    assert [r[5] for r in split_file("uc/degrees_2020.jsonl", record.encode())] == [None]
    # a file no layout recognizes keeps that reason on every line
    unknown = [r[5] for r in split_file("calpads/NOTES.txt", b"hello\nwor")]
    assert unknown == ["unrecognized file: no layout matches its name"] * 2
