"""`c2c submit`: package the project and run the pipeline on a Spark cluster through spark-submit.

The spark-submit line is printed before it runs, so that a scheduler (cron, Airflow, a Databricks job)
can run the same line later; `--dry-run` only packages and prints.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from lakehouse.cluster import build_artifacts, find_spark_submit, spark_submit_argv
from lakehouse.cluster.command import check_master, parse_conf, settings_env_vars
from lakehouse.settings import Settings
from lakehouse.silver.tokens import check_pii_key


def main(
    settings: Settings,
    *,
    out: str | None = None,
    spark_submit: str | None = None,
    deploy_mode: str = "client",
    python: str | None = None,
    conf: list[str] | None = None,
    run_id: str | None = None,
    wheel: str | None = None,
    with_deps: bool = True,
    python_version: str | None = None,
    platform: str | None = None,
    dry_run: bool = False,
) -> int:
    """Package into `out` (default <var>/submit), print the spark-submit line, run it (unless
    `dry_run`) and return its exit status."""
    check_master(settings.spark.master, settings.env)
    if deploy_mode == "client" and not dry_run:
        # The driver runs here and tokenizes: a missing or weak key stops it before anything is built.
        check_pii_key(settings)
    submit = find_spark_submit(spark_submit)
    extra_conf = parse_conf(conf or [])
    conf_dir = Path(settings.conf_dir)
    target = Path(out).resolve() if out else settings.var_dir / "submit"
    artifacts = build_artifacts(
        conf_dir,
        target,
        wheel=Path(wheel).resolve() if wheel else None,
        with_deps=with_deps,
        python_version=python_version,
        platform=platform,
    )
    print(f"packaged for {settings.spark.master} in {artifacts.out}")
    print(f"  wheel:   {artifacts.wheel.name} (as {artifacts.py_files.name} for --py-files)")
    if artifacts.deps_archive is not None:
        size = artifacts.deps_archive.stat().st_size / 1e6
        state = "unchanged, reused" if artifacts.deps_reused else "packed"
        count = len(artifacts.deps)
        print(f"  deps:    {artifacts.deps_archive.name}: {count} distributions, {size:,.0f} MB ({state})")
    else:
        print("  deps:    none packed (--no-deps-archive: the cluster's Python must have them)")
    print(f"  conf:    {artifacts.conf_archive.name}, driver: {artifacts.driver.name}")

    secret = settings.pii.key_env
    names = settings_env_vars(conf_dir, settings.env)
    driver_env = {n: os.environ[n] for n in names if n in os.environ and n != secret}
    # Settings that only take effect when the driver JVM starts must be given to spark-submit.
    launch_conf = {k: v for k, v in settings.spark.conf.items() if k.startswith("spark.driver.")}
    argv = spark_submit_argv(
        spark_submit=submit,
        master=settings.spark.master,
        env=settings.env,
        app_name=settings.spark.app_name,
        artifacts=artifacts,
        deploy_mode=deploy_mode,
        python=python,
        conf={**launch_conf, **extra_conf},
        driver_env=driver_env if deploy_mode == "cluster" else None,
        c2c_args=["--run-id", run_id] if run_id else None,
    )
    print(f"  driver environment: {', '.join(names) or 'none'}; {secret} from your secret store")
    print("spark-submit line:")
    print(shlex.join(argv), flush=True)
    if dry_run:
        return 0
    status = subprocess.run(argv).returncode
    if status != 0:
        print(f"c2c: spark-submit exited with status {status}", file=sys.stderr)
    return status
