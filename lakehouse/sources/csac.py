"""Student aid (CSAC): FAFSA/CADAA applications and Cal Grant payments, CSV per award year."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="csac",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"APPLICATIONS": (), "CALGRANT_PAYMENTS": ("AMOUNT",)},
)
