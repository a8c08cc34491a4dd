"""Social services (CDSS): CalFresh and CalWORKs participation spells, CSV per year."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="cdss",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"CALFRESH": (), "CALWORKS": ()},
)
