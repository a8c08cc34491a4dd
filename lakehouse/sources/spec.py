"""What landing checks in each source's files: one spec per source, built from the layouts.

A source's families, how each writes its dates and which of its columns must be numbers are declared
once, in lakehouse/sources/layouts.py (the layouts themselves in lakehouse/tables/layouts.py); a spec
gathers them for one source. A date or number column its layout lacks, or a family no source has,
would leave a check that never runs, so the specs are only built when all of them fit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from lakehouse.settings import SOURCES
from lakehouse.sources.layouts import DATE_FORMATS, LAYOUTS, NUMERIC, Layout


@dataclass(frozen=True)
class SourceSpec:
    """One source: every family of it with the columns that must parse as numbers (none: an empty
    tuple); its dates come from the layouts' date formats."""

    source: str
    numeric: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def families(self) -> dict[str, Layout]:
        return {f: layout for f, layout in LAYOUTS.items() if layout.source == self.source}

    def dates(self, family: str) -> dict[str, str]:
        return DATE_FORMATS.get(family, {})


def spec_problems(
    layouts: Mapping[str, Layout],
    numeric: Mapping[str, Collection[str]],
    dates: Mapping[str, Mapping[str, str]],
    sources: Collection[str],
) -> list[str]:
    """One line per declaration that does not fit the layouts: number or date columns for a family no
    layout has or that its layout lacks, a source without a layout, a layout of no source. Empty when
    everything fits."""
    problems = []
    for what, declared in (("number", numeric), ("date", dates)):
        for family, columns in declared.items():
            if family not in layouts:
                problems.append(f"{what} columns for {family}, which no layout has")
                continue
            missing = sorted(set(columns) - {name for name, _ in layouts[family].columns})
            if missing:
                problems.append(f"{family} has no {what} columns {', '.join(missing)}")
    laid_out = {layout.source for layout in layouts.values()}
    problems += [f"source {s} has no layout" for s in sources if s not in laid_out]
    problems += [f"layouts of {s}, which is not a source" for s in sorted(laid_out - set(sources))]
    return problems


def all_specs() -> list[SourceSpec]:
    """Every source's spec, in the order of the sources, from the layouts; raises ValueError naming
    each declaration that does not fit them."""
    problems = spec_problems(LAYOUTS, NUMERIC, DATE_FORMATS, SOURCES)
    if problems:
        raise ValueError("lakehouse/sources/layouts.py does not fit the layouts: " + "; ".join(problems))
    return [
        SourceSpec(s, {f: tuple(NUMERIC.get(f, ())) for f, layout in LAYOUTS.items() if layout.source == s})
        for s in SOURCES
    ]
