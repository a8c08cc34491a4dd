"""Chaining guards: suspect clusters are split at their weakest probabilistic bridges."""

from __future__ import annotations

from lakehouse.identity.guards import Edge, apply_guards, bridges, components, is_suspect, split_suspect


def test_components_and_bridges_of_a_small_graph():
    # a-b-c is a triangle; c-d and d-e hang off it: those two are bridges.
    edges = [
        Edge("a", "b", 0.99, "probabilistic"),
        Edge("b", "c", 0.99, "probabilistic"),
        Edge("a", "c", 0.99, "probabilistic"),
        Edge("c", "d", 0.91, "probabilistic"),
        Edge("d", "e", 0.95, "probabilistic"),
    ]
    assert components(["a", "b", "c", "d", "e", "f"], edges) == [["a", "b", "c", "d", "e"], ["f"]]
    assert sorted((e.left, e.right) for e in bridges(list("abcde"), edges)) == [("c", "d"), ("d", "e")]


def test_two_strong_identities_that_contradict_make_a_cluster_suspect():
    facts = {"a": ("ssn1", "2001-01-01"), "b": ("ssn1", None), "c": ("ssn2", "1990-05-05")}
    assert is_suspect(["a", "b", "c"], facts, max_size=10)
    assert not is_suspect(["a", "b"], facts, max_size=10)
    assert is_suspect(["a", "b"], facts, max_size=1)  # larger than any one person's records


def test_a_chain_is_cut_at_its_weakest_probabilistic_bridge_and_reported():
    # Person 1 (a, b: same SSN) and person 2 (c, d: same SSN) chained by one weak name-only link.
    facts = {
        "a": ("s1", "2001-01-01"),
        "b": ("s1", "2001-01-01"),
        "c": ("s2", "1980-02-02"),
        "d": ("s2", None),
    }
    edges = [
        Edge("a", "b", 1.0, "deterministic"),
        Edge("b", "c", 0.93, "probabilistic"),
        Edge("c", "d", 1.0, "deterministic"),
    ]
    parts, broken, clean = split_suspect(list("abcd"), edges, facts, max_size=10)
    assert (parts, [(e.left, e.right) for e in broken], clean) == (
        [["a", "b"], ["c", "d"]],
        [("b", "c")],
        True,
    )

    moved, report = apply_guards([(t, "a") for t in "abcd"], edges, facts, max_size=10)
    assert moved == {"c": "a~c", "d": "a~c"}
    assert report == {
        "suspect_clusters": 1,
        "links_broken": [{"record_token_l": "b", "record_token_r": "c", "match_probability": 0.93}],
        "unresolved": [],
    }


def test_deterministic_links_are_never_broken():
    facts = {"a": ("s1", "2001-01-01"), "b": ("s2", "1980-02-02")}
    edges = [Edge("a", "b", 1.0, "deterministic")]  # e.g. one SSID given to two people
    parts, broken, clean = split_suspect(["a", "b"], edges, facts, max_size=10)
    assert (parts, broken, clean) == ([["a", "b"]], [], False)
    _, report = apply_guards([("a", "a"), ("b", "a")], edges, facts, max_size=10)
    assert report["unresolved"] == [{"cluster_id": "a", "records": 2}]


def test_name_only_records_attach_to_the_one_cluster_with_their_name():
    import duckdb

    from lakehouse.identity.link import attach_unique_names

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE linkage_input (record_token VARCHAR, first_name VARCHAR, last_name VARCHAR, "
        "birth_date VARCHAR, ssn_token VARCHAR, ssid VARCHAR, seid VARCHAR, cin VARCHAR)"
    )
    con.execute(
        """INSERT INTO linkage_input VALUES
        ('k1', 'ANA', 'RUIZ', '2001-01-01', NULL, 'S1', NULL, NULL),   -- K-12 record of Ana Ruiz
        ('w1', 'ANA', 'RUIZ', NULL, NULL, NULL, NULL, NULL),           -- her wage record, no SSN
        ('k2', 'JOSE', 'CRUZ', '2000-02-02', NULL, 'S2', NULL, NULL),  -- two Jose Cruz:
        ('k3', 'JOSE', 'CRUZ', '1999-03-03', NULL, 'S3', NULL, NULL),
        ('w2', 'JOSE', 'CRUZ', NULL, NULL, NULL, NULL, NULL),          -- ambiguous: stays alone
        ('w3', 'LI', 'WANG', NULL, NULL, NULL, NULL, NULL)             -- no candidate"""
    )
    con.execute("CREATE TABLE clusters AS SELECT record_token, record_token AS cluster_id FROM linkage_input")
    con.execute(
        "CREATE TABLE pairs (record_token_l VARCHAR, record_token_r VARCHAR, match_probability DOUBLE, "
        "method VARCHAR)"
    )
    con.execute("INSERT INTO pairs VALUES ('k1', 'w1', 0.4, 'below_threshold')")
    assert attach_unique_names(con) == 1
    clusters = dict(con.execute("SELECT record_token, cluster_id FROM clusters").fetchall())
    assert clusters == {"k1": "k1", "w1": "k1", "k2": "k2", "k3": "k3", "w2": "w2", "w3": "w3"}
    assert con.execute("SELECT * FROM pairs").fetchall() == [("k1", "w1", None, "unique_name")]
