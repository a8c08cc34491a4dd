"""Landing raw agency files into bronze: each raw file's content lands exactly once.

1. List every file under the raw root and hash it in one Spark pass (`binaryFile`, SHA-256 in the
   JVM), noting whether its last byte is a line end (the ledger's `ends_with_newline`). Spark's file
   reader skips 0-byte files; the file system's listing finds them (`planning.discover`).
2. Decide per file against the ledger `bronze.files`, keyed by (file, sha256) (`planning.plan`): the
   landed version of that name is skipped; a 0-byte file is recorded as empty; content landed under another
   name is recorded as a duplicate; new content under a landed name is a new version of that file,
   which replaces the landed one (`on_resent="replace"`) or stops the run (`"refuse"`); a version an
   operator excluded is not landed again; the rest lands. Operators' decisions on landed files
   (release, exclude: lakehouse/sources/decisions.py) are put in force before this step.
3. Land the files in batches of about `batch_bytes` raw bytes (`batched`; one batch when unset),
   steps 4 to 6 per batch: split its files into lines in Spark tasks (`split_file`) and check dates
   and numbers in one Spark pass (`checks.py`): a row that cannot be cut or parsed is quarantined
   with the reason. A batch's lines are dropped from Spark's scratch before the next is read.
4. Write each family table and the quarantine in one commit each, an idempotent step of the load. A
   table holding no rows of the files being landed gets an append. A table holding some (an earlier
   version of a file, or what an interrupted landing committed) is rewritten without them plus the new
   rows, in one overwrite commit: a reader sees the old rows or the new ones, never both or neither.
   So a retried landing replaces what its earlier attempt committed instead of appending it again,
   whatever arrived under the raw root in between.
5. Count back (`checks.count_back`): every landed file of the batch has its raw rows in bronze
   exactly once (landed + quarantined = raw), or the run stops naming the file.
6. Write the ledger with the batch's files: a crash in a later batch keeps this one landed, and the
   next landing plans only what is not in the ledger. After the last batch, the count-back covers
   every file over all loads, and the ledger is written whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Literal

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.errors import C2CError
from lakehouse.sources.checks import LandedVersion, count_back, held_rows, with_reasons, write_ledger
from lakehouse.sources.decisions import apply_pending
from lakehouse.sources.layouts import LAYOUTS, family_of
from lakehouse.sources.ledger import landing_report, ledger_after, read_ledger
from lakehouse.sources.planning import batched, current_versions, discover, plan, refusal
from lakehouse.sources.split import SPLIT_DDL, TRUNCATED, splitter
from lakehouse.storage import Storage
from lakehouse.tables import BRONZE, BRONZE_FILES, BRONZE_QUARANTINE, Table

OnResent = Literal["replace", "refuse"]


class LandingError(C2CError):
    """Bronze does not hold a file's rows exactly once (never expected; the run stops)."""


class ResentFileError(C2CError):
    """A file came again under its name with new content, and landing was told to refuse that."""


