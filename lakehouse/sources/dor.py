"""Rehabilitation (DOR): vocational rehabilitation cases, JSON lines per year."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="dor",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"VR_CASES": ()},
)
