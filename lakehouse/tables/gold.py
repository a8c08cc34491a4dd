"""Gold tables: the person timeline, cohorts and outcome marts, keyed by the pseudonymous person id, and
the metric cells before and after disclosure control.
"""

from __future__ import annotations

from lakehouse.tables.registry import Table, register

__all__ = [
    "GOLD_COHORT_MEMBERS",
    "GOLD_COHORT_OUTCOMES",
    "GOLD_METRIC_CELLS",
    "GOLD_PERSON_TIMELINE",
    "GOLD_PUBLISHED_CELLS",
    "TIMELINE_COLUMNS",
    "TIMELINE_FIELDS",
]

# The timeline's columns, in order: who, which period, then what happened in it. The timeline build
# (lakehouse/gold/timeline.py) shapes every event to these columns.
TIMELINE_FIELDS = (
    ("person_id", "STRING"),
    ("period_type", "STRING"),
    ("period", "INT"),
    ("k12_district", "STRING"),
    ("k12_grade", "INT"),
    ("k12_exit", "STRING"),
    ("hs_completion", "STRING"),
    ("college_terms", "ARRAY<STRUCT<start: DATE, segment: STRING, institution: STRING, term: STRING>>"),
    ("awards", "ARRAY<STRUCT<award_date: DATE, segment: STRING, award_level: STRING>>"),
    ("credentials", "ARRAY<STRING>"),
    ("teaching", "BOOLEAN"),
    ("teaching_district", "STRING"),
    ("staff_fte", "DOUBLE"),
    ("benefit_programs", "ARRAY<STRING>"),
    ("service_programs", "ARRAY<STRING>"),
    ("aid_amount", "DECIMAL(12,2)"),
    ("wages", "DECIMAL(14,2)"),
    ("employers", "INT"),
)
TIMELINE_COLUMNS = ", ".join(f"{name} {kind}" for name, kind in TIMELINE_FIELDS)

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
_POOLED = "cohort STRING, first_year INT, last_year INT"
GOLD_POOLED_METRIC_CELLS = register(
    Table(
        layer="gold",
        name="pooled_metric_cells",
        schema=(
            f"mart STRING, metric STRING, kind STRING, {_POOLED}, dimension STRING, `group` STRING, "
            "denominator BIGINT, numerator BIGINT, value DOUBLE, value_real DOUBLE, run_id STRING"
        ),
        keys=("mart", "metric", "cohort", "dimension", "group"),
        description="Every cell of every pooled cohort (cohort years first_year to last_year, labelled "
        "`cohort`) before disclosure control (internal: never published).",
    )
)
GOLD_PUBLISHED_POOLED_CELLS = register(
    Table(
        layer="gold",
        name="published_pooled_cells",
        schema=(
            f"mart STRING, metric STRING, kind STRING, {_POOLED}, dimension STRING, `group` STRING, "
            "denominator BIGINT, numerator BIGINT, value DOUBLE, value_real DOUBLE, "
            "denominator_suppressed BOOLEAN, numerator_suppressed BOOLEAN, value_suppressed BOOLEAN, "
            "suppression STRING, run_id STRING"
        ),
        keys=("mart", "metric", "cohort", "dimension", "group"),
        description="The published cells of the pooled cohorts: suppressed counts and values are null, "
        "with the reason.",
    )
)
