"""Cleaning up the lake: staging leftovers of runs no longer alive, and Delta data files no version in
use reads.

- **Staging leftovers.** A write is staged as Parquet under `<table>/_staging/<write id>/` before its
  commit (lakehouse/storage/); a run killed between the two leaves that folder behind, under the
  public root or the restricted root. Runs hold the lake's run lock (lakehouse/runlock.py), one at a
  time, so once the lock is held (by a run, or by `c2c vacuum`), a staging folder last written before
  the holder took it belongs to a run that is no longer alive. Without a lock (an object-store root)
  nothing says which runs are alive, and nothing is removed.
- **Scratch of killed processes.** Spark keeps shuffle and spill files in `blockmgr-*` and
  `spark-*` folders under `spark.local.dir`, and identity's DuckDB spills into a `duckdb-*` folder
  there; each deletes its own when it stops, and a process killed outright leaves them. A notebook
  may share that folder and sit idle for hours, so the lock says nothing of them: a folder goes
  once nothing in it changed for `C2C_LOCK_STALE_HOURS` (default 24), the age after which a run
  lock is stale too. Only local folders are looked at, never a URI.
- **Unreferenced data files.** The storage engine decides which files of a table no version within
  the retention reads (delta-rs `DeltaTable.vacuum` in full mode, or Spark's `VACUUM`, both as a dry
  run), keeping every version a layer manifest names: silver's and identity's rebuilds read those by
  time travel (lakehouse/tables/manifest.py). The files are then deleted here, without a commit: a
  vacuum commit would move the table's version, and every layer would look cut short and be rebuilt.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import functions as F

from lakehouse.errors import C2CError
from lakehouse.runlock import Holder, stale_after_hours
from lakehouse.settings import Settings
from lakehouse.storage import Storage
from lakehouse.storage.staged_files import STAGING_DIR
from lakehouse.tables import BRONZE_FILE_DECISIONS, Table, all_tables
from lakehouse.tables.manifest import OPS_LAYER_MANIFESTS


@dataclass(frozen=True)
class Removed:
    """A path removed (or, in a dry run, to remove) and the bytes it held."""

    path: str
    bytes: int
    # "staging" (a dead run's staging folder), "spark-scratch" (a killed Spark process's scratch
    # folder) or "unreferenced" (a table's data file)
    kind: str


SCRATCH_PATTERNS = ("blockmgr-*", "spark-*", "duckdb-*")


def local_root(root: str) -> Path | None:
    """A storage root as a local folder, or None for an object store."""
    if root.startswith("file://"):
        return Path(urllib.parse.urlparse(root).path)
    return None if "://" in root else Path(root)


def dead_staging(settings: Settings, holder: Holder | None) -> list[Path]:
    """The staging folders (`<root>/<layer>/<table>/_staging/<write id>`) under the public and the
    restricted root that runs no longer alive left: nothing in them was written after `holder`, the
    run lock's current holder, took the lock. None without a holder (no lock on an object store)."""
    if holder is None:
        return []
    cutoff = datetime.fromisoformat(holder.started_at).timestamp()
    found = []
    for root in (settings.storage.root, settings.storage.restricted_root):
        path = local_root(root)
        if path is None or not path.is_dir():
            continue
        for staging in sorted(path.glob(f"*/*/{STAGING_DIR}")):
            found += [p for p in sorted(staging.iterdir()) if _newest_mtime(p) < cutoff]
    return found


def spark_local_dirs(settings: Settings) -> list[Path]:
    """The local folders `spark.local.dir` names (a comma-separated list); URIs are left out."""
    value = settings.spark.conf.get("spark.local.dir", "")
    return [Path(d.strip()) for d in value.split(",") if d.strip() and "://" not in d]


def dead_spark_scratch(settings: Settings) -> list[Path]:
    """The `blockmgr-*`, `spark-*` and `duckdb-*` folders under `spark.local.dir` in which nothing
    changed for `C2C_LOCK_STALE_HOURS` (default 24): scratch of processes killed before they could
    clean up.
    Age decides, not the run lock: a notebook sharing the folder may be alive but idle."""
    cutoff = time.time() - stale_after_hours() * 3600
    found = []
    for local in spark_local_dirs(settings):
        if not local.is_dir():
            continue
        folders = {p for pattern in SCRATCH_PATTERNS for p in local.glob(pattern)}
        found += [
            p for p in sorted(folders) if p.is_dir() and not p.is_symlink() and _newest_mtime(p) < cutoff
        ]
    return found


def remove_dead_staging(settings: Settings, holder: Holder | None, *, dry_run: bool = False) -> list[Removed]:
    """Remove the staging folders of runs no longer alive (`dead_staging`), and each `_staging` folder
    left empty, then the Spark scratch folders of killed processes (`dead_spark_scratch`, whether or not
    there is a lock); what was removed and its bytes, staging first. A dry run removes nothing."""
    removed = []
    for folder in dead_staging(settings, holder):
        removed.append(Removed(str(folder), _bytes(folder), "staging"))
        if dry_run:
            continue
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        else:
            folder.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()  # the table's `_staging`, once empty
    for folder in dead_spark_scratch(settings):
        size = _bytes(folder)
        if not dry_run:
            shutil.rmtree(folder, ignore_errors=True)
            if folder.exists():  # another user's, or a file that would not go: say so, claim nothing
                print(
                    f"c2c: kept Spark scratch folder {folder}: it could not be removed whole", file=sys.stderr
                )
                continue
        removed.append(Removed(str(folder), size, "spark-scratch"))
    return removed


