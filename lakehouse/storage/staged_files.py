"""Staged Parquet files to Delta add actions, for the delta-rs engine.

Spark tasks write a write's files under `<table>/_staging/<write id>/` with Hive-style partition folders;
`move_staged` moves them to the same relative place under the table root and builds one add action per
file, reading the row count from its Parquet footer (the data never passes through the driver).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pyarrow.parquet as pq
from deltalake.transaction import AddAction

STAGING_DIR = "_staging"
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def move_staged(stage: str, path: str) -> tuple[list[AddAction], list[str]]:
    """Move every staged Parquet file to the same relative place under the table root; return its add
    actions and the moved paths (which the caller deletes again if the commit does not land)."""
    staged = []
    for folder, dirs, names in os.walk(stage):
        dirs[:] = [d for d in dirs if not d.startswith(("_", "."))]
        staged += [os.path.join(folder, n) for n in names if n.endswith(".parquet") and not n.startswith(".")]
    moved = []
    for src in staged:
        dst = os.path.join(path, os.path.relpath(src, stage))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.rename(src, dst)
        moved.append(dst)
    with ThreadPoolExecutor(max_workers=8) as pool:
        adds = list(pool.map(lambda f: _add_action(f, path), moved))
    return adds, moved


def _add_action(file: str, table_path: str) -> AddAction:
    rel = os.path.relpath(file, table_path)
    values: dict[str, str | None] = {}
    for segment in rel.split(os.sep)[:-1]:
        column, _, raw = segment.partition("=")
        value = urllib.parse.unquote(raw)
        values[column] = None if value == HIVE_NULL else value
    stat = os.stat(file)
    rows = pq.read_metadata(file).num_rows
    # delta-rs URI-encodes the path when it writes the log; give it the path as it is on disk.
    return AddAction(
        rel, stat.st_size, values, int(stat.st_mtime * 1000), True, json.dumps({"numRecords": rows})
    )
