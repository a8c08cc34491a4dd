"""identity.backend 'spark': every identity step runs on Spark (training, scoring, the decision, the
guards, clustering, the joins), and the result is the DuckDB backend's."""

from __future__ import annotations

import random
import re
from datetime import date

import pyarrow as pa
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.identity_job import link
from lakehouse.identity.clustering import components_on_spark
from lakehouse.identity.engine import SparkEngine
from lakehouse.identity.link import resolve
from lakehouse.identity.spark_backend import to_spark_sql
from lakehouse.storage import open_storage
from tests.conftest import make_settings
from tests.identity.linkage_rows import arrow_schema, soundex

FIRST = ["ANA", "JOSE", "LINH", "OMAR", "SOFIA", "KENJI", "EMILY", "CARLOS", "AISHA", "JOHN"]
LAST = ["GARCIA", "NGUYEN", "SMITH", "KHAN", "RIVERA", "SATO", "BROWN", "REYES", "TRAN", "LOPEZ"]


def _record(token, source, first, last, *, birth=None, ssn=None, roots=None, gender=None, county="19"):
    return {
        "record_token": token,
        "source": source,
        "first_name": first,
        "first_roots": roots or [first],
        "first_soundex": soundex(first),
        "middle_initial": None,
        "last_name": last,
        "last_names": [last],
        "last_soundex": soundex(last),
        "birth_date": birth,
        "birth_year": int(birth[:4]) if birth else None,
        "birth_month_day": birth[5:] if birth else None,
        "gender": gender,
        "ssn_token": ssn,
        "ssn_first5_token": f"{ssn}-5" if ssn else None,
        "ssn_last4_token": f"{ssn}-4" if ssn else None,
        "ssn_sorted_token": f"{ssn}-sorted" if ssn else None,
        "ssid": None,
        "seid": None,
        "cin": None,
        "zip": None,
        "zip3": None,
        "wages_from": "2015-03-31" if source == "edd" else None,
        "counties": [county],
    }


