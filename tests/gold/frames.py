"""Small builders for hand-made gold inputs: silver rows by table name, timeline rows, the crosswalk,
GoldInputs with defaults, and whole-frame comparisons.

Frames are built from one JSON literal (`inline(from_json(...))`) rather than `createDataFrame`: the
plan then has no Python RDD behind it and Spark knows the inputs are tiny, so joins are broadcast and
each test runs a handful of short jobs."""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DataType, StructField, StructType
from pyspark.testing import assertDataFrameEqual

from lakehouse.gold.cohorts import GoldInputs
from lakehouse.gold.timeline import ACADEMIC_YEAR, TIMELINE_COLUMNS, TIMELINE_FIELDS
from lakehouse.tables import get

PEOPLE_COLUMNS = "person_id STRING, gender STRING, race_ethnicity STRING"
CROSSWALK_COLUMNS = "record_token STRING, person_id STRING"
GEOGRAPHY = {
    "institution_county": {"SJSU": "43", "UCLA": "19", "121": "01"},
    "county_region": {"43": "Bay Area", "01": "Bay Area", "19": "Los Angeles"},
}
# assertDataFrameEqual imports pandas-on-Spark, which warns unless this is set before Spark starts
# its Python workers (it would set it itself, too late for them).
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
_SET_COLUMNS = {name for name, kind in TIMELINE_FIELDS if kind.startswith("ARRAY")}
_SCHEMAS: dict[str, StructType] = {}


def schema_of(spark: SparkSession, ddl: str) -> StructType:
    if ddl not in _SCHEMAS:
        _SCHEMAS[ddl] = spark.createDataFrame([], ddl).schema
    return _SCHEMAS[ddl]


def _json_value(value, kind: DataType):
    """A test value as JSON for `kind`: a STRUCT given as a tuple becomes an object keyed by field name."""
    if value is None:
        return None
    if isinstance(kind, ArrayType):
        return [_json_value(v, kind.elementType) for v in value]
    if isinstance(kind, StructType):
        return {f.name: _json_value(v, f.dataType) for v, f in zip(value, kind.fields, strict=True)}
    if isinstance(value, date | Decimal):
        return str(value)
    return value


def frame_of(spark: SparkSession, schema: StructType, rows: list[tuple]) -> DataFrame:
    """A frame of `schema` holding `rows` (tuples in the schema's column order; dates as ISO strings)."""
    row_type = StructType([StructField(f.name, f.dataType) for f in schema.fields])
    text = json.dumps([_json_value(tuple(r), row_type) for r in rows])
    table = F.from_json(F.lit(text), ArrayType(row_type), {"mode": "FAILFAST"})
    return spark.range(1).select(F.inline(table))


def rows_frame(spark: SparkSession, ddl: str, rows: list[dict], defaults: dict | None = None) -> DataFrame:
    """A frame of `ddl` from dict rows; a column a row leaves out is its default (else null)."""
    schema = schema_of(spark, ddl)
    defaults = defaults or {}
    return frame_of(spark, schema, [tuple(r.get(f.name, defaults.get(f.name)) for f in schema) for r in rows])


def silver(spark: SparkSession, name: str, *rows: dict) -> DataFrame:
    """Rows of the silver table `name` with its registered schema; provenance columns filled in."""
    ddl = get(f"silver.{name}").schema
    with_provenance = [
        {"source": "TEST", "unknown_codes": [], "source_file": f"{name}.txt", "source_row": i + 1, **r}
        for i, r in enumerate(rows)
    ]
    return rows_frame(spark, ddl, with_provenance)


def timeline(spark: SparkSession, *rows: dict) -> DataFrame:
    """Timeline rows (academic years unless `period_type` says otherwise); array columns default to []."""
    defaults = {"period_type": ACADEMIC_YEAR, **{n: [] for n in _SET_COLUMNS}}
    return rows_frame(spark, TIMELINE_COLUMNS, list(rows), defaults)


def crosswalk(spark: SparkSession, owners: dict[str, str]) -> DataFrame:
    """record_token -> person_id."""
    return frame_of(spark, schema_of(spark, CROSSWALK_COLUMNS), list(owners.items()))


def people(spark: SparkSession, *rows: tuple) -> DataFrame:
    """person_id, gender, race_ethnicity."""
    return frame_of(spark, schema_of(spark, PEOPLE_COLUMNS), list(rows))


def gold_inputs(
    spark: SparkSession,
    *,
    timeline_rows: DataFrame | None = None,
    owners: dict[str, str] | None = None,
    silver_tables: dict[str, DataFrame] | None = None,
    people_rows: DataFrame | None = None,
    vintage: int = 2024,
    employment_threshold: float = 1.0,
) -> GoldInputs:
    return GoldInputs(
        timeline=timeline_rows if timeline_rows is not None else timeline(spark),
        crosswalk=crosswalk(spark, owners or {}),
        silver=silver_tables or {},
        people=people_rows if people_rows is not None else people(spark),
        geography=GEOGRAPHY,
        vintage=vintage,
        employment_threshold=employment_threshold,
    )


def assert_same(actual: DataFrame, expected: DataFrame) -> None:
    """Whole-frame equality (schema and rows) on `expected`'s columns, whatever the row order."""
    assertDataFrameEqual(actual.select(*expected.columns), expected, checkRowOrder=False)


def assert_frame(actual: DataFrame, expected_rows: list[tuple], ddl: str) -> None:
    """`actual` (its columns in `ddl`, in any order) equals `expected_rows`, whatever the row order."""
    assert_same(actual, frame_of(actual.sparkSession, schema_of(actual.sparkSession, ddl), expected_rows))
