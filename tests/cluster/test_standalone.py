"""`c2c submit` on a real Spark cluster: a standalone master and two 1-core workers on 127.0.0.1, started
from pip's pyspark distribution, run the whole pipeline; its gold tables must equal the local run's.

The local run is the session's shared `pipeline_run` (`c2c run` on a generated state of 3,000 people):
the cluster run lands the same raw folder, so the suite pays for one extra pipeline run, not two.

Storage: the Maven repository is unreachable here, so the delta-spark jars are absent and the cluster
run uses the delta-rs engine (C2C_STORAGE_ENGINE=delta-rs) on local paths. That works because driver
and executors share this machine's filesystem, as a real cluster's nodes share an object store; on a
real cluster conf/cluster.yml uses delta-spark.

Executors run a bare Python 3.11 (a venv with no packages at all), so every module they import comes
from what `c2c submit` ships: the project zip (--py-files) and the dependency archive (--archives).

Person ids are the HMAC of the PII key and the cluster's smallest record token (lakehouse/identity/
ids.py): two first runs over the same records with the same key issue the same ids. The cluster run
gets the local run's development key as C2C_PII_KEY, so the person-level tables are compared as they
are, not through the crosswalk (the crosswalk itself is compared too). Both runs take today as their run
date; a test that straddles midnight UTC could see different censoring.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chispa import assert_approx_df_equality
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.storage import Storage, open_storage
from lakehouse.tables import (
    GOLD_COHORT_MEMBERS,
    GOLD_COHORT_OUTCOMES,
    GOLD_METRIC_CELLS,
    GOLD_PERSON_TIMELINE,
    GOLD_PUBLISHED_CELLS,
    IDENTITY_CROSSWALK,
)
from tests.cluster.standalone import Standalone
from tests.conftest import make_settings
from tests.e2e import C2C

PERSON_FREE = (GOLD_METRIC_CELLS, GOLD_PUBLISHED_CELLS)
BY_PERSON = (GOLD_PERSON_TIMELINE, GOLD_COHORT_MEMBERS, GOLD_COHORT_OUTCOMES, IDENTITY_CROSSWALK)
# Sums of doubles may add up in another order on another partitioning: equal to this many decimals.
DECIMALS = 6


@pytest.fixture
def standalone(tmp_path):
    cluster = Standalone(tmp_path / "cluster")
    try:
        yield cluster.start(workers=2, worker_memory="2g")
    finally:
        cluster.stop()


@pytest.fixture
def bare_python(tmp_path) -> str:
    """A Python 3.11 with nothing installed: the executors' interpreter."""
    venv = tmp_path / "bare-python"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    probe = subprocess.run([python, "-c", "import pandas"], capture_output=True)
    assert probe.returncode != 0, "the bare interpreter must not find pandas by itself"
    return python


