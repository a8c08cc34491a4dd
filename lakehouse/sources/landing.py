"""Landing raw agency files into bronze: every raw row ends up in its family's table or in quarantine.

1. Hash every file under the raw root in one Spark pass (`binaryFile`, SHA-256 in the JVM) and compare
   with the ledger `bronze.files`: a file already landed (same path and hash) is skipped; a file whose
   content was landed under another name is recorded as a duplicate and not landed again.
2. Split the new files into lines in Spark tasks (`split_files`): decode, check the header, cut the
   fields by the file's layout. A line that cannot be cut (wrong column count, bad encoding, broken
   JSON) gets a reason.
3. Check dates of events and numbers in one Spark pass (`checks.py`): a row where one does not parse
   is quarantined; a birth date that does not parse is missing data, landed and counted per file.
4. Append rows to `bronze.<source>_<family>`, the rest to `bronze.quarantine`, then the ledger. The
   load id is a hash of the new files' contents and each write is an idempotent step of it, so a run
   that died half way lands the same files again without duplicating what it had committed.
5. Count back, per file: raw rows = landed + quarantined, or the run stops with the file named.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.errors import C2CError
from lakehouse.sources.checks import with_reasons
from lakehouse.sources.layouts import LAYOUTS, family_of
from lakehouse.sources.split import SPLIT_DDL, SPLIT_SCHEMA, split_file
from lakehouse.storage import Storage
from lakehouse.tables import BRONZE, BRONZE_FILES, BRONZE_QUARANTINE


class LandingError(C2CError):
    """Rows went missing between a raw file and bronze (never expected; the run stops)."""


@dataclass(frozen=True)
class RawFile:
    file: str  # path relative to the raw root
    path: str  # as Spark names it
    sha256: str
    size: int


def _relative(path: str, root: str) -> str:
    return path.split(root.rstrip("/") + "/", 1)[-1]


def discover(spark: SparkSession, raw_root: str) -> list[RawFile]:
    """Every file under the raw root except `_`-prefixed folders (the generator's truth, scratch)."""
    root_uri = raw_root if "://" in raw_root else f"file:{raw_root}"
    df = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(root_uri)
        .select("path", "length", F.sha2("content", 256).alias("sha256"))
    )
    files = [
        RawFile(_relative(r["path"], raw_root), r["path"], r["sha256"], r["length"]) for r in df.collect()
    ]
    return sorted(
        (f for f in files if not any(p.startswith("_") for p in f.file.split("/"))), key=lambda f: f.file
    )


def plan(files: list[RawFile], ledger: list[dict]) -> tuple[list[RawFile], list[tuple[RawFile, str]]]:
    """Files to land, and files whose content already landed elsewhere (with the original's name)."""
    seen_pairs = {(r["file"], r["sha256"]) for r in ledger}
    landed_by_hash = {r["sha256"]: r["file"] for r in ledger if r["status"] == "landed"}
    new, duplicates = [], []
    for f in files:
        if (f.file, f.sha256) in seen_pairs:
            continue
        if f.sha256 in landed_by_hash:
            duplicates.append((f, landed_by_hash[f.sha256]))
            continue
        landed_by_hash[f.sha256] = f.file
        new.append(f)
    return new, duplicates


def _splitter(root: str):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            columns: dict[str, list] = {name: [] for name in SPLIT_SCHEMA.names}
            for path, content in zip(
                batch.column("path").to_pylist(), batch.column("content").to_pylist(), strict=True
            ):
                for row in split_file(_relative(path, root), content):
                    for name, value in zip(SPLIT_SCHEMA.names, row, strict=True):
                        columns[name].append(value)
            yield pa.RecordBatch.from_pydict(columns, schema=SPLIT_SCHEMA)

    return run


