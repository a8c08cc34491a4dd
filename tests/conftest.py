"""One Spark session for the whole test run, built by lakehouse.spark with fast test settings."""

from __future__ import annotations

import os
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


def pytest_collection_modifyitems(items):
    """The standalone-cluster test first: it is the longest, and with the suite split over worker
    processes by file (`make test`), a long file taken last by one worker is the suite's tail."""
    items.sort(key=lambda item: 0 if item.nodeid.startswith("tests/cluster/") else 1)


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


@pytest.fixture(scope="session")
def state(spark, tmp_path_factory) -> Path:
    """A small generated state (2,500 people, seed 11), shared by every test that reads raw extracts."""
    from lakehouse.synth.generate import generate

    out = tmp_path_factory.mktemp("state")
    generate(spark, synth_settings(persons=SYNTH_PERSONS, seed=11), out)
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

    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
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
