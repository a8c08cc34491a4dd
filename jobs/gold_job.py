"""Gold step of `c2c run`: the person timeline, every mart of the metric catalog, disclosure control
(one `Publication`), the gold gate, and the published tables in the site's `data/` folder.

Reads the identity crosswalk and the silver event tables. Stages gold.person_timeline,
gold.cohort_members and gold.cohort_outcomes (uncommitted Delta writes) and the site's files (a
staging folder), and judges them at the gold gate (`quality.promotion.promote`). Only a passing gate
commits: the staged tables, gold.metric_cells and gold.published_cells (overwrite: gold is
recomputed whole from silver and identity, so a re-run changes nothing), the site's data folder, and,
last, the layer's manifest (lakehouse/tables/manifest.py). A blocked gate discards every stage: gold
and the site stay as the last promotion left them.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.identity_job import IDENTITY_TABLES
from jobs.layer import LayerReport, RunContext
from jobs.silver_job import SILVER_TABLES
from lakehouse.gold.catalog import Catalog, load_catalog
from lakehouse.gold.cohorts import COHORT_SOURCES, COHORTS, GoldInputs, person_attributes
from lakehouse.gold.marts import (
    cohort_outcomes,
    match_rate,
    members_and_outcomes,
    metric_cells,
)
from lakehouse.gold.outcomes import OUTCOMES
from lakehouse.gold.pooling import cohort_pools, pooled_cells, small_groups, with_small_groups_merged
from lakehouse.gold.timeline import build_person_timeline
from lakehouse.gold.wages import load_cpi
from lakehouse.publish.publication import Publication
from lakehouse.settings import Settings
from lakehouse.silver.codes import load_code_maps
from lakehouse.storage import Storage
from lakehouse.storage.base import Staged
from lakehouse.tables import (
    GOLD_COHORT_MEMBERS,
    GOLD_COHORT_OUTCOMES,
    GOLD_METRIC_CELLS,
    GOLD_PERSON_TIMELINE,
    GOLD_POOLED_METRIC_CELLS,
    GOLD_PUBLISHED_CELLS,
    GOLD_PUBLISHED_POOLED_CELLS,
    IDENTITY_CROSSWALK,
    SILVER_PERSON_RECORDS,
    Table,
    all_tables,
    get,
)
from lakehouse.tables.manifest import (
    latest_manifest,
    layer_due,
    refuse_stale_rerun,
    upstream_versions,
    write_manifest,
)
from quality.gold_gate import GOLD_GATE, check_disclosure, check_identifiers, check_totals, check_values
from quality.promotion import Stage, promote
from quality.results import CheckResult, QualityGateFailed

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
    GOLD_POOLED_METRIC_CELLS,
    GOLD_PUBLISHED_POOLED_CELLS,
    GOLD_PUBLISHED_CELLS,  # last: the site's data is put in place right after it
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


def due(storage: Storage) -> bool:
    """True when identity exists and gold is due: no manifest, a gold table newer than its manifest
    (a promotion cut short), or silver's or identity's manifest newer than the ones gold was built on."""
    if not storage.info(IDENTITY_CROSSWALK).exists:
        return False
    return layer_due(storage, "gold", GOLD_TABLES, input_versions(storage))


@dataclass
class GoldStage:
    """Gold built and not committed: the staged tables, the publication, the site's staged files."""

    inputs: dict[str, int]  # the silver and identity versions gold was built from
    tables: list[Staged]  # timeline, members, outcomes
    publication: Publication
    folder: Path  # the site's data, staged beside it
    files: list[Path]
    seconds: dict[str, float]
    skipped: dict[str, str]  # marts not built, and why


def run(ctx: RunContext) -> LayerReport:
    """Build gold, publish it through the gold gate, and report the marts."""
    storage = ctx.storage
    if not due(storage):
        return LayerReport.unchanged("gold", "no new silver or identity data")
    ctx.progress.say("gold", "building cohorts and outcomes, suppressing, publishing")
    started = time.perf_counter()
    stage = build(ctx.spark, ctx.settings, storage, run_id=ctx.run_id)
    try:
        site = promote(
            GOLD_GATE,
            stage,
            commit=lambda staged: publish(ctx.spark, ctx.settings, storage, staged, run_id=ctx.run_id),
            discard=lambda staged: discard(storage, staged),
            settings=ctx.settings,
            run_id=ctx.run_id,
        )
    except QualityGateFailed as blocked:
        timings = {"gold": round(time.perf_counter() - started, 3)}
        return LayerReport.blocked_at("gold", blocked, stage.checks, timings)
    section = {**report(stage), "site_data": str(site)}
    return LayerReport(
        "gold",
        section,
        f"{section['published_files']} tables published",
        checks=tuple(stage.checks),
        timings_s={"gold": round(time.perf_counter() - started, 3)},
    )


