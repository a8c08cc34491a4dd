"""The metric catalog (conf/metrics.yml), read once and validated before any Spark work.

A metric is configuration: a cohort rule and an outcome rule by name (functions in cohorts.py and
outcomes.py), a window, an optional `among` restriction to another metric's result, and its kind
(`rate`, or `median` of another metric's value). A mistake (unknown rule, a window key the rule does
not take, `among` naming a metric that is not defined earlier in its mart) stops the job with a
message naming the metric and the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lakehouse.errors import SettingsError
from lakehouse.gold.views import Curve, Flow, Parts, all_parts, curve, flows

__all__ = ["Catalog", "Curve", "Flow", "Mart", "Metric", "Parts", "load_catalog"]


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    kind: str = "rate"  # rate | median
    outcome: str | None = None  # outcome rule (rate metrics)
    window: dict = field(default_factory=dict)
    among: tuple[tuple[str, bool], ...] = ()  # (metric, required result)
    value: str | None = None  # median metrics: the metric whose value is summarized


@dataclass(frozen=True)
class Mart:
    name: str
    title: str
    cohort: str
    cohort_definition: str
    breakdowns: tuple[str, ...]
    coverage: str
    metrics: tuple[Metric, ...]
    match_sources: tuple[str, ...] = ("wages",)  # outcome sources a cohort member counts as linked to
    curves: tuple[Curve, ...] = ()
    parts: tuple[Parts, ...] = ()
    flows: tuple[Flow, ...] = ()
    # A breakdown only some members have (where the placed teach): published for the metrics whose
    # population is within (metric, result), e.g. retention among the placed.
    breakdowns_among: tuple[tuple[str, tuple[tuple[str, bool], ...]], ...] = ()

    def metric(self, name: str) -> Metric:
        return next(m for m in self.metrics if m.name == name)

    def breaks_down(self, metric: Metric, dimension: str) -> bool:
        """Whether `metric` is published by `dimension`: always, unless the breakdown exists only
        among members with certain results and the metric's population is not within them."""
        required = dict(self.breakdowns_among).get(dimension, ())
        return set(required) <= set(metric.among)

    def metrics_by(self, dimension: str) -> tuple[Metric, ...]:
        return tuple(m for m in self.metrics if self.breaks_down(m, dimension))


@dataclass(frozen=True)
class Catalog:
    vintage: int | None  # None: taken from the data
    cpi_base_year: int
    min_cell_size: int
    employment_threshold: float
    marts: tuple[Mart, ...]
    source: str = ""
    # Pooled cohorts (lakehouse/gold/pooling.py): rolling windows of this many cohort years, and all
    # years together; 0 publishes no pooled cohort. `yearly_breakdowns` also publishes every
    # breakdown per cohort year (statewide is always published per year).
    pool_window_years: int = 0
    yearly_breakdowns: bool = True

    def mart(self, name: str) -> Mart:
        for m in self.marts:
            if m.name == name:
                return m
        raise KeyError(f"{self.source}: no mart named '{name}'")


def load_catalog(conf_dir: str | Path, *, cohorts: dict, outcomes: dict) -> Catalog:
    """Read conf/metrics.yml and check every rule name and window key against the rule registries
    (`cohorts` and `outcomes` map a rule name to its function and its allowed window keys)."""
    path = Path(conf_dir) / "metrics.yml"
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"{path}: cannot read the metric catalog: {exc}") from None
    where = str(path)
    vintage = raw.get("vintage", "auto")
    if vintage != "auto" and not isinstance(vintage, int):
        raise SettingsError(f"{where}: vintage must be 'auto' or a year, not {vintage!r}")
    marts = tuple(
        _mart(where, name, body, cohorts, outcomes) for name, body in (raw.get("marts") or {}).items()
    )
    if not marts:
        raise SettingsError(f"{where}: no marts defined")
    return Catalog(
        vintage=None if vintage == "auto" else vintage,
        cpi_base_year=int(raw.get("cpi_base_year", 2024)),
        min_cell_size=int(raw.get("min_cell_size", 11)),
        employment_threshold=float(raw.get("employment_threshold", 1)),
        marts=marts,
        source=where,
        **_pooling(where, raw.get("pooled_cohorts")),
    )


