"""deploy/airflow/c2c_refresh.py, the scheduled refresh, is a DAG Airflow can load and every command it
runs is a `c2c` command line our CLI accepts (no Airflow needed: this runs in a second).

Without Airflow installed (it is not a dependency), the file is read with `ast`: it compiles and is
ruff-clean; the DAG's schedule and its tasks are what docs/deploy.md describes; each operator's
`bash_command` (a string literal or a module-level string constant) is rendered with a sample date for
its `{{ ... }}` templates and parsed by `jobs.cli.build_parser()` with the checker tests/test_docs.py
uses for the docs. With Airflow installed, the DAG is also loaded for real.
"""

from __future__ import annotations

import ast
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.cli import build_parser
from tests.test_docs import c2c_arguments, parse_error

ROOT = Path(__file__).resolve().parents[1]
DAG_FILE = ROOT / "deploy" / "airflow" / "c2c_refresh.py"
TEMPLATE = re.compile(r"{{\s*(.*?)\s*}}")
# What Airflow puts in a task's template context, for the templates a command may use.
SAMPLE_CONTEXT = {"ds_nodash": "20260301"}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def _constants(tree: ast.Module) -> dict[str, object]:
    """Module-level names bound to a literal (a string, a dict of strings, ...), by name."""
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return found


def _value(node: ast.expr, constants: dict[str, object]) -> object:
    """The literal an argument is, directly or through a module-level constant; `...` when it is neither."""
    if isinstance(node, ast.Name):
        return constants.get(node.id, ...)
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ...


def calls(source: str, suffix: str) -> list[dict[str, object]]:
    """The keyword arguments of each call to a name ending in `suffix` (`DAG`, `Operator`), as literals
    (`...` for one that is not a literal)."""
    tree = ast.parse(source)
    constants = _constants(tree)
    return [
        {kw.arg: _value(kw.value, constants) for kw in node.keywords if kw.arg}
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _name(node.func).endswith(suffix)
    ]


def render(command: str, context: dict[str, str]) -> str:
    """The command as Airflow runs it: each `{{ name }}` replaced by its value in `context`."""
    return TEMPLATE.sub(lambda m: context[m.group(1)], command)


def command_problems(source: str) -> list[str]:
    """What is wrong with the commands a DAG file's operators run, one line each ([] when nothing)."""
    problems = []
    for kwargs in calls(source, "Operator"):
        task, command = kwargs.get("task_id"), kwargs.get("bash_command")
        if "bash_command" not in kwargs:
            problems.append(f"{task}: no bash_command: only a BashOperator's command can be checked")
            continue
        if not isinstance(command, str):
            problems.append(f"{task}: its command is not a string literal or a module-level string constant")
            continue
        unknown = sorted({t for t in TEMPLATE.findall(command) if t not in SAMPLE_CONTEXT})
        if unknown:
            problems.append(f"{task}: templates with no sample value: {unknown}")
            continue
        arguments = c2c_arguments(render(command, SAMPLE_CONTEXT))
        if arguments is None:
            problems.append(f"{task}: runs no c2c command: {command!r}")
            continue
        error = parse_error(arguments)
        if error:
            problems.append(f"{task}: {command!r}: {error}")
    return problems


SOURCE = DAG_FILE.read_text()


def test_dag_file_compiles_and_is_ruff_clean() -> None:
    compile(SOURCE, str(DAG_FILE), "exec")
    for check in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *check, str(DAG_FILE)], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_every_command_is_a_c2c_command_line_that_parses() -> None:
    assert command_problems(SOURCE) == []


def test_schedule_and_tasks_are_the_documented_ones() -> None:
    """Daily at 03:00 UTC, one run at a time, one task that retries; the PII key comes from a template
    (Airflow's secrets backend), never a literal in the file."""
    (dag,) = calls(SOURCE, "DAG")
    assert {k: v for k, v in dag.items() if v is not ...} == {
        "dag_id": "c2c_refresh",
        "schedule": "0 3 * * *",
        "catchup": False,
        "max_active_runs": 1,
        "tags": ["c2c"],
    }
    (task,) = calls(SOURCE, "Operator")
    env = task.pop("env")
    assert {k: v for k, v in task.items() if k != "bash_command"} == {
        "task_id": "refresh",
        "append_env": True,
        "retries": 1,
        "retry_delay": ...,  # a timedelta
    }
    assert isinstance(env, dict)
    assert sorted(env) == [
        "C2C_PII_KEY",
        "C2C_RAW_ROOT",
        "C2C_RESTRICTED_ROOT",
        "C2C_SPARK_MASTER",
        "C2C_STORAGE_ROOT",
        "C2C_VAR_DIR",
    ]
    assert TEMPLATE.fullmatch(env["C2C_PII_KEY"]) and "secret" in env["C2C_PII_KEY"]


def test_each_scheduled_date_is_one_run_id() -> None:
    """The run id is made from the scheduled date alone: a retry of a date re-runs that run, another
    date is another run. The command submits the pipeline to the cluster under the cluster settings."""
    (task,) = calls(SOURCE, "Operator")
    parsed = {}
    for date in ("20260301", "20260302", "20260301"):
        args = build_parser().parse_args(c2c_arguments(render(task["bash_command"], {"ds_nodash": date})))
        parsed.setdefault(date, []).append((args.env, args.command, args.run_id, args.dry_run))
    assert parsed == {
        "20260301": [("cluster", "submit", "nightly-20260301", False)] * 2,
        "20260302": [("cluster", "submit", "nightly-20260302", False)],
    }


def test_the_checker_rejects_bad_commands() -> None:
    """The checks are not vacuous: an unknown option, a missing run id value, a command that is no c2c
    command, one built at run time and an unknown template are each reported."""
    bad = (
        'BAD = "/srv/c2c/.venv/bin/c2c --env cluster submit --bogus --run-id x-{{ ds_nodash }}"\n'
        "with DAG(dag_id='d'):\n"
        "    BashOperator(task_id='unknown_option', bash_command=BAD)\n"
        "    BashOperator(task_id='no_value', bash_command='c2c run --run-id')\n"
        "    BashOperator(task_id='not_c2c', bash_command='spark-submit app.py')\n"
        "    BashOperator(task_id='built', bash_command=' '.join(['c2c', 'run']))\n"
        "    BashOperator(task_id='template', bash_command='c2c run --run-id {{ run_id }}')\n"
        "    SparkSubmitOperator(task_id='other', application='c2c_driver.py')\n"
    )
    assert command_problems(bad) == [
        "unknown_option: '/srv/c2c/.venv/bin/c2c --env cluster submit --bogus --run-id x-{{ ds_nodash }}': "
        "c2c: error: unrecognized arguments: --bogus",
        "no_value: 'c2c run --run-id': c2c run: error: argument --run-id: expected one argument",
        "not_c2c: runs no c2c command: 'spark-submit app.py'",
        "built: its command is not a string literal or a module-level string constant",
        "template: templates with no sample value: ['run_id']",
        "other: no bash_command: only a BashOperator's command can be checked",
    ]


def test_the_dag_loads_in_airflow() -> None:
    """Where Airflow is installed: the file builds its DAG, with one task on the documented schedule."""
    pytest.importorskip("airflow")
    dag = runpy.run_path(str(DAG_FILE))["dag"]
    assert dag.dag_id == "c2c_refresh"
    assert [t.task_id for t in dag.tasks] == ["refresh"]
    assert dag.timetable.summary == "0 3 * * *"
    assert dag.max_active_runs == 1
    assert dag.tasks[0].retries == 1
