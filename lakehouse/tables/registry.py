"""The table registry: a Delta table's contract and the one place every table is declared.

Paths are not declared here; they come from settings (`storage.root`, or `storage.restricted_root` for
the restricted PII zone) as `<root>/<layer>/<name>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from lakehouse.settings import StorageSettings

LAYERS = ("bronze", "silver", "identity", "gold", "ops")
# How much a column says about who a person is:
# direct - identifies on its own or with public lookups: names, birth dates, SSNs, SSIDs, SEIDs, CINs,
#          agency person ids and record keys, raw rows;
# quasi  - narrows a person down with little else (ZIP code, document numbers, addresses);
# none   - everything else, keyed tokens included (pseudonymous: no key, no way back).
SENSITIVITIES = ("direct", "quasi", "none")
# Column names that say a column identifies someone, wherever they appear: a public table holding one,
# declared or not, is refused by the storage layer.
IDENTIFYING_NAMES = re.compile(
    r"(^|_)(first_name|middle_name|last_name|birth_date|dob|ssn|ssid|seid|cin|zip|document_number|"
    r"source_record_key|raw_text)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Table:
    """A Delta table's contract. `schema` is Spark DDL; `keys` must be unique and non-null per write."""

    layer: str
    name: str
    schema: str | None = None
    keys: tuple[str, ...] = ()
    partition_by: tuple[str, ...] = ()
    restricted: bool = False
    description: str = ""
    # (column, "direct" | "quasi") for each sensitive column; every other column is "none". A table
    # with any such column must be restricted, and the storage layer refuses to write it elsewhere.
    sensitive: tuple[tuple[str, str], ...] = ()

    def sensitivity(self, column: str) -> str:
        """ "direct", "quasi" or "none" for a column of this table."""
        return dict(self.sensitive).get(column, "none")

    @property
    def fqn(self) -> str:
        return f"{self.layer}.{self.name}"

    def struct(self, spark: SparkSession) -> StructType | None:
        """The declared schema as a StructType (None for tables that take the schema of their data)."""
        if self.schema is None:
            return None
        parsed = spark.createDataFrame([], self.schema).schema
        return parsed

    def path(self, storage: StorageSettings) -> str:
        root = storage.restricted_root if self.restricted else storage.root
        return f"{root.rstrip('/')}/{self.layer}/{self.name}"


_REGISTRY: dict[str, Table] = {}


def register(table: Table) -> Table:
    if table.layer not in LAYERS:
        raise ValueError(f"table {table.fqn}: unknown layer '{table.layer}' (layers: {', '.join(LAYERS)})")
    bad = sorted({level for _, level in table.sensitive} - set(SENSITIVITIES[:2]))
    if bad:
        raise ValueError(
            f"table {table.fqn}: unknown sensitivity {bad} (sensitive columns are direct or quasi)"
        )
    if table.sensitive and not table.restricted:
        columns = ", ".join(f"{c} ({level})" for c, level in table.sensitive)
        raise ValueError(f"table {table.fqn}: holds {columns} but is not restricted")
    if table.fqn in _REGISTRY and _REGISTRY[table.fqn] != table:
        raise ValueError(f"table {table.fqn} is declared twice with different definitions")
    _REGISTRY[table.fqn] = table
    return table


def get(fqn: str) -> Table:
    try:
        return _REGISTRY[fqn]
    except KeyError:
        raise KeyError(f"no table named '{fqn}' (known: {', '.join(sorted(_REGISTRY))})") from None


def all_tables() -> list[Table]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]
