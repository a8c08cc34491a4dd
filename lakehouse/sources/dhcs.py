"""Health care (DHCS MEDS): Medi-Cal eligibility spells with aid codes, pipe-delimited per year."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="dhcs",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"MEDS_ELIG": ()},
)
