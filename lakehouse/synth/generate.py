"""`c2c generate`: a synthetic state's 15 agency extracts and its ground truth, written by Spark.

Spark tasks simulate people in parallel (one deterministic generator per person, so the output does
not depend on partitioning), format their extract lines, and write every extract file in one pass:
lines are shuffled by file name, sorted by a record key inside each file (byte-identical output for
a seed), and written with the file name as the partition column. The driver then moves each part
file to its agency file name; it never holds the data.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.errors import C2CError
from lakehouse.settings import SOURCES, SynthSettings
from lakehouse.sources.layouts import LAYOUTS, header_for
from lakehouse.synth.extracts import all_extracts
from lakehouse.synth.life import simulate
from lakehouse.synth.records import Recorder, csv_line
from lakehouse.synth.truth import (
    PATHWAYS_COLUMNS,
    PATHWAYS_FILE,
    PERSONS_COLUMNS,
    PERSONS_FILE,
    TEACHER_COLUMNS,
    TEACHER_FILE,
    WORKFORCE_COLUMNS,
    WORKFORCE_FILE,
    pathways_fact,
    person_row,
    teacher_fact,
    workforce_fact,
)
from lakehouse.synth.truth_metrics import write_true_metrics
from lakehouse.synth.world import World, build_world

MARKER = "_truth/generation.json"
TRUTH_HEADERS = {
    "_truth/person_truth.csv": "source,source_record_key,true_person_id",
    TEACHER_FILE: ",".join(TEACHER_COLUMNS),
    PATHWAYS_FILE: ",".join(PATHWAYS_COLUMNS),
    WORKFORCE_FILE: ",".join(WORKFORCE_COLUMNS),
    PERSONS_FILE: ",".join(PERSONS_COLUMNS),
}
LINE_SCHEMA = "file STRING, sort_key STRING, line STRING"


class GenerateError(C2CError):
    """Bad generator arguments, or an output folder that holds something else."""


@dataclass(frozen=True)
class GenerateResult:
    out: Path
    persons: int
    files: int
    lines: int
    truth_records: int


def simulate_lines(world: World, cfg: SynthSettings):
    """The mapInArrow function: person ids in, (file, sort key, line) rows out."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            files, keys, lines = [], [], []
            for pid in batch.column(0).to_pylist():
                life = simulate(pid, world, cfg)
                rec = Recorder(life, world, cfg)
                all_extracts(rec)
                teacher = teacher_fact(life, world, cfg.first_year, cfg.last_year)
                if teacher:
                    rec.lines.append((TEACHER_FILE, f"{pid:012d}", csv_line(teacher)))
                if rec.identities:  # people no agency ever saw in the window are not in the truth
                    rec.lines.append((PERSONS_FILE, f"{pid:012d}", csv_line(person_row(life))))
                pathway = pathways_fact(life, cfg.last_year, cfg.first_year)
                if pathway:
                    rec.lines.append((PATHWAYS_FILE, f"{pid:012d}", csv_line(pathway)))
                workforce = workforce_fact(life, cfg.first_year, cfg.last_year)
                if workforce:
                    rec.lines.append((WORKFORCE_FILE, f"{pid:012d}", csv_line(workforce)))
                for f, k, line in rec.lines:
                    files.append(f)
                    keys.append(k)
                    lines.append(line)
            yield pa.RecordBatch.from_arrays(
                [pa.array(files, pa.string()), pa.array(keys, pa.string()), pa.array(lines, pa.string())],
                names=["file", "sort_key", "line"],
            )

    return run


def generate(spark: SparkSession, cfg: SynthSettings, out: Path) -> GenerateResult:
    """Simulate `cfg.persons` people and write their extracts and truth under `out`."""
    if cfg.first_year > cfg.last_year:
        raise GenerateError(f"--first-year {cfg.first_year} is after --last-year {cfg.last_year}")
    if cfg.last_year - cfg.first_year < 8:
        raise GenerateError("the data window must span at least 9 years (outcomes look up to 8 years ahead)")
    _prepare(out)
    world = build_world(cfg.seed, cfg.persons)
    partitions = max(4, min(2000, cfg.persons // 2500))
    ids = spark.range(0, cfg.persons, numPartitions=partitions)
    lines = ids.mapInArrow(simulate_lines(world, cfg), LINE_SCHEMA).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = {r["file"]: r["n"] for r in lines.groupBy("file").agg(F.count("*").alias("n")).collect()}
        extra = [(f, "", header) for f in counts if (header := TRUTH_HEADERS.get(f) or header_for(f))]
        extra += [("edd/EMPLOYERS_all.csv", "", LAYOUTS["EMPLOYERS"].header)]
        extra += [
            ("edd/EMPLOYERS_all.csv", e.account, csv_line([e.account, e.naics2, e.county]))
            for county in world.employers.values()
            for e in county.items
        ]
        extra += [
            ("edd/EMPLOYERS_all.csv", e.account, csv_line([e.account, e.naics2, e.county]))
            for e in world.district_employer.values()
        ]
        everything = lines.unionByName(spark.createDataFrame(extra, LINE_SCHEMA))
        _write_files(everything, out)
        write_true_metrics(spark, lines, out / "_truth")
    finally:
        lines.unpersist()
    truth_records = counts.get("_truth/person_truth.csv", 0)
    marker = {
        "persons": cfg.persons,
        "seed": cfg.seed,
        "first_year": cfg.first_year,
        "last_year": cfg.last_year,
        "sources": list(SOURCES),
        "noise": cfg.noise.model_dump(),
        "rates": cfg.rates.model_dump(),
        "files": {f: n for f, n in sorted(counts.items()) if not f.startswith("_truth/")},
    }
    (out / MARKER).write_text(json.dumps(marker, indent=2))
    data_files = [f for f in counts if not f.startswith("_truth/")]
    return GenerateResult(out, cfg.persons, len(data_files) + 1, sum(counts.values()), truth_records)


def _prepare(out: Path) -> None:
    """Refuse to write into a folder that holds anything but an earlier generated state."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise GenerateError(
                f"{out} is not empty and was not written by `c2c generate` (no {MARKER}); "
                "choose another --out or empty it"
            )
        for child in out.iterdir():
            if child.name in SOURCES or child.name in ("_truth", "_tmp"):
                shutil.rmtree(child)
    out.mkdir(parents=True, exist_ok=True)


def _write_files(lines: DataFrame, out: Path) -> None:
    tmp = out / "_tmp"
    (
        lines.repartition("file")
        .sortWithinPartitions("file", "sort_key", "line")
        .select("file", "line")
        .write.partitionBy("file")
        .option("compression", "none")
        .text(str(tmp))
    )
    for folder in sorted(tmp.glob("file=*")):
        name = urllib.parse.unquote(folder.name[len("file=") :])
        parts = sorted(
            p for p in folder.iterdir() if p.name.startswith("part-") and not p.name.endswith(".crc")
        )
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        # repartition("file") sends all of a file's lines to one task, so each file is one part.
        if len(parts) != 1:
            raise GenerateError(f"expected one part file for {name}, found {len(parts)}")
        os.replace(parts[0], target)
    shutil.rmtree(tmp)
