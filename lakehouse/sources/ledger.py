"""The ledger `bronze.files` as landing (lakehouse/sources/landing.py) reads and rewrites it, one row
per version of a raw file, and the landing's part of the run report.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lakehouse.sources.decisions import HELD
from lakehouse.sources.layouts import LAYOUTS, family_of
from lakehouse.sources.planning import Plan, RawFile
from lakehouse.storage import Storage
from lakehouse.tables import BRONZE_FILES


def read_ledger(storage: Storage, columns: list[str]) -> list[dict]:
    """The ledger's rows with every declared column (one a lake's ledger lacks reads as null), and
    `ingested_at` in UTC (Spark hands timestamps to Python as naive local times)."""
    if not storage.info(BRONZE_FILES).exists:
        return []
    rows = [{**dict.fromkeys(columns), **r.asDict()} for r in storage.read(BRONZE_FILES).collect()]
    for r in rows:
        if r["ingested_at"] is not None:
            r["ingested_at"] = r["ingested_at"].astimezone(UTC)
    return rows


def ledger_after(
    ledger: list[dict], todo: Plan, counts: dict, columns: list[str], load_id: str, now: datetime
) -> list[dict]:
    """The ledger once this landing is committed: a row per file version, sorted by file and hash."""
    rows = {(r["file"], r["sha256"]): dict(r) for r in ledger}

    def put(f: RawFile, status: str, **values) -> None:
        family = family_of(f.file)
        rows[f.file, f.sha256] = {
            **dict.fromkeys(columns),
            **{"source": LAYOUTS[family].source if family else "unknown", "family": family},
            **{"file": f.file, "sha256": f.sha256, "bytes": f.size, "status": status},
            "ends_with_newline": f.ends_with_newline,
            **{"raw_rows": 0, "landed_rows": 0, "quarantined_rows": 0, "load_id": load_id},
            **{"ingested_at": now, **values},
        }

    for f in todo.land:
        for (name, sha), r in rows.items():
            if name == f.file and sha != f.sha256 and r["status"] in HELD:
                r["status"] = "replaced"
        c = counts.get(f.file, {"raw": 0, "landed": 0, "quarantined": 0})
        old = todo.replaces.get(f.file, {}).get("sha256")
        put(
            f,
            "landed",
            raw_rows=c["raw"],
            landed_rows=c["landed"],
            quarantined_rows=c["quarantined"],
            replaces=old if old != f.sha256 else None,
        )
    for f, original in todo.duplicates:
        put(f, "duplicate", duplicate_of=original)
    for f in todo.empty:
        put(f, "empty")
    return [rows[k] for k in sorted(rows)]


def landing_report(todo: Plan, counts: dict, load_id: str, seen: int) -> dict:
    """The landing's part of the run report: what became of each file seen, and the warnings."""
    files: dict[str, dict] = {}
    warnings = []
    for f in todo.land:
        c = dict(counts.get(f.file, {"raw": 0, "landed": 0, "quarantined": 0}))
        if c.pop("truncated", False):
            warnings.append(f"{f.file}: its last line has no line end; quarantined as truncated")
        old = todo.replaces.get(f.file, {}).get("sha256")
        files[f.file] = {"status": "landed", **c} | ({"replaces": old} if old and old != f.sha256 else {})
        if f.file in todo.relanded:
            files[f.file]["relanded"] = True
    for f, original in todo.duplicates:
        files[f.file] = {"status": "duplicate", "duplicate_of": original}
    for f in todo.empty:
        files[f.file] = {"status": "empty"}
        warnings.append(f"{f.file}: 0 bytes; recorded as empty, nothing landed")
    return {
        "load_id": load_id,
        "files_seen": seen,
        "files": dict(sorted(files.items())),
        "files_new": sum(f.file not in todo.replaces and f.file not in todo.relanded for f in todo.land),
        "files_replaced": len(todo.resent()),
        "files_relanded": len(todo.relanded),
        "files_duplicate": len(todo.duplicates),
        "files_empty": len(todo.empty),
        "warnings": warnings,
    }
