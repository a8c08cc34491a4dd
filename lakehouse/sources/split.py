"""Cutting one raw file into rows and fields by its layout (runs inside Spark tasks, in Python).

Row numbers are physical line numbers, 1-based, header included, so that a quarantined row can be
found in the file with any editor. The header itself is not a data row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pyarrow as pa

from lakehouse.sources.layouts import LAYOUTS, Layout, family_of

SPLIT_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("family", pa.string()),
        ("row_number", pa.int64()),
        ("raw_text", pa.string()),
        ("fields", pa.list_(pa.string())),
        ("reason", pa.string()),
    ]
)
SPLIT_DDL = (
    "file STRING, family STRING, row_number BIGINT, raw_text STRING, fields ARRAY<STRING>, reason STRING"
)
Row = tuple[str, str | None, int, str, list[str] | None, str | None]


def split_file(file: str, content: bytes) -> Iterator[Row]:
    family = family_of(file)
    lines = content.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    if family is None:
        for number, raw in enumerate(lines, start=1):
            yield (
                file,
                None,
                number,
                raw.decode("utf-8", "replace"),
                None,
                "unrecognized file: no layout matches its name",
            )
        return
    layout = LAYOUTS[family]
    header_problem = None
    for number, raw in enumerate(lines, start=1):
        raw = raw.removesuffix(b"\r")
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark (Excel's "CSV UTF-8")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = raw[exc.start : exc.start + 1].hex()
            yield (
                file,
                family,
                number,
                raw.decode("utf-8", "replace"),
                None,
                (f"not valid UTF-8: byte 0x{bad} at position {exc.start}"),
            )
            continue
        if number == 1 and layout.header is not None:
            if text != layout.header:
                header_problem = (
                    f"file header does not match the {family} layout (expected {layout.header!r})"
                )
                yield file, family, number, text, None, header_problem
            continue
        if header_problem:
            yield file, family, number, text, None, header_problem
            continue
        fields, reason = cut(layout, text)
        yield file, family, number, text, fields, reason


def cut(layout: Layout, text: str) -> tuple[list[str] | None, str | None]:
    """The fields of one line, or None and the reason it cannot be cut."""
    names = [n for n, _ in layout.columns]
    if text.strip() == "":
        return None, "empty line"
    if layout.kind == "jsonl":
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, f"malformed JSON: {exc.msg} (column {exc.colno})"
        if not isinstance(record, dict):
            return None, "malformed JSON: not an object"
        if set(record) != set(names):
            missing, extra = sorted(set(names) - set(record)), sorted(set(record) - set(names))
            return None, f"wrong fields: missing {missing}, unexpected {extra}"
        return ["" if record[n] is None else str(record[n]) for n in names], None
    if layout.kind == "fixed":
        width = sum(w for _, w in layout.columns)
        if len(text) != width:
            return None, f"wrong line length: {len(text)} characters, layout has {width}"
        fields, position = [], 0
        for _, w in layout.columns:
            fields.append(text[position : position + w].strip())
            position += w
        return fields, None
    if layout.kind == "csv":
        try:
            fields = next(csv.reader(io.StringIO(text), strict=True))
        except csv.Error as exc:
            return None, f"malformed CSV: {exc}"
    else:
        fields = text.split(layout.kind)
    if len(fields) != len(names):
        return None, f"wrong column count: {len(fields)} fields, layout has {len(names)}"
    return fields, None
