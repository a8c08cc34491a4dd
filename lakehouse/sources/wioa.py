"""Workforce programs (WIOA PIRL): program entry, exit and credential attained, pipe-delimited per year."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="wioa",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"PIRL": ()},
)
