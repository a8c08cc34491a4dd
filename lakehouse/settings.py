"""Typed settings, loaded once per process from `conf/base.yml` plus one environment overlay.

The environment comes from `--env` or `C2C_ENV` (default `local`). Values may reference environment
variables as `${NAME}` or `${NAME:-default}`. Validation happens here, at start: an unknown key, a bad
value or a missing environment variable raises `SettingsError` naming the key and the file it came from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from lakehouse.errors import SettingsError
from lakehouse.settings_files import check_keys, interpolate, merge, origin_of, read_yaml

# The synth section lives in its own module; its names are imported from here too.
from lakehouse.settings_synth import (  # noqa: F401
    SOURCES,
    SynthNoise,
    SynthRates,
    SynthSettings,
    _Strict,
)

ENV_VAR = "C2C_ENV"
CONF_DIR_VAR = "C2C_CONF_DIR"
DEFAULT_ENV = "local"


class SparkSettings(_Strict):
    master: str
    app_name: str = "c2c"
    conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("conf", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        # YAML reads `8` and `true` as numbers and booleans; Spark wants strings.
        if isinstance(value, dict):
            return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
        return value


class StorageSettings(_Strict):
    engine: Literal["auto", "delta-spark", "delta-rs"] = "auto"
    root: str
    restricted_root: str
    raw_root: str
    compact_target_mb: int = Field(128, gt=0)
    max_commit_retries: int = Field(15, ge=0)


class RawSettings(_Strict):
    """What becomes of a raw extract once its rows are in bronze and its ledger row is committed.

    keep: it stays under the raw root (the embedded default: the synthetic state stays to look at).
    move: it moves to `<restricted_root>/raw_landed/<load id>/<its path>`, behind the restricted zone's
          access control (the cluster default: the landing area holds only what is not landed yet).
    delete: it is deleted; bronze (restricted) holds every row of it as landed.
    It happens once the whole landing is committed; a file of a batch committed before a crash
    leaves with the next run's landing.
    """

    after_landing: Literal["keep", "move", "delete"] = "keep"
    # Files land in batches of about this many megabytes of raw data, each committed with its ledger
    # rows before the next is read: a crash keeps the batches before it, and Spark's scratch space
    # holds one batch's lines (about 4x its raw size) instead of the whole load's.
    landing_batch_mb: int = Field(512, gt=0)


class PathSettings(_Strict):
    """var: run reports, Data Docs, the MLflow store, `c2c submit` artifacts.
    site: the public dashboard and the published tables it reads (`<site>/data/`); empty means
    `<var>/site`. It is public: it may not lie in the restricted zone or under the raw root."""

    var: str
    site: str = ""


class PiiSettings(_Strict):
    """Where the SSN tokenization key comes from (see lakehouse/silver/tokens.py)."""

    key_env: str = "C2C_PII_KEY"
    dev_key_file: str | None = None


class QualitySettings(_Strict):
    """Thresholds of the quality gates (see quality/). A `fail` check blocks promotion; `warn` reports."""

    min_parse_rate: float = Field(0.95, ge=0, le=1)  # per source family over a load: landed / raw rows
    # ... judged once at least this many rows of the family failed; so are unknown-code rates (silver)
    min_bad_rows: int = Field(20, ge=0)
    min_file_parse_rate: float = Field(0.5, ge=0, le=1)  # one file fails only when mostly unreadable
    min_file_rows: int = Field(20, ge=1)  # ... and it has at least this many rows
    max_unknown_code_rate: float = Field(0.01, ge=0, le=1)  # per coded column (fail above)
    max_quarantine_rate: float = Field(0.05, ge=0, le=1)  # per table, rows held back (fail above)
    row_count_drift: float = Field(0.5, ge=0)  # rows per file vs earlier loads; silver vs its last version
    data_docs: bool = True  # build great-expectations Data Docs under <var>/quality/docs
    # Silver tables whose finishing checks (GX suite, unknown codes) run at once: each GX metric is a
    # small Spark job, latency-bound, so several tables' jobs overlap on the cluster's (or the
    # machine's) cores instead of queueing one after another.
    check_threads: int = Field(4, ge=1, le=32)


class IdentitySettings(_Strict):
    """Identity resolution (lakehouse/identity/): backend, thresholds, model registry."""

    backend: Literal["duckdb", "spark"] = "duckdb"  # where Splink runs; clusters use spark
    # How a new model learns m: "labels", from the pairs that share an id (with the agencies' SSN
    # error rates fixed); "em", by expectation maximisation with nothing fixed and the prior fitted
    # to every candidate's score (as `c2c link` trains; scores every candidate pair).
    training: Literal["labels", "em"] = "labels"
    match_threshold: float = Field(0.99, gt=0, lt=1)  # a scored pair at or above it is a match
    review_floor: float = Field(0.2, ge=0, lt=1)  # scored pairs kept (for clerical review) from here up
    # Two clusters whose best pair scored in [near_miss_floor, match_threshold) join when each is the
    # other's only such near miss and their birth dates agree (identity/joins.py); None: never.
    near_miss_floor: float | None = Field(0.7, gt=0, lt=1)
    max_cluster_size: int = Field(80, gt=1)  # larger clusters are chaining suspects (guards.py)
    train_max_pairs: float = Field(2e6, gt=0)  # random pairs for estimating u
    # Backend duckdb: DuckDB's memory in the driver, beyond which it spills to disk; None: 60% of what
    # the machine has beside the Spark driver's heap (lakehouse/identity/link.py).
    duckdb_memory_gb: float | None = Field(None, gt=0)
    # Backend duckdb: scoring runs in k x k chunks, k = records / this (identity/link.py `predict_chunks`).
    predict_chunk_records: int = Field(1_000_000, gt=0)
    model_name: str = "c2c-person-linkage"  # registered model in MLflow; alias `champion` is used
    tracking_uri: str | None = None  # MLflow; None: a SQLite file under <var>/mlflow

    @model_validator(mode="after")
    def _floors_below_threshold(self) -> IdentitySettings:
        floor = self.near_miss_floor
        if floor is not None and not self.review_floor <= floor < self.match_threshold:
            raise ValueError(
                f"identity.near_miss_floor ({floor}) must lie between review_floor "
                f"({self.review_floor}) and match_threshold ({self.match_threshold})"
            )
        return self


class Settings(_Strict):
    env: str
    conf_dir: str
    spark: SparkSettings
    storage: StorageSettings
    paths: PathSettings
    raw: RawSettings = Field(default_factory=RawSettings)
    synth: SynthSettings = Field(default_factory=SynthSettings)
    pii: PiiSettings = Field(default_factory=PiiSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)

    @property
    def var_dir(self) -> Path:
        return Path(self.paths.var)

    def runs_dir(self) -> Path:
        return self.var_dir / "runs"

    @property
    def site_dir(self) -> Path:
        """Where the dashboard is built; the published tables are in its `data/` folder."""
        return Path(self.paths.site)


def default_conf_dir() -> Path:
    """`C2C_CONF_DIR`, else the repository's `conf/`, else `./conf`."""
    if os.environ.get(CONF_DIR_VAR):
        return Path(os.environ[CONF_DIR_VAR])
    repo_conf = Path(__file__).resolve().parent.parent / "conf"
    return repo_conf if repo_conf.is_dir() else Path("conf")


