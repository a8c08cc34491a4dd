"""University of California: term enrollment and degrees, JSON lines."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="uc",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"enrollment": ("units",), "degrees": ()},
)
