"""Gold: the person timeline, every mart of the metric catalog, disclosure control, the gold gate, and
the published tables under `<var>/site/data/`.

Reads the identity crosswalk and the silver event tables; writes gold.person_timeline,
gold.cohort_members, gold.cohort_outcomes, gold.metric_cells and gold.published_cells (overwrite:
gold is recomputed whole from silver and identity, so a re-run changes nothing), then, last, the
layer's manifest (lakehouse/tables/manifest.py). Nothing is published unless the gold gate passes; a
failure raises QualityGateFailed after the results are returned to the pipeline, and leaves gold
without a manifest for its new tables, so the next run builds it again.
"""

from __future__ import annotations

import shutil
import time
from functools import reduce
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.identity_job import IDENTITY_TABLES
from jobs.silver_job import SILVER_TABLES
from lakehouse.gold.catalog import Catalog, load_catalog
from lakehouse.gold.cohorts import COHORT_SOURCES, COHORTS, GoldInputs, person_attributes
from lakehouse.gold.marts import (
    cohort_outcomes,
    mart_relations,
    match_rate,
    members_and_outcomes,
    metric_cells,
)
from lakehouse.gold.outcomes import OUTCOMES
from lakehouse.gold.timeline import build_person_timeline
from lakehouse.gold.wages import load_cpi
from lakehouse.privacy import suppress
from lakehouse.publish.tables import write_mart
from lakehouse.settings import Settings
from lakehouse.silver.codes import load_code_maps
from lakehouse.storage import Storage
from lakehouse.tables import (
    GOLD_COHORT_MEMBERS,
    GOLD_COHORT_OUTCOMES,
    GOLD_METRIC_CELLS,
    GOLD_PERSON_TIMELINE,
    GOLD_PUBLISHED_CELLS,
    IDENTITY_CROSSWALK,
    SILVER_PERSON_RECORDS,
    Table,
    all_tables,
    get,
)
from lakehouse.tables.manifest import latest_manifest, refuse_stale_rerun, upstream_versions, write_manifest
from quality.gold_gate import GOLD_GATE, check_disclosure, check_identifiers, check_totals, check_values
from quality.results import CheckResult

TIMELINE_SOURCES = (
    "k12_enrollments",
    "completions",
    "college_enrollments",
    "credentials",
    "staff_assignments",
    "wages",
    "benefits",
    "services",
    "aid",
)
DETAIL_SOURCES = ("credentials", "demographics", "k12_enrollments")
# Every table the gold step writes: the layer its manifest covers.
GOLD_TABLES: tuple[Table, ...] = (
    GOLD_PERSON_TIMELINE,
    GOLD_COHORT_MEMBERS,
    GOLD_COHORT_OUTCOMES,
    GOLD_METRIC_CELLS,
    GOLD_PUBLISHED_CELLS,
)


def input_versions(storage: Storage) -> dict[str, int]:
    """What gold is built from: the silver and identity versions their last manifests name."""
    return upstream_versions(storage, {"silver": SILVER_TABLES, "identity": IDENTITY_TABLES})


def _silver(storage: Storage, names: tuple[str, ...]) -> dict[str, DataFrame]:
    tables = {name: get(f"silver.{name}") for name in names}
    return {name: storage.read(t) for name, t in tables.items() if storage.info(t).exists}


def _vintage(catalog: Catalog, silver: dict[str, DataFrame]) -> int:
    if catalog.vintage is not None:
        return catalog.vintage
    if "k12_enrollments" not in silver:
        raise ValueError(
            "gold: vintage is 'auto' but silver.k12_enrollments is empty; set it in conf/metrics.yml"
        )
    return int(silver["k12_enrollments"].agg(F.max("academic_year")).first()[0])


