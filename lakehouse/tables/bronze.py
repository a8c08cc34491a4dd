"""Bronze tables: one per agency file family with every raw column as landed (STRING), the quarantine,
the file ledger and operators' file decisions. Restricted where raw rows are kept: extracts carry names,
birth dates and SSNs.
"""

from __future__ import annotations

import re

from lakehouse.tables.layouts import LAYOUTS
from lakehouse.tables.registry import Table, register

__all__ = [
    "BRONZE",
    "BRONZE_FILES",
    "BRONZE_FILE_DECISIONS",
    "BRONZE_METADATA",
    "BRONZE_QUARANTINE",
    "bronze_table_name",
    "raw_sensitivity",
]

BRONZE_METADATA = (
    "_source_file STRING, _row_number BIGINT, _load_id STRING, _ingested_at TIMESTAMP, _record_hash STRING"
)


def bronze_table_name(family: str) -> str:
    return f"{LAYOUTS[family].source}_{family.lower()}"


# Raw columns by what they say of a person: names, birth dates, SSNs, agency person ids and record
# keys identify; a ZIP code or a document number narrows down. Everything else (codes, dates of
# events, amounts) is "none".
_DIRECT_RAW = re.compile(
    r"NAME|BIRTH|^DOB$|SSN$|SSID$|^SEID$|^CIN$|^UCI$|CHILD_ID|STUDENT_ID|^CSU_ID$|^CSAC_ID$|UNIQUE_ID|"
    r"^CASE_NUMBER$|^PERSON_NUMBER$|^LOCAL_STAFF_ID$|MIDDLE_INITIAL",
    re.IGNORECASE,
)
_QUASI_RAW = re.compile(r"ZIP|^DOC_NUMBER$", re.IGNORECASE)


def raw_sensitivity(column: str) -> str:
    """ "direct", "quasi" or "none" for a raw extract's column (see `lakehouse.tables.registry`)."""
    if _DIRECT_RAW.search(column):
        return "direct"
    return "quasi" if _QUASI_RAW.search(column) else "none"


BRONZE = {
    family: register(
        Table(
            layer="bronze",
            name=bronze_table_name(family),
            schema=", ".join(f"`{name}` STRING" for name, _ in layout.columns) + ", " + BRONZE_METADATA,
            # (_source_file, _row_number) is unique by construction; no per-write key check needed.
            restricted=True,  # raw extracts carry names, birth dates and SSNs
            description=f"{layout.source} {family} rows as landed, plus load metadata.",
            sensitive=tuple(
                (name, raw_sensitivity(name)) for name, _ in layout.columns if raw_sensitivity(name) != "none"
            ),
        )
    )
    for family, layout in LAYOUTS.items()
}

BRONZE_QUARANTINE = register(
    Table(
        layer="bronze",
        name="quarantine",
        schema=(
            "source STRING, family STRING, file STRING, row_number BIGINT, raw_text STRING, reason STRING, "
            "load_id STRING, ingested_at TIMESTAMP"
        ),
        keys=("file", "row_number"),
        restricted=True,
        description="Every raw row that could not be landed, with the reason.",
        sensitive=(("raw_text", "direct"),),
    )
)

BRONZE_FILES = register(
    Table(
        layer="bronze",
        name="files",
        schema=(
            "source STRING, family STRING, file STRING, sha256 STRING, bytes BIGINT, status STRING, "
            "duplicate_of STRING, raw_rows BIGINT, landed_rows BIGINT, quarantined_rows BIGINT, "
            "load_id STRING, ingested_at TIMESTAMP, replaces STRING, ends_with_newline BOOLEAN"
        ),
        keys=("file", "sha256"),
        # status: landed (bronze holds this version's rows), replaced (a later version of the file took
        # its rows' place; `replaces` on that version names this one's sha256), duplicate (content
        # landed under another name, `duplicate_of`), empty (0 bytes, nothing to land), released (an
        # operator accepted its parsed rows: the gate no longer judges it), excluded (an operator dropped
        # its rows from bronze); decisions are recorded in bronze.file_decisions.
        # ends_with_newline: whether the file's last byte is a line end (LF, or the CR of a CRLF file cut
        # between CR and LF), null for a 0-byte file; a last line without one in a file whose other lines
        # have one is quarantined as truncated (lakehouse/sources/split.py).
        # `replaces` and `ends_with_newline` came after the first lakes: a ledger without them reads them
        # as nulls (so do rows written before) and gains the columns at its next write
        # (schema_mode="merge").
        description="The ledger of raw files: each file's content hash and where its rows went.",
    )
)


BRONZE_FILE_DECISIONS = register(
    Table(
        layer="bronze",
        name="file_decisions",
        schema=(
            "decision_id STRING, file STRING, sha256 STRING, load_id STRING, decision STRING, "
            "reason STRING, decided_by STRING, decided_at TIMESTAMP, raw_rows BIGINT, landed_rows BIGINT, "
            "quarantined_rows BIGINT"
        ),
        keys=("decision_id",),
        # decision: release or exclude, of the ledger row (file, sha256, load_id). The counts are the
        # ledger's at the time of the decision. No row contents: file names, hashes and the operator's
        # words only (the reason must not quote a row).
        description="Operators' decisions on landed files with unparsed rows: who released or excluded "
        "which file version, when and why.",
    )
)
