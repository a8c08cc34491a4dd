"""Where identity resolution loses against the truth, on a lake kept by `benchmarks/pipeline.py --keep`.

    .venv/bin/python benchmarks/identity_misses.py DIR [--top 15] [--counties bordering|same]

DIR is one size's work directory (e.g. `<keep>/state-100000`). The script resolves that lake's silver
person records again with the pipeline's own DuckDB code (`resolve_in_duckdb`) and the champion model
the run registered, so its scores are the run's, and then reports:

- pairwise and B-cubed scores against `raw/_truth/person_truth.csv`;
- missed pairs by kind of fragment (a true person's records outside its largest predicted cell):
  sources, whether the fragment carries an SSN, whether it carries any anchor (birth date or native
  id);
- false pairs by kind of intruder (a predicted cluster's records outside its largest true cell);
- the evidence ceiling: records that no rule could place, because they carry no identifying field
  at all (an aid payment whose application predates the data window), or because they are wage
  records of a worker without an SSN (a name, a middle initial, an employer county, a first
  quarter) and two or more clusters without an SSN hold that exact name, a compatible middle
  initial, the county and a birth date at least 14 years before the first quarter. With every other
  record placed right, recall could be at most `recall_ceiling`. That ceiling takes a county as
  deciding whenever fewer than two namesakes are local; `recall_ceiling_anywhere` also counts as
  unplaceable the wage records with two or more such namesakes none of whom is local (a commuter or
  someone who moved: nothing picks one of them).

`--counties same` resolves with the county itself as the only place evidence (no bordering counties),
to compare the two on the same records.

Last line: `precision=... recall=... f1=... bcubed_f1=... recall_ceiling=... f1_ceiling_at_p1=...
recall_ceiling_anywhere=... f1_ceiling_anywhere_at_p1=...`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb  # noqa: E402
from pipeline import keyed_truth, settings_for  # noqa: E402

from jobs.identity_job import _activity  # noqa: E402
from lakehouse.identity import registry  # noqa: E402
from lakehouse.identity.attach import load_county_neighbors  # noqa: E402
from lakehouse.identity.features import LINKAGE_COLUMNS, nickname_roots, with_linkage_features  # noqa: E402
from lakehouse.identity.link import resolve_in_duckdb  # noqa: E402
from lakehouse.spark import build_spark  # noqa: E402
from lakehouse.storage import open_storage  # noqa: E402
from lakehouse.tables import SILVER_PERSON_RECORDS  # noqa: E402

ANCHORED = "(f.birth_date IS NOT NULL OR f.ssid IS NOT NULL OR f.seid IS NOT NULL OR f.cin IS NOT NULL)"


def load(con, work: Path) -> dict | None:
    """Linkage input and token keys into DuckDB; returns the champion model."""
    settings = settings_for(work, "gated")
    spark = build_spark(settings)
    try:
        storage = open_storage(spark, settings)
        records = storage.read(SILVER_PERSON_RECORDS)
        features = with_linkage_features(records, roots=nickname_roots(spark), **_activity(storage))
        con.register("features_arrow", features.select(*LINKAGE_COLUMNS).toArrow())
        con.execute("CREATE TABLE linkage_input AS SELECT * FROM features_arrow")
        keys = records.select("source", "source_record_key", "record_token").toArrow()
        con.register("keys_arrow", keys)
        con.execute("CREATE TABLE record_keys AS SELECT * FROM keys_arrow")
        champion = registry.load_champion(settings)
        settings_identity = settings.identity
        neighbors = load_county_neighbors(settings.conf_dir)
    finally:
        spark.stop()
    return {"model": champion[0] if champion else None, "identity": settings_identity, "neighbors": neighbors}


def scores(con) -> dict[str, float]:
    tp, pp, tt, bp, br = con.execute(
        """WITH cell AS (SELECT pred, truth, count(*) AS n FROM ev GROUP BY ALL),
        p AS (SELECT pred, count(*) AS n FROM ev GROUP BY ALL),
        t AS (SELECT truth, count(*) AS n FROM ev GROUP BY ALL)
        SELECT (SELECT sum(n * (n - 1) / 2) FROM cell), (SELECT sum(n * (n - 1) / 2) FROM p),
            (SELECT sum(n * (n - 1) / 2) FROM t),
            (SELECT sum(c.n * c.n / p.n) / sum(c.n) FROM cell c JOIN p USING (pred)),
            (SELECT sum(c.n * c.n / t.n) / sum(c.n) FROM cell c JOIN t USING (truth))"""
    ).fetchall()[0]
    precision, recall = tp / pp, tp / tt
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall),
        "bcubed_f1": 2 * bp * br / (bp + br),
        "true_pairs": tt,
    }


def breakdowns(con, top: int) -> None:
    con.execute(
        f"""CREATE TABLE cell AS SELECT e.pred, e.truth, count(*) AS n,
            list(DISTINCT f.source ORDER BY f.source) AS sources, count(f.ssn_token) > 0 AS has_ssn,
            bool_or({ANCHORED}) AS anchored
        FROM ev e JOIN linkage_input f USING (record_token) GROUP BY ALL"""
    )
    for title, whole, part in (
        ("missed pairs by fragment (records outside their true person's largest cell)", "truth", "pred"),
        ("false pairs by intruder (records outside their cluster's largest true person)", "pred", "truth"),
    ):
        print(f"\n{title}")
        print(
            con.sql(
                f"""WITH sized AS (SELECT c.*, sum(n) OVER (PARTITION BY {whole}) AS whole_n,
                    row_number() OVER (PARTITION BY {whole} ORDER BY n DESC, {part}) AS rank FROM cell c)
                SELECT sources, has_ssn, anchored, count(*) AS fragments, sum(n) AS records,
                    CAST(sum(n * (whole_n - n)) / 2 AS BIGINT) AS approx_pairs
                FROM sized WHERE rank > 1 GROUP BY ALL ORDER BY approx_pairs DESC LIMIT {top}"""
            )
        )


def ceiling(con) -> dict[str, float]:
    """Records no rule could place (see the module's docstring); recall if all else were right."""
    con.execute(
        f"""CREATE TABLE predicted AS SELECT e.pred, count(*) AS n, count(f.ssn_token) > 0 AS has_ssn,
            bool_or({ANCHORED}) AS anchored,
            bool_and(f.source = 'edd' AND f.ssn_token IS NULL) AS wage_without_ssn,
            coalesce(list(DISTINCT f.middle_initial) FILTER (WHERE f.middle_initial IS NOT NULL), [])
                AS initials,
            min(f.birth_date) AS earliest_birth, min(f.wages_from) AS wages_from,
            list_distinct(flatten(list(coalesce(f.counties, [])))) AS counties
        FROM ev e JOIN linkage_input f USING (record_token) GROUP BY e.pred"""
    )
    con.execute(
        """CREATE TABLE namesakes AS
        WITH names AS (SELECT DISTINCT e.pred, f.first_name, f.last_name FROM ev e
                       JOIN linkage_input f USING (record_token) WHERE f.first_name IS NOT NULL)
        SELECT w.pred, count(DISTINCT s.pred) AS n_all,
            count(DISTINCT s.pred) FILTER (WHERE len(list_intersect(w.counties, s.counties)) > 0) AS n_local
        FROM predicted w JOIN names a ON a.pred = w.pred
        JOIN names b ON b.first_name = a.first_name AND b.last_name = a.last_name AND b.pred <> w.pred
        JOIN predicted s ON s.pred = b.pred
        WHERE w.wage_without_ssn AND NOT w.anchored AND s.anchored AND NOT s.has_ssn
          AND (len(w.initials) = 0 OR len(s.initials) = 0 OR len(list_intersect(w.initials, s.initials)) > 0)
          AND coalesce(CAST(s.earliest_birth AS DATE)
                       <= CAST(w.wages_from AS DATE) - INTERVAL 14 YEAR, TRUE)
        GROUP BY w.pred"""
    )
    con.execute(
        """CREATE TABLE unplaceable AS
        SELECT e.record_token, 'no identifying field' AS why
        FROM ev e JOIN linkage_input f USING (record_token)
        WHERE f.first_name IS NULL AND f.last_name IS NULL AND f.birth_date IS NULL AND f.ssn_token IS NULL
          AND f.ssid IS NULL AND f.seid IS NULL AND f.cin IS NULL
        UNION
        SELECT e.record_token, 'wage record without SSN, 2+ namesakes in its county' FROM ev e
        WHERE e.pred IN (SELECT pred FROM namesakes WHERE n_local >= 2)"""
    )
    # Counties single a namesake out only when exactly one is local: with several namesakes and none
    # where the worker's employers are (a commuter, or someone who moved), nothing picks one.
    con.execute(
        """CREATE TABLE unplaceable_anywhere AS SELECT record_token, why FROM unplaceable
        UNION
        SELECT e.record_token, 'wage record without SSN, 2+ namesakes, none in its county' FROM ev e
        WHERE e.pred IN (SELECT pred FROM namesakes WHERE n_local = 0 AND n_all >= 2)"""
    )
    print("\nrecords no rule could place")
    print(
        con.sql(
            "SELECT why, count(*) AS records FROM unplaceable_anywhere GROUP BY why ORDER BY records DESC"
        )
    )
    found = {}
    for table in ("unplaceable", "unplaceable_anywhere"):
        found[table] = con.execute(
            f"""WITH per AS (SELECT e.truth, count(*) AS n, count(u.record_token) AS m FROM ev e
                            LEFT JOIN {table} u USING (record_token) GROUP BY e.truth)
            SELECT sum((n - m) * (n - m - 1) / 2), count(*) FILTER (WHERE m > 0) FROM per"""
        ).fetchall()[0]
    return {
        "best_true_pairs": found["unplaceable"][0],
        "persons_affected": found["unplaceable"][1],
        "best_true_pairs_anywhere": found["unplaceable_anywhere"][0],
        "persons_affected_anywhere": found["unplaceable_anywhere"][1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", help="one size's work directory of benchmarks/pipeline.py --keep")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--train",
        choices=["champion", "labels", "em"],
        default="champion",
        help="score with the run's champion model (default), or train anew on the lake's records: "
        "labels (m from id-sharing pairs, as the pipeline does) or em (as c2c link does)",
    )
    parser.add_argument(
        "--threshold",
        default="setting",
        help="'setting' (identity.match_threshold), 'auto' (the best expected F1 under the model), "
        "or a probability",
    )
    parser.add_argument(
        "--counties",
        choices=["bordering", "same"],
        default="bordering",
        help="tell a wage record's namesakes apart by the same county, then a bordering one, as the "
        "pipeline does (default); or by the same county only",
    )
    args = parser.parse_args()
    work = Path(args.work)
    con = duckdb.connect()
    loaded = load(con, work)
    ident = loaded["identity"]
    threshold = {"setting": ident.match_threshold, "auto": None}.get(args.threshold)
    resolution = resolve_in_duckdb(
        con,
        loaded["model"] if args.train == "champion" else None,
        threshold=float(args.threshold) if threshold is None and args.threshold != "auto" else threshold,
        review_floor=ident.review_floor,
        max_cluster_size=ident.max_cluster_size,
        train_max_pairs=ident.train_max_pairs,
        as_of=datetime.now(UTC).date(),
        near_miss_floor=ident.near_miss_floor,
        training="em" if args.train == "em" else "labels",
        all_candidates=args.threshold == "auto",
        county_neighbors=loaded["neighbors"] if args.counties == "bordering" else None,
    )
    if resolution.decision is not None:
        print("decision:", resolution.decision.as_dict(), flush=True)
    con.register("resolved", resolution.clusters)
    truth = keyed_truth(work)
    con.execute(
        f"""CREATE TABLE ev AS SELECT k.record_token, r.cluster_id AS pred, t.true_person_id AS truth
        FROM record_keys k JOIN resolved r USING (record_token)
        JOIN read_csv('{truth}', all_varchar = true) t USING (source, source_record_key)"""
    )
    result = scores(con)
    print({k: round(v, 4) for k, v in result.items()}, resolution.seconds)
    breakdowns(con, args.top)
    limit = ceiling(con)
    recall_ceiling = limit["best_true_pairs"] / result["true_pairs"]
    recall_ceiling_anywhere = limit["best_true_pairs_anywhere"] / result["true_pairs"]
    print(
        f"persons with a record no rule could place: {limit['persons_affected']:,} "
        f"({limit['persons_affected_anywhere']:,} counting a sole local namesake only)"
    )
    final = {
        "precision": result["precision"],
        "recall": result["recall"],
        "f1": result["f1"],
        "bcubed_f1": result["bcubed_f1"],
        "recall_ceiling": recall_ceiling,
        "f1_ceiling_at_p1": 2 * recall_ceiling / (1 + recall_ceiling),
        "recall_ceiling_anywhere": recall_ceiling_anywhere,
        "f1_ceiling_anywhere_at_p1": 2 * recall_ceiling_anywhere / (1 + recall_ceiling_anywhere),
    }
    print(" ".join(f"{k}={v:.4f}" for k, v in final.items()))


if __name__ == "__main__":
    main()