@pytest.mark.slow
@pytest.mark.timeout(2400)  # includes the shared pipeline_run when this test is the first to ask for it
def test_pipeline_submitted_to_a_standalone_cluster_equals_the_local_run(
    pipeline_run, standalone, bare_python, spark, tmp_path
):
    started = time.perf_counter()
    work = tmp_path / "cluster-run"
    work.mkdir()
    # Only the submit decides the interpreters: not the test session's PYSPARK_PYTHON.
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    env.update(
        {
            "C2C_SPARK_MASTER": standalone.master_url,
            "C2C_STORAGE_ENGINE": "delta-rs",
            "C2C_STORAGE_ROOT": str(work / "lake"),
            "C2C_RESTRICTED_ROOT": str(work / "restricted"),
            "C2C_RAW_ROOT": str(pipeline_run.var / "raw"),
            # The raw folder is the session's shared state: the cluster default (move) would empty it.
            "C2C_RAW_AFTER_LANDING": "keep",
            "C2C_VAR_DIR": str(work / "var"),
            "C2C_SHUFFLE_PARTITIONS": "2",
            "C2C_PII_KEY": (pipeline_run.var / "secrets" / "pii_dev.key").read_text().strip(),
            "SPARK_LOCAL_IP": "127.0.0.1",
        }
    )
    args = ["--env", "cluster", "submit", "--out", str(work / "submit"), "--python", bare_python]
    result = subprocess.run(
        [C2C, *args, "--run-id", "cluster-1"], cwd=work, env=env, capture_output=True, text=True, timeout=1500
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    print(f"\nc2c submit to the standalone cluster took {elapsed:.0f}s")

    line = result.stdout.split("spark-submit line:\n", 1)[1].splitlines()[0]
    assert f"--master {standalone.master_url} --deploy-mode client" in line
    assert "c2c_platform.zip" in line and ".tar.gz#deps" in line
    assert f"spark.pyspark.python={bare_python}" in line
    assert line.endswith("c2c_driver.py --env cluster run --run-id cluster-1")
    assert "identity:" in result.stdout and "gold:" in result.stdout

    # It ran on the cluster: the master saw the application finish, and Python ran on its executors.
    apps = standalone.state()["completedapps"]
    assert [(a["name"], a["state"]) for a in apps] == [("c2c", "FINISHED")]
    executor_logs = [p.read_text() for w in standalone.worker_dirs for p in w.glob("app-*/*/stderr")]
    assert len(executor_logs) >= 2 and any("PythonRunner" in log for log in executor_logs)

    report = json.loads((work / "var" / "runs" / "cluster-1" / "report.json").read_text())
    assert (report["status"], report["env"], report["engine"]) == ("succeeded", "cluster", "delta-rs")

    local = lake(spark, tmp_path / "read-local", pipeline_run.var / "lake", pipeline_run.var / "restricted")
    remote = lake(spark, tmp_path / "read-cluster", work / "lake", work / "restricted")
    for table in PERSON_FREE:
        expected, actual = comparable(local.read(table)), comparable(remote.read(table))
        assert expected.count() > 0, f"{table.fqn} is empty: the comparison would prove nothing"
        assert_approx_df_equality(actual, expected, 10**-DECIMALS, ignore_row_order=True)
    for table in BY_PERSON:
        expected, actual = comparable(local.read(table)), comparable(remote.read(table))
        assert expected.count() > 0, f"{table.fqn} is empty: the comparison would prove nothing"
        assert_same_rows(actual, expected, table.fqn)


def lake(spark, tmp: Path, root: Path, restricted: Path) -> Storage:
    """A reader of the lake under `root` (and its restricted zone)."""
    return open_storage(spark, make_settings(tmp, root=str(root), restricted_root=str(restricted)))


def comparable(df: DataFrame) -> DataFrame:
    """Without the run id (each run has its own); maps as sorted entry arrays, so rows can be sorted."""
    for f in df.schema.fields:
        if isinstance(f.dataType, T.MapType):
            df = df.withColumn(f.name, F.array_sort(F.map_entries(f.name)))
    return df.drop("run_id")


def assert_same_rows(actual: DataFrame, expected: DataFrame, name: str) -> None:
    """Equal as multisets of rows (exceptAll keeps duplicates), doubles rounded; computed in Spark,
    because the person-level tables are too large to compare row by row in Python."""

    def rounded(df: DataFrame) -> DataFrame:
        return df.select(
            [
                F.round(c, DECIMALS).alias(c) if isinstance(df.schema[c].dataType, T.DoubleType) else F.col(c)
                for c in df.columns
            ]
        )

    actual, expected = rounded(actual), rounded(expected)
    assert actual.columns == expected.columns, name
    missing, extra = expected.exceptAll(actual), actual.exceptAll(expected)
    missing_rows, extra_rows = missing.limit(5).collect(), extra.limit(5).collect()
    assert not missing_rows and not extra_rows, (
        f"{name}: {missing.count()} local rows are not in the cluster run's (e.g. {missing_rows}), "
        f"{extra.count()} cluster rows are not in the local run's (e.g. {extra_rows})"
    )
