"""The delta-spark engine: `format("delta")` where the io.delta jars are on the classpath (clusters).

It keeps the contract of `Storage` with Delta's own mechanisms: `replaceWhere`, `txnAppId`/`txnVersion`
for idempotent steps, `mergeSchema`/`overwriteSchema` for evolution, VACUUM and OPTIMIZE. Schema checks
run in the base class first, so that both engines reject the same writes with the same message.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import DataFrame

from lakehouse.errors import ConcurrentWriteError, StorageError, TableNotFoundError
from lakehouse.storage.base import (
    Commit,
    Mode,
    ReplaceWhere,
    SchemaMode,
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
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        if timestamp is not None:
            ts = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
            reader = reader.option("timestampAsOf", ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
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
            partition_by = list(detail)
            if table.partition_by and list(table.partition_by) != partition_by:
                raise StorageError(
                    f"{table.fqn}: declared partitioning {list(table.partition_by)} differs from the "
                    f"table's {partition_by}; rewrite the table to change it"
                )
        if table.keys:
            self.check_keys(df, table)
        writer = df.write.format("delta").mode(mode)
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
            if "Concurrent" in type(exc).__name__ or "Concurrent" in str(exc)[:300]:
                raise ConcurrentWriteError(
                    f"{table.fqn}: a concurrent writer changed the table first; nothing was committed. "
                    f"Re-run the step. ({exc})"
                ) from None
            raise StorageError(f"{table.fqn}: delta write failed: {exc}") from None
        after = self._version(table)
        return WriteResult(table.fqn, after, skipped=app_id is not None and after == before)

    def history(self, table: Table, limit: int | None = None) -> list[Commit]:
        rows = (
            self._delta_table(table)
            .history(limit)
            .select("version", "timestamp", "operation", "operationParameters")
        )
        commits = [
            Commit(
                version=int(r["version"]),
                timestamp=r["timestamp"].replace(tzinfo=UTC),
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
        return [r[0] for r in dry]

    def compact(self, table: Table) -> dict[str, int]:
        self.spark.conf.set(
            "spark.databricks.delta.optimize.maxFileSize",
            str(self.settings.storage.compact_target_mb * 1024 * 1024),
        )
        metrics = self._delta_table(table).optimize().executeCompaction().select("metrics").first()[0]
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
