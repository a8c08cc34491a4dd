"""`c2c quarantine` and `c2c vacuum`: an operator's commands for faults in the bronze landing and for
cleaning up what runs leave behind. The logic is in lakehouse/sources/decisions.py (release,
exclude), quality/bronze_gate.py (which files block) and lakehouse/vacuum.py.

The commands that change the lake (release, exclude, vacuum) hold the lake's run lock while they work,
so they refuse to start while a run holds it (exit status 2) and no run starts while they work.
`quarantine list` only reads, and prints counts from the ledger, never a row: rows may hold
restricted data."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

from lakehouse.errors import C2CError
from lakehouse.runlock import Holder, RunLockHeld, run_lock, stale_after_hours
from lakehouse.settings import Settings
from lakehouse.vacuum import Removed, parse_age, remove_dead_staging


def default_operator() -> str:
    """Who runs the command: the operating system's user name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container) and no LOGNAME/USER
        return os.environ.get("USER") or "unknown"


@contextmanager
def _holding_lake(settings: Settings, what: str) -> Iterator[Holder | None]:
    """Hold the lake's run lock for a maintenance command; a run holding it stops the command."""
    try:
        with run_lock(settings.storage.root, f"{what.replace(' ', '-')}-{uuid4().hex[:6]}") as holder:
            yield holder
    except RunLockHeld as held:
        raise C2CError(
            f"{what} refused: a run holds the lake ({held.holder.describe()}, lock {held.path}); "
            "try again once it has ended"
        ) from None


def _lake(settings: Settings):
    from lakehouse.spark import build_spark
    from lakehouse.storage import open_storage

    spark = build_spark(settings)
    return spark, open_storage(spark, settings)


def ledger_name(file: str, settings: Settings, names: set[str]) -> str:
    """`file` as the ledger names it: as given, or its path relative to the raw root when given as a
    path under it."""
    if file in names or "://" in settings.storage.raw_root:
        return file
    raw = Path(settings.storage.raw_root).resolve()
    path = Path(file).resolve()
    return path.relative_to(raw).as_posix() if path.is_relative_to(raw) else file


# ---- c2c quarantine --------------------------------------------------------------------------------


def quarantine_list(settings: Settings) -> int:
    """Print the files with unparsed rows, those that block the raw->bronze gate, and those released
    or excluded, with their counts from the ledger (no row contents)."""
    from jobs.bronze_job import landed_since_promotion
    from lakehouse.sources.decisions import HELD, latest_by_version, read_decisions
    from lakehouse.sources.ledger import read_ledger
    from lakehouse.tables import BRONZE_FILES
    from quality.bronze_gate import blocking_files

    spark, storage = _lake(settings)
    ledger = read_ledger(storage, BRONZE_FILES.struct(spark).fieldNames())
    if not ledger:
        print("no files landed yet (bronze.files is empty)")
        return 0
    blocks = blocking_files(landed_since_promotion(storage), settings.quality)
    decided = latest_by_version(read_decisions(storage))
    shown = []
    for r in ledger:
        faulty = r["status"] == "landed" and (r["quarantined_rows"] or r["file"] in blocks)
        if not (faulty or r["status"] in ("released", "excluded")):
            continue
        if r["status"] == "landed":
            note = f"blocks the gate: {blocks[r['file']]}" if r["file"] in blocks else ""
        else:
            d = decided.get((r["file"], r["sha256"], r["load_id"]))
            note = f"by {d.decided_by} at {d.decided_at:%Y-%m-%d %H:%M}Z: {d.reason}" if d else ""
        shown.append((r["file"] not in blocks, r["file"], r["status"], r, note))
    if not shown:
        print(f"no file with unparsed rows among the {len(ledger)} in bronze.files")
        return 0
    width = max(len("file"), *(len(s[1]) for s in shown))
    print(f"{'file':<{width}}  {'status':<8} {'raw':>10} {'landed':>10} {'unparsed':>10}  gate or decision")
    for _, name, status, r, note in sorted(shown, key=lambda s: (s[0], s[1], s[3]["ingested_at"])):
        counts = f"{r['raw_rows']:>10,} {r['landed_rows']:>10,} {r['quarantined_rows']:>10,}"
        print(f"{name:<{width}}  {status:<8} {counts}  {note}".rstrip())
    quarantined = sum(r["quarantined_rows"] or 0 for r in ledger if r["status"] in HELD)
    statuses = [s[2] for s in shown]
    print(
        f"{len(blocks)} file(s) block the raw->bronze gate; {statuses.count('released')} released, "
        f"{statuses.count('excluded')} excluded; {quarantined:,} unparsed rows in bronze.quarantine"
    )
    if blocks:
        print("accept a file's parsed rows: c2c quarantine release FILE --reason TEXT")
        print("drop a file's rows from bronze: c2c quarantine exclude FILE --reason TEXT")
    return 0


