"""Every table of the platform, declared once: layer, name, schema, keys, partitioning, zone.

`registry` holds the contract (`Table`) and the registry; one module per layer declares its tables
(`ops`, `bronze`, `silver`, `identity`, `gold`), and `layouts` the agency file layouts the bronze tables
are declared from. Import tables from here. The registry is the bottom of the platform: it imports only
settings and errors, never a layer that reads or writes the tables (tests/test_imports.py).
"""

from lakehouse.tables.bronze import (
    BRONZE,
    BRONZE_FILE_DECISIONS,
    BRONZE_FILES,
    BRONZE_METADATA,
    BRONZE_QUARANTINE,
    bronze_table_name,
    raw_sensitivity,
)
from lakehouse.tables.gold import (
    GOLD_COHORT_MEMBERS,
    GOLD_COHORT_OUTCOMES,
    GOLD_METRIC_CELLS,
    GOLD_PERSON_TIMELINE,
    GOLD_POOLED_METRIC_CELLS,
    GOLD_PUBLISHED_CELLS,
    GOLD_PUBLISHED_POOLED_CELLS,
    TIMELINE_COLUMNS,
    TIMELINE_FIELDS,
)
from lakehouse.tables.identity import IDENTITY_CROSSWALK, IDENTITY_PAIRS, IDENTITY_PERSON_ID_HISTORY
from lakehouse.tables.layouts import LAYOUTS, Layout
from lakehouse.tables.ops import OPS_LAYER_MANIFESTS, OPS_QUALITY_RESULTS, OPS_RUNS
from lakehouse.tables.registry import LAYERS, Table, all_tables, get, register
from lakehouse.tables.silver import (
    SILVER_AID,
    SILVER_BENEFITS,
    SILVER_COLLEGE_ENROLLMENTS,
    SILVER_COMPLETIONS,
    SILVER_CREDENTIALS,
    SILVER_DEMOGRAPHICS,
    SILVER_K12_ENROLLMENTS,
    SILVER_PERSON_RECORDS,
    SILVER_QUARANTINE,
    SILVER_SERVICES,
    SILVER_STAFF_ASSIGNMENTS,
    SILVER_WAGES,
)

__all__ = [
    "BRONZE",
    "BRONZE_FILES",
    "BRONZE_FILE_DECISIONS",
    "BRONZE_METADATA",
    "BRONZE_QUARANTINE",
    "GOLD_COHORT_MEMBERS",
    "GOLD_COHORT_OUTCOMES",
    "GOLD_METRIC_CELLS",
    "GOLD_PERSON_TIMELINE",
    "GOLD_POOLED_METRIC_CELLS",
    "GOLD_PUBLISHED_CELLS",
    "GOLD_PUBLISHED_POOLED_CELLS",
    "IDENTITY_CROSSWALK",
    "IDENTITY_PAIRS",
    "IDENTITY_PERSON_ID_HISTORY",
    "LAYERS",
    "LAYOUTS",
    "OPS_LAYER_MANIFESTS",
    "OPS_QUALITY_RESULTS",
    "OPS_RUNS",
    "SILVER_AID",
    "SILVER_BENEFITS",
    "SILVER_COLLEGE_ENROLLMENTS",
    "SILVER_COMPLETIONS",
    "SILVER_CREDENTIALS",
    "SILVER_DEMOGRAPHICS",
    "SILVER_K12_ENROLLMENTS",
    "SILVER_PERSON_RECORDS",
    "SILVER_QUARANTINE",
    "SILVER_SERVICES",
    "SILVER_STAFF_ASSIGNMENTS",
    "SILVER_WAGES",
    "TIMELINE_COLUMNS",
    "TIMELINE_FIELDS",
    "Layout",
    "Table",
    "all_tables",
    "bronze_table_name",
    "get",
    "raw_sensitivity",
    "register",
]