def build(spark: SparkSession, settings: Settings, storage: Storage, *, run_id: str) -> dict:
    """Compute and write the gold tables; return the cells per mart (pandas) and what the gate needs
    (and `publish`, which writes the manifest: the input versions read here)."""
    built_from = input_versions(storage)
    refuse_stale_rerun(latest_manifest(storage, "gold"), run_id, built_from)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    catalog = load_catalog(settings.conf_dir, cohorts=COHORTS, outcomes=OUTCOMES)
    codes = load_code_maps(settings.conf_dir)
    cpi = load_cpi(settings.conf_dir)
    crosswalk = storage.read(IDENTITY_CROSSWALK).select("record_token", "person_id")
    silver = _silver(storage, tuple(dict.fromkeys(TIMELINE_SOURCES + DETAIL_SOURCES)))
    timeline = build_person_timeline(
        crosswalk=crosswalk, **{n: silver[n] for n in TIMELINE_SOURCES if n in silver}
    )
    storage.write(timeline, GOLD_PERSON_TIMELINE, "overwrite", run_id=run_id, step="gold/timeline")
    timeline = storage.read(GOLD_PERSON_TIMELINE)
    seconds["timeline"] = round(time.perf_counter() - t0, 3)
    people = person_attributes(crosswalk, storage.read(SILVER_PERSON_RECORDS), silver.get("demographics"))
    inputs = GoldInputs(
        timeline=timeline,
        crosswalk=crosswalk,
        silver=silver,
        people=people.localCheckpoint(),
        geography={k: codes[k] for k in ("institution_county", "county_region")},
        vintage=_vintage(catalog, silver),
        employment_threshold=catalog.employment_threshold,
    )
    marts, members, outcomes, skipped = {}, [], [], {}
    for mart in catalog.marts:
        t0 = time.perf_counter()
        missing = [f"silver.{s}" for s in COHORT_SOURCES[mart.cohort] if s not in silver]
        if missing:
            skipped[mart.name] = f"no {', '.join(missing)}"
            continue
        wide = cohort_outcomes(mart, inputs).localCheckpoint()
        sizes = {
            int(r["cohort_year"]): int(r["n"])
            for r in wide.groupBy("cohort_year").agg(F.count("*").alias("n")).collect()
        }
        if not sizes:
            skipped[mart.name] = "empty cohort"
            continue
        m, o = members_and_outcomes(mart, wide)
        members.append(m)
        outcomes.append(o)
        cells = metric_cells(mart, wide, cpi=cpi, cpi_base_year=catalog.cpi_base_year).toPandas()
        linked = match_rate(wide, timeline, mart.match_sources).first()
        marts[mart.name] = {
            "mart": mart,
            "cells": cells,
            "cohort_sizes": sizes,
            "match_rate": linked["linked"] / linked["members"] if linked["members"] else 0.0,
        }
        seconds[mart.name] = round(time.perf_counter() - t0, 3)
    if members:
        storage.write(
            reduce(DataFrame.unionByName, members),
            GOLD_COHORT_MEMBERS,
            "overwrite",
            run_id=run_id,
            step="gold/members",
        )
        storage.write(
            reduce(DataFrame.unionByName, outcomes),
            GOLD_COHORT_OUTCOMES,
            "overwrite",
            run_id=run_id,
            step="gold/outcomes",
        )
    return {
        "catalog": catalog,
        "vintage": inputs.vintage,
        "marts": marts,
        "skipped": skipped,
        "seconds": seconds,
        "inputs": built_from,
    }


def disclose_and_check(built: dict) -> list[CheckResult]:
    """Suppress every mart's cells and run the gate's value, totals and disclosure checks."""
    catalog: Catalog = built["catalog"]
    results = []
    for name, m in built["marts"].items():
        cells = m["cells"]
        m["published"] = suppress(cells, threshold=catalog.min_cell_size, relations=mart_relations(m["mart"]))
        table = f"gold.published_cells[{name}]"
        results += [
            check_values(cells, table),
            check_totals(cells, m["cohort_sizes"], table),
            check_disclosure(m["published"], mart_relations(m["mart"]), catalog.min_cell_size, table),
        ]
    return results


