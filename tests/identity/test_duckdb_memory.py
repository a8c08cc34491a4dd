"""DuckDB's memory limit beside the Spark driver's heap (backend duckdb)."""

from __future__ import annotations

import pytest

from lakehouse.identity.sizing import duckdb_memory_limit
from lakehouse.settings import load_settings

GiB = 2**30


@pytest.mark.parametrize(
    ("driver", "physical_gb", "expected"),
    [
        ("8g", 24, 9.6),  # 60% of the 16 GB the heap leaves
        ("8192m", 24, 9.6),  # the same heap in megabytes
        ("16g", 64, 28.8),
        ("512m", 2, 1.0),  # 0.9 GB is less than the floor
        ("64g", 32, 1.0),  # a heap larger than the machine still leaves DuckDB its floor
        (str(4 * GiB), 8, 2.4),  # plain bytes
    ],
)
def test_duckdb_takes_a_share_of_what_the_driver_heap_leaves(driver, physical_gb, expected):
    assert duckdb_memory_limit(driver, physical_gb * GiB) == expected


def test_the_limit_is_a_setting_that_defaults_to_the_share():
    assert load_settings().identity.duckdb_memory_gb is None
    settings = load_settings(overrides={"identity": {"duckdb_memory_gb": 6}})
    assert settings.identity.duckdb_memory_gb == 6
