"""Independent colleges (AICCU): enrollment and degrees, CSV per academic year."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="aiccu",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"AICCU_ENROLLMENT": ("CREDITS",), "AICCU_DEGREES": ()},
)
