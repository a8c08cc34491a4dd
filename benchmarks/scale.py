"""How `c2c run` grows with the number of people: time per layer, peak memory and scratch space.

    .venv/bin/python benchmarks/scale.py --sizes 1e4,1e5 [--backend duckdb|spark|both]
                                         [--work DIR] [--keep] [--resume]

For each size: `c2c generate --persons N --out <work>/<size>/raw` (timed: `generate_s`), then for each
identity backend the real CLI, `c2c run --raw <raw> --run-id scale-<N>-<backend> --quiet`, as a
subprocess in a working directory of its own (`<work>/<size>/<backend>`), so that its `var/` (lake,
restricted zone, reports, Spark's scratch folder) belongs to that size and backend alone. The backend
is set in a copy of `conf/` in that directory (`identity.backend` in its `local.yml`), passed with
`--conf-dir`; `C2C_ENV=local`.

While the run goes, every 0.5 s: the memory of the `c2c` process and all its children (the Spark
JVM, Python workers), and the bytes under the run's `var/tmp` (Spark's local dir: shuffle files,
spills, local checkpoints) plus `.tmp` (DuckDB's spill folder). Peaks: `peak_rss_gb`, resident
memory summed over the processes (pages they share, as forked Python workers do, count once per
process: an upper bound); `peak_pss_gb`, proportional set sizes summed (a shared page split between
its sharers: what the tree takes from the machine); `peak_tmp_gb`. `raw_gb` is the size of the
agency extracts (the generator's `_truth` left out). GB here are 2^30 bytes.
Per-step seconds come from the run's `var/runs/<run_id>/report.json`: bronze; silver (the
raw->bronze gate, silver built and checked, written); identity; gold; report (quality results, Data
Docs, the run record). `start_s` is the launch until the run's start (imports, run lock, Spark start)
and `publish_s` the report until the process exits (the dashboard build, Spark's shutdown).
`end_to_end_s` is the launch to exit wall time. `ratio_<a>_<b>` is end_to_end at size b over size a
(consecutive sizes, same backend). Rows and bytes per registered table go to `<work>/scale.json`,
written again after each run.

A failed run (non-zero exit) is shown with the last line of its stderr, counted as not complete,
and the next backend or size runs. Each run's directory is removed once measured unless `--keep`;
`<work>` defaults to a temporary directory, removed at the end unless `--keep`.

`--resume` (with `--work` and `--keep`) goes on from what an earlier benchmark left in `<work>`: a size
whose `raw` and generate time are in `<work>/scale.json` is not generated again, and a run whose last
attempt failed is run again with the same run id, as a user re-runs a failed `c2c run`: the layers
it promoted are unchanged and the rest run (a complete run is not run again). Such a run's step
times are those of the attempt that completed each step (the failed steps' lost time is `lost_s`,
left out), its `end_to_end_s` the earlier attempt's start and completed steps plus the new attempt's
wall time, and its peaks the larger of the two attempts'.

Last line: `name=value` pairs per size label (1e4, 1e5, ...), e.g. `end_to_end_s_1e5=...
peak_rss_gb_1e5=... ratio_1e4_1e5=... backends_complete_1e5=duckdb,spark`. With both backends, the
per-run names end in the backend: `end_to_end_s_1e5_spark=...`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
C2C = str(Path(sys.executable).with_name("c2c"))
GB = 1024**3
STEPS = ("start_s", "bronze_s", "silver_s", "identity_s", "gold_s", "report_s", "publish_s")


def label(n: int) -> str:
    """10000 -> '1e4'; sizes that are not powers of ten keep their digits."""
    exponent = round(math.log10(n)) if n > 0 else 0
    return f"1e{exponent}" if 10**exponent == n else str(n)


def folder_bytes(path: Path, *, skip: str | None = None) -> int:
    """Bytes of the files under `path`; files that vanish while it is walked are skipped."""
    total, stack = 0, [path]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != skip:
                        stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except FileNotFoundError:
                continue
    return total


class Sampler(threading.Thread):
    """Peaks of a process tree's memory and of the bytes under some folders, every `interval` s.

    `peak_rss` sums resident memory over the processes (pages they share, such as forked Python
    workers', count once per process); `peak_pss` sums proportional set sizes (a shared page split
    between its sharers), which is what the tree takes from the machine. `at_peak` is the RSS of the
    JVMs and of the Python processes, and their count, when the RSS sum peaked."""

    def __init__(self, pid: int, folders: list[Path], interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root, self.folders, self.interval = psutil.Process(pid), folders, interval
        self.peak_rss = self.peak_pss = self.peak_tmp = 0
        self.at_peak: dict = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            if self.stopped.wait(self.interval):
                return

    def sample(self) -> None:
        rss = pss = 0
        kinds: dict = {"java_gb": 0.0, "python_gb": 0.0, "python_processes": 0}
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            procs = []
        for p in procs:
            try:
                memory = p.memory_full_info()
                name = p.name()
            except psutil.Error:
                continue
            rss, pss = rss + memory.rss, pss + memory.pss
            if name == "java":
                kinds["java_gb"] += memory.rss / GB
            elif name.startswith("python") or name == "c2c":
                kinds["python_gb"] += memory.rss / GB
                kinds["python_processes"] += 1
        if rss > self.peak_rss:
            self.peak_rss, self.at_peak = rss, kinds
        self.peak_pss = max(self.peak_pss, pss)
        self.peak_tmp = max(self.peak_tmp, sum(folder_bytes(f) for f in self.folders))


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"


def generate(n: int, size_dir: Path, env: dict, earlier: dict | None = None) -> dict:
    """`c2c generate` of n people into `<size_dir>/raw`, in `size_dir` (its var/ holds Spark's scratch);
    `earlier` (--resume): the figures of a generation whose raw files are still there."""
    raw = size_dir / "raw"
    if earlier and earlier.get("ok") and raw.is_dir():
        return earlier
    shutil.rmtree(raw, ignore_errors=True)
    size_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run(
        [C2C, "generate", "--persons", str(n), "--out", str(raw)],
        cwd=size_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    shutil.rmtree(size_dir / "var", ignore_errors=True)
    if done.returncode != 0:
        return {"ok": False, "error": last_line(done.stderr), "generate_s": seconds}
    return {"ok": True, "generate_s": seconds, "raw_gb": folder_bytes(raw, skip="_truth") / GB}


def conf_for(backend: str, workdir: Path) -> Path:
    """A copy of the repository's conf/ whose local overlay sets identity.backend."""
    conf = workdir / "conf"
    shutil.copytree(REPO / "conf", conf)
    local = conf / "local.yml"
    settings = yaml.safe_load(local.read_text()) or {}
    settings.setdefault("identity", {})["backend"] = backend
    local.write_text(yaml.safe_dump(settings, sort_keys=False))
    return conf


def run(n: int, backend: str, raw: Path, workdir: Path, env: dict, earlier: dict | None = None) -> dict:
    """`c2c run` on `raw` in `workdir`, sampled while it runs; its report's timings and tables.
    `earlier` (--resume): the figures of a failed attempt whose lake is still in `workdir`."""
    run_id = f"scale-{n}-{backend}"
    if earlier and earlier.get("complete"):
        return earlier
    failed = failed_attempt(workdir, run_id) if earlier else None
    if failed is None:
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        conf = conf_for(backend, workdir)
    else:
        conf = workdir / "conf"
    launched_at = datetime.now().astimezone()
    started = time.perf_counter()
    with (workdir / "stderr.log").open("w+") as err:
        proc = subprocess.Popen(
            [C2C, "--conf-dir", str(conf), "run", "--raw", str(raw), "--run-id", run_id, "--quiet"],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        sampler = Sampler(proc.pid, [workdir / "var" / "tmp", workdir / ".tmp"])
        sampler.start()
        code = proc.wait()
        wall = time.perf_counter() - started
        sampler.stopped.set()
        sampler.join()
        err.seek(0)
        stderr = err.read()
    out = {
        "run_id": run_id,
        "exit_code": code,
        "complete": code == 0,
        "end_to_end_s": wall,
        "peak_rss_gb": sampler.peak_rss / GB,
        "peak_pss_gb": sampler.peak_pss / GB,
        "rss_at_peak": sampler.at_peak,
        "peak_tmp_gb": sampler.peak_tmp / GB,
    }
    if code != 0:
        out["error"] = last_line(stderr)
    report_file = workdir / "var" / "runs" / run_id / "report.json"
    if report_file.is_file():
        report = json.loads(report_file.read_text())
        out.update(steps_of(report, launched_at, wall))
        out["status"] = report.get("status", "failed")
        out["tables"] = tables_of(report)
    out["complete"] = code == 0 and out.get("status") == "succeeded"
    return out if failed is None else resumed(earlier, out, failed)


def failed_attempt(workdir: Path, run_id: str) -> str | None:
    """The step the run's last attempt failed in, when its report says it failed."""
    report_file = workdir / "var" / "runs" / run_id / "report.json"
    if not report_file.is_file():
        return None
    report = json.loads(report_file.read_text())
    return report.get("failed_step") if report.get("status") == "failed" else None


def resumed(earlier: dict, now: dict, failed_step: str) -> dict:
    """One run's figures over two attempts: each step's time from the attempt that completed it."""
    order = ["bronze_s", "silver_s", "identity_s", "evaluate_s", "gold_s"]  # as `c2c run` runs them
    done_before = order[: order.index(f"{failed_step}_s")] if f"{failed_step}_s" in order else []
    out = dict(now)
    for step in done_before:
        out[step] = (earlier.get(step) or 0.0) + (now.get(step) or 0.0)
    out["lost_s"] = (earlier.get("lost_s") or 0.0) + (earlier.get(f"{failed_step}_s") or 0.0)
    out["end_to_end_s"] = (
        (earlier.get("start_s") or 0.0)
        + sum(earlier.get(s) or 0.0 for s in done_before)
        + now["end_to_end_s"]
    )
    for peak in ("peak_rss_gb", "peak_pss_gb", "peak_tmp_gb"):
        out[peak] = max(earlier.get(peak) or 0.0, now[peak])
    out["attempts"] = earlier.get("attempts", 1) + 1
    return out


def steps_of(report: dict, launched_at: datetime, wall: float) -> dict:
    t = report.get("timings_s", {})
    start = (datetime.fromisoformat(report["started_at"]) - launched_at).total_seconds()
    steps = {
        "start_s": start,
        "bronze_s": t.get("bronze"),
        "silver_s": sum(t.get(k, 0.0) for k in ("gate_bronze", "silver_build_and_gate", "silver_write")),
        "identity_s": t.get("identity"),
        "evaluate_s": t.get("evaluate"),  # scoring against a synthetic truth, outside identity
        "gold_s": t.get("gold"),
        "report_s": t.get("quality_store", 0.0) + t.get("record_run", 0.0),
    }
    if "finished_at" in report:
        steps["publish_s"] = (
            wall - (datetime.fromisoformat(report["finished_at"]) - launched_at).total_seconds()
        )
    return steps


def tables_of(report: dict) -> dict:
    """Rows and bytes (every file under the table's folder, older versions included) per table."""
    return {
        fqn: {"rows": info["rows"], "bytes": folder_bytes(Path(info["path"]))}
        for fqn, info in report.get("tables", {}).items()
        if "://" not in info["path"]
    }


def layer_totals(tables: dict) -> dict[str, tuple[int, int]]:
    totals: dict[str, tuple[int, int]] = {}
    for fqn, t in tables.items():
        rows, size = totals.get(fqn.split(".", 1)[0], (0, 0))
        totals[fqn.split(".", 1)[0]] = (rows + (t["rows"] or 0), size + t["bytes"])
    return totals


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def print_table(results: dict, sizes: list[int], backends: list[str]) -> None:
    columns = [(n, b) for n in sizes for b in backends if (n, b) in results["runs"]]
    rows = [
        "generate_s",
        *STEPS,
        "end_to_end_s",
        "peak_rss_gb",
        "peak_pss_gb",
        "peak_tmp_gb",
        "raw_gb",
        "ratio",
        "complete",
    ]
    print("| | " + " | ".join(f"{label(n)} {b}" for n, b in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name in rows:
        cells = []
        for n, b in columns:
            r = results["runs"][(n, b)]
            value = results["generate"][n].get(name) if name in ("generate_s", "raw_gb") else r.get(name)
            cells.append(fmt(value))
        print(f"| {name} | " + " | ".join(cells) + " |")
    for (n, b), r in results["runs"].items():
        if r.get("error"):
            print(f"{label(n)} {b}: failed: {r['error']}")


def pairs(results: dict, sizes: list[int], backends: list[str]) -> str:
    suffix = (lambda b: f"_{b}") if len(backends) > 1 else (lambda b: "")
    out: dict[str, object] = {}
    for n in sizes:
        g, s = results["generate"].get(n, {}), label(n)
        out[f"generate_s_{s}"] = g.get("generate_s")
        out[f"raw_gb_{s}"] = g.get("raw_gb")
        for b in backends:
            r = results["runs"].get((n, b), {})
            for name in (*STEPS, "end_to_end_s", "peak_rss_gb", "peak_pss_gb", "peak_tmp_gb"):
                out[f"{name}_{s}{suffix(b)}"] = r.get(name)
            if "ratio" in r:
                out[f"ratio_{r['ratio_of']}_{s}{suffix(b)}"] = r["ratio"]
        complete = [b for b in backends if results["runs"].get((n, b), {}).get("complete")]
        out[f"backends_complete_{s}"] = ",".join(complete) or "none"
    return " ".join(
        f"{k}={v}" if isinstance(v, str) else f"{k}={float('nan') if v is None else v:.3f}"
        for k, v in out.items()
    )


def save(path: Path, results: dict) -> None:
    """Everything measured so far, after each run: a benchmark stopped later keeps it."""
    runs = {f"{label(n)}_{b}": r for (n, b), r in results["runs"].items()}
    generated = {label(n): g for n, g in results["generate"].items()}
    path.write_text(json.dumps({"generate": generated, "runs": runs}, indent=2))


def load(path: Path) -> dict:
    """What `save` wrote, keyed as `main` keys it (sizes as numbers)."""
    if not path.is_file():
        return {"generate": {}, "runs": {}}
    saved = json.loads(path.read_text())
    runs = {}
    for key, r in saved["runs"].items():
        size, backend = key.split("_", 1)
        runs[(int(float(size)), backend)] = r
    return {"generate": {int(float(k)): g for k, g in saved["generate"].items()}, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5", help="people per state, comma separated (1e4,1e5,1e6)")
    parser.add_argument("--backend", choices=("duckdb", "spark", "both"), default="duckdb")
    parser.add_argument("--work", help="work directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep every state, lake and var/ under --work")
    parser.add_argument(
        "--resume", action="store_true", help="go on from an earlier --work --keep run's states and lakes"
    )
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    backends = ["duckdb", "spark"] if args.backend == "both" else [args.backend]
    work = Path(args.work).resolve() if args.work else Path(tempfile.mkdtemp(prefix="c2c-bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "C2C_ENV": "local"}
    env.pop("C2C_CONF_DIR", None)
    if args.resume and not (args.work and args.keep):
        parser.error("--resume needs --work and --keep")
    earlier = load(work / "scale.json") if args.resume else {"generate": {}, "runs": {}}
    results: dict = {"generate": {}, "runs": {}}
    try:
        for n in sizes:
            size_dir = work / label(n)
            g = results["generate"][n] = generate(n, size_dir, env, earlier["generate"].get(n))
            print(f"{label(n)}: generate {fmt(g['generate_s'])} s, raw {fmt(g.get('raw_gb'))} GB", flush=True)
            if not g["ok"]:
                print(f"{label(n)}: generate failed: {g['error']}", flush=True)
                continue
            for b in backends:
                r = run(n, b, size_dir / "raw", size_dir / b, env, earlier["runs"].get((n, b)))
                results["runs"][(n, b)] = r
                before = sizes[sizes.index(n) - 1] if sizes.index(n) > 0 else None
                previous = results["runs"].get((before, b), {})
                if r["complete"] and previous.get("complete"):
                    r["ratio"], r["ratio_of"] = r["end_to_end_s"] / previous["end_to_end_s"], label(before)
                layers = ", ".join(
                    f"{layer} {rows:,} rows {size / GB:.3f} GB"
                    for layer, (rows, size) in layer_totals(r.get("tables", {})).items()
                )
                state = "complete" if r["complete"] else f"FAILED ({r.get('error')})"
                print(
                    f"{label(n)} {b}: {state}, end to end {r['end_to_end_s']:.1f} s, peak RSS "
                    f"{r['peak_rss_gb']:.2f} GB (PSS {r['peak_pss_gb']:.2f} GB; {r['rss_at_peak']}), "
                    f"peak tmp {r['peak_tmp_gb']:.2f} GB; {layers}",
                    flush=True,
                )
                save(work / "scale.json", results)
                if not args.keep:
                    shutil.rmtree(size_dir / b, ignore_errors=True)
            if not args.keep:
                shutil.rmtree(size_dir, ignore_errors=True)
        print_table(results, sizes, backends)
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(pairs(results, sizes, backends))


if __name__ == "__main__":
    main()
