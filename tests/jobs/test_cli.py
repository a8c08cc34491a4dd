"""The real `c2c` CLI end to end, in a scratch working directory (so ./var lands there)."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from itertools import accumulate
from pathlib import Path

import pytest
from deltalake import DeltaTable

from lakehouse.settings import SOURCES
from lakehouse.sources.layouts import LAYOUTS, family_of
from tests.e2e import c2c


@pytest.mark.slow
def test_run_then_tables(pipeline_run, tmp_path):
    workdir, first = pipeline_run.workdir, pipeline_run.result
    assert "var/lake" in first.stdout and "report.json" in first.stdout
    assert "generated a synthetic state of 3,000 people" in first.stdout  # the raw root was empty
    assert (workdir / "var" / "raw" / "_truth" / "person_truth.csv").is_file()
    report = json.loads((workdir / "var" / "runs" / "r-1" / "report.json").read_text())
    assert report["tables"]["ops.runs"]["rows"] == 1
    assert report["status"] == "succeeded" and report["quality"]["gates"]["bronze->silver"]["failed"] == []
    assert report["tables"]["silver.wages"]["rows"] > 0
    assert (workdir / "var" / "quality" / "docs" / "index.html").is_file()
    assert "gate bronze->silver:" in first.stdout
    _published_tables_are_safe(workdir / "var" / "site" / "data", report)

    # The re-run goes to a copy: the shared run's report and tables stay as the first run left them
    # for the other tests that read them (a re-run rewrites its run's report).
    shutil.copytree(workdir / "var", tmp_path / "var", symlinks=True)
    again = c2c("run", "--run-id", "r-1", cwd=tmp_path)  # same run id: nothing new committed
    assert again.returncode == 0, again.stderr[-3000:]
    assert "silver:  unchanged (no new bronze rows)" in again.stdout
    assert "identity: unchanged (no new person records)" in again.stdout
    assert "gold:    unchanged" in again.stdout

    listed = c2c("tables", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr[-3000:]
    by_name = {t["table"]: t for t in json.loads(listed.stdout)}
    runs = by_name["ops.runs"]
    assert runs == {
        "table": "ops.runs",
        "path": str(tmp_path / "var" / "lake" / "ops" / "runs"),
        "engine": "delta-rs",
        "exists": True,
        "version": 0,
        "rows": 1,
        "files": runs["files"],
    }

    text = c2c("tables", cwd=tmp_path)
    assert text.returncode == 0
    assert "ops.runs" in text.stdout and "delta-rs" in text.stdout


def _published_tables_are_safe(site: Path, report: dict) -> None:
    """Every mart is published per cohort year statewide, and as pooled cohorts statewide and by each
    breakdown, each table with its sidecar; no count
    below 11 is shown anywhere; rates are in [0, 1]; the gold gate passed."""
    assert report["quality"]["gates"]["gold->published"]["failed"] == []
    assert set(report["gold"]["marts"]) == {"teacher_pipeline", "student_pathways", "workforce_programs"}
    tables = sorted(p.stem for p in site.glob("*.csv"))
    # Each mart statewide per cohort year, and its breakdowns as pooled cohorts (with a pooled
    # statewide table), or per year where the mart could not be pooled safely (the report says so).
    breakdowns = {"teacher_pipeline": 9, "student_pathways": 8, "workforce_programs": 3}
    expected = set()
    for mart, n in breakdowns.items():
        pooled = report["gold"]["marts"][mart]["pooled_cohorts"]
        prefix = f"{mart}__pooled" if pooled else mart
        expected |= {f"{mart}__statewide", *([f"{prefix}__statewide"] if pooled else [])}
        expected |= {t for t in tables if t.startswith(f"{prefix}__by_")}
        assert len([t for t in tables if t.startswith(f"{prefix}__by_")]) == n, (mart, tables)
    assert set(tables) == expected
    assert report["gold"]["marts"]["student_pathways"]["pooled_cohorts"]
    assert "workforce_programs__pooled__by_program" in tables
    shown_suppressed = 0
    for name in tables:
        meta = json.loads((site / f"{name}.json").read_text())
        for key in ("cohort_definition", "data_vintage", "match_rate", "coverage", "suppression_note"):
            assert meta[key] not in ("", None), (name, key)
        with (site / f"{name}.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows and list(rows[0])[:2] == meta["dimensions"], name
        for row in rows:
            for column in meta["measures"]["counts"]:
                value = row[column]
                shown_suppressed += value == "suppressed"
                assert value in ("", "suppressed") or int(value) >= 11, (name, column, value)
            for column in meta["measures"]["rates"]:
                assert row[column] in ("", "suppressed") or 0 <= float(row[column]) <= 1, (name, column)
    assert shown_suppressed > 0  # a state of 3,000 people has small cells: they must show as suppressed


def test_settings_error_exits_2_with_a_message(tmp_path):
    out = c2c("--env", "nowhere", "tables", cwd=tmp_path)
    assert out.returncode == 2
    assert "unknown environment 'nowhere'" in out.stderr
    assert "Traceback" not in out.stderr


def test_forced_engine_without_jars_exits_2(tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(Path(__file__).resolve().parents[2] / "conf", conf)
    (conf / "local.yml").write_text(
        (conf / "local.yml").read_text().replace("storage:\n", "storage:\n  engine: delta-spark\n", 1)
    )
    out = c2c("--conf-dir", str(conf), "tables", cwd=tmp_path)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "delta-spark classes are not on the classpath" in out.stderr


@pytest.mark.slow
def test_generate_cli_and_its_errors(tmp_path):
    out = tmp_path / "state"
    made = c2c(
        "generate",
        "--persons",
        "300",
        "--seed",
        "4",
        "--out",
        str(out),
        "--corrupt-rate",
        "0.02",
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    assert "generated 300 people" in made.stdout
    assert (out / "_truth" / "corruption_manifest.json").is_file()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("_")) == sorted(SOURCES)

    # The pipeline on the corrupted state: every raw row is landed or quarantined, per file.
    ran = c2c("run", "--raw", str(out), "--run-id", "r-c", cwd=tmp_path)
    report = json.loads((tmp_path / "var" / "runs" / "r-c" / "report.json").read_text())
    manifest = json.loads((out / "_truth" / "corruption_manifest.json").read_text())
    [dup] = manifest["duplicated_files"]
    for path in out.rglob("*"):
        rel = path.relative_to(out).as_posix()
        if not path.is_file() or rel.startswith("_") or rel == dup["file"]:
            continue
        lines = len(path.read_bytes().rstrip(b"\n").split(b"\n"))
        data_lines = lines - (0 if rel.endswith(".jsonl") or "/ERS" in rel else 1)
        counts = report["bronze"]["files"][rel]
        assert counts["raw"] == data_lines == counts["landed"] + counts["quarantined"], rel
    assert report["bronze"]["files"][dup["file"]] == {"status": "duplicate", "duplicate_of": dup["copy_of"]}
    quarantined = sum(f.get("quarantined", 0) for f in report["bronze"]["files"].values())
    sources = report["bronze"]["sources"]
    assert sorted(sources) == sorted(SOURCES)
    assert sum(s["quarantined"] for s in sources.values()) == quarantined
    assert all(s["raw"] == s["landed"] + s["quarantined"] for s in sources.values())
    landed = [i for i in manifest["injections"] if i["file"] != dup["file"]]
    broken = [i for i in landed if i["kind"] != "invalid_code"]
    assert quarantined == len(broken) > 0
    # At 300 people the files are small, and 2% corruption takes some of them below 95% parsed; the
    # raw->bronze gate judges source families over the load and files only when mostly unreadable, so
    # the run goes on: silver, identity, gold, and the tables are published.
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "Traceback" not in ran.stderr
    assert report["status"] == "succeeded"
    assert report["gold"]["published_files"] > 0
    assert report["quality"]["gates"]["raw->bronze"]["failed"] == []
    _invalid_codes_are_counted(out, [i for i in landed if i["kind"] == "invalid_code"], report, tmp_path)
    again = c2c("run", "--raw", str(out), "--run-id", "r-c2", cwd=tmp_path)  # nothing new: unchanged
    assert again.returncode == 0 and "silver:  unchanged" in again.stdout, again.stderr[-2000:]

    missing = c2c("run", "--raw", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert missing.returncode == 2 and "no such directory" in missing.stderr

    zero = c2c("generate", "--persons", "0", "--out", str(tmp_path / "zero"), cwd=tmp_path)
    assert zero.returncode == 2 and "--persons must be positive" in zero.stderr
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "SENR_2024.txt").write_text("real data\n")
    foreign = c2c("generate", "--persons", "10", "--out", str(tmp_path / "foreign"), cwd=tmp_path)
    assert foreign.returncode == 2 and "not written by `c2c generate`" in foreign.stderr
    assert (tmp_path / "foreign" / "SENR_2024.txt").read_text() == "real data\n"


def _invalid_codes_are_counted(raw: Path, injected: list[dict], report: dict, workdir: Path) -> None:
    """Every line the generator gave an invalid code is counted by a silver code check, and nothing else
    is: the event tables' rows with unknown codes are exactly the injected lines and columns (and their
    counts are the report's), and the lines silver reads only into person records (CAASPP test results,
    CSU programs not completed) are the person records' unknown codes by family and column."""
    in_events, in_records = set(), Counter()
    for injection in injected:
        family, column, completed = _injected_column(raw, injection)
        if family == "CAASPP" or family == "ERST" and completed != "Y":
            in_records[f"{family}.{column}"] += 1
        else:
            in_events.add((injection["file"], injection["line"], column))
    assert len(in_events) + sum(in_records.values()) == len(injected) > 0
    flagged = set()
    for fqn, counts in report["silver"].items():
        if fqn in ("silver.person_records", "silver.quarantine"):
            continue
        table = DeltaTable(str(workdir / "var" / "lake" / "silver" / fqn.split(".", 1)[1]))
        rows = table.to_pyarrow_table(columns=["source_file", "source_row", "unknown_codes"]).to_pylist()
        bad = [(r["source_file"], r["source_row"], c) for r in rows for c in r["unknown_codes"] or []]
        assert counts["unknown_codes"] == dict(Counter(c for _, _, c in bad)), fqn
        flagged |= set(bad)
    assert flagged == in_events
    assert report["silver"]["silver.person_records"]["unknown_codes"] == dict(in_records)


