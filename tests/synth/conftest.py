"""A small generated state, shared by the generator tests (generated once per test session)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lakehouse.settings import load_settings
from lakehouse.synth.generate import generate

ROOT = Path(__file__).resolve().parents[2]
PERSONS = 2500


def synth_settings(**updates):
    return load_settings("local", ROOT / "conf").synth.model_copy(update=updates)


@pytest.fixture(scope="session")
def state(spark, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("state")
    generate(spark, synth_settings(persons=PERSONS, seed=11), out)
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
