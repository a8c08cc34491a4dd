"""The restricted zone and the raw root on disk: private folders, and raw extracts retired once landed.

Both hold names, birth dates and SSNs. Their files are created 0600 in folders 0700 (the process umask
and Hadoop's, set where the Spark session is built); this module makes the restricted root itself
private (the raw root is the agencies' drop folder, whose owner sets its mode) and applies
`raw.after_landing` to the extracts a run has landed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pyspark.sql import SparkSession

from lakehouse.errors import C2CError
from lakehouse.settings import Settings

LANDED_DIR = "raw_landed"


def private_dir(path: str | Path) -> Path:
    """Create `path` (and its missing parents) as 0700; tighten it to 0700 when it exists and is ours."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if folder.stat().st_uid == os.getuid():
        folder.chmod(0o700)
    return folder


def prepare_restricted_zone(settings: Settings) -> None:
    """Make the local restricted root a private folder (object stores have their own access control)."""
    if "://" not in settings.storage.restricted_root:
        private_dir(settings.storage.restricted_root)


def retire_landed(spark: SparkSession, settings: Settings, files: list[str], *, load_id: str) -> dict:
    """Apply `raw.after_landing` to `files` (paths relative to the raw root) whose rows and ledger rows
    are committed: keep them, move them to `<restricted_root>/raw_landed/<load_id>/`, or delete them.
    Returns the report's entry: the policy, the files acted on and where they went."""
    policy = settings.raw.after_landing
    if policy == "keep" or not files:
        return {"policy": policy, "files": 0}
    raw_root = settings.storage.raw_root.rstrip("/")
    target = f"{settings.storage.restricted_root.rstrip('/')}/{LANDED_DIR}/{load_id}"
    if "://" in raw_root or "://" in target:
        done = _retire_hadoop(spark, raw_root, target, files, move=policy == "move")
    else:
        done = 0
        for name in files:
            source = Path(raw_root) / name
            if not source.is_file():
                continue  # gone since the run listed it
            if policy == "delete":
                source.unlink()
            else:
                destination = Path(target) / name
                private_dir(destination.parent)
                shutil.move(source, destination)
                destination.chmod(0o600)
            done += 1
    return {"policy": policy, "files": done, **({"to": target} if policy == "move" else {})}


def _retire_hadoop(spark: SparkSession, raw_root: str, target: str, files: list[str], *, move: bool) -> int:
    """Move or delete through Hadoop's filesystems (S3, ABFS, HDFS): a copy then a delete when the two
    roots are different filesystems, as object stores are. Returns the files retired; a move or
    delete the filesystem refuses stops the run, naming the file."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    hadoop = jvm.org.apache.hadoop.fs
    done = 0
    for name in files:
        source = hadoop.Path(_uri(f"{raw_root}/{name}"))
        source_fs = source.getFileSystem(conf)
        if not source_fs.exists(source):
            continue
        if move:
            destination = hadoop.Path(_uri(f"{target}/{name}"))
            ok = hadoop.FileUtil.copy(
                source_fs, source, destination.getFileSystem(conf), destination, True, conf
            )
        else:
            ok = source_fs.delete(source, False)
        if not ok:
            raise C2CError(f"raw.after_landing: could not {'move' if move else 'delete'} {raw_root}/{name}")
        done += 1
    return done


def _uri(path: str) -> str:
    return path if "://" in path else f"file://{path}"
