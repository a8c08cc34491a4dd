"""The `c2c` console script: one entry point for every job. No transform logic lives here."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

from lakehouse.errors import C2CError
from lakehouse.settings import ENV_VAR, Settings, load_settings

if TYPE_CHECKING:
    from jobs.run_record import RunFailed


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid4().hex[:6]}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c2c", description="Statewide cradle-to-career data platform")
    parser.add_argument("--env", help=f"settings overlay in conf/ (default: ${ENV_VAR} or 'local')")
    parser.add_argument("--conf-dir", help="settings directory (default: the repository's conf/)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the main pipeline on the configured environment")
    run.add_argument("--run-id", help="re-use a run id to re-run its steps idempotently")
    run.add_argument("--raw", help="raw root to land (default: storage.raw_root, var/raw locally)")
    run.add_argument(
        "--quiet", action="store_true", help="print no summary (errors and warnings still go to stderr)"
    )
    run.add_argument("--debug", action="store_true", help="on a failure, print the traceback here too")

    submit = sub.add_parser(
        "submit", help="package the project and run the pipeline on a Spark cluster (spark-submit)"
    )
    submit.add_argument("--run-id", help="run id passed to `c2c run` on the driver")
    submit.add_argument("--out", help="artifacts folder (default: <var>/submit)")
    submit.add_argument("--deploy-mode", choices=("client", "cluster"), default="client")
    submit.add_argument("--python", help="executors' Python (spark.pyspark.python; default: the cluster's)")
    submit.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark conf")
    submit.add_argument("--spark-submit", help="spark-submit to use (default: $SPARK_HOME/bin, PATH)")
    submit.add_argument("--wheel", help="use this built c2c_platform wheel instead of building one")
    submit.add_argument(
        "--no-deps-archive",
        dest="with_deps",
        action="store_false",
        help="ship no dependencies (the cluster's Python has them, e.g. a container image)",
    )
    submit.add_argument("--python-version", help="pack dependencies for this Python (e.g. 3.12) via pip")
    submit.add_argument("--platform", help="pack dependencies for this platform (e.g. manylinux2014_x86_64)")
    submit.add_argument("--dry-run", action="store_true", help="package and print the line, do not submit")

    gen = sub.add_parser("generate", help="write a synthetic state's 15 agency extracts and ground truth")
    gen.add_argument("--persons", type=int, help="people to simulate (default: synth.persons)")
    gen.add_argument("--seed", type=int, help="random seed (default: synth.seed)")
    gen.add_argument(
        "--profile",
        default="default",
        help="world to simulate: default, dirty (three times the identity noise, impossible birth dates) "
        "or mobile (commuters and movers between counties)",
    )
    gen.add_argument("--out", help="output folder (default: storage.raw_root, var/raw locally)")
    gen.add_argument("--first-year", type=int, help="first academic year of data (default: synth.first_year)")
    gen.add_argument("--last-year", type=int, help="last academic year of data (default: synth.last_year)")
    gen.add_argument(
        "--corrupt-rate",
        type=float,
        default=0.0,
        help="share of data lines to corrupt, plus one duplicated file and one encoding error",
    )

    train = sub.add_parser("train-linkage", help="train the linkage model on silver, log and register it")
    train.add_argument("--promote", action="store_true", help="make the new version the champion")

    evaluate = sub.add_parser(
        "evaluate", help="score the lake's identity against a synthetic state's truth (<raw>/_truth/)"
    )
    evaluate.add_argument(
        "--run-id", help="run id to file the evaluation under (default: the run that committed the identity)"
    )
    evaluate.add_argument(
        "--raw", help="raw root holding the truth (default: storage.raw_root, var/raw locally)"
    )

    link = sub.add_parser("link", help="link two person files (or deduplicate one), training on them")
    link.add_argument("--left", required=True, help="CSV file with a header line")
    link.add_argument("--right", help="second CSV file (omit to deduplicate --left)")
    link.add_argument("--id", required=True, dest="id_column", help="column holding each row's unique id")
    link.add_argument(
        "--map",
        required=True,
        dest="mapping",
        help="column=role,... with roles given_name, family_name, birth_date, ssn, gender, street, city, "
        "zip, state",
    )
    link.add_argument("--date-format", default="%Y-%m-%d", help="strftime format of birth dates")
    link.add_argument(
        "--out",
        required=True,
        help="new or empty folder for pairs.csv, clusters.csv and summary.json (files 0600, folder 0700)",
    )
    link.add_argument(
        "--carry",
        metavar="COLUMN,...",
        help="input columns to copy into clusters.csv beside the id (default: none; not the ssn column)",
    )
    link.add_argument("--force", action="store_true", help="replace a previous c2c link output in --out")
    link.add_argument(
        "--model",
        metavar="champion|VERSION",
        help="score with a registered model (default: train a model on the files by EM)",
    )
    link.add_argument(
        "--threshold",
        type=float,
        help="match probability at or above which pairs are matches and cluster (default: the one with the "
        "best expected F1 under the fitted model)",
    )
    link.add_argument(
        "--review-floor",
        type=float,
        help="lowest match probability kept in pairs.csv for review (default: identity.review_floor)",
    )

    tables = sub.add_parser("tables", help="list every registered table: path, engine, version, rows")
    tables.add_argument("--json", action="store_true", help="print JSON instead of a text table")

    publish = sub.add_parser("publish", help="build the static public dashboard from the published tables")
    publish.add_argument(
        "--out",
        help="site folder (default: <var>/site, beside the published tables); new, empty or a site it built",
    )
    _maintenance_commands(sub)
    return parser


def _maintenance_commands(sub) -> None:
    """`c2c quarantine` and `c2c vacuum` (jobs/maintenance_job.py)."""
    quarantine = sub.add_parser(
        "quarantine", help="landed files with unparsed rows: list them, release or exclude one"
    )
    action = quarantine.add_subparsers(dest="action", required=True, metavar="ACTION")
    action.add_parser("list", help="files with unparsed rows, those blocking the raw->bronze gate, decisions")
    for name, text in (
        ("release", "accept a file's parsed rows: the raw->bronze gate no longer judges the file"),
        ("exclude", "drop a file's rows from bronze: silver and the raw->bronze gate no longer see them"),
    ):
        decide = action.add_parser(name, help=text)
        decide.add_argument(
            "file", metavar="FILE", help="the file as bronze.files names it (under the raw root)"
        )
        decide.add_argument(
            "--reason", required=True, help="why (recorded with the decision; no row contents)"
        )
        decide.add_argument("--by", help="who decides (default: the operating system's user)")
    vacuum = sub.add_parser(
        "vacuum", help="remove staging leftovers of dead runs and Delta data files no version in use reads"
    )
    vacuum.add_argument(
        "--older-than", default="7d", help="keep what versions younger than this read: 7d, 36h (default 7d)"
    )
    vacuum.add_argument("--dry-run", action="store_true", help="print what would be removed, remove nothing")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        raw = getattr(args, "raw", None)
        if raw and not Path(raw).is_dir():
            raise C2CError(f"--raw {raw}: no such directory (it should hold the agency extract folders)")
        overrides = {"storage": {"raw_root": str(Path(raw).resolve())}} if raw else None
        settings = load_settings(args.env, args.conf_dir, overrides=overrides)
        if args.command == "run":
            from jobs import pipeline, run_record

            try:
                # Only the configured raw root is filled with a synthetic state when empty, never --raw.
                return pipeline.main(
                    settings, run_id=args.run_id or new_run_id(), generate_if_empty=not raw, quiet=args.quiet
                )
            except run_record.RunFailed as failed:
                if args.debug:
                    print(failed.details, file=sys.stderr, end="")
                print(failure_line(failed, settings), file=sys.stderr)
                return 1
        if args.command == "submit":
            from jobs import submit_job

            return submit_job.main(
                settings,
                out=args.out,
                spark_submit=args.spark_submit,
                deploy_mode=args.deploy_mode,
                python=args.python,
                conf=args.conf,
                run_id=args.run_id,
                wheel=args.wheel,
                with_deps=args.with_deps,
                python_version=args.python_version,
                platform=args.platform,
                dry_run=args.dry_run,
            )
        if args.command == "generate":
            from jobs import generate_job

            return generate_job.main(
                settings,
                persons=args.persons,
                seed=args.seed,
                profile=args.profile,
                out=args.out,
                first_year=args.first_year,
                last_year=args.last_year,
                corrupt_rate=args.corrupt_rate,
            )
        if args.command == "train-linkage":
            from jobs import identity_job

            return identity_job.train_main(settings, promote=args.promote)
        if args.command == "evaluate":
            from jobs import evaluate_job

            return evaluate_job.main(settings, run_id=args.run_id)
        if args.command == "link":
            from jobs import link_job

            return link_job.main(
                settings,
                left=args.left,
                right=args.right,
                id_column=args.id_column,
                mapping=args.mapping,
                date_format=args.date_format,
                out=args.out,
                carry=args.carry,
                force=args.force,
                model=args.model,
                threshold=args.threshold,
                review_floor=args.review_floor,
            )
        if args.command == "tables":
            from jobs import tables_job

            return tables_job.main(settings, as_json=args.json)
        if args.command == "publish":
            from jobs import publish_job

            return publish_job.main(settings, out=args.out)
        if args.command in ("quarantine", "vacuum"):
            from jobs import maintenance_job

            if args.command == "vacuum":
                return maintenance_job.vacuum_main(settings, older_than=args.older_than, dry_run=args.dry_run)
            if args.action == "list":
                return maintenance_job.quarantine_list(settings)
            return maintenance_job.quarantine_decide(
                settings, args.action, args.file, reason=args.reason, by=args.by
            )
    except C2CError as exc:
        if getattr(args, "debug", False):
            traceback.print_exception(exc, file=sys.stderr)
        print(f"c2c: error: {exc}", file=sys.stderr)
        return 2
    return 1


def failure_line(failed: RunFailed, settings: Settings) -> str:
    """The one line a failed `c2c run` prints: the step, what ran out or broke, what fixes it, and where
    the traceback is. Failures with a known remedy are named by it; others by class and message."""
    conf, text = _shown(Path(settings.conf_dir) / f"{settings.env}.yml"), failed.details
    where = f"; traceback in {_shown(failed.log)}"
    spark_conf = f"under spark: conf: in {conf}"
    if "maxResultSize" in text:
        what = "Spark driver result too large (spark.driver.maxResultSize)"
        fix = f"raise spark.driver.maxResultSize {spark_conf}"
        if failed.step == "identity" and settings.identity.backend != "spark":
            fix += ", or set identity.backend: spark"
    elif re.search(r"OutOfMemoryError|Java heap space|GC overhead limit exceeded", text):
        what = "Java ran out of memory (java.lang.OutOfMemoryError)"
        fix = f"raise spark.driver.memory (on a cluster also spark.executor.memory) {spark_conf}"
    elif "No space left on device" in text:
        what = "a disk is full (No space left on device)"
        fix = (
            f"free space on the disks of the lake ({settings.storage.root}), {settings.var_dir} and Spark's "
            f"scratch folder (spark.local.dir {spark_conf}), or move them to a larger disk"
        )
    elif "JAVA_GATEWAY_EXITED" in text and not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        what = "Java not found (Spark needs Java 17)"
        fix = "install it (make system-deps, or apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
    else:
        return f"c2c run failed in {failed.step}: {failed.error_class}: {failed.message}{where}"
    return f"c2c run failed in {failed.step}: {what} — {fix}{where}"


def _shown(path: Path) -> str:
    """A path as an operator types it: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def print_json(obj: object) -> None:
    print(json.dumps(obj, indent=2, default=str))


if __name__ == "__main__":
    sys.exit(main())
