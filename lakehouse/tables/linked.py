"""Tables of the linked layers: the master person index (identity) and the gold outcome marts."""

from __future__ import annotations

from lakehouse.gold.timeline import TIMELINE_COLUMNS
from lakehouse.tables.registry import Table, register

# ---- identity: the master person index -------------------------------------------------------------

IDENTITY_CROSSWALK = register(
    Table(
        layer="identity",
        name="person_crosswalk",
        schema=(
            "source STRING, source_record_key STRING, record_token STRING, person_id STRING, run_id STRING"
        ),
        keys=("source", "source_record_key"),
        restricted=True,  # source record keys are agency ids such as SSIDs and CINs
        description="Every source person record's pseudonymous person id (keys as silver.person_records).",
        sensitive=(("source_record_key", "direct"),),
    )
)
IDENTITY_PERSON_ID_HISTORY = register(
    Table(
        layer="identity",
        name="person_id_history",
        schema=(
            "run_id STRING, person_id STRING, event STRING, related_person_id STRING, records BIGINT, "
            "recorded_at TIMESTAMP"
        ),
        description="Person ids created, merged into another, split from another, or retired, per run.",
    )
)
IDENTITY_PAIRS = register(
    Table(
        layer="identity",
        name="linkage_pairs",
        schema=(
            "record_token_l STRING, record_token_r STRING, match_probability DOUBLE, method STRING, "
            "run_id STRING"
        ),
        keys=("record_token_l", "record_token_r"),
        restricted=True,
        description="Record pairs from the deterministic rules and the model (scored at or above the "
        "review floor), and whether each made a match.",
    )
)


# ---- gold: longitudinal timeline, cohorts and outcome marts (keyed by the pseudonymous person id) ----

GOLD_PERSON_TIMELINE = register(
    Table(
        layer="gold",
        name="person_timeline",
        schema=TIMELINE_COLUMNS,
        keys=("person_id", "period_type", "period"),
        partition_by=("period_type",),
        description="One row per person and period (academic year or wage quarter) across every segment.",
    )
)
GOLD_COHORT_MEMBERS = register(
    Table(
        layer="gold",
        name="cohort_members",
        schema="mart STRING, person_id STRING, cohort_year INT, attributes MAP<STRING, STRING>",
        keys=("mart", "person_id"),
        description="Who is in each mart's cohort of which year, with the breakdown attributes.",
    )
)
GOLD_COHORT_OUTCOMES = register(
    Table(
        layer="gold",
        name="cohort_outcomes",
        schema=(
            "mart STRING, metric STRING, person_id STRING, cohort_year INT, outcome BOOLEAN, value DOUBLE, "
            "value_year INT"
        ),
        keys=("mart", "metric", "person_id"),
        description="Each cohort member's result on each rate metric (null: censored or not in the "
        "metric's population) and its value, e.g. annual wages.",
    )
)
GOLD_METRIC_CELLS = register(
    Table(
        layer="gold",
        name="metric_cells",
        schema=(
            "mart STRING, metric STRING, kind STRING, cohort_year INT, dimension STRING, `group` STRING, "
            "denominator BIGINT, numerator BIGINT, value DOUBLE, value_real DOUBLE, run_id STRING"
        ),
        keys=("mart", "metric", "cohort_year", "dimension", "group"),
        description="Every cell of every metric before disclosure control (internal: never published).",
    )
)
GOLD_PUBLISHED_CELLS = register(
    Table(
        layer="gold",
        name="published_cells",
        schema=(
            "mart STRING, metric STRING, kind STRING, cohort_year INT, dimension STRING, `group` STRING, "
            "denominator BIGINT, numerator BIGINT, value DOUBLE, value_real DOUBLE, "
            "denominator_suppressed BOOLEAN, numerator_suppressed BOOLEAN, value_suppressed BOOLEAN, "
            "suppression STRING, run_id STRING"
        ),
        keys=("mart", "metric", "cohort_year", "dimension", "group"),
        description="The published cells: suppressed counts and values are null, with the reason.",
    )
)
