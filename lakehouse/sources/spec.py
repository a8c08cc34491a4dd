"""What a landing module declares about its source, and the list of all 15 of them."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from lakehouse.settings import SOURCES
from lakehouse.sources.layouts import DATE_FORMATS, LAYOUTS, Layout


@dataclass(frozen=True)
class SourceSpec:
    source: str
    numeric: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def families(self) -> dict[str, Layout]:
        return {f: layout for f, layout in LAYOUTS.items() if layout.source == self.source}

    def dates(self, family: str) -> dict[str, str]:
        return DATE_FORMATS.get(family, {})


def all_specs() -> list[SourceSpec]:
    """The SPEC of every module in lakehouse/sources, one per source, checked against the layouts."""
    specs = [importlib.import_module(f"lakehouse.sources.{s}").SPEC for s in SOURCES]
    for spec in specs:
        unknown = set(spec.numeric) - set(spec.families())
        if unknown:
            raise ValueError(
                f"lakehouse/sources/{spec.source}.py: numeric columns for unknown families {unknown}"
            )
        for family, columns in spec.numeric.items():
            missing = set(columns) - {n for n, _ in LAYOUTS[family].columns}
            if missing:
                raise ValueError(f"lakehouse/sources/{spec.source}.py: {family} has no columns {missing}")
    return specs
