"""The catalog's views of a mart's metrics (conf/metrics.yml): curves, parts and flows. Each names
metrics of its mart, is validated with it (lakehouse/gold/catalog.py), and is carried to the sidecar
and the page, which draws it from published cells only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lakehouse.errors import SettingsError


class Metric(Protocol):
    """What the views read of a catalog metric (lakehouse/gold/catalog.py `Metric`)."""

    name: str
    kind: str
    among: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Curve:
    """Metrics of one kind that measure the same outcome further and further on (still teaching 1, 3
    and 5 years after placement): the dashboard draws them as one line, `x` on the axis it names."""

    title: str
    axis: str
    points: tuple[tuple[int, str], ...]  # (x, metric), x ascending


@dataclass(frozen=True)
class Parts:
    """Rate metrics that split one `whole` rate metric's numerator: every member counted by the whole
    is counted by exactly one part (first college by segment, with a part for any other or unknown
    segment), and each part has the whole's denominator. Disclosure control is told both identities,
    so a suppressed part cannot be recovered as the whole minus the others; the dashboard draws the
    parts stacked."""

    title: str
    whole: str
    parts: tuple[tuple[str, str], ...]  # (label, metric), in the catalog's order


def curve(where: str, entry: dict, metrics: Sequence[Metric]) -> Curve:
    """`{title, axis, points: {x: metric, ...}}`: at least two points, whole-number x, metrics of the
    mart and all of one kind."""
    if not isinstance(entry, dict) or set(entry) - {"title", "axis", "points"} or not entry.get("title"):
        raise SettingsError(f"{where}: a curve takes a title, an axis and points, not {entry!r}")
    where = f"{where}, curve '{entry['title']}'"
    points = entry.get("points")
    if not isinstance(points, dict) or len(points) < 2:
        raise SettingsError(f"{where}: points must map at least two x values to metrics, not {points!r}")
    known = {m.name: m for m in metrics}
    unknown = [m for m in points.values() if m not in known]
    if unknown:
        raise SettingsError(f"{where}: no metric named {', '.join(map(repr, unknown))} in this mart")
    if len({known[m].kind for m in points.values()}) > 1:
        raise SettingsError(f"{where}: its metrics must all be rates or all medians")
    if any(isinstance(x, bool) or not isinstance(x, int) for x in points):
        raise SettingsError(f"{where}: x values must be whole numbers, not {list(points)!r}")
    return Curve(str(entry["title"]), str(entry.get("axis", "")), tuple(sorted(points.items())))


def all_parts(where: str, entries: object, metrics: Sequence[Metric]) -> tuple[Parts, ...]:
    """`parts: [{title, whole, parts: {label: metric}}]`: the whole and at least two parts rate metrics
    of the mart, each part within the whole's population (the same `among`), no metric a part twice."""
    if not isinstance(entries, list | tuple):
        raise SettingsError(f"{where}: parts is a list of {{title, whole, parts}}, not {entries!r}")
    known = {m.name: m for m in metrics}
    out, used = [], set()
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"title", "whole", "parts"}:
            raise SettingsError(f"{where}: each parts entry takes a title, a whole and parts, not {entry!r}")
        at = f"{where}, parts '{entry['title']}'"
        whole, split = known.get(entry["whole"]), entry["parts"]
        if whole is None or whole.kind != "rate":
            raise SettingsError(f"{at}: whole must name a rate metric of the mart, not {entry['whole']!r}")
        if not isinstance(split, dict) or len(split) < 2:
            raise SettingsError(f"{at}: parts must map at least two labels to metrics, not {split!r}")
        for metric in split.values():
            if metric not in known or known[metric].kind != "rate" or metric == whole.name:
                raise SettingsError(f"{at}: {metric!r} is not a rate metric of the mart other than the whole")
            if known[metric].among != whole.among:
                raise SettingsError(f"{at}: {metric!r} must count the whole's population (the same 'among')")
            if metric in used:
                raise SettingsError(f"{at}: {metric!r} is a part twice")
            used.add(metric)
        out.append(Parts(str(entry["title"]), whole.name, tuple((str(k), str(v)) for k, v in split.items())))
    return tuple(out)


@dataclass(frozen=True)
class Flow:
    """A cohort's way through stages, each within the one before (high-school graduates, then those
    enrolled within 16 months, then those of them who completed): the first stage is a rate metric of
    the whole cohort, and each next one is restricted to the previous one's members (`among: {previous:
    true}`). A stage's count is its metric's numerator, which is the next stage's denominator; both are
    published cells, and disclosure control already knows they are equal (lakehouse/gold/marts.py
    `mart_relations`), so the dashboard draws the flow from cells it publishes anyway."""

    title: str
    cohort: str  # the label of the cohort itself, the flow's first bar
    stages: tuple[tuple[str, str], ...]  # (label, metric), in order


def flows(where: str, entries: object, metrics: Sequence[Metric]) -> tuple[Flow, ...]:
    """`flows: [{title, cohort, stages: {label: metric}}]`: at least one stage; each a rate metric of
    the mart; the first of the whole cohort (no `among`), each next among the previous one's members."""
    if not isinstance(entries, list | tuple):
        raise SettingsError(f"{where}: flows is a list of {{title, cohort, stages}}, not {entries!r}")
    known = {m.name: m for m in metrics}
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"title", "cohort", "stages"}:
            raise SettingsError(f"{where}: each flow takes a title, a cohort and stages, not {entry!r}")
        at = f"{where}, flow '{entry['title']}'"
        stages = entry["stages"]
        if not isinstance(stages, dict) or not stages:
            raise SettingsError(f"{at}: stages must map labels to metrics, not {stages!r}")
        previous = None
        for metric in stages.values():
            m = known.get(metric)
            if m is None or m.kind != "rate":
                raise SettingsError(f"{at}: {metric!r} is not a rate metric of the mart")
            expected = () if previous is None else ((previous, True),)
            if m.among != expected:
                within = (
                    "the whole cohort (no 'among')" if previous is None else f"among {{{previous}: true}}"
                )
                raise SettingsError(f"{at}: stage {metric!r} must count {within}")
            previous = metric
        out.append(
            Flow(
                str(entry["title"]), str(entry["cohort"]), tuple((str(k), str(v)) for k, v in stages.items())
            )
        )
    return tuple(out)
