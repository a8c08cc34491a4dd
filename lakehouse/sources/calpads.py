"""CALPADS K-12 students: SINF demographics, SENR enrollments, CAASPP scores (caret-delimited, per year)."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="calpads",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"SINF": (), "SENR": (), "CAASPP": ("SCALE_SCORE",)},
)
