"""The delta-rs engine's commit (lakehouse/storage/delta_rs.py): the add actions of a staged write,
its files already moved under the table root, written to the Delta log in one atomic commit through
`deltalake`, with the step's application transaction id when it has one.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from deltalake import DeltaTable
from deltalake import Schema as DeltaSchema
from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.transaction import AddAction, CommitProperties, Transaction, create_table_with_add_actions
from pyspark.sql.types import StructType

from lakehouse.storage.base import Mode, ReplaceWhere, Storage, replace_where_values
from lakehouse.tables import Table


def commit_adds(
    storage: Storage,
    reopen: Callable[[Table], DeltaTable | None],
    table: Table,
    path: str,
    dt: DeltaTable | None,
    schema: StructType,
    partition_by: list[str],
    adds: list[AddAction],
    mode: Mode,
    replace_where: ReplaceWhere | None,
    app_id: str | None,
) -> None:
    """The one atomic step of `storage`'s write of `table` at `path`: `adds` (files already in place)
    committed to the log, creating the table when `dt` is None (`reopen`: the table as it is now, or
    None). Everything before it is invisible to readers."""
    properties = CommitProperties(
        custom_metadata={"c2c.writer": "delta-rs-engine", "c2c.app_id": app_id or ""},
        max_commit_retries=storage.settings.storage.max_commit_retries,
        app_transactions=[Transaction(app_id, 1)] if app_id else None,
    )
    delta_schema = DeltaSchema.from_json(schema.json())
    if dt is None:
        try:
            create_table_with_add_actions(
                path,
                delta_schema,
                adds,
                mode="error",
                partition_by=partition_by or None,
                commit_properties=properties,
            )
            return
        except DeltaError:
            dt = reopen(table)
            if dt is None:
                raise
        # Another writer created the table since we looked. An append still fits after it if
        # the schema and partitioning agree; anything else is a conflict.
        current = StructType.fromJson(json.loads(dt.schema().to_json()))
        if mode != "append" or list(dt.metadata().partition_columns) != partition_by:
            raise CommitFailedError("the table was created concurrently with a different layout")
        schema = storage.check_against_table(table, current, schema, "append", None)
        delta_schema = DeltaSchema.from_json(schema.json())
    current = {f["name"] for f in json.loads(dt.schema().to_json())["fields"]}
    added = [f for f in schema.fields if f.name not in current]
    if added and mode == "append":
        # A delta-rs append commit cannot carry new metadata: add the (nullable) columns in a
        # commit of their own first. Existing files stay valid; readers see nulls for them.
        dt.alter.add_columns(list(DeltaSchema.from_json(StructType(added).json()).fields))
    filters = None
    if replace_where:
        filters = [
            (column, "in", sorted(v for v in values if v is not None))
            for column, values in replace_where_values(replace_where).items()
        ]
    dt.create_write_transaction(
        adds,
        mode,
        delta_schema,
        partition_by=partition_by or None,
        partition_filters=filters,
        commit_properties=properties,
    )
