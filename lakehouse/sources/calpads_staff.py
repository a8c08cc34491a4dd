"""CALPADS staff: SDEM demographics and SASS assignments (job class 12 = teacher), caret-delimited."""

from lakehouse.sources.spec import SourceSpec

SPEC = SourceSpec(
    source="calpads_staff",
    # Columns that must parse as numbers; dates come from layouts.DATE_FORMATS.
    numeric={"SDEM": (), "SASS": ("JOB_CLASS_CODE", "FTE_PERCENT", "CREDENTIAL_TYPE_CODE")},
)
