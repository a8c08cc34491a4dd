"""`c2c link` against an untuned Splink model on researcher rosters built with the generator's noise
(lakehouse/synth/rosters.py), for every generator profile: two files linked, and one file with
duplicates. Both sides get the same files; pairwise precision, recall and F1 are taken on the pairs
the clusters imply (across the files, for two files).

    .venv/bin/python benchmarks/link_rosters.py [--persons 2000] [--profiles default,dirty,mobile]

Last line: `min_f1=<lowest of ours> min_margin=<lowest ours minus baseline F1>`.
"""

from __future__ import annotations

import argparse
import csv
import logging
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from lakehouse.synth import rosters
from lakehouse.synth.profiles import PROFILES

BASELINE_THRESHOLD = 0.95  # the untuned model's cut, as a new user would leave it


def write(rows: list[dict[str, str]], path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rosters.COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def cluster_pairs(cluster_of: dict[str, str], *, across: bool) -> set[tuple[str, str]]:
    """Pairs of ids in one cluster (sorted); with `across`, only pairs of an 'A' id and a 'B' id."""
    members = defaultdict(list)
    for key, cluster in cluster_of.items():
        members[cluster].append(key)
    pairs = set()
    for keys in members.values():
        keys.sort()
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                if not across or (a[0] == "A" and b[0] == "B"):
                    pairs.add((a, b))
    return pairs


def scores(found: set, truth: set) -> dict[str, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def baseline(left: list[dict], right: list[dict] | None) -> dict[str, str]:
    """An untuned Splink model on the raw columns: library comparisons with their default levels,
    simple blocking, the prior from exact agreement, u by random sampling, m by EM. Returns id -> cluster."""
    import duckdb
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    settings = SettingsCreator(
        link_type="link_only" if right is not None else "dedupe_only",
        unique_id_column_name="id",
        comparisons=[
            cl.NameComparison("first"),
            cl.NameComparison("last"),
            cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d"),
            cl.ExactMatch("gender"),
            cl.ExactMatch("zip"),
            cl.ExactMatch("ssn"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first", "last"),
            block_on("dob"),
            block_on("ssn"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )

    def frame(rows: list[dict]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=list(rosters.COLUMNS)).replace("", None)

    con = duckdb.connect()
    db_api = DuckDBAPI(con)
    tables = [db_api.register(frame(left), dataset_display_name="left_roster")]
    if right is not None:
        tables.append(db_api.register(frame(right), dataset_display_name="right_roster"))
    linker = Linker(tables if right is not None else tables[0], settings, log_level=logging.ERROR)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("first", "last", "dob"), block_on("ssn", "dob")], recall=0.7
    )
    training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    training.estimate_parameters_using_expectation_maximisation(block_on("first", "last"))
    training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    predictions = linker.inference.predict(threshold_match_probability=BASELINE_THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=BASELINE_THRESHOLD
    )
    out = dict(con.sql(f"SELECT id, cluster_id FROM {clusters.physical_name}").fetchall())
    con.close()
    return out


def ours(left: list[dict], right: list[dict] | None, folder: Path) -> tuple[dict[str, str], dict]:
    """`c2c link` (trained on the files) -> (id -> cluster, summary.json)."""
    import json

    from jobs import cli

    args = ["link", "--left", str(write(left, folder / "left.csv")), "--id", "id", "--map", rosters.MAP]
    if right is not None:
        args += ["--right", str(write(right, folder / "right.csv"))]
    args += ["--out", str(folder / "out"), "--force"]
    if cli.main(args) != 0:
        raise RuntimeError("c2c link failed")
    with (folder / "out" / "clusters.csv").open(newline="") as handle:
        cluster_of = {row["id"]: row["cluster_id"] for row in csv.DictReader(handle)}
    return cluster_of, json.loads((folder / "out" / "summary.json").read_text())


def compare(kind: str, profile: str, persons: int, folder: Path) -> dict[str, float]:
    """Ours and the baseline on one roster set: F1 of each, and seconds."""
    if kind == "two_files":
        left, right, truth = rosters.two_files(persons, profile=profile)
    else:
        left, truth_ids = rosters.one_file(persons, profile=profile)
        right, truth = None, rosters.true_pairs(truth_ids)
    started = time.perf_counter()
    mine, summary = ours(left, right, folder)
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    theirs = baseline(left, right)
    base_seconds = time.perf_counter() - started
    across = right is not None
    got, base = (
        scores(cluster_pairs(mine, across=across), truth),
        scores(cluster_pairs(theirs, across=across), truth),
    )
    return {
        **{f"ours_{k}": v for k, v in got.items()},
        **{f"base_{k}": v for k, v in base.items()},
        "expected_precision": summary["expected"]["precision"] or 0.0,
        "expected_recall": summary["expected"]["recall"] or 0.0,
        "ours_seconds": ours_seconds,
        "base_seconds": base_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--profiles", default=",".join(PROFILES))
    args = parser.parse_args()
    results = []
    print("profile  kind        ours P/R/F1              baseline P/R/F1          expected P/R    seconds")
    with tempfile.TemporaryDirectory() as tmp:
        for profile in args.profiles.split(","):
            for kind in ("two_files", "one_file"):
                r = compare(kind, profile, args.persons, Path(tmp))
                results.append(r)
                print(
                    f"{profile:8} {kind:10}"
                    f"  {r['ours_precision']:.4f}/{r['ours_recall']:.4f}/{r['ours_f1']:.4f}"
                    f"  {r['base_precision']:.4f}/{r['base_recall']:.4f}/{r['base_f1']:.4f}"
                    f"  {r['expected_precision']:.3f}/{r['expected_recall']:.3f}"
                    f"  {r['ours_seconds']:.1f}/{r['base_seconds']:.1f}",
                    flush=True,
                )
    min_f1 = min(r["ours_f1"] for r in results)
    min_margin = min(r["ours_f1"] - r["base_f1"] for r in results)
    print(f"min_f1={min_f1:.4f} min_margin={min_margin:+.4f}")


if __name__ == "__main__":
    main()
