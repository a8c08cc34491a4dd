"""What looking for close names only for workers with no namesake costs and finds: the identity step's
own `link` run twice on the same silver records and the same model, once as lakehouse/identity/attach.py
attaches wage clusters by name (close names, in blocks of a first-name key and a last-name key, only
for a worker with no namesake that counts) and once with every worker's close names weighed, on every
generator profile. The two must attach the same clusters; the first should cost less.

    .venv/bin/python benchmarks/attach_blocking.py [--persons 10000] [--profiles default dirty mobile]
                                                   [--lake WORKDIR ...] [--keep DIR]

For each profile: generate a state of `--persons` people and run `c2c run`'s bronze, silver and
identity steps on an empty lake (identity trains and registers the model). `--lake WORKDIR` adds the
lake a `c2c run` left in that working directory (its `var/`), without generating. Each lake is linked
both ways and scored against the truth (pairwise and B-cubed); `attach_s` is the time of attaching
by name alone.

Last line per lake: `lake=<name> attached_<way>=... attach_s_<way>=... f1_<way>=...
bcubed_f1_<way>=...` for ways `namesakes_first` (the present one) and `every_worker`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from linkage import scores, settings_for, workdir_settings  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

from jobs import pipeline  # noqa: E402
from jobs.identity_job import link  # noqa: E402
from lakehouse.identity import registry, steps  # noqa: E402
from lakehouse.identity.evaluate import read_truth  # noqa: E402
from lakehouse.settings import Settings  # noqa: E402
from lakehouse.spark import build_spark  # noqa: E402
from lakehouse.storage import open_storage  # noqa: E402
from lakehouse.synth.generate import generate  # noqa: E402
from lakehouse.synth.profiles import PROFILES, with_profile  # noqa: E402
from lakehouse.tables import SILVER_PERSON_RECORDS  # noqa: E402

# attach_unique_names's `namesakes_first`, by the name of each way
WAYS = {"namesakes_first": True, "every_worker": False}
# The steps a lake needs for linking again: its silver records and a champion model.
LINK_STEPS = ("bronze", "silver", "identity")


def relink(spark: SparkSession, settings: Settings, namesakes_first: bool) -> dict[str, float]:
    """The identity step's `link` with the champion model, attaching by name with `namesakes_first`,
    scored; with the count and the seconds of the attachments."""
    timed: dict[str, float] = {}
    original = steps.attach_unique_names

    def timed_attach(*args, **kwargs) -> int:
        started = time.perf_counter()
        found = original(*args, **kwargs, namesakes_first=namesakes_first)
        timed["attach_s"], timed["attached"] = time.perf_counter() - started, found
        return found

    steps.attach_unique_names = timed_attach
    try:
        storage = open_storage(spark, settings)
        model = registry.load_champion(settings)[0]
        resolution = link(spark, settings, storage, model=model, as_of=datetime.now(UTC).date())
    finally:
        steps.attach_unique_names = original
    records = storage.read(SILVER_PERSON_RECORDS).select("source", "source_record_key", "record_token")
    clusters = resolution.clusters
    if not hasattr(clusters, "withColumnRenamed"):  # Arrow from the duckdb backend
        clusters = spark.createDataFrame(clusters.to_pandas())
    crosswalk = records.join(clusters.withColumnRenamed("cluster_id", "person_id"), "record_token")
    return {**timed, **scores(crosswalk, read_truth(spark, settings))}


def compare(spark: SparkSession, name: str, settings: Settings) -> None:
    line = {}
    for way, namesakes_first in WAYS.items():
        s = relink(spark, settings, namesakes_first)
        print(
            f"  {name} {way}: attached={s['attached']} attach_s={s['attach_s']:.1f} "
            f"precision={s['precision']:.4f} recall={s['recall']:.4f} f1={s['f1']:.4f} "
            f"bcubed_f1={s['bcubed_f1']:.4f}",
            flush=True,
        )
        line |= {f"attached_{way}": s["attached"], f"attach_s_{way}": round(s["attach_s"], 1)}
        line |= {f"f1_{way}": round(s["f1"], 4), f"bcubed_f1_{way}": round(s["bcubed_f1"], 4)}
    print(f"lake={name} " + " ".join(f"{k}={v}" for k, v in line.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--profiles", nargs="*", default=list(PROFILES), choices=list(PROFILES))
    parser.add_argument("--lake", nargs="*", default=[], help="c2c working directories to link again")
    parser.add_argument("--keep", help="work directory to keep (default: a temporary one, removed)")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="c2c-bench-attach-"))
    spark = build_spark(settings_for(root / "session"))
    try:
        for lake in args.lake:
            compare(spark, Path(lake).name, workdir_settings(Path(lake)))
        for profile in args.profiles:
            work = root / f"{profile}-{args.persons}"
            shutil.rmtree(work, ignore_errors=True)
            settings = settings_for(work)
            synth = with_profile(settings.synth, profile).model_copy(update={"persons": args.persons})
            generate(spark, synth, work / "raw")
            steps, pipeline.STEPS = pipeline.STEPS, tuple(s for s in pipeline.STEPS if s[0] in LINK_STEPS)
            try:
                pipeline.run(spark, settings, run_id=f"bench-{profile}", generate_if_empty=False)
            finally:
                pipeline.STEPS = steps
            compare(spark, f"{profile}-{args.persons}", settings)
    finally:
        spark.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
