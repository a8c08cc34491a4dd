"""The conf/ files behind lakehouse/settings.py: each YAML file read, its keys checked against the
settings models, the layers merged with the file each value came from remembered (so that a bad value
is reported with its file), and `${NAME}` / `${NAME:-default}` replaced from the environment.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from lakehouse.errors import SettingsError

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping a settings file holds."""
    if not path.is_file():
        raise SettingsError(f"settings file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: the top level must be a mapping of keys")
    return data


def check_keys(data: dict[str, Any], model: type[BaseModel], prefix: tuple[str, ...], source: str) -> None:
    """Every key of `data` (from `source`) is a field of `model`, and a section is a mapping."""
    fields = model.model_fields
    for key, value in data.items():
        dotted = ".".join((*prefix, str(key)))
        if key not in fields or key in ("env", "conf_dir"):
            known = ", ".join(k for k in fields if k not in ("env", "conf_dir"))
            raise SettingsError(f"{source}: unknown key '{dotted}' (known here: {known})")
        annotation = fields[key].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not isinstance(value, dict):
                raise SettingsError(f"{source}: '{dotted}' must be a mapping, got {value!r}")
            check_keys(value, annotation, (*prefix, key), source)


def merge(into: dict, data: dict, prefix: tuple[str, ...], source: str, origin: dict) -> None:
    """`data` laid over `into`, each value's path noted in `origin` as coming from `source`."""
    for key, value in data.items():
        path = (*prefix, key)
        if isinstance(value, dict):
            if not isinstance(into.get(key), dict):
                into[key] = {}
                origin[path] = source
            merge(into[key], value, path, source, origin)
        else:
            into[key] = value
            origin[path] = source


def origin_of(path: tuple[str, ...], origin: dict[tuple[str, ...], str]) -> str:
    """The file the value at `path` (or its nearest section) came from."""
    for n in range(len(path), 0, -1):
        if path[:n] in origin:
            return origin[path[:n]]
    return "settings"


def interpolate(value: Any, path: tuple[str, ...], origin: dict) -> Any:
    """`value` with every `${NAME}` and `${NAME:-default}` replaced from the environment."""
    if isinstance(value, dict):
        return {k: interpolate(v, (*path, k), origin) for k, v in value.items()}
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise SettingsError(
            f"{origin_of(path, origin)}: {'.'.join(path)}: environment variable {name} is not set"
        )

    return _ENV_REF.sub(replace, value)
