"""Every table of the platform, declared once: layer, name, schema, keys, partitioning, zone.

Paths are not declared here; they come from settings (`storage.root`, or `storage.restricted_root` for
the restricted PII zone) as `<root>/<layer>/<name>`. Later layers add their declarations to this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from lakehouse.settings import StorageSettings
from lakehouse.sources.layouts import LAYOUTS

LAYERS = ("bronze", "silver", "identity", "gold", "ops")


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


# ---- ops -------------------------------------------------------------------------------------------

OPS_RUNS = register(
    Table(
        layer="ops",
        name="runs",
        schema=(
            "run_id STRING, job STRING, env STRING, engine STRING, started_at TIMESTAMP, "
            "finished_at TIMESTAMP, status STRING, detail STRING"
        ),
        keys=("run_id", "job"),
        description="One row per job run: what ran, where, on which engine, and how it ended.",
    )
)


# ---- bronze: one table per agency file family, every raw column kept as landed (STRING) ----------

BRONZE_METADATA = (
    "_source_file STRING, _row_number BIGINT, _load_id STRING, _ingested_at TIMESTAMP, _record_hash STRING"
)


def bronze_table_name(family: str) -> str:
    return f"{LAYOUTS[family].source}_{family.lower()}"


BRONZE = {
    family: register(
        Table(
            layer="bronze",
            name=bronze_table_name(family),
            schema=", ".join(f"`{name}` STRING" for name, _ in layout.columns) + ", " + BRONZE_METADATA,
            # (_source_file, _row_number) is unique by construction; no per-write key check needed.
            restricted=True,  # raw extracts carry names, birth dates and SSNs
            description=f"{layout.source} {family} rows as landed, plus load metadata.",
        )
    )
    for family, layout in LAYOUTS.items()
}

BRONZE_QUARANTINE = register(
    Table(
        layer="bronze",
        name="quarantine",
        schema=(
            "source STRING, family STRING, file STRING, row_number BIGINT, raw_text STRING, reason STRING, "
            "load_id STRING, ingested_at TIMESTAMP"
        ),
        keys=("file", "row_number"),
        restricted=True,
        description="Every raw row that could not be landed, with the reason.",
    )
)

BRONZE_FILES = register(
    Table(
        layer="bronze",
        name="files",
        schema=(
            "source STRING, family STRING, file STRING, sha256 STRING, bytes BIGINT, status STRING, "
            "duplicate_of STRING, raw_rows BIGINT, landed_rows BIGINT, quarantined_rows BIGINT, "
            "load_id STRING, ingested_at TIMESTAMP"
        ),
        keys=("file", "sha256"),
        description="The ledger of raw files: each file's content hash and where its rows went.",
    )
)


# ---- silver ----------------------------------------------------------------------------------------

SILVER_PERSON_RECORDS = register(
    Table(
        layer="silver",
        name="person_records",
        schema=(
            "source STRING, source_record_key STRING, first_name STRING, middle_name STRING, "
            "last_name STRING, last_name_1 STRING, last_name_2 STRING, birth_date DATE, gender STRING, "
            "ssn_token STRING, "
            "ssid STRING, seid STRING, cin STRING, zip STRING, has_identity BOOLEAN, first_file STRING, "
            "last_file STRING"
        ),
        keys=("source", "source_record_key"),
        restricted=True,
        description="One row per source person record: standardized identity, SSN as an HMAC token.",
    )
)

SILVER_K12_ENROLLMENTS = register(
    Table(
        layer="silver",
        name="k12_enrollments",
        schema=(
            "source STRING, source_record_key STRING, academic_year INT, school_cds STRING, "
            "district_code STRING, county_code STRING, grade INT, entry_date DATE, exit_date DATE, "
            "exit_code STRING, exit_category STRING, completion_status STRING, completion STRING, "
            "unknown_codes ARRAY<STRING>, source_file STRING, source_row BIGINT"
        ),
        keys=("source_file", "source_row"),
        partition_by=("academic_year",),
        description="K-12 enrollment events (CALPADS SENR), codes mapped; unknown codes listed per row.",
    )
)