def _pooling(where: str, raw: object) -> dict:
    """`pooled_cohorts: {window_years: 3, breakdowns: pooled | yearly}`; absent: no pooled cohorts."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - {"window_years", "breakdowns"}:
        raise SettingsError(f"{where}: pooled_cohorts takes window_years and breakdowns, not {raw!r}")
    window = raw.get("window_years", 3)
    breakdowns = raw.get("breakdowns", "pooled")
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise SettingsError(f"{where}: pooled_cohorts.window_years must be a whole number >= 2: {window!r}")
    if breakdowns not in ("pooled", "yearly"):
        raise SettingsError(f"{where}: pooled_cohorts.breakdowns is 'pooled' or 'yearly', not {breakdowns!r}")
    return {"pool_window_years": window, "yearly_breakdowns": breakdowns == "yearly"}


def _mart(where: str, name: str, body: dict, cohorts: dict, outcomes: dict) -> Mart:
    for key in ("cohort", "metrics", "breakdowns", "cohort_definition"):
        if key not in body:
            raise SettingsError(f"{where}: mart '{name}' has no '{key}'")
    if body["cohort"] not in cohorts:
        raise SettingsError(
            f"{where}: mart '{name}': unknown cohort rule '{body['cohort']}' (known: {', '.join(cohorts)})"
        )
    metrics: list[Metric] = []
    for entry in body["metrics"]:
        metrics.append(_metric(f"{where}: mart '{name}'", entry, metrics, outcomes))
    curves = tuple(curve(f"{where}: mart '{name}'", entry, metrics) for entry in body.get("curves") or ())
    among = _breakdowns_among(f"{where}: mart '{name}'", body, metrics)
    parts = all_parts(f"{where}: mart '{name}'", body.get("parts") or (), metrics)
    return Mart(
        name=name,
        title=body.get("title", name),
        cohort=body["cohort"],
        cohort_definition=" ".join(str(body["cohort_definition"]).split()),
        breakdowns=tuple(body["breakdowns"]),
        coverage=" ".join(str(body.get("coverage", "")).split()),
        metrics=tuple(metrics),
        match_sources=_match_sources(where, name, body),
        curves=curves,
        parts=parts,
        flows=flows(f"{where}: mart '{name}'", body.get("flows") or (), metrics),
        breakdowns_among=among,
    )


def _breakdowns_among(where: str, body: dict, metrics: list[Metric]) -> tuple:
    """`breakdowns_among: {breakdown: {metric: result}}`: each a breakdown of the mart, each condition a
    rate metric of it, and some metric published by the breakdown."""
    raw = body.get("breakdowns_among") or {}
    if not isinstance(raw, dict):
        raise SettingsError(f"{where}: breakdowns_among maps a breakdown to {{metric: result}}, not {raw!r}")
    rates = {m.name for m in metrics if m.kind == "rate"}
    out = []
    for breakdown, conditions in raw.items():
        if breakdown not in body["breakdowns"]:
            raise SettingsError(f"{where}: breakdowns_among names '{breakdown}', which is not a breakdown")
        if not isinstance(conditions, dict) or not conditions or not set(conditions) <= rates:
            raise SettingsError(
                f"{where}: breakdowns_among.{breakdown} must map rate metrics of the mart to a result, "
                f"not {conditions!r}"
            )
        required = tuple((str(k), bool(v)) for k, v in conditions.items())
        if not any(set(required) <= set(m.among) for m in metrics):
            raise SettingsError(f"{where}: no metric's population is within breakdowns_among.{breakdown}")
        out.append((breakdown, required))
    return tuple(out)


MATCH_SOURCES = ("staff_assignments", "wages", "college_enrollments", "completions")


def _match_sources(where: str, name: str, body: dict) -> tuple[str, ...]:
    sources = tuple(body.get("match_sources") or ("wages",))
    unknown = [s for s in sources if s not in MATCH_SOURCES]
    if unknown:
        raise SettingsError(
            f"{where}: mart '{name}': match_sources {unknown} unknown (known: {', '.join(MATCH_SOURCES)})"
        )
    return sources


def _metric(where: str, entry: dict, earlier: list[Metric], outcomes: dict) -> Metric:
    name = entry.get("name")
    if not name:
        raise SettingsError(f"{where}: a metric has no name")
    where = f"{where}, metric '{name}'"
    known = {m.name: m for m in earlier}
    if name in known:
        raise SettingsError(f"{where}: defined twice")
    kind = entry.get("kind", "rate")
    among = tuple((str(k), bool(v)) for k, v in (entry.get("among") or {}).items())
    for other, _ in among:
        if other not in known or known[other].kind != "rate":
            raise SettingsError(
                f"{where}: 'among' names '{other}', which is not a rate metric defined above it"
            )
    window = dict(entry.get("window") or {})
    if kind == "rate":
        rule = entry.get("outcome")
        if rule not in outcomes:
            raise SettingsError(f"{where}: unknown outcome rule '{rule}' (known: {', '.join(outcomes)})")
        allowed = outcomes[rule][1]
        extra = set(window) - set(allowed)
        if extra:
            raise SettingsError(
                f"{where}: outcome '{rule}' takes window keys {sorted(allowed)}, not {sorted(extra)}"
            )
        return Metric(name, _text(entry), "rate", rule, window, among)
    if kind == "median":
        value = entry.get("value")
        if value not in known or known[value].kind != "rate":
            raise SettingsError(f"{where}: 'value' must name a rate metric defined above it, not {value!r}")
        return Metric(name, _text(entry), "median", None, {}, among, value)
    raise SettingsError(f"{where}: kind must be 'rate' or 'median', not {kind!r}")


def _text(entry: dict) -> str:
    return " ".join(str(entry.get("description", "")).split())
