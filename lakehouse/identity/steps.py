"""The identity steps on one engine (lakehouse/identity/engine.py), whichever backend holds the
records: training, scoring, the decision, the pair guards (lakehouse/identity/pair_guards.py),
clustering and its guards (lakehouse/identity/clustering.py), and the joins after clustering
(lakehouse/identity/attach.py, lakehouse/identity/joins.py). lakehouse/identity/link.py puts the
records on an engine and takes the results back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lakehouse.errors import C2CError
from lakehouse.identity import model as linkage_model
from lakehouse.identity.attach import attach_unique_names
from lakehouse.identity.clustering import cluster
from lakehouse.identity.decide import Decision, decide, fit_prior
from lakehouse.identity.engine import Engine, SparkEngine
from lakehouse.identity.guards import PERSON_KEYED_SOURCES
from lakehouse.identity.joins import join_near_misses, join_renamed
from lakehouse.identity.linker import SplinkOnEngine
from lakehouse.identity.pair_guards import drop_ssn_conflicts, drop_too_young_for_wages
from lakehouse.identity.sizing import PREDICT_CHUNK_RECORDS, predict_chunks


class LinkageError(C2CError):
    """Identity resolution could not run (a bad model, a backend that is not available)."""


@dataclass
class Resolution:
    # Spark DataFrames from `resolve`, Arrow tables from `resolve_in_duckdb`:
    pairs: Any  # PAIRS_SCHEMA: every pair at or above the review floor, with how it was decided
    clusters: Any  # [record_token, cluster_id]
    model: dict[str, Any]  # the trained Splink settings (JSON-ready)
    guard: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    decision: Decision | None = None  # the match threshold and what the model expects of it
    handover: list[str] = field(default_factory=list)  # folders the frames are read from (link.release)


def run_steps(
    db: Engine,
    db_api: Any,
    model: dict[str, Any] | None,
    *,
    threshold: float | None,
    review_floor: float,
    max_cluster_size: int,
    train_max_pairs: float,
    as_of: date | None = None,
    near_miss_floor: float | None = None,
    training: str = "labels",
    all_candidates: bool = False,
    link_only: bool = False,
    county_neighbors: Mapping[str, Sequence[str]] | None = None,
    predict_chunk_records: int = PREDICT_CHUNK_RECORDS,
    progress: Callable[[str, float], None] | None = None,
) -> Resolution:
    """The identity steps on engine `db`, which holds `linkage_input` (LINKAGE_COLUMNS), with Splink
    on `db_api` (the same engine's). Leaves tables `pairs` (PAIRS_SCHEMA: every pair at or above the
    review floor, with how it was decided) and `clusters` [record_token, cluster_id] on `db`; the
    Resolution carries the model, the decision and the report (its `pairs` and `clusters` are set
    by the caller, in its engine's form).

    `training` (when `model` is None): "labels" learns m from the pairs that share an id
    (`linkage_model.train`, the pipeline, whose agencies share ids); "em" learns everything from the
    data by expectation maximisation (`linkage_model.train_em`, a file we know nothing of).
    `threshold` None: the threshold is chosen from the fitted model (lakehouse/identity/decide.py).
    `all_candidates` scores every candidate pair, not only those above the review floor, so that the
    decision's expected precision and recall cover them all. `link_only` keeps the pairs across
    sources only, and clusters hold at most one record of each source (two files, each taken to
    hold a person once: a cluster with two records of one file is split like one with two CINs).
    `predict_chunk_records` (backend duckdb): scoring runs in chunks of about this many records a side
    (`predict_chunks`)."""
    seconds: dict[str, float] = {}
    skipped: list[str] = []
    if training not in ("labels", "em"):
        raise LinkageError(f"training must be 'labels' or 'em', not {training!r}")

    t0 = time.perf_counter()
    db.create("certain", linkage_model.deterministic_sql("linkage_input"))
    n = db.one("SELECT count(*) FROM linkage_input")[0]
    if link_only:
        _keep_across_sources(db, "certain")
    settings: Any = model
    if model is None:
        certain = db.one("SELECT count(*) FROM certain")[0]
        if training == "em":
            settings = linkage_model.linkage_settings(
                prior_probability=linkage_model.prior(certain, n), learn_m=True
            )
        else:
            db.create("labels", linkage_model.labels_sql("linkage_input"))
            counts = db.rows(linkage_model.measured_m_sql("labels", "linkage_input"))
            settings = linkage_model.linkage_settings(
                prior_probability=linkage_model.prior(certain, n), measured=linkage_model.measured_m(counts)
            )
    splink = SplinkOnEngine(db, db_api, settings)
    if model is None and training == "em":
        skipped = linkage_model.train_em(splink.linker, max_pairs=train_max_pairs)
    elif model is None:
        skipped = linkage_model.train(splink.linker, splink.table("labels"), max_pairs=train_max_pairs)
    trained = splink.trained()
    # Levels that u-sampling never saw get the bound the sample vouches for (so does a registered
    # model trained before this rule): the same data must not give a model that ignores them.
    sampled = min(train_max_pairs, n * (n - 1) / 2)
    unseen = linkage_model.fill_unseen_u(trained, sampled_pairs=sampled)
    if unseen:
        splink.use(trained)
    seconds["train"] = round(time.perf_counter() - t0, 3)
    tell(progress, "model trained" if model is None else "model ready", seconds["train"])

    t0 = time.perf_counter()
    fitting = model is None and training == "em"  # the prior is fitted to every candidate's score
    score_floor = None if all_candidates or fitting or threshold is None else review_floor
    chunks = 1 if isinstance(db, SparkEngine) else predict_chunks(n, predict_chunk_records)

    def scoring(done: int, of: int, kept: int) -> None:
        if of > 1 and done % chunks == 0 and done < of:
            tell(progress, f"scoring: {done}/{of} chunks, {kept:,} pairs kept", time.perf_counter() - t0)

    splink.predict("scored", score_floor, chunks=chunks, progress=scoring)
    kept = db.one("SELECT count(*) FROM scored")[0]
    split = f" ({chunks} x {chunks} chunks)" if chunks > 1 else ""
    tell(progress, f"{kept:,} candidate pairs scored and kept{split}", time.perf_counter() - t0)
    if link_only:
        _keep_across_sources(db, "scored")
    if fitting:
        trained["probability_two_random_records_match"] = fit_prior(
            db,
            "scored",
            prior=trained["probability_two_random_records_match"],
            total_pairs=_pairs_of(db, link_only=link_only),
        )
    db.create(
        "candidates",
        """SELECT coalesce(c.record_token_l, s.record_token_l) AS record_token_l,
               coalesce(c.record_token_r, s.record_token_r) AS record_token_r,
               CASE WHEN c.record_token_l IS NOT NULL THEN 1.0 ELSE s.match_probability END
                 AS match_probability,
               c.record_token_l IS NOT NULL AS certain
        FROM certain c FULL OUTER JOIN scored s
          ON c.record_token_l = s.record_token_l AND c.record_token_r = s.record_token_r""",
    )
    decision = decide(db, "candidates", threshold=threshold)
    cut = decision.match_probability
    db.create(
        "pairs",
        f"""SELECT record_token_l, record_token_r, CAST(match_probability AS DOUBLE) AS match_probability,
               CASE WHEN certain THEN 'deterministic'
                    WHEN match_probability >= {cut} THEN 'probabilistic'
                    ELSE 'below_threshold' END AS method
        FROM candidates WHERE certain OR match_probability >= {min(review_floor, cut)}""",
    )
    db.drop("candidates")
    too_young = drop_too_young_for_wages(db, as_of=as_of)
    ssn_conflicts = drop_ssn_conflicts(db)
    seconds["predict"] = round(time.perf_counter() - t0, 3)
    matches = db.one("SELECT count(*) FROM pairs WHERE method <> 'below_threshold'")[0]
    tell(progress, f"{matches:,} matches decided, pair guards applied", seconds["predict"])

    t0 = time.perf_counter()
    keyed = PERSON_KEYED_SOURCES
    if link_only:  # each file holds a person once: two records of one file are two people
        keyed += tuple(r[0] for r in db.rows("SELECT DISTINCT source FROM linkage_input ORDER BY source"))
    guard = cluster(db, db_api, max_cluster_size, keyed)
    if near_miss_floor is not None:
        guard["joined_near_misses"] = join_near_misses(
            db, floor=near_miss_floor, max_cluster_size=max_cluster_size
        )
    tell(progress, "clustered, chaining guards and near-miss joins applied", time.perf_counter() - t0)
    t_attach = time.perf_counter()
    guard["attached_by_unique_name"] = attach_unique_names(
        db, max_cluster_size=max_cluster_size, as_of=as_of, county_neighbors=county_neighbors
    )
    attached, seconds["attach"] = guard["attached_by_unique_name"], round(time.perf_counter() - t_attach, 3)
    tell(progress, f"{attached:,} wage clusters attached by name", seconds["attach"])
    guard["joined_renamed"] = join_renamed(db, max_cluster_size=max_cluster_size, as_of=as_of)
    seconds["cluster"] = round(time.perf_counter() - t0, 3)
    tell(progress, "clusters final, renamed joins applied", seconds["cluster"])
    return Resolution(
        pairs=None,
        clusters=None,
        model=json.loads(json.dumps(trained)),
        guard={
            **guard,
            "training_skipped": skipped,
            "u_bounded_unseen_levels": unseen,
            "too_young_for_wages": too_young,
            "ssn_conflicts": ssn_conflicts,
        },
        seconds=seconds,
        decision=decision,
    )


def tell(progress: Callable[[str, float], None] | None, what: str, seconds: float) -> None:
    if progress is not None:
        progress(what, seconds)


def _pairs_of(db: Engine, *, link_only: bool) -> float:
    """How many pairs of records `linkage_input` makes (across sources only, with `link_only`)."""
    n, same_source = db.one(
        "SELECT sum(n), sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM linkage_input GROUP BY source) t"
    )
    every = (n or 0) * ((n or 0) - 1) / 2
    return float(every - (same_source or 0)) if link_only else float(every)


def _keep_across_sources(db: Engine, table: str) -> None:
    """Drop the pairs of `table` whose two records come from one source."""
    db.create(
        table,
        f"SELECT p.* FROM {table} p "
        "JOIN linkage_input l ON l.record_token = p.record_token_l "
        "JOIN linkage_input r ON r.record_token = p.record_token_r WHERE l.source <> r.source",
    )
