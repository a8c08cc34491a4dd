"""The delta-spark engine: `format("delta")` where the io.delta jars are on the classpath (clusters).

It keeps the contract of `Storage` with Delta's own mechanisms: `replaceWhere`, `txnAppId`/`txnVersion`
for idempotent steps, `mergeSchema`/`overwriteSchema` for evolution, VACUUM and OPTIMIZE. Schema checks
run in the base class first, so that both engines reject the same writes with the same message.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

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
    replace_where_sql,
)
from lakehouse.tables import Table


class DeltaSparkStorage(Storage):
    engine = "delta-spark"

    def _delta_table(self, table: Table):
        from delta.tables import DeltaTable  # the Python half ships with delta-spark

        path = self.path(table)
        if not DeltaTable.isDeltaTable(self.spark, path):
            raise TableNotFoundError(f"{table.fqn}: no Delta table at {path} (has it been written yet?)")
        return DeltaTable.forPath(self.spark, path)

    def _exists(self, table: Table) -> bool:
        from delta.tables import DeltaTable

        return DeltaTable.isDeltaTable(self.spark, self.path(table))

    def _version(self, table: Table) -> int | None:
        if not self._exists(table):
            return None
        return int(self._delta_table(table).history(1).select("version").first()[0])

    def read(
        self, table: Table, *, version: int | None = None, timestamp: datetime | None = None
    ) -> DataFrame:
        if version is not None and timestamp is not None:
            raise StorageError(f"{table.fqn}: give version or timestamp, not both")
        if not self._exists(table):
            raise TableNotFoundError(
                f"{table.fqn}: no Delta table at {self.path(table)} (has it been written yet?)"
            )
        if timestamp is not None:
            # Resolve the version here: delta-spark refuses a time after the latest commit, while the
            # contract (and delta-rs) gives the latest version then.
            ts = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
            before = [c for c in self.history(table) if c.timestamp <= ts]
            if not before:
                raise StorageError(f"{table.fqn}: {ts.isoformat()} is before the table's first commit")
            version = before[0].version
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        try:
            return reader.load(self.path(table))
        except Exception as exc:
            raise StorageError(
                f"{table.fqn}: cannot read version={version} timestamp={timestamp}: {exc}"
            ) from None

    def _write(
        self,
        df: DataFrame,
        table: Table,
        mode: Mode,
        replace_where: ReplaceWhere | None,
        app_id: str | None,
        schema_mode: SchemaMode,
    ) -> WriteResult:
        path = self.path(table)
        before = self._version(table)
        partition_by = list(table.partition_by)
        if before is not None:
            current = self.read(table).schema
            self.check_against_table(table, current, df.schema, mode, schema_mode)
            detail = self._delta_table(table).detail().select("partitionColumns").first()[0]
            partition_by = self.check_partitioning(table, list(detail))
        if table.keys:
            self.check_keys(df, table)
        if replace_where:
            # Delta checks replaceWhere after writing its files, and leaves them behind when it fails.
            inside = replace_where_sql(replace_where)
            if df.where(f"NOT coalesce({inside}, false)").limit(1).count():
                raise StorageError(
                    f"{table.fqn}: data has rows outside replace_where {dict(replace_where)}; "
                    "nothing was written"
                )
        write_id = f"c2c:{uuid.uuid4().hex}"
        writer = df.write.format("delta").mode(mode).option("userMetadata", write_id)
        writer = writer.option("partitionOverwriteMode", "static")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        if replace_where:
            writer = writer.option("replaceWhere", replace_where_sql(replace_where))
        if app_id:
            writer = writer.option("txnAppId", app_id).option("txnVersion", 1)
        if schema_mode == "merge":
            writer = writer.option("mergeSchema", "true")
        elif schema_mode == "overwrite":
            writer = writer.option("overwriteSchema", "true")
        try:
            writer.save(path)
        except Exception as exc:
            from delta.exceptions import DeltaConcurrentModificationException

            if (
                isinstance(exc, DeltaConcurrentModificationException)
                or "concurrent" in str(exc)[:500].lower()
            ):
                raise ConcurrentWriteError(
                    f"{table.fqn}: a concurrent writer changed the table first; nothing was committed. "
                    f"Re-run the step. ({exc})"
                ) from None
            raise StorageError(f"{table.fqn}: delta write failed: {exc}") from None
        # Our own commit, found by its user metadata: the newest version may be another writer's.
        history = self._delta_table(table).history()
        mine = history.where(F.col("userMetadata") == write_id).select("version").collect()
        if not mine:  # delta-spark skipped the write: this txnAppId was committed before
            return WriteResult(table.fqn, self._version(table), skipped=True)
        return WriteResult(table.fqn, int(mine[0][0]))

    def _stage(
        self,
        df: DataFrame,
        table: Table,
        mode: Mode,
        replace_where: ReplaceWhere | None,
        app_id: str | None,
        schema_mode: SchemaMode,
    ) -> Staged:
        # Parquet beside the table, under a directory Delta ignores (`_`); the commit writes Delta from it.
        if self._exists(table):
            self.check_against_table(table, self.read(table).schema, df.schema, mode, schema_mode)
        location = f"{self.path(table).rstrip('/')}/_staging/{uuid.uuid4().hex}"
        staged = Staged(table, location, df.schema, mode, replace_where, app_id, schema_mode)
        try:
            writer = df.write.mode("errorifexists")
            if table.partition_by:
                writer = writer.partitionBy(*table.partition_by)
            writer.parquet(location)
        except BaseException:
            self.abort(staged)
            raise
        return staged

    def _commit_staged(self, staged: Staged) -> WriteResult:
        df = self.staged_frame(staged)
        return self._write(
            df, staged.table, staged.mode, staged.replace_where, staged.app_id, staged.schema_mode
        )

    def _drop_stage(self, staged: Staged) -> None:
        jvm = self.spark.sparkContext._jvm
        path = jvm.org.apache.hadoop.fs.Path(staged.location)
        path.getFileSystem(self.spark.sparkContext._jsc.hadoopConfiguration()).delete(path, True)

    def history(self, table: Table, limit: int | None = None) -> list[Commit]:
        rows = (
            self._delta_table(table)
            .history(limit)
            .select("version", F.unix_millis("timestamp").alias("millis"), "operation", "operationParameters")
        )
        commits = [
            Commit(
                version=int(r["version"]),
                timestamp=datetime.fromtimestamp(r["millis"] / 1000, tz=UTC),
                operation=r["operation"],
                parameters=dict(r["operationParameters"] or {}),
            )
            for r in rows.collect()
        ]
        return sorted(commits, key=lambda c: c.version, reverse=True)

    def vacuum(self, table: Table, retain_hours: float) -> list[str]:
        path = self.path(table).replace("`", "``")
        self._delta_table(table)  # a clear error for a missing table
        dry = self.spark.sql(f"VACUUM delta.`{path}` RETAIN {retain_hours} HOURS DRY RUN").collect()
        self.spark.sql(f"VACUUM delta.`{path}` RETAIN {retain_hours} HOURS")
        root = self.path(table).rstrip("/") + "/"
        return [r[0].split(root, 1)[-1] for r in dry]  # relative to the table, as delta-rs reports them

    def compact(self, table: Table) -> dict[str, int]:
        key = "spark.databricks.delta.optimize.maxFileSize"
        previous = self.spark.conf.get(key, None)
        self.spark.conf.set(key, str(self.settings.storage.compact_target_mb * 1024 * 1024))
        try:
            metrics = self._delta_table(table).optimize().executeCompaction().select("metrics").first()[0]
        finally:
            if previous is None:
                self.spark.conf.unset(key)
            else:
                self.spark.conf.set(key, previous)
        return {
            "files_added": int(metrics["numFilesAdded"]),
            "files_removed": int(metrics["numFilesRemoved"]),
        }

    def info(self, table: Table) -> TableInfo:
        path = self.path(table)
        if not self._exists(table):
            return TableInfo(table.fqn, path, self.engine, exists=False)
        detail = self._delta_table(table).detail().select("numFiles").first()[0]
        rows = self.spark.read.format("delta").load(path).count()
        return TableInfo(table.fqn, path, self.engine, True, self._version(table), rows, int(detail))
