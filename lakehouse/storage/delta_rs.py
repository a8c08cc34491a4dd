"""The delta-rs engine: Spark writes the Parquet, delta-rs commits the Delta log.

Write path (the data never passes through the driver):
1. Spark tasks write Parquet in parallel into `<table>/_staging/<write id>/` (Hive-style partition dirs).
   This is `stage`; a gate may read the staged files back and check them before step 2, or abort.
2. The driver moves each file to the same relative place under the table root (a rename on the local
   filesystems this engine serves), reads its Parquet footer for the row count, and makes one atomic
   commit of add actions through `deltalake`, carrying the application transaction id when given
   (lakehouse/storage/delta_rs_log.py).
3. If anything fails before the commit lands, the moved files are deleted again and the table stays at
   its previous version. A killed process leaves orphan files, which `vacuum` removes (full listing,
   plus `_staging` directories older than the retention).

Read path: the snapshot's file list goes to Spark's native Parquet reader with `basePath` set to the
table root, so partition columns come back with the table's types.

This engine serves local or mounted POSIX paths; object stores are the delta-spark engine's job.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import urllib.parse
import uuid
from datetime import UTC, datetime

from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.exceptions import TableNotFoundError as DeltaTableNotFound
from deltalake.transaction import AddAction, CommitProperties
from pyspark.sql import DataFrame
from pyspark.sql.types import StructType

from lakehouse.errors import ConcurrentWriteError, StorageError, TableNotFoundError
from lakehouse.storage.base import (
    Commit,
    Mode,
    ReplaceWhere,
    SchemaMode,
    Staged,
    Storage,
    TableInfo,
    WriteResult,
    as_nullable,
    replace_where_values,
)
from lakehouse.storage.delta_rs_log import commit_adds
from lakehouse.storage.staged_files import STAGING_DIR, move_staged
from lakehouse.tables import Table


class DeltaRsStorage(Storage):
    engine = "delta-rs"

    # -- reading ---------------------------------------------------------------------------------

    def _open(self, table: Table, version: int | None = None) -> DeltaTable:
        path = self._local_path(table)
        try:
            return DeltaTable(path, version=version)
        except DeltaTableNotFound:
            raise TableNotFoundError(
                f"{table.fqn}: no Delta table at {path} (has it been written yet?)"
            ) from None
        except DeltaError as exc:
            raise StorageError(f"{table.fqn}: cannot open version {version} at {path}: {exc}") from None

    def _try_open(self, table: Table) -> DeltaTable | None:
        try:
            return self._open(table)
        except TableNotFoundError:
            return None

    def read(
        self, table: Table, *, version: int | None = None, timestamp: datetime | None = None
    ) -> DataFrame:
        if version is not None and timestamp is not None:
            raise StorageError(f"{table.fqn}: give version or timestamp, not both")
        dt = self._open(table, version)
        if timestamp is not None:
            ts = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
            first = min(entry["timestamp"] for entry in dt.history())
            if ts.timestamp() * 1000 < first:
                # delta-rs would quietly give version 0; delta-spark refuses, and so do we.
                raise StorageError(
                    f"{table.fqn}: {ts.isoformat()} is before the table's first commit "
                    f"({datetime.fromtimestamp(first / 1000, tz=UTC).isoformat()})"
                )
            try:
                dt.load_as_version(ts)
            except Exception as exc:
                raise StorageError(f"{table.fqn}: no version at or before {ts.isoformat()}: {exc}") from None
        return self._read_snapshot(dt, self._local_path(table))

    def _read_snapshot(self, dt: DeltaTable, path: str) -> DataFrame:
        schema = StructType.fromJson(json.loads(dt.schema().to_json()))
        files = dt.file_uris()
        if not files:
            return self.spark.createDataFrame([], schema)
        df = self.spark.read.schema(schema).option("basePath", path).parquet(*files)
        return df.select(*[f"`{name}`" for name in schema.fieldNames()])

    def history(self, table: Table, limit: int | None = None) -> list[Commit]:
        commits = []
        for entry in self._open(table).history(limit):
            operation = entry.get("operation", "")
            if operation == "CREATE TABLE" and "c2c.writer" in entry:
                operation = "WRITE"  # our first write creates the table with its data, as delta-spark's does
            params = {k: v for k, v in (entry.get("operationParameters") or {}).items()}
            commits.append(
                Commit(
                    version=int(entry["version"]),
                    timestamp=datetime.fromtimestamp(entry["timestamp"] / 1000, tz=UTC),
                    operation=operation,
                    parameters=params,
                )
            )
        return sorted(commits, key=lambda c: c.version, reverse=True)

    def info(self, table: Table) -> TableInfo:
        path = self.path(table)
        dt = self._try_open(table)
        if dt is None:
            return TableInfo(table.fqn, path, self.engine, exists=False)
        files = dt.file_uris()
        return TableInfo(table.fqn, path, self.engine, True, dt.version(), dt.count(), len(files))

    # -- writing ---------------------------------------------------------------------------------

    def _write(
        self,
        df: DataFrame,
        table: Table,
        mode: Mode,
        replace_where: ReplaceWhere | None,
        app_id: str | None,
        schema_mode: SchemaMode,
    ) -> WriteResult:
        dt = self._try_open(table)
        if dt is not None and app_id and dt.transaction_version(app_id) is not None:
            return WriteResult(table.fqn, dt.version(), skipped=True)  # known before writing a file
        return self.commit(self._stage(df, table, mode, replace_where, app_id, schema_mode))

    def _stage(
        self,
        df: DataFrame,
        table: Table,
        mode: Mode,
        replace_where: ReplaceWhere | None,
        app_id: str | None,
        schema_mode: SchemaMode,
    ) -> Staged:
        path = self._local_path(table)
        dt = self._try_open(table)
        if dt is None:
            schema = as_nullable(df.schema)
            partition_by = list(table.partition_by)
        else:
            current = StructType.fromJson(json.loads(dt.schema().to_json()))
            schema = self.check_against_table(table, current, df.schema, mode, schema_mode)
            partition_by = self.check_partitioning(table, list(dt.metadata().partition_columns))
        write_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
        location = os.path.join(path, STAGING_DIR, write_id)
        staged = Staged(
            table, location, df.schema, mode, replace_where, app_id, schema_mode,
            state={"dt": dt, "schema": schema, "partition_by": partition_by},
        )  # fmt: skip
        try:
            writer = df.write.mode("errorifexists")
            if partition_by:
                writer = writer.partitionBy(*partition_by)
            writer.parquet(location)
        except BaseException:
            self.abort(staged)
            raise
        return staged

    def _commit_staged(self, staged: Staged) -> WriteResult:
        table, path = staged.table, self._local_path(staged.table)
        dt, schema = staged.state["dt"], staged.state["schema"]
        app_id, replace_where = staged.app_id, staged.replace_where
        if app_id:  # the step may have committed since the files were staged (a re-run of it)
            now = self._try_open(table)
            if now is not None and now.transaction_version(app_id) is not None:
                return WriteResult(table.fqn, now.version(), skipped=True)
        moved: list[str] = []
        try:
            adds, moved = move_staged(staged.location, path)
            if replace_where:
                self._check_replace_where(table, adds, replace_where)
            if table.keys and moved:
                self.check_keys(self._read_files(moved, path, schema), table)
            self._commit(
                table,
                path,
                dt,
                schema,
                staged.state["partition_by"],
                adds,
                staged.mode,
                replace_where,
                app_id,
            )
        except BaseException as exc:
            self._undo(table, path, moved, app_id)
            if isinstance(exc, CommitFailedError) and app_id:
                # The commit checks the step's application transaction against every commit since this
                # writer read the table: another writer of the same step landed first, so this one is
                # a re-run of it and commits nothing, as if the check before the commit had seen it.
                now = self._try_open(table)
                if now is not None and now.transaction_version(app_id) is not None:
                    return WriteResult(table.fqn, now.version(), skipped=True)
            if isinstance(exc, CommitFailedError):
                raise ConcurrentWriteError(
                    f"{table.fqn}: a concurrent writer changed the table first; nothing was committed. "
                    f"Re-run the step. ({exc})"
                ) from None
            raise
        return WriteResult(table.fqn, self._open(table).version(), files=len(moved))

    def _drop_stage(self, staged: Staged) -> None:
        shutil.rmtree(staged.location, ignore_errors=True)

    def _read_files(self, files: list[str], path: str, schema: StructType) -> DataFrame:
        return self.spark.read.schema(schema).option("basePath", path).parquet(*files)

    def _check_replace_where(self, table: Table, adds: list[AddAction], replace_where: ReplaceWhere) -> None:
        allowed = replace_where_values(replace_where)
        for add in adds:
            for column, values in allowed.items():
                if add.partition_values.get(column) not in values:
                    raise StorageError(
                        f"{table.fqn}: data has {column}={add.partition_values.get(column)!r}, outside "
                        f"replace_where {dict(replace_where)}; nothing was written"
                    )

    def _commit(self, table: Table, *args, **kwargs) -> None:
        """The one atomic step (delta_rs_log.commit_adds); a method, so that tests can stand in for it."""
        commit_adds(self, self._try_open, table, *args, **kwargs)

    def _undo(self, table: Table, path: str, moved: list[str], app_id: str | None) -> None:
        """Delete this write's files unless its commit did land (an error after the commit)."""
        if not moved:
            return
        dt = self._try_open(table)
        if dt is not None:
            live = set(dt.file_uris())
            if any(f in live for f in moved):
                return
        for f in moved:
            with contextlib.suppress(FileNotFoundError):
                os.remove(f)

    # -- maintenance -----------------------------------------------------------------------------

    def vacuum(self, table: Table, retain_hours: float) -> list[str]:
        dt = self._open(table)
        removed = dt.vacuum(
            retention_hours=int(retain_hours),
            dry_run=False,
            enforce_retention_duration=False,
            full=True,
            commit_properties=CommitProperties(max_commit_retries=self.settings.storage.max_commit_retries),
        )
        staging = os.path.join(self._local_path(table), STAGING_DIR)
        cutoff = time.time() - retain_hours * 3600
        if os.path.isdir(staging):
            for entry in os.scandir(staging):
                if entry.stat().st_mtime <= cutoff:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed.append(os.path.relpath(entry.path, self._local_path(table)))
        return removed

    def compact(self, table: Table) -> dict[str, int]:
        # Maintenance runs in delta-rs itself (multi-threaded Rust, spills to disk). It is the correct
        # OPTIMIZE commit (dataChange=false, conflict-checked); clusters compact through delta-spark.
        metrics = self._open(table).optimize.compact(
            target_size=self.settings.storage.compact_target_mb * 1024 * 1024,
            commit_properties=CommitProperties(max_commit_retries=self.settings.storage.max_commit_retries),
        )
        return {
            "files_added": int(metrics["numFilesAdded"]),
            "files_removed": int(metrics["numFilesRemoved"]),
        }

    def _local_path(self, table: Table) -> str:
        path = self.path(table)
        if path.startswith("file://"):
            return urllib.parse.urlparse(path).path
        if "://" in path:
            raise StorageError(
                f"{table.fqn}: the delta-rs engine writes local paths only, not {path}; "
                "use the delta-spark engine (storage.engine) for object stores"
            )
        return path
