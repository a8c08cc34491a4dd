"""The analyst notebooks run top to bottom against the shared end-to-end lake (tests/e2e.py).

Each notebook runs in its own kernel on this venv's interpreter (a kernelspec written for the test),
started in `notebooks/` as Jupyter would start it, and finds the lake through `C2C_WORKDIR`. Its
settings are the `local` environment's (same paths, so the same lake) with the fast test Spark
settings of tests/conftest.py, as an overlay in a copy of conf/ chosen by `C2C_CONF_DIR` and
`C2C_ENV`: e.g. a 2 GB driver instead of `local`'s 8 GB, beside the suite's own Spark session.
Cells that reconcile person-level rows with gold's cells assert inside the notebook; the last cell
(tagged `summary`) prints the figures checked here against what the pipeline reported and published.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from tests.conftest import ROOT, TEST_SPARK_CONF

NOTEBOOKS = ROOT / "notebooks"
KERNEL = "c2c-venv"
TEST_ENV = "notebook-test"
CELL_TIMEOUT_S = 600
# Whichever test runs first also builds the shared `pipeline_run` (~8 minutes alone, more on a busy
# machine), and pytest-timeout counts fixture setup in the test's time.
WITH_PIPELINE_S = 1800


@pytest.fixture(scope="module")
def jupyter_path(tmp_path_factory) -> Path:
    """A Jupyter data dir with one kernelspec that runs this interpreter (not whatever `python` is)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"})
    )
    return root


@pytest.fixture(scope="module")
def conf_dir(tmp_path_factory) -> Path:
    """conf/ plus the environment `notebook-test`: local.yml (same paths, so the same lake) with the
    fast test Spark settings, and Spark's scratch outside the shared run's folder, which the tests
    only read."""
    conf = tmp_path_factory.mktemp("settings") / "conf"
    shutil.copytree(ROOT / "conf", conf)
    local = yaml.safe_load((conf / "local.yml").read_text())
    scratch = {
        "spark.local.dir": str(conf.parent / "spark-local"),
        "spark.sql.warehouse.dir": str(conf.parent / "warehouse"),
    }
    local["spark"] = {"master": "local[2]", "conf": {**local["spark"]["conf"], **TEST_SPARK_CONF, **scratch}}
    (conf / f"{TEST_ENV}.yml").write_text(yaml.safe_dump(local))
    return conf


def run_notebook(
    name: str, pipeline_run, jupyter_path: Path, conf_dir: Path, monkeypatch
) -> tuple[dict, str]:
    """Execute a committed notebook in a fresh kernel; its summary (the JSON the `summary` cell
    prints) and the interpreter the kernel ran. A failing cell raises CellExecutionError."""
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path))
    monkeypatch.setenv("C2C_WORKDIR", str(pipeline_run.workdir))
    monkeypatch.setenv("C2C_CONF_DIR", str(conf_dir))
    monkeypatch.setenv("C2C_ENV", TEST_ENV)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    client = NotebookClient(
        nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    summary_cell = next(c for c in nb.cells if "summary" in c.metadata.get("tags", []))
    return json.loads(_stdout(summary_cell).strip().splitlines()[-1]), _stdout(nb.cells[-1]).strip()


def _stdout(cell) -> str:
    return "".join(
        o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout"
    )


def _report(pipeline_run) -> dict:
    return json.loads((pipeline_run.var / "runs" / pipeline_run.run_id / "report.json").read_text())


@pytest.mark.slow
@pytest.mark.timeout(WITH_PIPELINE_S)
def test_explore_cohorts(pipeline_run, jupyter_path, conf_dir, monkeypatch):
    summary, python = run_notebook(
        "01_explore_cohorts.ipynb", pipeline_run, jupyter_path, conf_dir, monkeypatch
    )
    assert Path(python) == Path(sys.executable)
    gold = _report(pipeline_run)["gold"]["marts"]
    assert summary["cohort_members"] == {name: m["cohort_members"] for name, m in gold.items()}
    assert summary["reconciled_cells"] > 20 and summary["reconciled_medians"] > 5
    # The notebook's person-level statewide counts, as published, are what the site's table shows.
    with (pipeline_run.var / "site" / "data" / "student_pathways__statewide.csv").open() as f:
        site = {row["cohort_year"]: row for row in csv.DictReader(f)}
    assert summary["published_statewide"], "no statewide enrolled_16mo cells"
    for year, counts in summary["published_statewide"].items():
        for field in ("denominator", "numerator"):
            shown = site[year][f"enrolled_16mo_{field}"]
            assert shown == ("suppressed" if counts[field] is None else str(counts[field])), (year, field)


@pytest.mark.slow
@pytest.mark.timeout(WITH_PIPELINE_S)
def test_linkage_quality(pipeline_run, jupyter_path, conf_dir, monkeypatch):
    summary, _ = run_notebook("02_linkage_quality.ipynb", pipeline_run, jupyter_path, conf_dir, monkeypatch)
    identity = _report(pipeline_run)["identity"]
    assert (summary["records"], summary["persons"]) == (identity["records"], identity["persons"])
    assert summary["pairs_by_method"] == identity["pairs"]
    logged = identity["evaluation"]
    for scores in ("pairwise", "bcubed"):
        for k in ("precision", "recall", "f1"):
            assert summary[scores][k] == pytest.approx(logged[scores][k], abs=1e-6)
    rates = {r["source"]: round(r["match_rate"], 4) for r in logged["match_rates"]}
    assert summary["match_rate"] == rates
    sample = summary["clerical_sample"]
    assert sample["pairs"] == 40 and sum(sample["bands"].values()) == 40
    assert set(sample["bands"]) <= {"1", "2", "3", "4", "5"}
    assert 0 < sample["true_matches"] < 40  # borderline pairs: some are one person, some are not


@pytest.mark.slow
@pytest.mark.timeout(WITH_PIPELINE_S)
def test_teacher_pipeline(pipeline_run, jupyter_path, conf_dir, monkeypatch):
    summary, _ = run_notebook("03_teacher_pipeline.ipynb", pipeline_run, jupyter_path, conf_dir, monkeypatch)
    gold = _report(pipeline_run)["gold"]["marts"]
    assert summary["cohort_members"] == gold["teacher_pipeline"]["cohort_members"]
    assert summary["reconciled_cells"] > 10
    assert summary["export"]["audit_problems"] == 0
    assert len(summary["release"]) == summary["export"]["cells"] > 0
    # Nothing below the threshold leaves the zone: every count shown is at least 11.
    counts = [r[f] for r in summary["release"] for f in ("denominator", "numerator")]
    assert all(c == "suppressed" or int(c) >= 11 for c in counts), counts


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_without_outputs(path):
    """Notebooks are committed with outputs cleared: no data from a lake lands in git."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert sum("summary" in c.metadata.get("tags", []) for c in code) == 1
    assert "from lakehouse.notebook import" in "".join(c.source for c in code)
