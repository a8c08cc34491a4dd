"""An independent reader of generated extracts, for tests: parses every line by its layout and reports
records, identities and every line that does not parse (with the reason)."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lakehouse.sources.layouts import DATE_FORMATS, LAYOUTS, RECORD_KEYS, family_of
from lakehouse.synth.corrupt import CODE_COLUMNS

NAME_FIELDS = {
    "first": ("FIRST_NAME", "CHILD_FIRST_NAME", "SB32_FIRST_NAME", "first_name"),
    "last": ("LAST_NAME", "CHILD_LAST_NAME", "SB31_LAST_NAME", "last_name"),
    "birth": ("BIRTH_DATE", "SB03_BIRTH_DATE", "DOB", "birth_date", "dob"),
    "ssn": ("SSN", "SB01_SSN", "ssn"),
}


@dataclass
class Scan:
    records: set[tuple[str, str]] = field(default_factory=set)
    identities: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    bad: dict[tuple[str, int], str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    files: list[str] = field(default_factory=list)


def _fields(layout, line: str) -> dict[str, str] | str:
    names = [n for n, _ in layout.columns]
    if layout.kind == "jsonl":
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            return "malformed json"
        if set(obj) != set(names):
            return "column_count"
        return {k: "" if v is None else str(v) for k, v in obj.items()}
    if layout.kind == "fixed":
        if len(line) != sum(w for _, w in layout.columns):
            return "column_count"
        out, pos = {}, 0
        for n, w in layout.columns:
            out[n] = line[pos : pos + w].strip()
            pos += w
        return out
    values = next(csv.reader(io.StringIO(line))) if layout.kind == "csv" else line.split(layout.kind)
    if len(values) != len(names):
        return "column_count"
    return dict(zip(names, values, strict=True))


def scan(root: Path) -> Scan:
    result = Scan()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        family = family_of(rel)
        if family is None or family == "EMPLOYERS":
            continue
        result.files.append(rel)
        layout = LAYOUTS[family]
        for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
            if not raw:
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                result.bad[(rel, number)] = "encoding"
                continue
            if number == 1 and layout.header is not None:
                assert line == layout.header, f"{rel}: header {line!r}"
                continue
            fields = _fields(layout, line)
            if isinstance(fields, str):
                result.bad[(rel, number)] = "column_count" if fields == "column_count" else "malformed"
                continue
            if "ZZ9" in [fields[c] for c in fields if c in CODE_COLUMNS]:
                result.bad[(rel, number)] = "invalid_code"
                continue
            if not _dates_ok(family, fields):
                result.bad[(rel, number)] = "invalid_date"
                continue
            key = "-".join(fields[c] for c in RECORD_KEYS[family])
            record = (layout.source, key)
            result.records.add(record)
            result.rows[layout.source] += 1
            if record not in result.identities and any(f in fields for f in NAME_FIELDS["first"]):
                result.identities[record] = {
                    k: next((fields[c] for c in cols if c in fields), "") for k, cols in NAME_FIELDS.items()
                } | {
                    "birth_format": next(
                        (
                            DATE_FORMATS[family][c]
                            for c in NAME_FIELDS["birth"]
                            if c in DATE_FORMATS.get(family, {})
                        ),
                        "",
                    )
                }
    return result


def _dates_ok(family: str, fields: dict[str, str]) -> bool:
    for column, fmt in DATE_FORMATS.get(family, {}).items():
        value = fields.get(column, "")
        if value:
            try:
                datetime.strptime(value, fmt)
            except ValueError:
                return False
    return True
