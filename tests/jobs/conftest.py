"""Fixtures of the layer kill tests (test_layers.py, test_layers_identity_gold.py): copies of the shared
`pipeline_run` lake to cut runs short in, and what the uninterrupted run left, to compare them with."""

from __future__ import annotations

import pytest

from tests.layer_kills import copy_lake, uninterrupted_results


@pytest.fixture
def lake(pipeline_run, tmp_path, monkeypatch, spark):
    """A copy of the finished shared lake, and the settings of `c2c run` in it."""
    return copy_lake(pipeline_run, tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def uninterrupted(pipeline_run, spark, tmp_path_factory):
    """What the uninterrupted run left, read once per test file (the shared lake is not written to)."""
    return uninterrupted_results(spark, pipeline_run, tmp_path_factory.mktemp("uninterrupted"))