def land(
    spark: SparkSession,
    storage: Storage,
    raw_root: str,
    *,
    on_resent: OnResent = "replace",
    reland: Collection[str] = (),
    after_landing: Callable[[list[str], str], dict] | None = None,
    batch_bytes: int | None = None,
    on_batch: Callable[[int, int, dict[str, dict]], None] | None = None,
) -> dict:
    """Land what is new under `raw_root`; return the per-file accounting for the run report.

    A file sent again under its name with new content replaces the rows of its landed version
    (`on_resent="replace"`), or stops the landing before anything is written (`"refuse"`,
    ResentFileError). `reland` lands the named files again from their copy under the raw root,
    replacing whatever bronze holds of them: the repair for a file the count-back names.

    `after_landing(files, load_id)`, when given, runs once the rows and the ledger are committed, with
    every file found under the raw root (all of them are in the ledger by then); what it returns is
    the report's `raw_after_landing`.

    `batch_bytes` lands the files in batches of about that many raw bytes (`batched`), each committed
    with its ledger rows before the next is read; None lands them in one. `on_batch(files_done,
    files_to_land, counts)` is called after each batch, for progress."""
    if on_resent not in ("replace", "refuse"):
        raise C2CError(f"on_resent must be 'replace' or 'refuse', not {on_resent!r}")
    columns = BRONZE_FILES.struct(spark).fieldNames()
    # Operators' decisions on landed files first: bronze and the ledger agree on them before anything
    # lands (one recorded by a command cut short is applied here).
    ledger, decided = apply_pending(spark, storage, read_ledger(storage, columns), columns)
    files = discover(spark, raw_root)
    missing = sorted(set(reland) - {f.file for f in files})
    if missing:
        raise C2CError(f"cannot land {missing} again: not under the raw root {raw_root}; put them back first")
    todo = plan(files, ledger, reland=reland)
    if todo.resent() and on_resent == "refuse":
        raise ResentFileError(refusal(todo))
    load_id = todo.load_id()
    now = datetime.now(UTC).replace(microsecond=0)
    counts: dict[str, dict] = {}
    batches = batched(todo.land, batch_bytes)
    for k, batch in enumerate(batches):
        # A batch's rows, then its ledger rows, are committed before the next batch is read: a crash
        # keeps every batch before it, and Spark's scratch holds one batch's lines at a time.
        rows = (
            spark.read.format("binaryFile")
            .load([f.path for f in batch])
            .mapInArrow(splitter(raw_root), SPLIT_DDL)
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        try:
            counts |= _write_rows(storage, rows, [f.file for f in batch], load_id, now, _suffix(k))
        finally:
            rows.unpersist()
        if k < len(batches) - 1:
            done = dataclasses.replace(
                todo, land=[f for b in batches[: k + 1] for f in b], duplicates=[], empty=[]
            )
            partial = ledger_after(ledger, done, counts, columns, load_id, now)
            _count_back(storage, partial, [f.file for f in batch])
            # A step of its own per batch: the whole ledger's step, "bronze/files", comes last.
            write_ledger(storage, partial, columns, run_id=load_id, step=f"bronze/files/batch-{k}")
        if on_batch is not None:
            on_batch(sum(map(len, batches[: k + 1])), len(todo.land), counts)
    after = ledger_after(ledger, todo, counts, columns, load_id, now)
    _count_back(storage, after)
    if todo.land or todo.duplicates or todo.empty:
        # Replacing a version changes an earlier row's status: the ledger is written whole.
        write_ledger(storage, after, columns, run_id=load_id, step="bronze/files")
    report = landing_report(todo, counts, load_id, len(files))
    if decided:
        report["decisions_applied"] = [
            {"file": o.decision.file, "decision": o.decision.decision, "rows_dropped": o.dropped}
            for o in decided
        ]
    if after_landing is not None:
        report["raw_after_landing"] = after_landing([f.file for f in files], load_id)
    return report


def _suffix(k: int) -> str:
    """A batch's commit steps: the first batch's are the single-batch names, later ones numbered."""
    return f"/{k}" if k else ""


def _count_back(storage: Storage, ledger: list[dict], files: Collection[str] | None = None) -> None:
    """Stop unless bronze holds the landed versions' raw rows exactly once: of `files` in their family
    tables and quarantine (a batch: it scans those tables only), or of every file in every table."""
    expected = {
        name: LandedVersion(r["family"], r["load_id"], r["raw_rows"], r["landed_rows"], r["quarantined_rows"])
        for name, r in current_versions(ledger).items()
        if files is None or name in files
    }
    tables = (
        [*BRONZE.values()]
        if files is None
        else [BRONZE[f] for f in sorted({family_of(name) for name in files} - {None})]
    )
    problems = count_back(expected, held_rows(storage, [*tables, BRONZE_QUARANTINE], files))
    if problems:
        raise LandingError(_count_back_message(problems))


def _write_rows(
    storage: Storage, rows: DataFrame, files: list[str], load_id: str, now: datetime, suffix: str = ""
) -> dict[str, dict]:
    """Write the good rows to their family tables and the rest to quarantine, one commit per table
    (module docstring, step 4). Returns per file its raw, landed and quarantined rows, whether its
    last line was cut, and the landed rows whose identity value did not parse (see checks.py)."""
    meta = [
        F.col("file").alias("_source_file"),
        F.col("row_number").alias("_row_number"),
        F.lit(load_id).alias("_load_id"),
        F.lit(now).alias("_ingested_at"),
        F.sha2(F.col("raw_text"), 256).alias("_record_hash"),
    ]
    checked = with_reasons(rows).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = _counts(checked)
        families = sorted({family for f in files if (family := family_of(f))})
        held = held_rows(storage, [*(BRONZE[f] for f in families), BRONZE_QUARANTINE], files)
        stale = {table for (table, _, load) in held if load != load_id}

        def write_family(family: str) -> None:
            table, own = BRONZE[family], [f for f in files if family_of(f) == family]
            if table.fqn not in stale and not any(counts[f]["raw"] for f in own if f in counts):
                return  # no row of the family in these files, and none of theirs to replace
            names = [n for n, _ in LAYOUTS[family].columns]
            good = checked.where((F.col("family") == family) & F.col("reason").isNull()).select(
                *[F.col("fields")[i].alias(n) for i, n in enumerate(names)], *meta
            )
            replace = table.fqn in stale
            _append_or_replace(
                storage, table, good, "_source_file", own, replace, f"bronze/{family}{suffix}", load_id
            )

        # Tables are independent: overlap one table's commit with the next one's Spark job.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(write_family, families))
        source = F.coalesce(F.split("file", "/")[0], F.lit("unknown"))
        bad = checked.where(F.col("reason").isNotNull()).select(
            source.alias("source"),
            "family",
            "file",
            "row_number",
            "raw_text",
            "reason",
            F.lit(load_id).alias("load_id"),
            F.lit(now).alias("ingested_at"),
        )
        replace = BRONZE_QUARANTINE.fqn in stale
        _append_or_replace(
            storage, BRONZE_QUARANTINE, bad, "file", files, replace, f"bronze/quarantine{suffix}", load_id
        )
    finally:
        checked.unpersist()
    return counts


def _append_or_replace(
    storage: Storage,
    table: Table,
    new: DataFrame,
    column: str,
    files: list[str],
    replace: bool,
    step: str,
    load_id: str,
) -> None:
    """Append `new` to `table`; or, when the table holds rows of `files` from another load, rewrite it
    without any rows of `files` plus `new`, in one overwrite commit. Either is a step of the load."""
    if not replace:
        storage.write(new, table, "append", run_id=load_id, step=step)
        return
    kept = storage.read(table).where(F.coalesce(~F.col(column).isin(*files), F.lit(True)))
    storage.write(kept.unionByName(new), table, "overwrite", run_id=load_id, step=step)


def _counts(checked: DataFrame) -> dict[str, dict]:
    """Per file: raw, landed and quarantined rows, a cut last line, unparseable identity values."""
    per_file = (
        checked.groupBy("file")
        .agg(
            F.count(F.lit(1)).alias("raw"),
            F.count_if(F.col("reason").isNull()).alias("landed"),
            F.coalesce(F.max(F.col("reason") == TRUNCATED), F.lit(False)).alias("truncated"),
        )
        .collect()
    )
    counts = {
        r["file"]: {"raw": r["raw"], "landed": r["landed"], "quarantined": r["raw"] - r["landed"]}
        | ({"truncated": True} if r["truncated"] else {})
        for r in per_file
    }
    unparseable = (
        checked.where(F.col("reason").isNull() & (F.size("unparseable") > 0))
        .select("file", F.explode("unparseable").alias("column"))
        .groupBy("file", "column")
        .count()
        .collect()
    )
    for r in unparseable:
        counts[r["file"]].setdefault("unparseable", {})[r["column"]] = r["count"]
    return counts


def _count_back_message(problems: list[str]) -> str:
    shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
    return (
        "bronze does not hold these files' raw rows exactly once (landed + quarantined = raw, over all "
        "loads); the landing stopped before its ledger rows:\n  "
        + "\n  ".join(shown)
        + "\nThe rows are found by `_source_file` and `_load_id` (`file` and `load_id` in "
        "bronze.quarantine). To land a file again from its copy under the raw root, replacing whatever "
        "bronze holds of it, call land(..., reland=[file])."
    )
