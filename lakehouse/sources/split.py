"""Cutting one raw file into rows and fields by its layout (runs inside Spark tasks, in Python).

Row numbers are physical line numbers, 1-based, header included, so that a quarantined row can be
found in the file with any editor. The header itself is not a data row.

A file whose lines end with line ends but whose last line has none stops inside that line: a transfer
cut it, and the line may still split into the right fields with a value cut short (a wage of 10020.61
read as 1002). That line is quarantined as truncated. A CRLF file cut between its last CR and LF keeps
the whole line; a file of one line without a line end has no other lines to judge by and is read as is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator

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
TRUNCATED = "truncated: no line end (the file stops inside its last line; ask for the whole file again)"


def relative_path(path: str, root: str) -> str:
    """A file's path relative to the raw root, from the path Spark names it by."""
    return path.split(root.rstrip("/") + "/", 1)[-1]


def splitter(root: str) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """For `mapInArrow` over `binaryFile` rows of files under `root`: their lines as SPLIT_SCHEMA."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            columns: dict[str, list] = {name: [] for name in SPLIT_SCHEMA.names}
            for path, content in zip(
                batch.column("path").to_pylist(), batch.column("content").to_pylist(), strict=True
            ):
                for row in split_file(relative_path(path, root), content):
                    for name, value in zip(SPLIT_SCHEMA.names, row, strict=True):
                        columns[name].append(value)
            yield pa.RecordBatch.from_pydict(columns, schema=SPLIT_SCHEMA)

    return run


def split_file(file: str, content: bytes) -> Iterator[Row]:
    family = family_of(file)
    lines = content.split(b"\n")
    ended = lines[-1] == b""
    if ended:
        lines.pop()  # the newline that ends the last line
    # Every other line ended with a newline, so the file's last line should have one too.
    cut_at = len(lines) if not ended and len(lines) > 1 and not lines[-1].endswith(b"\r") else None
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
        if number == cut_at:  # before decoding: a cut can split a UTF-8 character too
            yield file, family, number, raw.decode("utf-8", "replace"), None, TRUNCATED
            continue
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
