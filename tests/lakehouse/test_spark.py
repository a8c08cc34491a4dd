"""Engine choice: auto follows the classpath; a forced delta-spark without its jars is a clear error."""

from __future__ import annotations

import pytest

from lakehouse.errors import EngineUnavailableError
from lakehouse.spark import ENGINE_CONF, delta_classes_available, resolve_engine, session_engine


@pytest.mark.parametrize(
    "requested, available, engine",
    [
        ("auto", True, "delta-spark"),
        ("auto", False, "delta-rs"),
        ("delta-rs", True, "delta-rs"),
        ("delta-rs", False, "delta-rs"),
        ("delta-spark", True, "delta-spark"),
    ],
)
def test_resolve_engine(requested, available, engine):
    assert resolve_engine(requested, available) == engine


def test_forcing_delta_spark_without_its_jars_is_a_clear_error():
    with pytest.raises(EngineUnavailableError, match="not on the classpath.*DeltaSparkSessionExtension"):
        resolve_engine("delta-spark", False)


def test_session_carries_the_engine_it_was_built_for(spark):
    expected = "delta-spark" if delta_classes_available() else "delta-rs"
    assert spark.conf.get(ENGINE_CONF) == expected == session_engine(spark)
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
