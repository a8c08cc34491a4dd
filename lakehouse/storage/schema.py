"""Schema and partition helpers every storage engine shares: the checks `Storage.write` runs before
touching a table, and how `replace_where` reads as SQL or as Delta partition values."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql.types import ArrayType, DataType, MapType, StructField, StructType, TimestampNTZType

from lakehouse.errors import SchemaMismatchError, StorageError
from lakehouse.tables import Table

ReplaceWhere = Mapping[str, Any]
_BAD_NAME = re.compile(r"[ ,;{}()\n\t=]")


def replace_where_sql(replace_where: ReplaceWhere) -> str:
    """`{"year": [2023, 2024], "source": "csu"}` -> `year IN (2023, 2024) AND source IN ('csu')`."""
    parts = []
    for column, value in replace_where.items():
        values = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        literals = ", ".join(_sql_literal(v) for v in values)
        parts.append(f"`{column}` IN ({literals})")
    return " AND ".join(parts)


def replace_where_values(replace_where: ReplaceWhere) -> dict[str, set[str | None]]:
    """The partition values (as Delta stores them: strings) that `replace_where` selects."""
    out: dict[str, set[str | None]] = {}
    for column, value in replace_where.items():
        values = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        out[column] = {None if v is None else _partition_string(v) for v in values}
    return out


def _partition_string(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def check_column_names(schema: StructType, table: Table) -> None:
    """Delta without column mapping refuses these characters in names; say so before writing anything."""
    bad = [f.name for f in schema.fields if _BAD_NAME.search(f.name)]
    if bad:
        raise StorageError(f"{table.fqn}: column names may not contain spaces or any of ,;{{}}()=: {bad}")
    ntz = [f.name for f in schema.fields if isinstance(f.dataType, TimestampNTZType)]
    if ntz:
        raise StorageError(
            f"{table.fqn}: TIMESTAMP_NTZ columns {ntz} need a newer Delta protocol; cast them to TIMESTAMP"
        )
    missing = [c for c in table.partition_by if c not in schema.fieldNames()]
    if missing:
        raise SchemaMismatchError(f"{table.fqn}: partition columns {missing} are not in the data")


def schema_diff(expected: StructType, actual: StructType, *, allow_new_columns: bool = False) -> list[str]:
    """Differences by column name and type. Order and nullability are not compared."""
    exp = {f.name: f.dataType for f in expected.fields}
    act = {f.name: f.dataType for f in actual.fields}
    diffs = []
    missing = [n for n in exp if n not in act]
    extra = [n for n in act if n not in exp]
    if missing:
        diffs.append(f"missing columns {missing}")
    if extra and not allow_new_columns:
        diffs.append(f"unexpected columns {extra}")
    for name in exp:
        if name in act and _strip_nullability(exp[name]) != _strip_nullability(act[name]):
            diffs.append(
                f"column '{name}' is {act[name].simpleString()}, table has {exp[name].simpleString()}"
            )
    return diffs


def _strip_nullability(dtype: DataType) -> DataType:
    if isinstance(dtype, StructType):
        return StructType([StructField(f.name, _strip_nullability(f.dataType), True) for f in dtype.fields])
    if isinstance(dtype, ArrayType):
        return ArrayType(_strip_nullability(dtype.elementType), True)
    if isinstance(dtype, MapType):
        return MapType(_strip_nullability(dtype.keyType), _strip_nullability(dtype.valueType), True)
    return dtype


def as_nullable(schema: StructType) -> StructType:
    """What Spark's Parquet writer records: every field nullable, all the way down."""
    result = _strip_nullability(schema)
    assert isinstance(result, StructType)
    return StructType([StructField(f.name, f.dataType, True, f.metadata) for f in result.fields])
