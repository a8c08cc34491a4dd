"""Community colleges (CCC MIS): SB student basic and SX enrollment per term, SP awards; pipe-delimited."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="ccc",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"SB": (), "SX": ("SX03_UNITS_ATTEMPTED", "SX04_UNITS_EARNED"), "SP": ()},
)