def _injected_column(raw: Path, injection: dict) -> tuple[str, str, str | None]:
    """The family of an injected invalid code's line, the column that holds it, and (CSU credential
    programs) whether the program was completed."""
    family = family_of(injection["file"])
    layout = LAYOUTS[family]
    line = (raw / injection["file"]).read_bytes().split(b"\n")[injection["line"] - 1].decode("utf-8")
    names = [n for n, _ in layout.columns]
    if layout.kind == "jsonl":
        values = json.loads(line)
    elif layout.kind == "fixed":
        ends = list(accumulate(w for _, w in layout.columns))
        values = {n: line[end - w : end].strip() for (n, w), end in zip(layout.columns, ends, strict=True)}
    else:
        values = dict(zip(names, line.split("," if layout.kind == "csv" else layout.kind), strict=True))
    [column] = [n for n in names if values.get(n) == "ZZ9"]
    return family, column, values.get("COMPLETED")


def test_run_with_a_weak_key_stops_before_landing_anything(tmp_path):
    raw = tmp_path / "extracts" / "edd"
    raw.mkdir(parents=True)
    (raw / "DE9C_2024Q1.csv").write_text("EMPLOYER_ACCOUNT,YRQTR,SSN\n1,20241,123456789\n")
    result = c2c("run", "--raw", str(tmp_path / "extracts"), cwd=tmp_path, env={"C2C_PII_KEY": "hunter2"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("c2c: error: environment variable C2C_PII_KEY")
    assert "hunter2" not in result.stderr + result.stdout
    assert not (tmp_path / "var" / "lake").exists() and not (tmp_path / "var" / "restricted").exists()


@pytest.mark.slow
def test_landed_extracts_leave_the_landing_area_for_the_restricted_zone(pipeline_run, tmp_path):
    """With raw.after_landing: move, every extract in the ledger moves under the restricted root once a
    run has committed it: the one this run lands (a re-sent copy, recorded as a duplicate) and those
    earlier runs landed while the policy was keep. The emptied, then removed, landing area is never
    refilled with a synthetic state."""
    shutil.copytree(pipeline_run.var, tmp_path / "var", symlinks=True)
    conf = tmp_path / "conf"
    shutil.copytree(Path(__file__).resolve().parents[2] / "conf", conf)
    local = (conf / "local.yml").read_text().replace("after_landing: keep", "after_landing: move")
    (conf / "local.yml").write_text(local)
    raw = tmp_path / "var" / "raw"
    original = sorted(raw.glob("edd/*"))[0]
    resent = original.with_name(original.name.replace("_", "_RESENT_", 1))
    shutil.copy(original, resent)
    extracts = {
        p.relative_to(raw).as_posix(): p.read_bytes()
        for p in raw.rglob("*")
        if p.is_file() and not p.relative_to(raw).parts[0].startswith("_")
    }
    result = c2c("--conf-dir", str(conf), "run", "--run-id", "r-2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "var" / "runs" / "r-2" / "report.json").read_text())
    retired = report["bronze"]["raw_after_landing"]
    target = Path(retired["to"])
    assert retired["policy"] == "move" and retired["files"] == len(extracts) > 500
    assert target.is_relative_to(tmp_path / "var" / "restricted")
    moved = {p.relative_to(target).as_posix(): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert moved == extracts
    left = [p for p in raw.rglob("*") if p.is_file()]
    assert {p.relative_to(raw).parts[0] for p in left} == {"_truth"}  # the generator's truth is no extract

    shutil.rmtree(raw)  # an operator's landing area, removed once everything is in bronze
    again = c2c("--conf-dir", str(conf), "run", "--run-id", "r-3", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "generated a synthetic state" not in again.stdout
    assert "silver:  unchanged" in again.stdout
    third = json.loads((tmp_path / "var" / "runs" / "r-3" / "report.json").read_text())
    assert third["bronze"]["raw_after_landing"] == {"policy": "move", "files": 0}
