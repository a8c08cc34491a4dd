"""Agency code maps (conf/codes/<agency>.yml) and the Column function that applies them.

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
    """Every map in conf/codes/*.yml; a name defined twice, or a code without a common code, is an error."""
    maps: CodeMaps = {}
    for path in sorted((Path(conf_dir) / "codes").glob("*.yml")):
        for name, mapping in _read(path).items():
            if name in maps:
                raise SettingsError(f"{path}: code map '{name}' is defined in another file too")
            maps[name] = _checked(path, name, mapping)
    return maps


def _read(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"{path}: cannot read code maps: {exc}") from None


def _checked(path: Path, name: str, mapping: object) -> dict[str, str]:
    if not isinstance(mapping, dict) or not mapping:
        raise SettingsError(f"{path}: '{name}' must map codes to common codes")
    bad = [k for k, v in mapping.items() if v is None or str(v).strip() == ""]
    if bad:
        raise SettingsError(f"{path}: '{name}' has codes without a common code: {bad}")
    return {str(k): str(v) for k, v in mapping.items()}


def map_code(code: Column, mapping: dict[str, str]) -> Column:
    """The common code for `code`; null for blanks and for codes the map does not know."""
    lookup = F.create_map(*[F.lit(x) for x in chain.from_iterable(mapping.items())])
    return F.element_at(lookup, F.trim(code))


def unknown_code(code: Column, mapping: dict[str, str]) -> Column:
    """True where a non-blank code is missing from the map."""
    trimmed = F.trim(code)
    return (trimmed != "") & ~trimmed.isin(list(mapping))
