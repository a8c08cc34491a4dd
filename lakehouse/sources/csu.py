"""CSU ERS files, fixed width: ERSS term enrollment, ERSD degrees, ERST credential programs, ERSFA aid."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="csu",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={
        "ERSS": ("UNITS",),
        "ERSD": (),
        "ERST": ("ACADEMIC_YEAR",),
        "ERSFA": ("ACADEMIC_YEAR", "AMOUNT"),
    },
)
