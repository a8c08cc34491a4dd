"""The linkage model's lifecycle in MLflow: each training is a run (settings, the trained model JSON,
evaluation metrics), each trained model a version of one registered model, and the alias `champion`
marks the version scheduled runs load. Locally the tracking store is a SQLite file under `var/`
(MLflow 3 refuses the plain file store).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from lakehouse.settings import Settings

CHAMPION = "champion"
MODEL_FILE = "linkage_model.json"
ARTIFACT_PATH = "linkage_model"


def tracking_uri(settings: Settings) -> str:
    if settings.identity.tracking_uri:
        return settings.identity.tracking_uri
    folder = (settings.var_dir / "mlflow").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def _client(settings: Settings):
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    import mlflow
    from mlflow import MlflowClient

    uri = tracking_uri(settings)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow, MlflowClient(tracking_uri=uri, registry_uri=uri)


def _artifact_root(settings: Settings) -> str:
    return (settings.var_dir / "mlflow" / "artifacts").resolve().as_uri()


def load_champion(settings: Settings) -> tuple[dict[str, Any], str] | None:
    """The champion model's JSON and its version, or None when no version has the alias yet."""
    return load_model(settings, CHAMPION)


def load_model(settings: Settings, which: str) -> tuple[dict[str, Any], str] | None:
    """A registered model's JSON and its version: `which` is 'champion' (the alias) or a version
    number. None when there is no such version."""
    mlflow, client = _client(settings)
    name = settings.identity.model_name
    try:
        if which == CHAMPION:
            version = client.get_model_version_by_alias(name, CHAMPION)
        else:
            version = client.get_model_version(name, which)
    except mlflow.exceptions.MlflowException:
        return None
    folder = mlflow.artifacts.download_artifacts(artifact_uri=version.source)
    return json.loads((Path(folder) / MODEL_FILE).read_text()), str(version.version)


def log_model(
    settings: Settings,
    model: dict[str, Any],
    *,
    params: dict[str, Any],
    metrics: dict[str, float],
    run_name: str,
    champion: bool,
    artifacts: dict[str, Any] | None = None,
) -> str:
    """Log one training as an MLflow run, register its model as a new version and, when `champion`,
    point the alias at it. Returns the version."""
    mlflow, client = _client(settings)
    experiment = "c2c-identity"
    if mlflow.get_experiment_by_name(experiment) is None:
        mlflow.create_experiment(experiment, artifact_location=_artifact_root(settings))
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=run_name) as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        if metrics:
            mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        (Path(tmp) / MODEL_FILE).write_text(json.dumps(model, indent=2))
        mlflow.log_artifact(str(Path(tmp) / MODEL_FILE), artifact_path=ARTIFACT_PATH)
        for name, content in (artifacts or {}).items():
            (Path(tmp) / name).write_text(json.dumps(content, indent=2, default=str))
            mlflow.log_artifact(str(Path(tmp) / name), artifact_path="evaluation")
        source = f"{run.info.artifact_uri}/{ARTIFACT_PATH}"
    name = settings.identity.model_name
    try:
        client.get_registered_model(name)
    except mlflow.exceptions.MlflowException:
        client.create_registered_model(name, description="Splink model linking person records")
    version = client.create_model_version(name, source, run_id=run.info.run_id)
    if champion:
        client.set_registered_model_alias(name, CHAMPION, version.version)
    return str(version.version)


def log_evaluation(
    settings: Settings,
    *,
    experiment: str,
    run_name: str,
    tags: dict[str, str],
    metrics: dict[str, float],
    artifacts: dict[str, Any],
) -> None:
    """Log an evaluation as the MLflow run `run_name` of `experiment`: the same run again when one of
    that name exists (an identity evaluated again updates its run instead of adding a second one).
    `artifacts` are written as JSON files under `evaluation/`."""
    mlflow, _ = _client(settings)
    if mlflow.get_experiment_by_name(experiment) is None:
        mlflow.create_experiment(experiment, artifact_location=_artifact_root(settings))
    found = mlflow.set_experiment(experiment)
    earlier = [
        r.info.run_id
        for r in mlflow.search_runs(
            experiment_ids=[found.experiment_id],
            filter_string=f"attributes.run_name = '{run_name}'",
            output_format="list",
        )
    ]
    with (
        mlflow.start_run(run_id=earlier[0]) if earlier else mlflow.start_run(run_name=run_name),
        tempfile.TemporaryDirectory() as tmp,
    ):
        mlflow.set_tags(tags)
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        for name, content in artifacts.items():
            (Path(tmp) / name).write_text(json.dumps(content, indent=2, default=str))
            mlflow.log_artifact(str(Path(tmp) / name), artifact_path="evaluation")