def _newest_mtime(path: Path) -> float:
    """The latest modification time of `path` and of everything under it."""
    newest = path.lstat().st_mtime
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            try:
                newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
            except FileNotFoundError:
                continue
    return newest


def _bytes(path: Path) -> int:
    if not path.is_dir():
        return path.lstat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                continue
    return total


def parse_age(text: str) -> float:
    """Hours in an age such as `7d`, `36h` or `0h` (days or hours, a whole number)."""
    value = text.strip().lower()
    if len(value) >= 2 and value[-1] in "dh" and value[:-1].isdigit():
        return int(value[:-1]) * (24.0 if value[-1] == "d" else 1.0)
    raise C2CError(f"--older-than {text!r}: expected days or hours, such as 7d or 36h")


def manifest_versions(storage: Storage) -> dict[str, set[int]]:
    """Per table (fqn), the versions the latest manifest of each layer names, as its tables or its
    inputs: the versions a rebuild may read back by time travel, kept by every vacuum."""
    if not storage.info(OPS_LAYER_MANIFESTS).exists:
        return {}
    rows = storage.read(OPS_LAYER_MANIFESTS).select("layer", "seq", "table_versions", "input_versions")
    latest = {}
    for r in rows.collect():
        if r["layer"] not in latest or r["seq"] > latest[r["layer"]]["seq"]:
            latest[r["layer"]] = r
    kept: dict[str, set[int]] = {}
    for r in latest.values():
        for column in ("table_versions", "input_versions"):
            for fqn, version in json.loads(r[column] or "{}").items():
                kept.setdefault(fqn, set()).add(int(version))
    return kept


def lake_tables() -> list[Table]:
    """Every declared table, the manifests and operators' file decisions included."""
    tables = {t.fqn: t for t in all_tables()}
    for t in (OPS_LAYER_MANIFESTS, BRONZE_FILE_DECISIONS):
        tables[t.fqn] = t
    return [tables[k] for k in sorted(tables)]


def vacuum_tables(
    storage: Storage,
    older_than_hours: float,
    *,
    tables: Iterable[Table] | None = None,
    dry_run: bool = False,
) -> list[Removed]:
    """Delete the data files of `tables` (default: every declared table that exists) that no version
    younger than `older_than_hours` reads and no layer manifest names, and orphans of failed writes
    older than that; never a file the latest version reads. What was removed, and its bytes."""
    keep = manifest_versions(storage)
    removed = []
    for table in lake_tables() if tables is None else tables:
        if not storage.info(table).exists:
            continue
        versions = keep.get(table.fqn, set())
        if storage.engine == "delta-rs":
            removed += _vacuum_rs(storage, table, older_than_hours, versions, dry_run)
        else:
            removed += _vacuum_spark(storage, table, older_than_hours, versions, dry_run)
    return removed


def _vacuum_rs(storage: Storage, table: Table, hours: float, keep: set[int], dry_run: bool) -> list[Removed]:
    """delta-rs decides (full mode: orphans too), the files are deleted here, without a commit."""
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    root = local_root(storage.path(table))
    if root is None:
        raise C2CError(
            f"{table.fqn}: the delta-rs engine vacuums local paths only, not {storage.path(table)}"
        )
    dt = DeltaTable(str(root))
    try:
        candidates = dt.vacuum(
            retention_hours=math.ceil(hours),
            dry_run=True,
            enforce_retention_duration=False,
            full=True,
            keep_versions=sorted(v for v in keep if v <= dt.version()) or None,
        )
    except DeltaError as exc:  # e.g. a kept version whose log entry is gone: keep everything
        print(f"c2c: vacuum: kept every file of {table.fqn}: {exc}", file=sys.stderr)
        return []
    removed = []
    for name in candidates:
        path = root / name
        if not path.exists():
            path = root / urllib.parse.unquote(name)
        if not path.is_file() or any(part.startswith(("_", ".")) for part in Path(name).parts[:-1]):
            continue  # gone already; or under the log or a staging folder, which are not table data
        size = path.stat().st_size
        if not dry_run:
            path.unlink(missing_ok=True)
        removed.append(Removed(str(path), size, "unreferenced"))
    return removed


def _vacuum_spark(
    storage: Storage, table: Table, hours: float, keep: set[int], dry_run: bool
) -> list[Removed]:
    """Spark's `VACUUM ... DRY RUN` decides, with the retention stretched back to the oldest version a
    manifest names (a version's files are removed from the commit after it on); the files are
    deleted through Hadoop's filesystem, without a commit."""
    spark = storage.spark
    path = storage.path(table)
    if keep:
        after = [c for c in storage.history(table) if c.version == min(keep) + 1]
        if after:
            age = (datetime.now(UTC) - after[0].timestamp).total_seconds() / 3600
            hours = max(hours, math.ceil(age) + 1)
    quoted = path.replace("`", "``")
    listed = spark.sql(f"VACUUM delta.`{quoted}` RETAIN {math.ceil(hours)} HOURS DRY RUN")
    names = [r[0] for r in listed.select(F.col(listed.columns[0])).collect()]
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    removed = []
    for name in names:
        hadoop_path = jvm.org.apache.hadoop.fs.Path(name)
        fs = hadoop_path.getFileSystem(conf)
        if not fs.exists(hadoop_path):
            continue
        size = int(fs.getFileStatus(hadoop_path).getLen())
        if not dry_run:
            fs.delete(hadoop_path, False)
        removed.append(Removed(name, size, "unreferenced"))
    return removed