def _people(persons: int = 80) -> list[dict]:
    """Per person a college record with an SSN, a benefit record without one (a typo in the surname,
    a nickname, the day and month swapped, by turns) and a wage record with the SSN and no birth date."""
    rng = random.Random(3)
    rows = []
    for p in range(persons):
        first, last = FIRST[p % 10], LAST[(p * 3 + p // 10) % 10]
        birth = f"{rng.randrange(1970, 2000)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 13):02d}"
        gender, ssn = rng.choice("MF"), f"s{p}"
        rows.append(_record(f"ccc-{p}", "ccc", first, last, birth=birth, ssn=ssn, gender=gender))
        kind = p % 4
        b_first = {1: first[:-1] + "Y"}.get(kind, first)
        b_last = {0: last[:-1] + last[-1] * 2}.get(kind, last)
        b_birth = f"{birth[:5]}{birth[8:]}-{birth[5:7]}" if kind == 2 else birth
        roots = [b_first, first] if kind == 1 else None
        rows.append(_record(f"dhcs-{p}", "dhcs", b_first, b_last, birth=b_birth, roots=roots, gender=gender))
        rows.append(_record(f"edd-{p}", "edd", first, last, ssn=ssn))
    return rows


def test_the_model_sql_is_translated_to_spark_functions():
    assert (
        to_spark_sql('array_length(list_intersect("a_l", "a_r")) >= 1')
        == "SIZE(ARRAY_INTERSECT(`a_l`, `a_r`)) >= 1"
    )
    assert (
        to_spark_sql('jaro_winkler_similarity("n_l", "n_r") >= 0.92') == "jaro_winkler(`n_l`, `n_r`) >= 0.92"
    )
    assert to_spark_sql('damerau_levenshtein("n_l", "n_r") <= 1') == "damerau_levenshtein(`n_l`, `n_r`) <= 1"


def _components(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, str]:
    """Each node's smallest connected node, by union-find: what clustering must give."""
    parent = {n: n for n in nodes}

    def root(n):
        while parent[n] != n:
            n = parent[n]
        return n

    for a, b in edges:
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)
    return {n: root(n) for n in nodes}


def test_connected_components_on_spark_match_union_find_with_long_chains_and_loose_nodes(spark):
    """Spark's connected components: every node once, labelled with the smallest token of its
    component, for chains whose order runs against the tokens' (many rounds), a star, a clique,
    duplicate, reversed and self pairs, edges below the cut already filtered out, and nodes with
    no edge; the working tables are gone afterwards."""
    rng = random.Random(7)
    nodes = [f"r{i:04d}" for i in range(600)]
    shuffled = nodes[:400]
    rng.shuffle(shuffled)
    edges = [(shuffled[i], shuffled[i + 1]) for i in range(0, 199)]  # one chain of 200 in random order
    edges += [(nodes[400 + i], nodes[401 + i]) for i in range(60)][::-1]  # a sorted chain of 61
    edges += [("r0470", nodes[j]) for j in range(471, 500)]  # a star around a large token
    edges += [(nodes[a], nodes[b]) for a in range(500, 512) for b in range(500, 512) if a != b]  # clique
    edges += [(b, a) for a, b in edges[:50]] + edges[:20] + [("r0550", "r0550")]
    edges += [(rng.choice(shuffled[200:]), rng.choice(shuffled[200:])) for _ in range(150)]
    db = SparkEngine(spark)
    db.put("edges", spark.createDataFrame(edges, "record_token_l STRING, record_token_r STRING"))
    db.put("nodes", spark.createDataFrame([(n,) for n in nodes + nodes[:5]], "record_token STRING"))
    rounds = components_on_spark(db, "edges", "nodes", "out")
    got = db.rows("SELECT record_token, cluster_id FROM out")
    assert sorted(got) == sorted(_components(nodes, [e for e in edges if e[0] != e[1]]).items())
    assert 1 < rounds < 20
    assert "cc_edges" not in db.frames and not spark.catalog.tableExists("cc_edges")
    db.close()


def test_connected_components_on_spark_of_no_edges_are_the_nodes_themselves(spark):
    db = SparkEngine(spark)
    db.put("edges", spark.createDataFrame([], "record_token_l STRING, record_token_r STRING"))
    db.put("nodes", spark.createDataFrame([("b",), ("a",)], "record_token STRING"))
    assert components_on_spark(db, "edges", "nodes", "out") == 0
    assert sorted(db.rows("SELECT record_token, cluster_id FROM out")) == [("a", "a"), ("b", "b")]
    db.close()


def test_a_rebuilt_or_dropped_table_releases_its_data_and_closing_keeps_what_was_handed_out(spark):
    """The engine frees a table's checkpoint when the table is rebuilt (after the new version is
    written from it) or dropped, and leaves the frames a caller took readable after `close`."""
    db = SparkEngine(spark)
    persisted = lambda: set(dict(spark.sparkContext._jsc.getPersistentRDDs()))  # noqa: E731
    before = persisted()
    db.put("t", spark.range(10).selectExpr("id AS n"))
    db.create("t", "SELECT n + 1 AS n FROM t")
    db.create("u", "SELECT n * 2 AS n FROM t")
    assert len(persisted() - before) == 2  # t's second version and u
    db.drop("u")
    assert len(persisted() - before) == 1
    kept = db.frame("t")
    db.close()
    assert sorted(r[0] for r in kept.collect()) == list(range(1, 11))
    assert not spark.catalog.tableExists("t")


def _rounded(pairs):
    # joins made after scoring have no probability (NaN once in Spark): compare them as -1
    probability = F.coalesce(F.nanvl("match_probability", F.lit(-1.0)), F.lit(-1.0))
    return pairs.withColumn("match_probability", F.round(probability, 6))


def test_soundex_agrees_with_spark(spark):
    names = ["GARCIA", "ASHCRAFT", "TYMCZAK", "PFISTER", "LEE", "O", "HONEYMAN", "NGUYEN", "MC-DONALD"]
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([(n,) for n in names], "name STRING")
    got = frame.select("name", F.soundex("name")).collect()
    assert {n: s for n, s in got} == {n: soundex(n) for n in names}


@pytest.mark.timeout(600)
def test_em_training_on_spark_fixes_nothing_fits_the_prior_and_links_as_duckdb_does(spark):
    """`identity.training: em` (and `c2c link`'s training): no m is fixed, the prior is fitted to the
    candidates' scores, and Spark, which trains on its own sample of random pairs, fits the same
    model to within that sample's noise and links as DuckDB does."""
    frame = spark.createDataFrame(pa.Table.from_pylist(_people(), schema=arrow_schema()))
    args = {"threshold": 0.99, "review_floor": 0.2, "max_cluster_size": 80, "train_max_pairs": 5e4}
    duck = resolve(spark, frame, backend="duckdb", model=None, training="em", **args)
    levels = [lv for c in duck.model["comparisons"] for lv in c["comparison_levels"]]
    assert not any(lv.get("fix_m_probability") for lv in levels)
    on_spark = resolve(spark, frame, backend="spark", model=None, training="em", **args)
    assert on_spark.model["sql_dialect"] == "duckdb"  # the registry's dialect, whichever engine trained
    assert on_spark.model["probability_two_random_records_match"] == pytest.approx(
        duck.model["probability_two_random_records_match"], rel=1e-3
    )
    assert_df_equality(on_spark.clusters, duck.clusters, ignore_row_order=True, ignore_nullable=True)
    linked = duck.clusters.groupBy("cluster_id").count().where("count > 1").count()
    assert linked > 0
    # every benefit record, whatever its noise, was scored against its person's college record
    scored = {(r[0], r[1]) for r in on_spark.pairs.select("record_token_l", "record_token_r").collect()}
    assert all((f"ccc-{p}", f"dhcs-{p}") in scored for p in range(80))


def test_scoring_in_chunks_keeps_the_same_pairs_and_clusters(spark, monkeypatch):
    """Scoring split into chunks (`identity.predict_chunk_records`, for states whose candidate pairs do
    not fit at once) keeps exactly the pairs and clusters of scoring everything at once; each step
    is reported as it ends."""
    frame = spark.createDataFrame(pa.Table.from_pylist(_people(), schema=arrow_schema()))
    args = {"threshold": 0.99, "review_floor": 0.2, "max_cluster_size": 80, "train_max_pairs": 5e4}
    model = resolve(spark, frame, backend="duckdb", model=None, training="em", **args).model
    whole = resolve(spark, frame, backend="duckdb", model=model, **args)
    from splink.internals.linker_components.inference import LinkerInference

    parts, score = [], LinkerInference._predict_chunk
    monkeypatch.setattr(
        LinkerInference,
        "_predict_chunk",
        lambda self, **kw: parts.append(kw["left_chunk"]) or score(self, **kw),
    )
    told = []
    chunked = resolve(
        spark,
        frame,
        backend="duckdb",
        model=model,
        predict_chunk_records=60,
        progress=lambda what, seconds: told.append(what) if seconds >= 0 else None,
        **args,
    )
    assert len(parts) == 16  # 240 records: 4 chunks a side
    # each step is told as it ends (`c2c run` prints them)
    scored = chunked.pairs.count()  # kept above the review floor, and the deterministic pairs
    assert told[:2] == ["240 records in DuckDB", "model ready"]
    assert [re.sub(r"\d[\d,]*", "N", what) for what in told[2:]] == [
        *["scoring: N/N chunks, N pairs kept"] * 3,
        "N candidate pairs scored and kept (N x N chunks)",
        "N matches decided, pair guards applied",
        "clustered, chaining guards and near-miss joins applied",
        "N wage clusters attached by name",
        "clusters final, renamed joins applied",
    ]
    assert [what.split(" ")[1] for what in told[2:5]] == ["4/16", "8/16", "12/16"]
    kept = [int(re.search(r"([\d,]+) (candidate )?pairs", what)[1].replace(",", "")) for what in told[2:6]]
    assert kept == sorted(kept) and 0 < kept[-1] <= scored
    matches = int(told[6].split(" ")[0].replace(",", ""))
    assert matches == chunked.pairs.where("method <> 'below_threshold'").count()
    assert_df_equality(
        _rounded(chunked.pairs), _rounded(whole.pairs), ignore_row_order=True, ignore_nullable=True
    )
    assert_df_equality(chunked.clusters, whole.clusters, ignore_row_order=True, ignore_nullable=True)
    assert whole.pairs.count() > 100


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_both_backends_give_the_same_pairs_and_clusters_on_the_test_state(spark, pipeline_run, tmp_path):
    """The session's end-to-end state (`pipeline_run`, read, never written): its silver person records
    linked by the pipeline's own `link` on each backend with one model give the same pairs and the
    same clusters, joins after clustering and guards included."""
    var = pipeline_run.var
    lake = make_settings(
        tmp_path, root=str(var / "lake"), restricted_root=str(var / "restricted"), raw_root=str(var / "raw")
    )
    storage = open_storage(spark, lake)

    def on(backend):
        return lake.model_copy(update={"identity": lake.identity.model_copy(update={"backend": backend})})

    as_of = date(2026, 6, 30)
    model = link(spark, on("duckdb"), storage, model=None, as_of=as_of).model
    duck = link(spark, on("duckdb"), storage, model=model, as_of=as_of)
    on_spark = link(spark, on("spark"), storage, model=model, as_of=as_of)
    assert duck.clusters.count() > 10_000
    assert_df_equality(
        _rounded(on_spark.pairs), _rounded(duck.pairs), ignore_row_order=True, ignore_nullable=True
    )
    assert_df_equality(on_spark.clusters, duck.clusters, ignore_row_order=True, ignore_nullable=True)
    assert on_spark.guard["suspect_clusters"] == duck.guard["suspect_clusters"]
    for join in ("joined_near_misses", "attached_by_unique_name", "joined_renamed"):
        assert on_spark.guard[join] == duck.guard[join], join


def test_the_attachments_on_spark_are_duckdbs_with_bordering_counties(spark):
    """The name-only attachments, bordering counties included (their SQL builds arrays with a lambda),
    give the same clusters on Spark as on DuckDB."""
    from lakehouse.identity.attach import attach_unique_names, load_county_neighbors
    from lakehouse.identity.spark_backend import spark_api
    from tests.conftest import ROOT
    from tests.identity.test_attach import COLUMNS, attach, record

    rows = [
        record("k1", "calpads", "ANA RUIZ", birth="1990-01-01", ssid="S1", counties=["19"]),
        record("k2", "cdss", "ANA RUIZ", birth="1985-01-01", counties=["01"]),
        record("w1", "edd", "ANA RUIZ", counties=["30"]),  # Orange: k1's Los Angeles borders it
        record("w2", "edd", "ANA RUIZ", counties=["10"]),  # Fresno: neither namesake is near
        record("w3", "edd", "LUIS RUBIO", counties=["30"]),
        record("x1", "calpads", "LUIS RUBIO", birth="1990-01-01", ssid="S2", counties=["37"]),
    ]
    neighbors = load_county_neighbors(ROOT / "conf")
    expected = attach(rows, county_neighbors=neighbors)
    assert (expected["w1"], expected["w2"], expected["w3"]) == ("k1", "w2", "x1")
    spark_api(spark)  # registers the string similarity functions the name rules call
    db = SparkEngine(spark)
    db.put(
        "linkage_input",
        spark.createDataFrame(
            rows, COLUMNS.replace("VARCHAR[]", "ARRAY<STRING>").replace("VARCHAR", "STRING")
        ),
    )
    db.put(
        "clusters",
        spark.createDataFrame([(r[0], r[0]) for r in rows], "record_token STRING, cluster_id STRING"),
    )
    db.put(
        "pairs",
        spark.createDataFrame(
            [], "record_token_l STRING, record_token_r STRING, match_probability DOUBLE, method STRING"
        ),
    )
    attach_unique_names(db, max_cluster_size=80, county_neighbors=neighbors)
    assert dict(db.rows("SELECT record_token, cluster_id FROM clusters")) == expected
    db.close()
