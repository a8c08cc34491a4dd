"""`c2c link`, trained on the files it is given, against an untuned Splink model on the same files:
rosters written with the generator's noise under every profile, impossible birth dates included. And
the roster path and the pipeline make the same linkage features of the same identities."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from benchmarks.link_rosters import cluster_pairs, compare, ours
from lakehouse.identity import byo
from lakehouse.identity.features import LINKAGE_COLUMNS, nickname_roots, with_linkage_features
from lakehouse.silver.person_records import build_person_records, family_identities
from lakehouse.synth import rosters
from lakehouse.synth.profiles import PROFILES

PERSONS = 700


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["two_files", "one_file"])
@pytest.mark.parametrize("profile", list(PROFILES))
def test_link_trained_on_the_files_does_at_least_as_well_as_untuned_splink(spark, tmp_path, profile, kind):
    result = compare(kind, profile, PERSONS, tmp_path)
    assert result["ours_f1"] >= result["base_f1"], result
    assert result["ours_f1"] >= 0.95, result
    # The model's own expectation is close to what it achieved (it is what summary.json reports).
    assert abs(result["expected_precision"] - result["ours_precision"]) < 0.03, result


def test_a_roster_and_silver_make_the_same_linkage_features_and_clusters(spark):
    """One identity core: the same identities, once as a roster for `c2c link` and once as a bronze
    benefit file for the pipeline, give the same linkage input (the record tokens aside), and the
    same model and threshold give the same clusters on either."""
    rows, _ = rosters.one_file(60, profile="dirty")
    key = bytes(range(32))
    # What a DOR vocational rehabilitation case file carries (no middle name, no ZIP).
    mapping = byo.parse_mapping("first=given_name,last=family_name,dob=birth_date,gender=gender,ssn=ssn")
    roster = byo.Roster(path=None, header=list(rosters.COLUMNS), rows=rows)  # type: ignore[arg-type]
    frame = byo.roster_frame(spark, [roster], ["left"], id_column="id", mapping=mapping)
    records = byo.roster_records(frame, mapping=mapping, date_format="%Y-%m-%d", key=key)
    from_roster = byo.linkage_input(spark, records).withColumn(
        "id", F.substring_index("record_token", ":", -1)
    )

    # The same rows as that case file in bronze, the roster id standing in for the case number.
    bronze = spark.createDataFrame(
        [
            (r["id"], r["ssn"], r["first"], r["last"], r["dob"], r["gender"], "f", i)
            for i, r in enumerate(rows)
        ],
        "case_number STRING, ssn STRING, first_name STRING, last_name STRING, dob STRING, gender STRING, "
        "_source_file STRING, _row_number INT",
    )
    person = build_person_records(family_identities("VR_CASES", bronze, key=key), key=key)
    from_silver = with_linkage_features(person, roots=nickname_roots(spark)).join(
        person.select("record_token", F.col("source_record_key").alias("id")), "record_token"
    )
    compared = [c for c in LINKAGE_COLUMNS if c not in ("record_token", "source")]  # named differently
    assert_df_equality(
        from_roster.select("id", *compared),
        from_silver.select("id", *compared),
        ignore_row_order=True,
        ignore_nullable=True,
    )

    def people(linkage, **kwargs) -> set[frozenset[str]]:
        """Resolve with the roster path's core; clusters as sets of roster ids."""
        ids = dict(linkage.select("record_token", "id").collect())
        resolution = byo.link(
            linkage.drop("id"), review_floor=0.2, max_cluster_size=80, train_max_pairs=1e5, link_only=False,
            **kwargs,
        )  # fmt: skip
        members: dict[str, set[str]] = {}
        for token, cluster in zip(*resolution.clusters.to_pydict().values(), strict=True):
            members.setdefault(cluster, set()).add(ids[token])
        return {frozenset(m) for m in members.values()}, resolution

    # The roster's model (trained on it by EM) and threshold, applied to both inputs.
    _, trained = people(from_roster, model=None, threshold=None)
    cut = trained.decision.match_probability
    from_silver = from_silver.select(*LINKAGE_COLUMNS, "id")
    roster_people, _ = people(from_roster, model=trained.model, threshold=cut)
    silver_people, _ = people(from_silver, model=trained.model, threshold=cut)
    assert roster_people == silver_people
    assert len(roster_people) < len(rows)  # some records were linked


@pytest.mark.slow
def test_each_noise_kind_is_linked(spark, tmp_path):
    """A clean roster and a copy in which every record carries exactly one kind of the generator's
    noise: `c2c link`, trained on the two files, links each kind and nothing false."""
    left, right, truth, kind_of = rosters.one_kind_each(len(rosters.NOISE_KINDS) * 40)
    cluster_of, _ = ours(left, right, tmp_path)
    found = cluster_pairs(cluster_of, across=True)
    assert not found - truth  # no false link
    for kind in rosters.NOISE_KINDS:
        pairs = {(a, b) for a, b in truth if kind_of[b] == kind}
        recall = len(pairs & found) / len(pairs)
        assert recall >= 0.9, (kind, recall, sorted(pairs - found)[:5])
