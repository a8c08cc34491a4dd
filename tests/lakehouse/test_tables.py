"""The table registry: one declaration per table, paths from settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse import tables
from lakehouse.errors import RestrictedZoneError, StorageError
from lakehouse.storage import open_storage
from lakehouse.tables import Table
from lakehouse.tables.registry import IDENTIFYING_NAMES


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


def test_every_identifying_column_is_declared_and_restricted(spark):
    """Each column whose name says it identifies someone is declared direct or quasi, and every table
    holding one is restricted; each declared column exists in its table's schema."""
    for table in tables.all_tables():
        if table.schema is None:
            continue
        columns = table.struct(spark).fieldNames()
        assert {c for c, _ in table.sensitive} <= set(columns), table.fqn
        for column in columns:
            if IDENTIFYING_NAMES.search(column):
                assert table.sensitivity(column) in ("direct", "quasi"), f"{table.fqn}.{column}"
        if table.sensitive:
            assert table.restricted, table.fqn
    assert tables.SILVER_PERSON_RECORDS.sensitivity("birth_date") == "direct"
    assert tables.SILVER_PERSON_RECORDS.sensitivity("zip") == "quasi"
    assert tables.SILVER_PERSON_RECORDS.sensitivity("ssn_token") == "none"
    assert tables.BRONZE["CREDENTIALS"].sensitivity("DOC_NUMBER") == "quasi"
    assert "document_number" not in tables.SILVER_CREDENTIALS.struct(spark).fieldNames()


def test_a_sensitive_column_cannot_be_declared_in_a_public_table():
    with pytest.raises(ValueError, match=r"holds birth_date \(direct\) but is not restricted"):
        tables.register(Table(layer="gold", name="leaky", sensitive=(("birth_date", "direct"),)))
    with pytest.raises(ValueError, match="unknown sensitivity"):
        tables.register(Table(layer="gold", name="odd", restricted=True, sensitive=(("x", "secret"),)))


def test_storage_refuses_to_write_an_identifier_outside_the_restricted_root(spark, settings):
    """A table declared by hand, not through the registry, still cannot put a name in the public root."""
    storage = open_storage(spark, settings)
    leaky = Table(
        layer="gold",
        name="leaky",
        schema="person_id STRING, last_name STRING",
        sensitive=(("last_name", "direct"),),
    )
    df = spark.createDataFrame([("p1", "GARCIA")], leaky.schema)
    with pytest.raises(RestrictedZoneError, match=r"refusing to write last_name \(identifiers"):
        storage.write(df, leaky, "overwrite")
    # Undeclared, a column named as an identifier is refused all the same.
    unlabelled = Table(layer="gold", name="unlabelled", schema=leaky.schema)
    with pytest.raises(RestrictedZoneError, match="refusing to write last_name"):
        storage.write(df, unlabelled, "overwrite")
    assert not Path(leaky.path(settings.storage)).exists()
    # The same columns under the restricted root are written.
    kept = Table(**{**leaky.__dict__, "restricted": True})
    storage.write(df, kept, "overwrite")
    assert storage.read(kept).collect() == [("p1", "GARCIA")]


def test_a_repeated_identifying_key_is_reported_without_its_value(spark, settings):
    storage = open_storage(spark, settings)
    table = Table(
        layer="silver",
        name="keyed",
        schema="source_record_key STRING, n INT",
        keys=("source_record_key",),
        restricted=True,
        sensitive=(("source_record_key", "direct"),),
    )
    df = spark.createDataFrame([("1234567890", 1), ("1234567890", 2)], table.schema)
    with pytest.raises(StorageError, match="must be unique") as caught:
        storage.check_keys(df, table)
    assert "1234567890" not in str(caught.value) and "values withheld" in str(caught.value)
