"""`c2c evaluate`, and the evaluation step of `c2c run`: how well the lake's identity matches the truth
a synthetic state carries (`<raw>/_truth/person_truth.csv`, written by `c2c generate`).

A real state's raw root has no truth, so the identity step never reads one. `c2c run` evaluates as a
step of its own, after identity has linked and only when the raw root holds a truth; `c2c evaluate`
scores the identity the lake committed last (the crosswalk its identity manifest names) whenever it is
asked. The scores are those of `lakehouse/identity/evaluate.py`: pairwise and B-cubed precision,
recall and F1, and the match rate per source. Each evaluation is filed under a run id: in
`var/runs/<run_id>/evaluation.json`, and as the MLflow run `evaluate-<run_id>` of the identity
experiment (the scores as metrics, the same JSON as its artifact). Only counts and rates leave: no
record key, name or token.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from jobs.layer import LayerReport, RunContext
from jobs.run_record import run_dir
from lakehouse.errors import C2CError
from lakehouse.identity import registry
from lakehouse.identity.evaluate import CROSSWALK_COLUMNS, evaluation_report
from lakehouse.identity.truth import truth_and_shared_keys
from lakehouse.settings import Settings
from lakehouse.storage import Storage
from lakehouse.synth.records import TRUTH_FILE
from lakehouse.tables import IDENTITY_CROSSWALK
from lakehouse.tables.manifest import committed_frame, latest_manifest

# The MLflow experiment the linkage model's trainings are logged in (registry.log_model).
EXPERIMENT = "c2c-identity"
EVALUATION_FILE = "evaluation.json"


class NoTruth(C2CError):
    """The raw root holds no truth to evaluate against: a real state, not one `c2c generate` wrote."""


def truth_path(settings: Settings) -> Path | None:
    """The raw root's truth file, or None when it has none. Only a local raw root is looked in, as
    `read_truth` reads it."""
    raw = settings.storage.raw_root
    path = Path(raw) / TRUTH_FILE
    return path if "://" not in raw and path.is_file() else None


def has_truth(settings: Settings) -> bool:
    """True when the raw root holds a synthetic state's truth: what makes `c2c run` evaluate."""
    return truth_path(settings) is not None


def require_truth(settings: Settings) -> Path:
    """The raw root's truth file; NoTruth, naming the folder it should be in, when there is none."""
    path = truth_path(settings)
    if path is None:
        raise NoTruth(
            f"the raw root {settings.storage.raw_root} holds no truth ({TRUTH_FILE}): only a synthetic "
            "state written by `c2c generate` can be evaluated; give its folder with --raw"
        )
    return path


def score(spark: SparkSession, settings: Settings, crosswalk: DataFrame) -> dict | None:
    """`crosswalk` [source, source_record_key, person_id] scored against the raw root's truth
    (lakehouse.identity.evaluate.evaluation_report), or None when the raw root holds no truth."""
    found = truth_and_shared_keys(spark, settings)
    if found is None:
        return None
    truth, shared = found
    return {**evaluation_report(crosswalk.select(*CROSSWALK_COLUMNS), truth), "truth_shared_keys": shared}


def evaluate(spark: SparkSession, settings: Settings, storage: Storage, *, run_id: str | None = None) -> dict:
    """Score the crosswalk of the lake's last identity manifest against the raw root's truth, and file
    the result under `run_id` (default: the run that committed that identity). Returns the evaluation:
    the scores, which run committed the identity and the crosswalk's version, and the truth file.
    Raises NoTruth when the raw root holds no truth, C2CError when the lake has no identity yet."""
    path = require_truth(settings)
    manifest = latest_manifest(storage, "identity")
    crosswalk = committed_frame(storage, manifest, IDENTITY_CROSSWALK)
    if manifest is None or crosswalk is None:
        raise C2CError(f"the lake has no committed {IDENTITY_CROSSWALK.fqn} yet: run `c2c run` first")
    scores = score(spark, settings, crosswalk)
    if scores is None:  # the truth went away since it was looked for
        raise NoTruth(f"the raw root {settings.storage.raw_root} no longer holds {TRUTH_FILE}")
    evaluation = {
        "identity_run_id": manifest.run_id,
        "crosswalk_version": manifest.tables[IDENTITY_CROSSWALK.fqn],
        "truth": str(path),
        **scores,
    }
    record(settings, evaluation, run_id=run_id or manifest.run_id)
    return evaluation


