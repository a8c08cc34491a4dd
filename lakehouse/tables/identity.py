"""Identity tables: the master person index, the linkage pairs behind it and the history of person ids."""

from __future__ import annotations

from lakehouse.tables.registry import Table, register

__all__ = ["IDENTITY_CROSSWALK", "IDENTITY_PAIRS", "IDENTITY_PERSON_ID_HISTORY"]

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
