"""Helpers for the generator tests (the generated `state` fixture lives in tests/conftest.py)."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import ROOT, synth_settings  # noqa: F401 - re-exported for the tests here


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
