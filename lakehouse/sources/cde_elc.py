"""CDE early learning and care: program enrollments of children, one CSV per fiscal year."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="cde_elc",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"ELC_ENROLLMENT": ("ENTRY_AGE", "DAYS_ENROLLED")},
)
