"""One Spark session for the whole test run, built by lakehouse.spark with fast test settings."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Absolute: CLI tests start `c2c` in other working directories, where a relative path would not resolve.
os.environ["PYSPARK_PYTHON"] = os.path.abspath(os.environ.get("PYSPARK_PYTHON", sys.executable))

TEST_SPARK_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.driver.memory": "2g",
}


def make_settings(tmp: Path, **storage_overrides):
    """Local settings with every root under `tmp` (nothing leaks into ./var)."""
    from lakehouse.settings import load_settings

    storage = {
        "root": str(tmp / "lake"),
        "restricted_root": str(tmp / "restricted"),
        "raw_root": str(tmp / "raw"),
        **storage_overrides,
    }
    return load_settings(
        "local",
        ROOT / "conf",
        overrides={
            "spark": {
                "master": "local[2]",
                "conf": {
                    **TEST_SPARK_CONF,
                    "spark.local.dir": str(tmp / "spark-local"),
                    "spark.sql.warehouse.dir": str(tmp / "warehouse"),
                },
            },
            "storage": storage,
            "paths": {"var": str(tmp / "var")},
            "pii": {"dev_key_file": str(tmp / "secrets" / "pii_dev.key")},
        },
    )


# The files that take longest, in the order the worker processes of `make test` should take them (the rest
# follow in collection order: many short files, which even the two workers out at the end). With
# `--dist loadfile --no-loadscope-reorder` xdist hands out whole files in collection order, one to each
# worker, then the next file to a worker as soon as its current one has two tests or fewer left, so
# the third file waits behind the first. Seconds: rough durations on a quiet machine, two workers.
SCHEDULE = (
    # Worker 1: the shared `pipeline_run` (~240 s, made by the first test that asks for it), then the
    # cluster run (~400 s), the longest test.
    "tests/cluster/test_standalone.py",
    # Worker 2, while the shared run is made: files that do not need it (~6 min).
    "tests/jobs/test_run_failures.py",
    # Worker 1's second file, after the cluster test: half of the layer kill tests (~330 s).
    "tests/jobs/test_layers_identity_gold.py",
    "tests/jobs/test_maintenance.py",
    "tests/jobs/test_run_lock.py",
    "tests/storage/test_failures.py",
    "tests/synth/test_generate.py",
    "tests/sources/test_landing.py",
    # Worker 2 from about when the shared run is ready: the longest files that read it.
    "tests/jobs/test_layers.py",  # the silver kills and a lake from before manifests (~420 s)
    "tests/jobs/test_cli.py",  # generate, a corrupted state's run, re-runs (~400 s)
    "tests/identity/test_spark_backend.py",
    "tests/notebooks/test_notebooks.py",
    "tests/gold/test_gold_on_truth.py",
    "tests/site/test_browser.py",
    "tests/jobs/test_evaluate_cli.py",
    "tests/silver/test_person_records.py",
    "tests/privacy/test_leaks.py",
    # Then the longer of the files that do not need it.
    "tests/site/test_build.py",
    "tests/sources/test_scenarios.py",
    "tests/storage/test_contract.py",
    "tests/identity/test_link_cli.py",
    "tests/synth/test_profiles.py",
    "tests/storage/test_interop.py",
)


def pytest_collection_modifyitems(items):
    """Files in the order of SCHEDULE, then the others as collected: the longest first, so that the
    suite does not end with one worker on a long file while the other has nothing left; and files
    that do not need the shared run where a worker would otherwise wait for it."""
    rank = {path: n for n, path in enumerate(SCHEDULE)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(SCHEDULE)))


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("session")


@pytest.fixture(scope="session")
def spark(session_dir):
    from lakehouse.spark import build_spark

    settings = make_settings(session_dir)
    # with Splink's similarity jar on the classpath, so that tests can run identity.backend 'spark'
    identity = settings.identity.model_copy(update={"backend": "spark"})
    session = build_spark(settings.model_copy(update={"identity": identity}))
    yield session
    session.stop()


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


SYNTH_PERSONS = 2500


def synth_settings(**updates):
    from lakehouse.settings import load_settings

    return load_settings("local", ROOT / "conf").synth.model_copy(update=updates)


def _shared_dir(tmp_path_factory, worker_id) -> Path:
    """The test run's temporary folder that every worker process sees (each has its own below it)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def state(spark, tmp_path_factory, worker_id) -> Path:
    """A small generated state (2,500 people, seed 11), shared by every test that reads raw extracts.

    Generated once per test run, as `pipeline_run` is run: by the first worker to ask, under a file
    lock, while the others wait; tests read it and copy it before changing anything."""
    import fcntl

    from lakehouse.synth.generate import generate

    shared = _shared_dir(tmp_path_factory, worker_id)
    out, done = shared / "state", shared / "state.done"
    with (shared / "state.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)  # what a worker that failed while generating left
            generate(spark, synth_settings(persons=SYNTH_PERSONS, seed=11), out)
            done.touch()
    return out


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory, worker_id):
    """`c2c run` once on the embedded default, in its own working directory (see tests/e2e.py).

    Once per test run, not once per worker: the suite runs in parallel processes (pytest-xdist), and
    the first worker to ask runs it under a file lock in the run's shared temporary folder while the
    others wait, then read what it left. Tests treat the folder as read-only (a test that writes,
    such as a re-run or `c2c publish`, works on a copy of its `var`)."""
    import fcntl
    import json
    import subprocess

    from tests.e2e import PipelineRun, c2c

    shared = _shared_dir(tmp_path_factory, worker_id)
    workdir = shared / "pipeline"
    done = shared / "pipeline.json"
    with (shared / "pipeline.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            workdir.mkdir()
            # Spark's event log, as an operator's cluster keeps it for the History Server: every query
            # plan of the run, which the privacy tests search for the PII key (tests/privacy/test_leaks.py).
            spark_conf = workdir / "spark-conf"
            spark_conf.mkdir()
            (spark_conf / "spark-defaults.conf").write_text(
                f"spark.eventLog.enabled true\nspark.eventLog.dir file://{workdir / 'eventlog'}\n"
            )
            (workdir / "eventlog").mkdir()
            ran = c2c("run", "--run-id", "r-1", cwd=workdir, env={"SPARK_CONF_DIR": str(spark_conf)})
            done.write_text(
                json.dumps({"returncode": ran.returncode, "stdout": ran.stdout, "stderr": ran.stderr})
            )
    outcome = json.loads(done.read_text())
    result = subprocess.CompletedProcess(
        ["c2c", "run"], outcome["returncode"], outcome["stdout"], outcome["stderr"]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return PipelineRun(workdir=workdir, run_id="r-1", result=result)
