"""Agency code maps (conf/code_maps.yml) and the Column function that applies them.

An unknown code is never mapped to "other": the mapped column is null and the code is reported, so
quality gates can count and show it.
"""

from __future__ import annotations

from itertools import chain
from pathlib import Path

import yaml
from pyspark.sql import Column
from pyspark.sql import functions as F

from lakehouse.errors import SettingsError

CodeMaps = dict[str, dict[str, str]]


def load_code_maps(conf_dir: str | Path) -> CodeMaps:
    path = Path(conf_dir) / "code_maps.yml"
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"{path}: cannot read code maps: {exc}") from None
    maps: CodeMaps = {}
    for name, mapping in data.items():
        if not isinstance(mapping, dict) or not mapping:
            raise SettingsError(f"{path}: '{name}' must map codes to common codes")
        bad = [k for k, v in mapping.items() if v is None or str(v).strip() == ""]
        if bad:
            raise SettingsError(f"{path}: '{name}' has codes without a common code: {bad}")
        maps[name] = {str(k): str(v) for k, v in mapping.items()}
    return maps


def map_code(code: Column, mapping: dict[str, str]) -> Column:
    """The common code for `code`; null for blanks and for codes the map does not know."""
    lookup = F.create_map(*[F.lit(x) for x in chain.from_iterable(mapping.items())])
    return F.element_at(lookup, F.trim(code))


def unknown_code(code: Column, mapping: dict[str, str]) -> Column:
    """True where a non-blank code is missing from the map."""
    trimmed = F.trim(code)
    return (trimmed != "") & ~trimmed.isin(list(mapping))
