"""The `spark-submit` argument list of a cluster run, from the settings and the packaged artifacts."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path

from lakehouse.cluster.package import CONF_ALIAS, DEPS_ALIAS, Artifacts
from lakehouse.errors import C2CError

# Masters that run executors outside this process; `local-cluster[n,cores,mb]` is Spark's own test cluster.
CLUSTER_MASTERS = ("spark://", "yarn", "k8s://", "mesos://", "local-cluster[")
# Where a cluster deploy mode driver gets environment variables from, by cluster manager.
DRIVER_ENV_CONF = {"yarn": "spark.yarn.appMasterEnv.", "k8s://": "spark.kubernetes.driverEnv."}
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")


class SubmitError(C2CError):
    """The run cannot be submitted as asked (no cluster master, no spark-submit, a bad option)."""


def check_master(master: str, env: str) -> None:
    """Refuse masters that are not a cluster: `c2c run` is the way to run in this process."""
    if not master.startswith(CLUSTER_MASTERS):
        raise SubmitError(
            f"spark.master is '{master or '(empty)'}' in env '{env}', not a cluster master URL "
            f"({', '.join(m.rstrip('[') for m in CLUSTER_MASTERS)}...). Use --env cluster with "
            "C2C_SPARK_MASTER=spark://host:7077 (or yarn, k8s://https://host:443), or `c2c run` to run "
            "in this process."
        )


def find_spark_submit(explicit: str | None = None) -> str:
    """`explicit`, else $SPARK_HOME/bin/spark-submit, else `spark-submit` on PATH, else the one inside
    pip's pyspark package (which finds its Spark home by itself, unlike the wrapper pip puts in bin/)."""
    if explicit:
        path = shutil.which(explicit)
        if not path:
            raise SubmitError(f"--spark-submit {explicit}: not found or not executable")
        return path
    candidates = []
    if os.environ.get("SPARK_HOME"):
        candidates.append(str(Path(os.environ["SPARK_HOME"]) / "bin" / "spark-submit"))
    candidates.append("spark-submit")
    spec = importlib.util.find_spec("pyspark")
    if spec and spec.origin:
        candidates.append(str(Path(spec.origin).parent / "bin" / "spark-submit"))
    for candidate in candidates:
        path = shutil.which(candidate)
        if path:
            return path
    raise SubmitError(
        "spark-submit not found (looked in $SPARK_HOME/bin, on PATH and in the pyspark package of "
        f"{sys.executable}). Install Spark or pyspark, or pass --spark-submit PATH."
    )


def parse_conf(pairs: list[str]) -> dict[str, str]:
    """`--conf KEY=VALUE` options as a dict."""
    conf = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SubmitError(f"--conf {pair!r}: expected KEY=VALUE, e.g. spark.executor.memory=4g")
        conf[key.strip()] = value
    return conf


def settings_env_vars(conf_dir: Path, env: str) -> list[str]:
    """Names of the environment variables that base.yml and the overlay of `env` refer to."""
    names: list[str] = []
    for name in ("base.yml", f"{env}.yml"):
        path = conf_dir / name
        if path.is_file():
            names += [n for n in _ENV_REF.findall(path.read_text()) if n not in names]
    return names


def spark_submit_argv(
    *,
    spark_submit: str,
    master: str,
    env: str,
    app_name: str,
    artifacts: Artifacts,
    deploy_mode: str = "client",
    python: str | None = None,
    conf: dict[str, str] | None = None,
    driver_env: dict[str, str] | None = None,
    c2c_args: list[str] | None = None,
) -> list[str]:
    """The full command: spark-submit options, the driver script, then `--env <env> run ...`.

    `python` is the executors' interpreter (spark.pyspark.python); in client mode the driver runs this
    interpreter, which has the project's environment. `driver_env` goes to a cluster deploy mode driver
    through the cluster manager's conf (YARN, Kubernetes); in client mode the driver inherits ours.
    """
    if deploy_mode not in ("client", "cluster"):
        raise SubmitError(f"--deploy-mode {deploy_mode}: expected client or cluster")
    if deploy_mode == "cluster" and master.startswith("spark://"):
        raise SubmitError(
            "Spark standalone clusters do not run Python drivers in cluster deploy mode; use "
            "--deploy-mode client (the driver runs here) or a YARN / Kubernetes master"
        )
    archives = [f"{artifacts.conf_archive}#{CONF_ALIAS}"]
    settings_conf: dict[str, str] = {}
    if artifacts.deps_archive is not None:
        archives.insert(0, f"{artifacts.deps_archive}#{DEPS_ALIAS}")
        # Archives unpack in each executor's working directory, where Python workers start.
        settings_conf["spark.executorEnv.PYTHONPATH"] = DEPS_ALIAS
    if python:
        settings_conf["spark.pyspark.python"] = python
    if deploy_mode == "client":
        settings_conf["spark.pyspark.driver.python"] = sys.executable
        log_conf = artifacts.out / CONF_ALIAS / "log4j2.properties"
        if log_conf.is_file():
            # The settings' logging, as `c2c run` has it; a JVM reads it only when it starts.
            settings_conf["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile=file:{log_conf}"
    elif driver_env:
        prefix = next((p for m, p in DRIVER_ENV_CONF.items() if master.startswith(m)), None)
        if prefix is None:
            raise SubmitError(f"cannot pass environment variables to a cluster-mode driver on {master}")
        settings_conf.update({f"{prefix}{k}": v for k, v in sorted(driver_env.items())})
    settings_conf.update(conf or {})
    argv = [spark_submit, "--master", master, "--deploy-mode", deploy_mode, "--name", app_name]
    argv += ["--py-files", str(artifacts.py_files), "--archives", ",".join(archives)]
    for key, value in settings_conf.items():
        argv += ["--conf", f"{key}={value}"]
    return [*argv, str(artifacts.driver), "--env", env, "run", *(c2c_args or [])]
