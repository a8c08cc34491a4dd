"""Cutting lines by layout: every failure kind gets its own reason, good lines their fields."""

from __future__ import annotations

import pytest

from lakehouse.sources.layouts import LAYOUTS
from lakehouse.sources.spec import all_specs
from lakehouse.sources.split import cut, split_file

SENR_HEADER = LAYOUTS["SENR"].header
SENR_ROW = "2018-19^13610036545362^1007894995^5728466^10^20180820^20190610^E155^"


def test_every_source_has_a_landing_module_matching_the_layouts():
    specs = all_specs()
    assert len(specs) == 15
    assert {f for s in specs for f in s.families()} == set(LAYOUTS)


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