def stage_site(settings: Settings, built: dict, *, run_id: str) -> tuple[Path, list[Path]]:
    """Write every mart's CSV and JSON files into a staging folder beside the site's data folder."""
    catalog: Catalog = built["catalog"]
    staging = settings.site_dir / ".staging-data"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    files = []
    for m in built["marts"].values():
        files += write_mart(
            m["published"],
            m["mart"],
            catalog,
            staging,
            vintage=built["vintage"],
            match_rate=m["match_rate"],
            run_id=run_id,
        )
    return staging, files


def publish(
    spark: SparkSession, settings: Settings, storage: Storage, built: dict, staging: Path, *, run_id: str
) -> Path:
    """Write the metric and published cell tables, put the staged files in place as the site's data,
    and record gold as promoted (its manifest, last)."""
    cells = _concat([m["cells"] for m in built["marts"].values()], GOLD_METRIC_CELLS)
    storage.write(
        _frame(spark, cells, GOLD_METRIC_CELLS, run_id),
        GOLD_METRIC_CELLS,
        "overwrite",
        run_id=run_id,
        step="gold/cells",
    )
    hidden = _concat([m["published"] for m in built["marts"].values()], GOLD_PUBLISHED_CELLS)
    for field, flag in (("denominator", "denominator_suppressed"), ("numerator", "numerator_suppressed")):
        hidden[field] = hidden[field].where(~hidden[flag].astype(bool))
    for field in ("value", "value_real"):
        hidden[field] = hidden[field].where(~hidden["value_suppressed"].astype(bool))
    storage.write(
        _frame(spark, hidden, GOLD_PUBLISHED_CELLS, run_id),
        GOLD_PUBLISHED_CELLS,
        "overwrite",
        run_id=run_id,
        step="gold/published",
    )
    site = settings.site_dir / "data"
    shutil.rmtree(site, ignore_errors=True)  # a table dropped from the catalog must not linger
    staging.rename(site)
    write_manifest(storage, "gold", GOLD_TABLES, built["inputs"], run_id=run_id)
    return site


def _concat(frames: list[pd.DataFrame], table: Table) -> pd.DataFrame:
    """The marts' cells as one frame (an empty one with the table's columns when every mart was skipped)."""
    if frames:
        return pd.concat(frames)
    return pd.DataFrame(columns=[c.strip().split(" ")[0].strip("`") for c in table.schema.split(", ")])


def discard_site(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def _frame(spark: SparkSession, pdf: pd.DataFrame, table: Table, run_id: str) -> DataFrame:
    """A small pandas frame as a Spark frame of the table's schema (NaN -> null, numpy -> Python)."""
    schema = table.struct(spark)
    pdf = pdf.assign(run_id=run_id)[[f.name for f in schema.fields]]
    casts = [_caster(f.dataType.typeName()) for f in schema.fields]
    rows = [
        tuple(None if pd.isna(v) else cast(v) for cast, v in zip(casts, rec, strict=True))
        for rec in pdf.itertuples(index=False, name=None)
    ]
    return spark.createDataFrame(rows, schema)


def _caster(type_name: str):
    return {"long": int, "integer": int, "double": float, "boolean": bool, "string": str}[type_name]


def identifier_check(files: list) -> CheckResult:
    gold = [t for t in all_tables() if t.layer == "gold"]
    return check_identifiers(gold, files)


def report(built: dict, results: list[CheckResult], files: list) -> dict:
    return {
        "vintage": built["vintage"],
        "timings_s": built["seconds"],
        "marts": {
            name: {
                "cohort_members": sum(m["cohort_sizes"].values()),
                "cells": len(m["cells"]),
                "suppressed_cells": int((m["published"]["suppression"] != "").sum())
                if "published" in m
                else None,
                "match_rate": round(m["match_rate"], 4),
            }
            for name, m in built["marts"].items()
        },
        "skipped_marts": built["skipped"],
        "published_files": len(files),
        "gate": GOLD_GATE,
        "checks_failed": [r.check_id for r in results if not r.success],
    }
