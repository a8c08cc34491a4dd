"""Developmental services (DDS): consumers by regional center, CSV per year."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="dds",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"CONSUMERS": ("STATUS_YEAR",)},
)
