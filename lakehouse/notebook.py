"""Open a lake from an analyst notebook: settings, Spark and storage for one working directory.

Settings resolve relative paths (`./var/lake` in conf/local.yml) against the current directory at the
moment they are loaded, and a notebook's kernel starts in `notebooks/`. So the notebooks load settings
from the working directory `c2c run` ran in: `C2C_WORKDIR` if set, else the repository root (where
`make run` puts `var/`). The environment is `C2C_ENV` (default `local`), as for the CLI.

Notebooks only read; nothing production depends on lives here.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from lakehouse.identity.evaluate import read_truth
from lakehouse.settings import Settings, load_settings
from lakehouse.spark import build_spark
from lakehouse.storage import Storage, open_storage
from lakehouse.synth.records import TRUTH_FILE
from lakehouse.tables import get

WORKDIR_VAR = "C2C_WORKDIR"
TRUE_METRICS_FILE = "_truth/metrics.csv"


def default_workdir() -> Path:
    """`C2C_WORKDIR`, else the repository root when this package runs from a checkout, else `.`."""
    if os.environ.get(WORKDIR_VAR):
        return Path(os.environ[WORKDIR_VAR]).expanduser().resolve()
    repo = Path(__file__).resolve().parent.parent
    return repo if (repo / "pyproject.toml").is_file() else Path.cwd()


@contextmanager
def _working_directory(path: Path):
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def settings_for(
    workdir: str | Path | None = None, env: str | None = None, overrides: dict[str, Any] | None = None
) -> Settings:
    """The settings `c2c run` used when started in `workdir`: relative paths resolve there, and the
    process's working directory is left as it was."""
    workdir = Path(workdir).expanduser().resolve() if workdir else default_workdir()
    if not workdir.is_dir():
        raise FileNotFoundError(f"no working directory {workdir}: set {WORKDIR_VAR} to where `c2c run` ran")
    with _working_directory(workdir):
        return load_settings(env, overrides=overrides)


@dataclass(frozen=True)
class Lake:
    """What a notebook needs: the settings, the Spark session and the storage of one lake."""

    settings: Settings
    spark: SparkSession
    storage: Storage

    def read(self, fqn: str) -> DataFrame:
        """A declared table by its full name, e.g. `gold.cohort_members`."""
        table = get(fqn)
        if not self.storage.info(table).exists:
            raise FileNotFoundError(
                f"{fqn} does not exist at {self.storage.path(table)}: run `c2c run` first"
            )
        return self.storage.read(table)

    def truth_file(self, name: str = TRUTH_FILE) -> Path | None:
        """A file of the generator's truth (synthetic states only), or None for a real lake."""
        raw = self.settings.storage.raw_root
        path = Path(raw) / name
        return path if "://" not in raw and path.is_file() else None

    def person_truth(self) -> DataFrame | None:
        """Who each source record truly is, [source, source_record_key, true_person_id] (the input of
        `lakehouse.identity.evaluate`), or None for a real lake."""
        return read_truth(self.spark, self.settings)


def open_lake(workdir: str | Path | None = None, env: str | None = None) -> Lake:
    """Settings for `workdir` (see `settings_for`), a Spark session built from them, and the storage."""
    settings = settings_for(workdir, env, overrides={"spark": {"app_name": "c2c-notebook"}})
    spark = build_spark(settings)
    return Lake(settings, spark, open_storage(spark, settings))