def build(spark: SparkSession, settings: Settings, storage: Storage, *, run_id: str) -> Stage[GoldStage]:
    """Compute and stage the gold tables, suppress and stage the published files, and run the gold
    gate's checks on them; nothing is committed."""
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
    staged = [storage.stage(timeline, GOLD_PERSON_TIMELINE, "overwrite", run_id=run_id, step="gold/timeline")]
    try:
        timeline = storage.staged_frame(staged[0])
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
            pools = cohort_pools(sizes, catalog.pool_window_years)
            pooled = None
            if pools:
                merged = with_small_groups_merged(wide, small_groups(mart, wide, catalog.min_cell_size))
                pooled = pooled_cells(
                    mart, merged, pools, cpi=cpi, cpi_base_year=catalog.cpi_base_year
                ).toPandas()
            linked = match_rate(wide, timeline, mart.match_sources).first()
            marts[mart.name] = {
                "mart": mart,
                "cells": cells,
                "pooled": pooled,
                "cohort_sizes": sizes,
                "match_rate": linked["linked"] / linked["members"] if linked["members"] else 0.0,
            }
            seconds[mart.name] = round(time.perf_counter() - t0, 3)
        for frames, table, step in (
            (members, GOLD_COHORT_MEMBERS, "members"),
            (outcomes, GOLD_COHORT_OUTCOMES, "outcomes"),
        ):
            if frames:
                staged.append(
                    storage.stage(
                        reduce(DataFrame.unionByName, frames),
                        table,
                        "overwrite",
                        run_id=run_id,
                        step=f"gold/{step}",
                    )
                )
        t0 = time.perf_counter()
        publication = Publication.of(catalog, inputs.vintage, marts)
        folder = settings.site_dir / ".staging-data"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        files = publication.write_files(folder, run_id=run_id)
        seconds["publication"] = round(time.perf_counter() - t0, 3)
    except BaseException:
        for s in staged:
            storage.abort(s)
        raise
    gold = GoldStage(built_from, staged, publication, folder, files, seconds, skipped)
    return Stage(gold, gate_checks(publication, files))


def gate_checks(publication: Publication, files: list[Path]) -> list[CheckResult]:
    """The gold gate's checks: each mart's computed cells (values, totals against the cohort sizes),
    the disclosure audit of what it publishes, and no identifier in any gold table or published file."""
    results = []
    for name, m in publication.marts.items():
        table = f"gold.published_cells[{name}]"
        results += [
            check_values(m.cells, table),
            check_totals(m.cells, m.cohort_sizes, table),
            check_disclosure(m.flagged, m.relations, publication.catalog.min_cell_size, table),
        ]
    gold = [t for t in all_tables() if t.layer == "gold"]
    return [*results, check_identifiers(gold, files)]


def publish(
    spark: SparkSession, settings: Settings, storage: Storage, gold: GoldStage, *, run_id: str
) -> Path:
    """Commit the staged tables, write the metric and published cell tables, put the staged files in
    place as the site's data, and record gold as promoted (its manifest, last)."""
    for staged in gold.tables:
        storage.commit(staged)
    for frames, table, step in (
        (gold.publication.metric_cells(), GOLD_METRIC_CELLS, "cells"),
        (gold.publication.pooled_metric_cells(), GOLD_POOLED_METRIC_CELLS, "pooled_cells"),
        (gold.publication.published_pooled_cells(), GOLD_PUBLISHED_POOLED_CELLS, "published_pooled"),
        (gold.publication.published_cells(), GOLD_PUBLISHED_CELLS, "published"),
    ):
        cells = _frame(spark, _concat(frames, table), table, run_id)
        storage.write(cells, table, "overwrite", run_id=run_id, step=f"gold/{step}")
    site = settings.site_dir / "data"
    shutil.rmtree(site, ignore_errors=True)  # a table dropped from the catalog must not linger
    gold.folder.rename(site)
    write_manifest(storage, "gold", GOLD_TABLES, gold.inputs, run_id=run_id)
    return site


def discard(storage: Storage, gold: GoldStage) -> None:
    """Drop whatever is still staged (all of it when the gate blocked)."""
    for staged in gold.tables:
        storage.abort(staged)
    shutil.rmtree(gold.folder, ignore_errors=True)


def _concat(frames: list[pd.DataFrame], table: Table) -> pd.DataFrame:
    """The marts' cells as one frame (an empty one with the table's columns when every mart was skipped)."""
    if frames:
        return pd.concat(frames)
    return pd.DataFrame(columns=[c.strip().split(" ")[0].strip("`") for c in table.schema.split(", ")])


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


def report(stage: Stage[GoldStage]) -> dict:
    gold = stage.staged
    return {
        "vintage": gold.publication.vintage,
        "timings_s": gold.seconds,
        "marts": {
            name: {
                "cohort_members": sum(m.cohort_sizes.values()),
                "cells": len(m.cells),
                "suppressed_cells": int((m.published["suppression"] != "").sum()),
                "match_rate": round(m.match_rate, 4),
                "pooled_cohorts": m.pooled_cells is not None,
                **({"pooled_cohorts_note": m.pooling_note} if m.pooling_note else {}),
            }
            for name, m in gold.publication.marts.items()
        },
        "skipped_marts": gold.skipped,
        "published_files": len(gold.files),
        "gate": GOLD_GATE,
        "checks_failed": [r.check_id for r in stage.checks if not r.success],
    }
