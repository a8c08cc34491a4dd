"""One storage interface for Delta tables, with checks both engines share.

Behaviour every engine guarantees (tests/storage/test_contract.py holds them to it):
- `write` appends, overwrites, or replaces the partitions named by `replace_where`, in one atomic commit.
- With `run_id`, a write is an idempotent step: the commit carries a Delta application transaction
  (`txnAppId` = `c2c:<step>:<run_id>`), and a second write with the same id commits nothing. The id
  is checked inside the commit, against every commit since the writer read the table: two writers of
  one step racing past the first check still commit once (the loser reports the write as skipped).
- The data's schema must match the table's (names and types; order and nullability are free) unless
  `schema_mode="merge"` (add new columns) or `"overwrite"` (with mode="overwrite") is asked for.
- A declared table's keys must be unique and non-null in the written data.
- Tables use reader 1 / writer 2 protocol features only (no deletion vectors).
- A write can be split in two: `stage` writes the data files (invisible to every reader of the table)
  and returns a `Staged` whose files `staged_frame` reads back; `commit` then makes them the table's
  next version with the same checks and guarantees as `write`, and `abort` deletes them. A gate checks
  the staged files and commits or aborts a whole layer, without computing or caching the data twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from lakehouse.errors import RestrictedZoneError, SchemaMismatchError, StorageError
from lakehouse.settings import Settings
from lakehouse.storage.schema import (  # noqa: F401  (re-exported: the engines import them from here)
    ReplaceWhere,
    as_nullable,
    check_column_names,
    replace_where_sql,
    replace_where_values,
    schema_diff,
)
from lakehouse.tables import Table
from lakehouse.tables.registry import IDENTIFYING_NAMES

Mode = Literal["append", "overwrite"]
SchemaMode = Literal["merge", "overwrite"] | None


@dataclass(frozen=True)
class WriteResult:
    table: str
    version: int | None
    skipped: bool = False
    files: int = 0


@dataclass
class Staged:
    """A write whose files are on storage but not yet committed: no reader of the table sees them."""

    table: Table
    location: str
    schema: StructType
    mode: Mode
    replace_where: ReplaceWhere | None
    app_id: str | None
    schema_mode: SchemaMode
    state: dict[str, Any] = field(default_factory=dict)  # the engine's own
    done: bool = False  # committed or aborted


@dataclass(frozen=True)
class Commit:
    version: int
    timestamp: datetime
    operation: str
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TableInfo:
    table: str
    path: str
    engine: str
    exists: bool
    version: int | None = None
    rows: int | None = None
    files: int | None = None


class Storage(ABC):
    """Read, write and maintain the Delta tables declared in `lakehouse.tables`."""

    engine: str

    def __init__(self, spark: SparkSession, settings: Settings) -> None:
        self.spark = spark
        self.settings = settings

    # -- the interface ---------------------------------------------------------------------------

    @abstractmethod
    def read(
        self, table: Table, *, version: int | None = None, timestamp: datetime | None = None
    ) -> DataFrame:
        """The table as of now, or as of a version or a timestamp (time travel)."""

    def write(
        self,
        df: DataFrame,
        table: Table,
        mode: Mode = "append",
        replace_where: ReplaceWhere | None = None,
        *,
        run_id: str | None = None,
        step: str | None = None,
        schema_mode: SchemaMode = None,
    ) -> WriteResult:
        """Write `df` to `table` in one commit. See the module docstring for the guarantees."""
        app_id = self._validate(df, table, mode, replace_where, run_id, step, schema_mode)
        return self._write(df, table, mode, replace_where, app_id, schema_mode)

    def stage(
        self,
        df: DataFrame,
        table: Table,
        mode: Mode = "append",
        replace_where: ReplaceWhere | None = None,
        *,
        run_id: str | None = None,
        step: str | None = None,
        schema_mode: SchemaMode = None,
    ) -> Staged:
        """The first half of `write`: check `df` as `write` would and write its files, uncommitted."""
        app_id = self._validate(df, table, mode, replace_where, run_id, step, schema_mode)
        return self._stage(df, table, mode, replace_where, app_id, schema_mode)

    def staged_frame(self, staged: Staged) -> DataFrame:
        """The staged rows, read back from their files (columns in the data's order)."""
        if staged.done:
            raise StorageError(f"{staged.table.fqn}: this staged write was already committed or aborted")
        df = self.spark.read.schema(as_nullable(staged.schema)).parquet(staged.location)
        return df.select(*[f"`{name}`" for name in staged.schema.fieldNames()])

    def commit(self, staged: Staged) -> WriteResult:
        """The second half of `write`: one atomic commit of the staged files. The staging area is gone
        afterwards, whether the commit landed or failed."""
        if staged.done:
            raise StorageError(f"{staged.table.fqn}: this staged write was already committed or aborted")
        try:
            return self._commit_staged(staged)
        finally:
            staged.done = True
            self._drop_stage(staged)

    def abort(self, staged: Staged) -> None:
        """Delete the staged files; the table is untouched. A no-op once committed or aborted."""
        if not staged.done:
            staged.done = True
            self._drop_stage(staged)

    def _validate(
        self,
        df: DataFrame,
        table: Table,
        mode: Mode,
        replace_where: ReplaceWhere | None,
        run_id: str | None,
        step: str | None,
        schema_mode: SchemaMode,
    ) -> str | None:
        """Checks that need no table: arguments, column names, the registry's schema. The app id."""
        if mode not in ("append", "overwrite"):
            raise StorageError(f"{table.fqn}: mode must be 'append' or 'overwrite', not {mode!r}")
        if replace_where and mode != "overwrite":
            raise StorageError(f"{table.fqn}: replace_where needs mode='overwrite'")
        if schema_mode == "overwrite" and mode != "overwrite":
            raise StorageError(f"{table.fqn}: schema_mode='overwrite' needs mode='overwrite'")
        check_column_names(df.schema, table)
        self._check_zone(df, table)
        declared = table.struct(self.spark)
        if declared is not None:
            diffs = schema_diff(declared, df.schema)
            if diffs:
                raise SchemaMismatchError(
                    f"{table.fqn}: data does not match the declared schema in lakehouse/tables.py: "
                    + "; ".join(diffs)
                )
        if replace_where:
            unknown = set(replace_where) - set(table.partition_by)
            if unknown:
                raise StorageError(
                    f"{table.fqn}: replace_where may only name partition columns "
                    f"{list(table.partition_by)}; got {sorted(unknown)}"
                )
        return f"c2c:{step or table.fqn}:{run_id}" if run_id else None

    def _check_zone(self, df: DataFrame, table: Table) -> None:
        """A direct or quasi identifier is written under the restricted root or not at all."""
        restricted_root = self.settings.storage.restricted_root.rstrip("/") + "/"
        if self.path(table).startswith(restricted_root):
            return
        sensitive = [c for c in df.columns if table.sensitivity(c) != "none" or IDENTIFYING_NAMES.search(c)]
        if sensitive:
            raise RestrictedZoneError(
                f"{table.fqn}: refusing to write {', '.join(sensitive)} "
                "(identifiers, by the registry or by name) to "
                f"{self.path(table)}, outside the restricted root {self.settings.storage.restricted_root}"
            )

    @abstractmethod
    def history(self, table: Table, limit: int | None = None) -> list[Commit]:
        """Commits, newest first."""

    @abstractmethod
    def vacuum(self, table: Table, retain_hours: float) -> list[str]:
        """Delete data files no version newer than `retain_hours` needs, and orphans of failed writes."""

    @abstractmethod
    def compact(self, table: Table) -> dict[str, int]:
        """Rewrite small files into files of about `storage.compact_target_mb`; data unchanged."""

    @abstractmethod
    def info(self, table: Table) -> TableInfo:
        """Whether the table exists, its current version, row count and file count."""

    # -- for engines -----------------------------------------------------------------------------

    @abstractmethod
    def _write(
        self,
        df: DataFrame,
        table: Table,
        mode: Mode,
        replace_where: ReplaceWhere | None,
        app_id: str | None,
        schema_mode: SchemaMode,
    ) -> WriteResult: ...

    @abstractmethod
    def _stage(
        self,
        df: DataFrame,
        table: Table,
        mode: Mode,
        replace_where: ReplaceWhere | None,
        app_id: str | None,
        schema_mode: SchemaMode,
    ) -> Staged: ...

    @abstractmethod
    def _commit_staged(self, staged: Staged) -> WriteResult: ...

    @abstractmethod
    def _drop_stage(self, staged: Staged) -> None: ...

    def path(self, table: Table) -> str:
        return table.path(self.settings.storage)

    def check_against_table(
        self, table: Table, current: StructType, incoming: StructType, mode: Mode, schema_mode: SchemaMode
    ) -> StructType:
        """The schema the commit will carry; raise SchemaMismatchError when the data does not fit."""
        if schema_mode == "overwrite":
            return as_nullable(incoming)
        diffs = schema_diff(current, incoming, allow_new_columns=schema_mode == "merge")
        if diffs:
            hint = "" if schema_mode else " (pass schema_mode='merge' to add new columns)"
            raise SchemaMismatchError(
                f"{table.fqn}: data does not match the table's schema: {'; '.join(diffs)}{hint}"
            )
        if schema_mode == "merge":
            known = {f.name for f in current.fields}
            added = [f for f in as_nullable(incoming).fields if f.name not in known]
            return StructType([*current.fields, *added])
        return current

    def check_partitioning(self, table: Table, existing: list[str]) -> list[str]:
        """The table's partition columns, which must be the declared ones when the table declares any."""
        if table.partition_by and list(table.partition_by) != existing:
            raise StorageError(
                f"{table.fqn}: declared partitioning {list(table.partition_by)} differs from the "
                f"table's {existing}; rewrite the table to change it"
            )
        return existing

    def check_keys(self, df: DataFrame, table: Table) -> None:
        """Raise if the declared keys are null or repeated in `df` (five examples).

        Keys are often long tokens (two 64-character record tokens for a linkage pair), and a state has
        hundreds of millions of them: grouping by the keys themselves shuffles every key's bytes. So a
        first aggregation groups by a 64-bit hash of the keys, which shuffles eight bytes a row and
        finds every repeated key (a repeated key repeats its hash). Only rows whose hash repeats (a
        repeated key, or, about once in 10^19 pairs of keys, two keys that share a hash) or whose key
        has a null are grouped by the keys themselves, to tell the two apart and name examples.
        """
        if not table.keys:
            return
        keys = list(table.keys)
        null_key = F.lit(False)
        for k in keys:
            null_key = null_key | F.col(k).isNull()
        hashed = df.select(*keys, F.xxhash64(*keys).alias("_h"), null_key.alias("_null"))
        suspect = (
            hashed.groupBy("_h")
            .agg(F.count(F.lit(1)).alias("_n"), F.max("_null").alias("_any_null"))
            .filter("_n > 1 OR _any_null")
            .select("_h")
        )
        if suspect.isEmpty():
            return
        # Joined, not collected into a filter: a hash of an SSID is a literal no plan may carry.
        bad = (
            hashed.join(suspect, "_h", "left_semi")
            .groupBy(*keys)
            .agg(F.count(F.lit(1)).alias("_n"), F.max("_null").alias("_null"))
            .filter("_n > 1 OR _null")
            .limit(5)
            .collect()
        )
        if bad:
            if any(table.sensitivity(k) != "none" for k in keys):
                # The key itself identifies someone (a record key, an SSID): its values stay in the zone.
                nulls = sum(1 for r in bad if r["_null"])
                examples = f"{len(bad)}{'+' if len(bad) == 5 else ''} keys ({nulls} null), values withheld"
            else:
                examples = ", ".join(str({k: r[k] for k in keys}) + f" x{r['_n']}" for r in bad)
            raise StorageError(
                f"{table.fqn}: key {keys} must be unique and non-null; offending keys: {examples}"
            )