# conf/*.yml files that are not environment overlays (code maps live in conf/codes/).
NOT_OVERLAYS = ("base", "metrics", "cpi")


def load_settings(
    env: str | None = None,
    conf_dir: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Read base.yml and `<env>.yml`, check every key, resolve `${VAR}` and relative paths, validate."""
    env = env or os.environ.get(ENV_VAR) or DEFAULT_ENV
    conf_path = Path(conf_dir) if conf_dir else default_conf_dir()
    base_file = conf_path / "base.yml"
    overlay_file = conf_path / f"{env}.yml"
    if not overlay_file.is_file() or env in NOT_OVERLAYS:
        known = sorted(p.stem for p in conf_path.glob("*.yml") if p.stem not in NOT_OVERLAYS)
        raise SettingsError(f"unknown environment '{env}': no {overlay_file} (available: {', '.join(known)})")

    merged: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str] = {}
    layers = [(str(base_file), read_yaml(base_file)), (str(overlay_file), read_yaml(overlay_file))]
    if overrides:
        layers.append(("overrides", overrides))
    for source, data in layers:
        check_keys(data, Settings, (), source)
        merge(merged, data, (), source, origin)

    merged = interpolate(merged, (), origin)
    merged["env"] = env
    merged["conf_dir"] = str(conf_path.resolve())
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(str(p) for p in err["loc"])
            problems.append(f"{origin_of(loc, origin)}: {'.'.join(loc)}: {err['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems)) from None
    settings = _resolve_paths(settings)
    _check_zones(settings.storage)
    for name in ("restricted_root", "raw_root"):
        root = getattr(settings.storage, name)
        if _inside(settings.paths.site, root) or _inside(root, settings.paths.site):
            raise SettingsError(
                f"paths.site ({settings.paths.site}) and storage.{name} ({root}) overlap: the site is "
                "public, and restricted data and raw extracts must stay out of it"
            )
    return settings


def _inside(path: str, root: str) -> bool:
    """`path` is `root` or lies under it (local paths resolved, `file:` URIs as paths; other URIs
    compared as written)."""
    path, root = _local(path).rstrip("/"), _local(root).rstrip("/")
    return path == root or path.startswith(root + "/")


def _local(value: str) -> str:
    for prefix in ("file://", "file:"):
        if value.startswith(prefix):
            return str(Path(value[len(prefix) :]).resolve())
    return value


def _check_zones(storage: StorageSettings) -> None:
    """The restricted zone and the raw root hold names, birth dates and SSNs: neither may be the public
    root nor lie inside it, where whoever may read the de-identified lake would read them too."""
    for name in ("restricted_root", "raw_root"):
        value = getattr(storage, name)
        if _inside(value, storage.root):
            raise SettingsError(
                f"storage.{name} ({value}) is the public storage.root ({storage.root}) or lies inside it: "
                "restricted data must live in a root of its own, outside the public one"
            )
    if _inside(storage.restricted_root, storage.raw_root):
        raise SettingsError(
            f"storage.restricted_root ({storage.restricted_root}) is the raw root ({storage.raw_root}) or "
            "lies inside it: every file under the raw root is landed as an agency extract"
        )
    if _inside(storage.root, storage.restricted_root):
        raise SettingsError(
            f"storage.root ({storage.root}) lies inside storage.restricted_root "
            f"({storage.restricted_root}): give the public lake and the restricted zone separate roots"
        )


def _is_uri(value: str) -> bool:
    return "://" in value


def _absolute(value: str) -> str:
    return value if _is_uri(value) else str(Path(value).expanduser().resolve())


def _resolve_paths(settings: Settings) -> Settings:
    """Relative local paths are taken from the working directory once, so later `chdir`s change nothing."""
    storage = settings.storage.model_copy(
        update={
            "root": _absolute(settings.storage.root),
            "restricted_root": _absolute(settings.storage.restricted_root),
            "raw_root": _absolute(settings.storage.raw_root),
        }
    )
    conf = dict(settings.spark.conf)
    for key in ("spark.local.dir", "spark.sql.warehouse.dir"):
        if key in conf:
            conf[key] = _absolute(conf[key])
    spark = settings.spark.model_copy(update={"conf": conf})
    var = _absolute(settings.paths.var)
    site = _absolute(settings.paths.site) if settings.paths.site else str(Path(var) / "site")
    paths = settings.paths.model_copy(update={"var": var, "site": site})
    pii = settings.pii
    if pii.dev_key_file:
        pii = pii.model_copy(update={"dev_key_file": _absolute(pii.dev_key_file)})
    return settings.model_copy(update={"storage": storage, "spark": spark, "paths": paths, "pii": pii})
