"""What a blocking rule costs and what it finds: candidate pairs per rule, and linkage quality with and
without a rule, on every generator profile, against the untuned baseline on the same records.

    .venv/bin/python benchmarks/blocking.py [--persons 10000] [--profiles default dirty mobile]
                                            [--rule "first_name,last_name"] [--keep DIR]
    .venv/bin/python benchmarks/blocking.py --count WORKDIR [--rule ...]

For each profile: `benchmarks/linkage.py`'s measurement (generate, `c2c run` on an empty lake, which
trains the model with the blocking rules in lakehouse/identity/model.py, then the untuned Splink
baseline), then the same trained model links the same silver records twice more through the identity
step's own `link`: once with the model's blocking rules without `--rule` ("without_rule") and once
with it ("with_rule"), so the two differ by that rule alone. Each is scored against the truth, and the
distinct candidate pairs of both rule sets are counted on the linkage input (DuckDB).

`--count WORKDIR` only counts the candidate pairs, per rule and in all, on a lake a `c2c run` left
(`WORKDIR/var/lake` and `WORKDIR/var/restricted`), with the model's rules and `--rule`: how a rule
grows with the population, without linking.

Last line: `pairs_without_rule_<p>=... f1_without_rule_<p>=... pairs_with_rule_<p>=...
f1_with_rule_<p>=... f1_baseline_<p>=...` per profile.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from linkage import measure, scores, settings_for, workdir_settings  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

from jobs.identity_job import _activity, link  # noqa: E402
from lakehouse.identity import registry  # noqa: E402
from lakehouse.identity.evaluate import read_truth  # noqa: E402
from lakehouse.identity.features import nickname_roots, with_linkage_features  # noqa: E402
from lakehouse.identity.model import PREDICTION_BLOCKING  # noqa: E402
from lakehouse.settings import Settings  # noqa: E402
from lakehouse.spark import build_spark  # noqa: E402
from lakehouse.storage import open_storage  # noqa: E402
from lakehouse.synth.profiles import PROFILES  # noqa: E402
from lakehouse.tables import SILVER_PERSON_RECORDS  # noqa: E402


def rule_sql(columns: str) -> str:
    """'first_name,last_name' -> the equi-join Splink's `block_on` writes for those columns."""
    return " AND ".join(f'(l."{c.strip()}" = r."{c.strip()}")' for c in columns.split(","))


def model_rules() -> list[str]:
    return [rule.get_blocking_rule("duckdb").blocking_rule_sql for rule in _as_rules(PREDICTION_BLOCKING)]


def _as_rules(rules) -> list:
    from splink.internals.blocking_rule_creator_utils import to_blocking_rule_creator

    return [to_blocking_rule_creator(r) for r in rules]


def count_pairs(spark: SparkSession, settings: Settings, rules: list[str]) -> dict[str, int]:
    """Distinct candidate pairs of each rule and of all of them, on the linkage input of the lake."""
    import duckdb

    storage = open_storage(spark, settings)
    features = with_linkage_features(
        storage.read(SILVER_PERSON_RECORDS), roots=nickname_roots(spark), **_activity(storage)
    )
    columns = sorted({c for rule in rules for c in re.findall(r'\b[lr]\."?(\w+)"?', rule)})
    con = duckdb.connect()
    con.register("input_arrow", features.select("record_token", *columns).toArrow())
    con.execute("CREATE TABLE input AS SELECT * FROM input_arrow")
    selects = [
        f"SELECT l.record_token AS a, r.record_token AS b FROM input l JOIN input r "
        f"ON {rule} AND l.record_token < r.record_token"
        for rule in rules
    ]
    counts = {
        rule: con.sql(f"SELECT count(*) FROM ({s})").fetchall()[0][0]
        for rule, s in zip(rules, selects, strict=True)
    }
    counts["all"] = con.sql(f"SELECT count(*) FROM ({' UNION '.join(selects)})").fetchall()[0][0]
    counts["records"] = con.sql("SELECT count(*) FROM input").fetchall()[0][0]
    con.close()
    return counts


def relink(spark: SparkSession, settings: Settings, model: dict, rules: list[str]) -> dict[str, float]:
    """The identity step's `link` with `model`'s m and u and `rules` as its blocking, scored."""
    storage = open_storage(spark, settings)
    variant = {
        **model,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": r, "sql_dialect": "duckdb"} for r in rules
        ],
    }
    resolution = link(spark, settings, storage, model=variant, as_of=datetime.now(UTC).date())
    records = storage.read(SILVER_PERSON_RECORDS).select("source", "source_record_key", "record_token")
    clusters = resolution.clusters
    if not hasattr(clusters, "withColumnRenamed"):  # Arrow from the duckdb backend
        clusters = spark.createDataFrame(clusters.to_pandas())
    crosswalk = records.join(clusters.withColumnRenamed("cluster_id", "person_id"), "record_token")
    return scores(crosswalk, read_truth(spark, settings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES), choices=list(PROFILES))
    parser.add_argument("--rule", default="first_name,last_name", help="columns of the rule to add")
    parser.add_argument("--keep", help="work directory to keep (default: a temporary one, removed)")
    parser.add_argument(
        "--count", help="only count candidate pairs on the lake of this c2c working directory"
    )
    args = parser.parse_args()
    rules = model_rules()
    extra = rule_sql(args.rule)
    with_rule = rules if extra in rules else [*rules, extra]
    without = [r for r in rules if r != extra]
    if args.count:
        work = Path(args.count)
        settings = workdir_settings(work)
        spark = build_spark(settings)
        counts = count_pairs(spark, settings, with_rule)
        print(f"records={counts.pop('records')} all_with_rule={counts.pop('all')}")
        print(f"all_without_rule={count_pairs(spark, settings, without)['all']}")
        for rule, n in counts.items():
            print(f"{n:>12,}  {rule}")
        spark.stop()
        return
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="c2c-bench-blocking-"))
    spark = build_spark(settings_for(root / "session"))
    last: dict[str, float] = {}
    try:
        for profile in args.profiles:
            work = root / f"{profile}-{args.persons}"
            shutil.rmtree(work, ignore_errors=True)
            print(f"profile={profile}", end=" ", flush=True)
            measured = measure(spark, work, args.persons, profile=profile)
            settings = settings_for(work)
            model = registry.load_champion(settings)[0]
            for name, variant in (("without_rule", without), ("with_rule", with_rule)):
                pairs = count_pairs(spark, settings, variant)["all"]
                s = relink(spark, settings, model, variant)
                print(
                    f"  {name}: candidate_pairs={pairs} precision={s['precision']:.4f} "
                    f"recall={s['recall']:.4f} f1={s['f1']:.4f} bcubed_f1={s['bcubed_f1']:.4f}",
                    flush=True,
                )
                last[f"pairs_{name}_{profile}"] = pairs
                last[f"f1_{name}_{profile}"] = s["f1"]
            last[f"f1_baseline_{profile}"] = measured["baseline_f1"]
    finally:
        spark.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(" ".join(f"{k}={v if isinstance(v, int) else f'{v:.4f}'}" for k, v in last.items()))


if __name__ == "__main__":
    main()
