"""Teacher credentialing (CTC): credentials issued, pipe-delimited per academic year."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="ctc",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"CREDENTIALS": ()},
)
