"""An operator's decisions on a landed file with unparsed rows: release it or exclude it.

- **release**: bronze keeps the file's parsed rows and the raw->bronze gate no longer judges the file;
  its unparsed rows stay in `bronze.quarantine`, counted as missing data. The ledger row's status
  becomes `released` (bronze holds the version's rows, as for `landed`).
- **exclude**: the file's rows leave bronze (its family table and `bronze.quarantine`), so the next
  silver promotion does not read them and the gate does not judge the file. The ledger row's status
  becomes `excluded`; its counts stay as landed. The same content is not landed again; a corrected
  version of the file (new content under its name) lands as usual.

Each decision is one row of `bronze.file_decisions`, beside the ledger: which file version (file,
sha256 and the load that landed it), what, who, when and why. A decision applies to that landing of
that version only: a version replaced or landed again is judged afresh.

Recording and applying are separate commits, each an idempotent step keyed by the decision: the row
first, then the rewritten bronze tables (exclude), then the ledger, last, like a landing. A decision
recorded but not applied (a command cut short) is applied by the next landing (`apply_pending`, called
at the start of `land`), before the count-back checks bronze against the ledger.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehouse.errors import C2CError
from lakehouse.sources.checks import held_rows, write_ledger
from lakehouse.storage import Storage
from lakehouse.tables import BRONZE, BRONZE_FILE_DECISIONS, BRONZE_QUARANTINE

RELEASE, EXCLUDE = "release", "exclude"
STATUS_OF = {RELEASE: "released", EXCLUDE: "excluded"}
# Ledger statuses of a version whose rows bronze holds (landing counts them back).
HELD = ("landed", "released")


class DecisionError(C2CError):
    """A decision that cannot be taken on this file (unknown, or not in bronze)."""


@dataclass(frozen=True)
class Decision:
    decision_id: str
    file: str
    sha256: str
    load_id: str
    decision: str
    reason: str
    decided_by: str
    decided_at: datetime
    raw_rows: int
    landed_rows: int
    quarantined_rows: int

    def row(self) -> tuple:
        return (
            self.decision_id,
            self.file,
            self.sha256,
            self.load_id,
            self.decision,
            self.reason,
            self.decided_by,
            self.decided_at,
            self.raw_rows,
            self.landed_rows,
            self.quarantined_rows,
        )


@dataclass(frozen=True)
class Outcome:
    """What a decision did: `applied` False when it was in effect already; rows dropped per table."""

    decision: Decision
    applied: bool
    dropped: dict[str, int]


def read_decisions(storage: Storage) -> list[Decision]:
    """Every decision recorded, oldest first (`decided_at` in UTC)."""
    if not storage.info(BRONZE_FILE_DECISIONS).exists:
        return []
    names = BRONZE_FILE_DECISIONS.struct(storage.spark).fieldNames()
    rows = storage.read(BRONZE_FILE_DECISIONS).select(*names).collect()
    found = [Decision(**{**r.asDict(), "decided_at": r["decided_at"].astimezone(UTC)}) for r in rows]
    return sorted(found, key=lambda d: (d.decided_at, d.decision_id))


def latest_by_version(decisions: list[Decision]) -> dict[tuple[str, str, str], Decision]:
    """The last decision per ledger row (file, sha256, load_id): the one in force."""
    return {(d.file, d.sha256, d.load_id): d for d in decisions}


def current_row(ledger: list[dict], file: str) -> dict:
    """The ledger row a decision on `file` is about: the version bronze holds, or else the latest
    version excluded. DecisionError (exit status 2) when the ledger has no such file or no rows of it."""
    rows = [r for r in ledger if r["file"] == file]
    if not rows:
        raise DecisionError(
            f"no file {file!r} in the ledger bronze.files (names are relative to the raw root, as "
            "`c2c quarantine list` shows them)"
        )
    for statuses in (HELD, ("excluded",)):
        chosen = [r for r in rows if r["status"] in statuses]
        if chosen:
            return max(chosen, key=lambda r: r["ingested_at"])
    status = max(rows, key=lambda r: r["ingested_at"])["status"]
    raise DecisionError(f"{file}: bronze holds no rows of it (ledger status {status}); nothing to decide")


def decide(
    spark: SparkSession,
    storage: Storage,
    ledger: list[dict],
    columns: list[str],
    file: str,
    decision: str,
    *,
    reason: str,
    by: str,
) -> Outcome:
    """Record `decision` (release or exclude) on the version of `file` bronze holds, and apply it.
    A decision already in force records nothing. An excluded file cannot be released: its rows are no
    longer in bronze (a corrected version of the file lands as usual)."""
    if decision not in STATUS_OF:
        raise DecisionError(f"unknown decision {decision!r} (release or exclude)")
    if not reason.strip():
        raise DecisionError("--reason must say why (it is recorded with the decision)")
    row = current_row(ledger, file)
    version = (row["file"], row["sha256"], row["load_id"])
    latest = latest_by_version(read_decisions(storage)).get(version)
    if row["status"] == STATUS_OF[decision]:  # in force already: nothing to record
        return Outcome(latest or _new(row, decision, reason, by), applied=False, dropped={})
    if row["status"] == "excluded":
        raise DecisionError(
            f"{file}: excluded, so bronze no longer holds its rows and it cannot be released; send a "
            "corrected version of the file to land it again"
        )
    if latest is None or latest.decision != decision:  # else: recorded before, not applied yet
        latest = _new(row, decision, reason, by)
        storage.write(
            spark.createDataFrame([latest.row()], BRONZE_FILE_DECISIONS.schema),
            BRONZE_FILE_DECISIONS,
            "append",
            run_id=latest.decision_id,
            step="bronze/file_decisions",
        )
    _, outcomes = apply_pending(spark, storage, ledger, columns)
    return next(o for o in outcomes if o.decision.decision_id == latest.decision_id)


def _new(row: dict, decision: str, reason: str, by: str) -> Decision:
    at = datetime.now(UTC)  # to the microsecond: the later of two decisions on a version is in force
    key = "\n".join([row["file"], row["sha256"], row["load_id"], decision, by, reason, at.isoformat()])
    return Decision(
        decision_id=hashlib.sha256(key.encode()).hexdigest()[:16],
        file=row["file"],
        sha256=row["sha256"],
        load_id=row["load_id"],
        decision=decision,
        reason=reason.strip(),
        decided_by=by,
        decided_at=at,
        raw_rows=row["raw_rows"],
        landed_rows=row["landed_rows"],
        quarantined_rows=row["quarantined_rows"],
    )


def apply_pending(
    spark: SparkSession, storage: Storage, ledger: list[dict], columns: list[str]
) -> tuple[list[dict], list[Outcome]]:
    """Put in force every decision the ledger does not reflect yet: the last decision on a ledger row
    that bronze holds (status landed or released) asking for another status. An exclusion rewrites
    the file's family table and `bronze.quarantine` without the file's rows of that load; then the
    ledger is written whole, with the new statuses, in one commit. Returns the ledger after, and what
    each applied decision did. Nothing pending: no read of bronze, no commit."""
    rows = {(r["file"], r["sha256"], r["load_id"]): r for r in ledger}
    pending = [
        d
        for version, d in latest_by_version(read_decisions(storage)).items()
        if version in rows
        and rows[version]["status"] in HELD
        and rows[version]["status"] != STATUS_OF[d.decision]
    ]
    if not pending:
        return ledger, []
    outcomes = []
    for d in pending:
        family = rows[d.file, d.sha256, d.load_id]["family"]
        dropped = _drop_rows(storage, d, family) if d.decision == EXCLUDE else {}
        outcomes.append(Outcome(d, applied=True, dropped=dropped))
    after = [dict(r) for r in ledger]
    status = {(d.file, d.sha256, d.load_id): STATUS_OF[d.decision] for d in pending}
    for r in after:
        r["status"] = status.get((r["file"], r["sha256"], r["load_id"]), r["status"])
    digest = hashlib.sha256("\n".join(sorted(d.decision_id for d in pending)).encode()).hexdigest()[:16]
    write_ledger(storage, after, columns, run_id=digest, step="bronze/files/decisions")
    return after, outcomes


def _drop_rows(storage: Storage, d: Decision, family: str | None) -> dict[str, int]:
    """Rewrite each bronze table holding rows of the decision's file and load without them, one
    overwrite commit per table, keyed by the decision (a retry commits nothing twice). Returns the
    rows dropped per table."""
    tables = ([BRONZE[family]] if family in BRONZE else []) + [BRONZE_QUARANTINE]
    held = held_rows(storage, tables, [d.file])
    dropped = {}
    for table in tables:
        n = held.get((table.fqn, d.file, d.load_id), 0)
        if not n:
            continue
        file, load = ("file", "load_id") if table == BRONZE_QUARANTINE else ("_source_file", "_load_id")
        theirs = (F.col(file) == d.file) & (F.col(load) == d.load_id)
        kept = storage.read(table).where(F.coalesce(~theirs, F.lit(True)))
        storage.write(kept, table, "overwrite", run_id=d.decision_id, step=f"bronze/exclude/{table.name}")
        dropped[table.fqn] = n
    return dropped
