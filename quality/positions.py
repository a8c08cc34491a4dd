"""Where rows are, without what they hold. A check of a restricted table (`Table.restricted`: bronze,
silver person records and quarantine, identity) reports counts and the positions of a few failing rows,
never values: a position is a file and a row number, from the table's provenance columns.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import DataFrame

LIMIT = 5
# (file column, row column or None), the first pair a frame has wins
POSITION_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("source_file", "source_row"),  # silver event tables and silver.quarantine
    ("_source_file", "_row_number"),  # bronze tables
    ("file", "row_number"),  # bronze.quarantine
    ("first_file", None),  # silver.person_records: the first file a record is seen in
)


def position_columns(columns: Iterable[str]) -> tuple[str, str | None] | None:
    """The position columns of a frame with these columns; None when it has none (counts only)."""
    present = set(columns)
    for file, row in POSITION_COLUMNS:
        if file in present and (row is None or row in present):
            return file, row
    return None


def position(file, row=None) -> str:
    """'<file> row <n>', or the file alone without a row (or with row 0, a record as a whole)."""
    return f"{file}" + (f" row {row}" if row else "")


def positions(rows: DataFrame, limit: int = LIMIT) -> list[str]:
    """The positions of the first `limit` rows of `rows` (none when it has no position columns)."""
    columns = position_columns(rows.columns)
    if columns is None:
        return []
    file, row = columns
    picked = rows.select(file, *([row] if row else [])).limit(limit).collect()
    return [position(r[0], r[1] if row else None) for r in picked]


def index_positions(result: dict, file: str, row: str | None, limit: int = LIMIT) -> list[str]:
    """The positions in a GX result asked for with `unexpected_index_column_names` (and
    `exclude_unexpected_values`, which gives one entry of lists, else one entry per row)."""
    found: list[str] = []
    for entry in result.get("partial_unexpected_index_list") or []:
        files, rows = entry.get(file), entry.get(row) if row else None
        if not isinstance(files, list):
            files, rows = [files], [rows]
        found += [position(f, r) for f, r in zip(files, rows or [None] * len(files), strict=False)]
    return found[:limit]
