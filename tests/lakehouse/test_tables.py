"""The table registry: one declaration per table, paths from settings."""

from __future__ import annotations

import pytest

from lakehouse import tables
from lakehouse.tables import Table


def test_paths_come_from_settings_and_restricted_tables_have_their_own_root(settings):
    public = Table(layer="gold", name="cohorts")
    pii = Table(layer="silver", name="person_records", restricted=True)
    assert public.path(settings.storage) == f"{settings.storage.root}/gold/cohorts"
    assert pii.path(settings.storage) == f"{settings.storage.restricted_root}/silver/person_records"


def test_declared_schema_parses(spark):
    schema = tables.OPS_RUNS.struct(spark)
    assert schema.fieldNames()[:2] == ["run_id", "job"]
    assert tables.get("ops.runs") is tables.OPS_RUNS


def test_a_table_cannot_be_declared_twice_differently():
    with pytest.raises(ValueError, match="declared twice"):
        tables.register(Table(layer="ops", name="runs", schema="x INT"))
    with pytest.raises(ValueError, match="unknown layer"):
        tables.register(Table(layer="platinum", name="x"))
    with pytest.raises(KeyError, match="no table named 'gold.nope'"):
        tables.get("gold.nope")