def quarantine_decide(settings: Settings, decision: str, file: str, *, reason: str, by: str | None) -> int:
    """`c2c quarantine release|exclude FILE`: record the decision beside the ledger and put it in force,
    holding the lake's run lock; print what it did."""
    from lakehouse.sources.decisions import decide
    from lakehouse.sources.ledger import read_ledger
    from lakehouse.tables import BRONZE_FILES

    if not reason.strip():
        raise C2CError("--reason must say why (it is recorded with the decision)")
    by = (by or default_operator()).strip()
    with _holding_lake(settings, f"quarantine {decision}"):
        spark, storage = _lake(settings)
        columns = BRONZE_FILES.struct(spark).fieldNames()
        ledger = read_ledger(storage, columns)
        name = ledger_name(file, settings, {r["file"] for r in ledger})
        outcome = decide(spark, storage, ledger, columns, name, decision, reason=reason, by=by)
    d = outcome.decision
    version = f"{d.file} (sha256 {d.sha256[:12]}, load {d.load_id})"
    if not outcome.applied:
        print(
            f"{version}: {decision}d already, by {d.decided_by} at {d.decided_at:%Y-%m-%d %H:%M}Z; "
            "nothing recorded"
        )
        return 0
    if decision == "release":
        what = (
            f"its {d.landed_rows:,} parsed rows are accepted and the raw->bronze gate no longer judges it; "
            f"its {d.quarantined_rows:,} unparsed rows stay in bronze.quarantine as missing data"
        )
    else:
        dropped = ", ".join(f"{n:,} from {t}" for t, n in sorted(outcome.dropped.items())) or "none"
        what = f"its rows left bronze ({dropped}); the next c2c run rebuilds silver without them"
    print(f"{decision}d {version}: {what}")
    print(f"recorded in bronze.file_decisions by {d.decided_by} at {d.decided_at:%Y-%m-%d %H:%M:%S}Z")
    return 0


# ---- c2c vacuum --------------------------------------------------------------------------------------


def vacuum_main(settings: Settings, *, older_than: str, dry_run: bool) -> int:
    """`c2c vacuum`: remove the staging folders runs no longer alive left, the Spark scratch folders of
    killed processes, and the Delta data files no version younger than `older_than` (nor any layer
    manifest) reads; print each path and its bytes."""
    from lakehouse.vacuum import vacuum_tables

    hours = parse_age(older_than)
    with _holding_lake(settings, "vacuum") as holder:
        # Before Spark starts here: its own scratch folder is new, and age keeps it anyway.
        leftovers = remove_dead_staging(settings, holder, dry_run=dry_run)
        _, storage = _lake(settings)
        files = vacuum_tables(storage, hours, dry_run=dry_run)
    staging = [r for r in leftovers if r.kind == "staging"]
    scratch = [r for r in leftovers if r.kind == "spark-scratch"]
    verb = "would remove" if dry_run else "removed"
    for r in [*leftovers, *files]:
        print(f"{verb} {r.bytes:>14,} bytes  {r.path}")
    if holder is None:
        print("staging folders not checked: an object-store lake has no run lock to tell live runs apart")
    print(
        f"vacuum{' (dry run)' if dry_run else ''}: {verb} {len(staging)} staging folder(s) of runs no "
        f"longer alive ({_total(staging):,} bytes), {len(scratch)} Spark scratch folder(s) unchanged for "
        f"{stale_after_hours():g} h ({_total(scratch):,} bytes) and {len(files)} unreferenced data "
        f"file(s) older than {older_than} ({_total(files):,} bytes)"
    )
    return 0


def sweep_dead_staging(settings: Settings, holder: Holder | None, *, quiet: bool = False) -> list[Removed]:
    """A run's first step, once it holds the lake's run lock: remove the staging folders runs no longer
    alive left and the Spark scratch folders of killed processes (lakehouse/vacuum.py), and say so in a
    line for each unless `quiet`."""
    removed = remove_dead_staging(settings, holder)
    staging = [r for r in removed if r.kind == "staging"]
    scratch = [r for r in removed if r.kind == "spark-scratch"]
    if staging and not quiet:
        print(
            f"staging: removed {len(staging)} folder(s) left by runs no longer alive "
            f"({_total(staging):,} bytes)"
        )
    if scratch and not quiet:
        print(
            f"spark scratch: removed {len(scratch)} folder(s) unchanged for {stale_after_hours():g} h "
            f"({_total(scratch):,} bytes)"
        )
    return removed


def _total(removed: list[Removed]) -> int:
    return sum(r.bytes for r in removed)
