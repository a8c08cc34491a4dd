"""Airflow DAG: the statewide refresh, once a day at 03:00 UTC, on a Spark cluster (docs/deploy.md).

The task runs `c2c --env cluster submit` on an Airflow worker that has the project checked out in
/srv/c2c with its venv, and the artifacts of the release in /srv/c2c/var/submit (made once per release
with `c2c --env cluster submit --dry-run`). It re-uses that wheel and dependency archive, packs the
settings, and runs the pipeline through spark-submit in client mode: the driver, `c2c run`, runs on
the worker.

Each scheduled date is one run id, `nightly-<date>`. A retry of that date runs under the same id, so
it re-runs that run's steps idempotently: what the failed attempt committed is not committed twice.
c2c's exit status, which spark-submit passes on, decides the attempt (docs/operations.md): 0 the run
succeeded; 2 a problem an operator fixes (a setting, a quality gate that blocked promotion, another
run holding the lake), named in the task's log by a line `c2c: error: ...`; 1, or any other, a
failure. Airflow fails the attempt on any status but 0 and retries once, 30 minutes later; after a 2
the retry stops the same way unless its cause is gone (a run that held the lake has ended).

Works on Airflow 2.4 and later (the `schedule` argument) and on Airflow 3, where BashOperator comes
from the standard provider. In Airflow 3 a run triggered without a logical date has no `ds_nodash`
and fails before c2c starts: trigger it with one.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
try:  # Airflow 3, or Airflow 2 with apache-airflow-providers-standard
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

REFRESH = (
    "/srv/c2c/.venv/bin/c2c --env cluster submit"
    " --wheel /srv/c2c/var/submit/c2c_platform-0.1.0-py3-none-any.whl"
    " --python python3.11 --run-id nightly-{{ ds_nodash }}"
)

# conf/cluster.yml reads these; the worker's own environment (PATH, JAVA_HOME, SPARK_HOME) is kept.
CLUSTER_ENV = {
    "C2C_SPARK_MASTER": "spark://spark-master:7077",
    "C2C_STORAGE_ROOT": "s3a://c2c-lake/lake",
    "C2C_RESTRICTED_ROOT": "s3a://c2c-restricted/lake",
    "C2C_RAW_ROOT": "s3a://c2c-landing/raw",
    "C2C_VAR_DIR": "/srv/c2c/var",
    # From Airflow's secrets backend (Vault, AWS Secrets Manager), in the command's environment, never
    # in its arguments. A variable whose name holds "secret" is masked in task logs and in the
    # rendered-template view.
    "C2C_PII_KEY": "{{ var.value.c2c_pii_secret }}",
}

with DAG(
    dag_id="c2c_refresh",
    schedule="0 3 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # One run at a time: on an object store c2c takes no lake lock, so this is the only guard.
    max_active_runs=1,
    tags=["c2c"],
) as dag:
    BashOperator(
        task_id="refresh",
        bash_command=REFRESH,
        env=CLUSTER_ENV,
        append_env=True,
        retries=1,
        retry_delay=timedelta(minutes=30),
    )
