"""EDD: DE 9C quarterly wage records (one CSV per YRQTR) and the employer file."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="edd",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"DE9C": ("YRQTR", "TOTAL_SUBJECT_WAGES"), "EMPLOYERS": ()},
)