def run(ctx: RunContext) -> LayerReport:
    """The evaluation step of `c2c run`: when this run's identity step linked and the raw root holds
    a truth, the evaluation of the identity it committed, filed under the run."""
    identity = ctx.earlier.get("identity")
    if identity is None or not identity.ran or not has_truth(ctx.settings):
        return LayerReport("evaluate", {}, "", ran=False, silent=True)
    started = time.perf_counter()
    evaluation = evaluate(ctx.spark, ctx.settings, ctx.storage, run_id=ctx.run_id)
    return LayerReport(
        "evaluate",
        evaluation,
        figures(evaluation),
        timings_s={"evaluate": round(time.perf_counter() - started, 3)},
    )


def record(settings: Settings, evaluation: dict, *, run_id: str) -> Path:
    """Write `var/runs/<run_id>/evaluation.json` and log the MLflow run `evaluate-<run_id>` (the same
    run again when the run id is evaluated again). Returns the file written."""
    out = run_dir(settings, run_id) / EVALUATION_FILE
    out.write_text(json.dumps(evaluation, indent=2, default=str))
    registry.log_evaluation(
        settings,
        experiment=EXPERIMENT,
        run_name=mlflow_run_name(run_id),
        tags={"c2c.run_id": run_id, "c2c.identity_run_id": evaluation["identity_run_id"]},
        metrics=metrics(evaluation),
        artifacts={EVALUATION_FILE: evaluation},
    )
    return out


def mlflow_run_name(run_id: str) -> str:
    return f"evaluate-{run_id}"


def metrics(evaluation: dict | None) -> dict[str, float]:
    """The pairwise and B-cubed figures as flat MLflow metric names (pairwise_f1, bcubed_recall, ...)."""
    if not evaluation:
        return {}
    out = {}
    for group in ("pairwise", "bcubed"):
        for k, v in (evaluation.get(group) or {}).items():
            if isinstance(v, int | float):
                out[f"{group}_{k}"] = v
    return out


def figures(evaluation: dict) -> str:
    """The headline figures on one line: pairwise precision, recall and F1, and B-cubed F1."""
    pw, bc = evaluation["pairwise"], evaluation["bcubed"]
    return (
        f"pairwise precision {pw['precision']:.4f} recall {pw['recall']:.4f} F1 {pw['f1']:.4f}; "
        f"B-cubed F1 {bc['f1']:.4f}"
    )


def report_lines(evaluation: dict, out: Path, settings: Settings, run_id: str) -> list[str]:
    """What `c2c evaluate` prints: the identity scored, every score, the match rate per source, and
    where the evaluation was filed."""
    pw, bc = evaluation["pairwise"], evaluation["bcubed"]
    lines = [
        f"identity committed by run {evaluation['identity_run_id']} ({IDENTITY_CROSSWALK.fqn} version "
        f"{evaluation['crosswalk_version']}) vs {evaluation['truth']}",
        f"  pairwise: precision {pw['precision']:.4f} recall {pw['recall']:.4f} F1 {pw['f1']:.4f} "
        f"({pw['correct_pairs']:,} correct of {pw['predicted_pairs']:,} predicted pairs, "
        f"{pw['true_pairs']:,} true pairs)",
        f"  B-cubed:  precision {bc['precision']:.4f} recall {bc['recall']:.4f} F1 {bc['f1']:.4f}",
        f"  records:  {pw['records']:,} ({pw['records_missing_from_crosswalk']:,} missing from the "
        f"crosswalk, {pw['records_missing_from_truth']:,} missing from the truth)",
        "  match rate per source (linked, with perfect linkage):",
    ]
    width = max((len(r["source"]) for r in evaluation["match_rates"]), default=0)
    lines += [
        f"    {r['source']:<{width}}  {r['match_rate']:.4f}  {r['true_match_rate']:.4f}"
        for r in evaluation["match_rates"]
    ]
    lines += [
        f"  written:  {out}",
        f"  MLflow:   run {mlflow_run_name(run_id)} in experiment {EXPERIMENT} "
        f"({registry.tracking_uri(settings)})",
    ]
    return lines


def main(settings: Settings, *, run_id: str | None = None) -> int:
    """`c2c evaluate`: score the lake's committed identity against the raw root's truth, file it
    under `run_id` (default: the run that committed the identity) and print it. Without a truth it
    stops before Spark starts (NoTruth: exit 2)."""
    from lakehouse.silver.tokens import check_pii_key
    from lakehouse.spark import build_spark
    from lakehouse.storage import open_storage

    require_truth(settings)
    check_pii_key(settings)  # the truth spells EDD keys with the SSN: they are tokenized as silver's are
    spark = build_spark(settings)
    storage = open_storage(spark, settings)
    evaluation = evaluate(spark, settings, storage, run_id=run_id)
    filed_under = run_id or evaluation["identity_run_id"]
    out = run_dir(settings, filed_under) / EVALUATION_FILE
    print("\n".join(report_lines(evaluation, out, settings, filed_under)))
    return 0