def land(
    spark: SparkSession,
    storage: Storage,
    raw_root: str,
    *,
    after_landing: Callable[[list[str], str], dict] | None = None,
) -> dict:
    """Land what is new under `raw_root`; return the per-file accounting for the run report.

    `after_landing(files, load_id)`, when given, runs once the rows and the ledger are committed, with
    every file found under the raw root (all of them are in the ledger by then, landed now or before,
    or recorded as duplicates); what it returns is the report's `raw_after_landing`."""
    ledger = (
        [r.asDict() for r in storage.read(BRONZE_FILES).collect()]
        if storage.info(BRONZE_FILES).exists
        else []
    )
    files = discover(spark, raw_root)
    new, duplicates = plan(files, ledger)
    load_id = hashlib.sha256(
        "".join(f.sha256 for f in new + [d for d, _ in duplicates]).encode()
    ).hexdigest()[:16]
    now = datetime.now(UTC).replace(microsecond=0)
    report: dict = {"load_id": load_id, "files_seen": len(files), "files": {}}
    if new:
        rows = (
            spark.read.format("binaryFile")
            .load([f.path for f in new])
            .mapInArrow(_splitter(raw_root), SPLIT_DDL)
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        try:
            unparseable = _write_rows(spark, storage, rows, load_id, now)
            report["files"] = _account(spark, storage, rows, load_id)
            for file, columns in unparseable.items():
                report["files"][file]["unparseable"] = columns
        finally:
            rows.unpersist()
    ledger_rows = []
    for f in new:
        empty = {"status": "landed", "raw": 0, "landed": 0, "quarantined": 0}
        counts = report["files"].setdefault(f.file, empty)
        ledger_rows.append(
            (
                LAYOUTS[fam].source if (fam := family_of(f.file)) else "unknown",
                fam,
                f.file,
                f.sha256,
                f.size,
                "landed",
                None,
                counts["raw"],
                counts["landed"],
                counts["quarantined"],
                load_id,
                now,
            )
        )
    for f, original in duplicates:
        fam = family_of(f.file)
        report["files"][f.file] = {"status": "duplicate", "duplicate_of": original}
        ledger_rows.append(
            (
                LAYOUTS[fam].source if fam else "unknown",
                fam,
                f.file,
                f.sha256,
                f.size,
                "duplicate",
                original,
                0,
                0,
                0,
                load_id,
                now,
            )
        )
    if ledger_rows:
        storage.write(
            spark.createDataFrame(ledger_rows, BRONZE_FILES.schema),
            BRONZE_FILES,
            "append",
            run_id=load_id,
            step="bronze/files",
        )
    report["files_new"], report["files_duplicate"] = len(new), len(duplicates)
    if after_landing is not None:
        report["raw_after_landing"] = after_landing([f.file for f in files], load_id)
    return report


def _write_rows(
    spark: SparkSession, storage: Storage, rows: DataFrame, load_id: str, now: datetime
) -> dict[str, dict[str, int]]:
    """Write the good rows to their family tables and the rest to quarantine; return, per file and
    column, the landed rows whose identity value did not parse (missing data, see checks.py)."""
    meta = [
        F.col("file").alias("_source_file"),
        F.col("row_number").alias("_row_number"),
        F.lit(load_id).alias("_load_id"),
        F.lit(now).alias("_ingested_at"),
        F.sha2(F.col("raw_text"), 256).alias("_record_hash"),
    ]
    checked = with_reasons(rows).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        present = sorted(r["family"] for r in checked.select("family").distinct().collect() if r["family"])

        def write_family(family: str) -> None:
            names = [n for n, _ in LAYOUTS[family].columns]
            good = checked.where((F.col("family") == family) & F.col("reason").isNull()).select(
                *[F.col("fields")[i].alias(n) for i, n in enumerate(names)], *meta
            )
            storage.write(good, BRONZE[family], "append", run_id=load_id, step=f"bronze/{family}")

        # Tables are independent: overlap one table's commit with the next one's Spark job.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(write_family, present))
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
        storage.write(bad, BRONZE_QUARANTINE, "append", run_id=load_id, step="bronze/quarantine")
        counts = (
            checked.where(F.col("reason").isNull() & (F.size("unparseable") > 0))
            .select("file", F.explode("unparseable").alias("column"))
            .groupBy("file", "column")
            .count()
            .collect()
        )
    finally:
        checked.unpersist()
    unparseable: dict[str, dict[str, int]] = {}
    for r in counts:
        unparseable.setdefault(r["file"], {})[r["column"]] = r["count"]
    return unparseable


def _account(spark: SparkSession, storage: Storage, rows: DataFrame, load_id: str) -> dict:
    """Per file: raw rows, and the rows that reached a bronze table or quarantine, counted back."""
    raw = {r["file"]: r["n"] for r in rows.groupBy("file").agg(F.count("*").alias("n")).collect()}
    families = sorted({family_of(f) for f in raw} - {None})
    landed: dict[str, int] = {}
    if families:  # one job over every family table this load wrote to
        counted = None
        for family in families:
            part = storage.read(BRONZE[family]).where(F.col("_load_id") == load_id).select("_source_file")
            counted = part if counted is None else counted.unionByName(part)
        landed = {r["_source_file"]: r["count"] for r in counted.groupBy("_source_file").count().collect()}
    quarantined = {
        r["file"]: r["count"]
        for r in storage.read(BRONZE_QUARANTINE)
        .where(F.col("load_id") == load_id)
        .groupBy("file")
        .count()
        .collect()
    }
    out = {}
    for file, n in sorted(raw.items()):
        got, bad = landed.get(file, 0), quarantined.get(file, 0)
        if n != got + bad:
            raise LandingError(
                f"{file}: {n} raw rows but {got} landed + {bad} quarantined; nothing may be lost"
            )
        out[file] = {"status": "landed", "raw": n, "landed": got, "quarantined": bad}
    return out
