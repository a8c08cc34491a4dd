"""`c2c submit` without a cluster: refused inputs, the packed dependencies, the driver script, the line."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from jobs.cli import main
from lakehouse.cluster import Artifacts, SubmitError, build_artifacts, find_spark_submit, spark_submit_argv
from lakehouse.cluster.command import parse_conf, settings_env_vars
from lakehouse.cluster.package import PackagingError, installed_closure, pack_dependencies
from tests.conftest import ROOT

CLUSTER_ENV = {
    "C2C_SPARK_MASTER": "spark://127.0.0.1:7077",
    "C2C_STORAGE_ROOT": "/lake",
    "C2C_RESTRICTED_ROOT": "/restricted",
    "C2C_RAW_ROOT": "/raw",
}


@pytest.fixture
def cluster_env(monkeypatch):
    for name, value in CLUSTER_ENV.items():
        monkeypatch.setenv(name, value)


def test_a_local_master_is_refused_with_status_2(capsys):
    assert main(["--env", "local", "submit", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "spark.master is 'local[*]' in env 'local', not a cluster master URL" in err
    assert "C2C_SPARK_MASTER=spark://host:7077" in err


def test_an_unset_master_variable_is_refused_with_status_2(cluster_env, monkeypatch, capsys):
    monkeypatch.delenv("C2C_SPARK_MASTER")
    assert main(["--env", "cluster", "submit", "--dry-run"]) == 2
    assert "spark.master: environment variable C2C_SPARK_MASTER is not set" in capsys.readouterr().err


def test_a_missing_spark_submit_is_refused_with_status_2(cluster_env, capsys, tmp_path):
    missing = str(tmp_path / "no" / "spark-submit")
    assert main(["--env", "cluster", "submit", "--spark-submit", missing, "--dry-run"]) == 2
    assert f"--spark-submit {missing}: not found or not executable" in capsys.readouterr().err


def test_spark_submit_is_found_in_the_pyspark_package_when_nowhere_else(monkeypatch):
    monkeypatch.delenv("SPARK_HOME", raising=False)
    monkeypatch.setenv("PATH", "")
    found = find_spark_submit()
    assert found.endswith("pyspark/bin/spark-submit")


def test_bad_conf_and_deploy_mode_are_refused():
    with pytest.raises(SubmitError, match="expected KEY=VALUE"):
        parse_conf(["spark.executor.memory"])
    artifacts = _artifacts(Path("/a"))
    with pytest.raises(SubmitError, match="standalone clusters do not run Python drivers"):
        spark_submit_argv(
            spark_submit="spark-submit",
            master="spark://h:7077",
            env="cluster",
            app_name="c2c",
            artifacts=artifacts,
            deploy_mode="cluster",
        )


def test_the_line_ships_project_deps_and_settings_and_runs_the_driver_script():
    argv = spark_submit_argv(
        spark_submit="/opt/spark/bin/spark-submit",
        master="spark://h:7077",
        env="cluster",
        app_name="c2c",
        artifacts=_artifacts(Path("/a")),
        python="python3.11",
        conf={"spark.executor.memory": "4g"},
        c2c_args=["--run-id", "r-7"],
    )
    assert argv == [
        "/opt/spark/bin/spark-submit",
        "--master", "spark://h:7077",
        "--deploy-mode", "client",
        "--name", "c2c",
        "--py-files", "/a/c2c_platform.zip",
        "--archives", "/a/c2c_deps-0123.tar.gz#deps,/a/c2c_conf.zip#conf",
        "--conf", "spark.executorEnv.PYTHONPATH=deps",
        "--conf", "spark.pyspark.python=python3.11",
        "--conf", f"spark.pyspark.driver.python={sys.executable}",
        "--conf", "spark.executor.memory=4g",
        "/a/c2c_driver.py", "--env", "cluster", "run", "--run-id", "r-7",
    ]  # fmt: skip


def test_a_kubernetes_cluster_mode_driver_gets_the_settings_environment_but_no_secret():
    argv = spark_submit_argv(
        spark_submit="spark-submit",
        master="k8s://https://k8s:443",
        env="cluster",
        app_name="c2c",
        artifacts=_artifacts(Path("/a"), deps=False),
        deploy_mode="cluster",
        driver_env={"C2C_STORAGE_ROOT": "s3a://lake"},
    )
    assert "spark.kubernetes.driverEnv.C2C_STORAGE_ROOT=s3a://lake" in argv
    assert "spark.executorEnv.PYTHONPATH=deps" not in argv and "/a/c2c_conf.zip#conf" in argv
    names = settings_env_vars(ROOT / "conf", "cluster")
    assert {"C2C_SPARK_MASTER", "C2C_STORAGE_ROOT", "C2C_RAW_ROOT"} <= set(names)


def test_the_dependency_closure_follows_requirements_and_leaves_out_pyspark():
    closure = {d.metadata["Name"].lower() for d in installed_closure([Requirement("python-dateutil>=2")])}
    assert closure == {"python-dateutil", "six"}
    assert installed_closure([Requirement("pyspark")]) == []
    with pytest.raises(PackagingError, match="not installed"):
        installed_closure([Requirement("surely-not-installed-c2c")])


def test_packed_dependencies_are_importable_files_and_reused_while_unchanged(tmp_path):
    dists = [metadata.distribution("six"), metadata.distribution("python-dateutil")]
    pins = tuple(f"{d.metadata['Name']}=={d.version}" for d in dists)
    archive, reused = pack_dependencies(dists, pins, tmp_path)
    assert not reused and archive.name.startswith("c2c_deps-")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"six.py", "dateutil/__init__.py", "C2C_DEPS.txt"} <= names
    assert not any("__pycache__" in n for n in names)
    assert pack_dependencies(dists, pins, tmp_path) == (archive, True)
    other, reused = pack_dependencies(dists[:1], pins[:1], tmp_path)
    assert not reused and other != archive and not archive.exists()  # a stale archive is removed


def test_the_driver_script_runs_the_cli_with_the_shipped_settings(tmp_path):
    wheel = tmp_path / "c2c_platform-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("c2c_platform-0.1.0.dist-info/METADATA", "Name: c2c-platform\nVersion: 0.1.0\n")
    artifacts = build_artifacts(ROOT / "conf", tmp_path / "out", wheel=wheel, with_deps=False)
    assert artifacts.deps_archive is None and artifacts.py_files.read_bytes() == wheel.read_bytes()
    with zipfile.ZipFile(artifacts.conf_archive) as zf:
        assert {"base.yml", "cluster.yml"} <= set(zf.namelist())
    # An unknown env makes the CLI list the environments of the settings copy it was pointed at.
    (artifacts.out / "conf" / "only-in-the-copy.yml").write_text("{}\n")
    done = subprocess.run(
        [sys.executable, str(artifacts.driver), "--env", "nosuch", "run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2, done.stderr
    assert "only-in-the-copy" in done.stderr


def _artifacts(out: Path, *, deps: bool = True) -> Artifacts:
    return Artifacts(
        out=out,
        wheel=out / "c2c_platform-0.1.0-py3-none-any.whl",
        py_files=out / "c2c_platform.zip",
        conf_archive=out / "c2c_conf.zip",
        driver=out / "c2c_driver.py",
        deps_archive=out / "c2c_deps-0123.tar.gz" if deps else None,
    )
