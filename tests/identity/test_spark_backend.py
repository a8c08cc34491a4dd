"""identity.backend 'spark': every identity step runs on Spark (training, scoring, the decision, the
guards, clustering, the joins), and the result is the DuckDB backend's."""

from __future__ import annotations

import random
from datetime import date

import pyarrow as pa
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.identity_job import link
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
