"""What one landing does with the files under the raw root (lakehouse/sources/landing.py, steps 1-3).

`discover` lists every file under the raw root and hashes it in one Spark pass (`binaryFile`,
SHA-256 in the JVM), noting whether its last byte is a line end; Spark's file reader skips 0-byte
files, so the file system's listing finds those. `plan` decides per file against the ledger
`bronze.files`, keyed by (file, sha256): skip the landed version, record an empty file or a
duplicate, land a new file or a new version of a landed one (which replaces it), and never land
again a version an operator excluded. `batched` splits the files to land into batches of about a
given number of raw bytes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection
from dataclasses import dataclass, field

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehouse.sources.decisions import HELD
from lakehouse.sources.split import relative_path

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# A file's last byte that ends its last line: LF, or the CR of a CRLF file cut between CR and LF, whose
# last line split.py keeps whole.
LINE_ENDS = (bytearray(b"\n"), bytearray(b"\r"))


@dataclass(frozen=True)
class RawFile:
    file: str  # path relative to the raw root
    path: str  # as Spark names it
    sha256: str
    size: int
    # Whether its last byte is a line end (LF, or the CR of a CRLF cut before its LF); None for 0 bytes.
    ends_with_newline: bool | None = None


@dataclass
class Plan:
    """What one landing does with the files under the raw root."""

    land: list[RawFile] = field(default_factory=list)
    replaces: dict[str, dict] = field(default_factory=dict)  # file -> ledger row of the version it replaces
    duplicates: list[tuple[RawFile, str]] = field(default_factory=list)  # with the name it landed under
    empty: list[RawFile] = field(default_factory=list)
    relanded: set[str] = field(default_factory=set)  # files landed again on request

    def resent(self) -> list[RawFile]:
        """Files landing as a new version of a landed file (not on request)."""
        return [f for f in self.land if f.file in self.replaces and f.file not in self.relanded]

    def load_id(self) -> str:
        """The same files, contents and decisions give the same id: a retry of the same landing."""
        lines = [
            f"land:{f.file}:{f.sha256}:{self.replaces.get(f.file, {}).get('load_id')}" for f in self.land
        ]
        lines += [f"duplicate:{f.file}:{f.sha256}" for f, _ in self.duplicates]
        lines += [f"empty:{f.file}:{f.sha256}" for f in self.empty]
        return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16]


def discover(spark: SparkSession, raw_root: str) -> list[RawFile]:
    """Every file under the raw root, 0-byte files included, except what Spark's file listing hides
    (names starting with `_` or `.`) and `_`-prefixed folders (the generator's truth, scratch)."""
    root_uri = raw_root if "://" in raw_root else f"file:{raw_root}"
    df = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(root_uri)
        .select(
            "path",
            "length",
            F.sha2("content", 256).alias("sha256"),
            F.when(F.col("length") > 0, F.substring("content", -1, 1).isin(*LINE_ENDS)).alias("ends"),
        )
    )
    files = [
        RawFile(relative_path(r["path"], raw_root), r["path"], r["sha256"], r["length"], r["ends"])
        for r in df.collect()
    ]
    files += [RawFile(relative_path(p, raw_root), p, EMPTY_SHA256, 0) for p in _empty_files(spark, raw_root)]
    return sorted(
        (f for f in files if not any(p.startswith(("_", ".")) for p in f.file.split("/"))),
        key=lambda f: f.file,
    )


def _empty_files(spark: SparkSession, raw_root: str) -> list[str]:
    """The 0-byte files under the root, which Spark's file reader skips: listed by the operating
    system for a local root, by Hadoop's filesystem (S3, ABFS, HDFS) for a URI."""
    empty = []
    if "://" not in raw_root:  # no JVM round trip per file
        for folder, dirs, names in os.walk(raw_root):
            dirs[:] = [d for d in dirs if not d.startswith(("_", "."))]
            paths = (os.path.join(folder, name) for name in names)
            empty += [f"file:{path}" for path in paths if os.path.getsize(path) == 0]
        return empty
    jvm = spark.sparkContext._jvm
    root = jvm.org.apache.hadoop.fs.Path(raw_root)
    listing = root.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).listFiles(root, True)
    while listing.hasNext():
        status = listing.next()
        if status.getLen() == 0:
            empty.append(status.getPath().toString())
    return empty


def current_versions(ledger: list[dict]) -> dict[str, dict]:
    """Per file name, the ledger row of the version bronze holds: status "landed" or "released" (the
    latest, should a ledger written before versions were replaced hold two). An excluded version's rows
    left bronze on an operator's decision (lakehouse/sources/decisions.py): no file holds them."""
    landed = sorted((r for r in ledger if r["status"] in HELD), key=lambda r: r["ingested_at"])
    return {r["file"]: r for r in landed}


def plan(files: list[RawFile], ledger: list[dict], *, reland: Collection[str] = ()) -> Plan:
    """Decide, by the ledger's key (file, sha256), what to do with each file found (module docstring,
    step 2). `reland` names files to land again even though their content is the landed version."""
    current = current_versions(ledger)
    known = {(r["file"], r["sha256"]) for r in ledger}
    landed_as = {r["sha256"]: name for name, r in current.items()}
    out = Plan()
    for f in files:
        now = current.get(f.file)
        if f.size == 0:  # a transfer that failed more likely than a file retracted: nothing replaced
            if (f.file, f.sha256) not in known:
                out.empty.append(f)
        elif f.file in reland or (now is not None and now["sha256"] != f.sha256):
            out.land.append(f)
            if f.file in reland:
                out.relanded.add(f.file)
            if now is not None:
                out.replaces[f.file] = now
        elif now is not None or (f.file, f.sha256) in known:
            continue  # the landed version, a duplicate recorded before, or a version excluded
        elif f.sha256 in landed_as:
            out.duplicates.append((f, landed_as[f.sha256]))
        else:
            landed_as[f.sha256] = f.file
            out.land.append(f)
    return out


def refusal(todo: Plan) -> str:
    resent = todo.resent()
    lines = [
        f"{f.file}: landed as sha256 {todo.replaces[f.file]['sha256'][:12]} "
        f"(load {todo.replaces[f.file]['load_id']}), now sha256 {f.sha256[:12]}"
        for f in resent
    ]
    return (
        f"{len(resent)} file(s) came again under a landed name with new content, and landing refuses "
        "re-sent files (on_resent='refuse'); nothing was written:\n  "
        + "\n  ".join(lines)
        + "\nLand with on_resent='replace' to replace each landed version's rows with the new file's, "
        "or give a file a name of its own if it adds rows rather than correcting them."
    )


def batched(files: list[RawFile], batch_bytes: int | None) -> list[list[RawFile]]:
    """The files to land in batches of at most `batch_bytes` raw bytes (a larger file is a batch of its
    own), in file order, so that a family's files sit together and a batch writes to few tables. The
    same files give the same batches: a retry of the same landing commits the same steps."""
    ordered = sorted(files, key=lambda f: f.file)
    if not batch_bytes:
        return [ordered] if ordered else []
    batches: list[list[RawFile]] = []
    size = 0
    for f in ordered:
        if not batches or (size + f.size > batch_bytes and batches[-1]):
            batches.append([])
            size = 0
        batches[-1].append(f)
        size += f.size
    return batches
