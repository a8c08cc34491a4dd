"""Delta tables behind one interface, with two engines: delta-spark (clusters) and delta-rs (elsewhere)."""

from pyspark.sql import SparkSession

from lakehouse.settings import Settings
from lakehouse.spark import session_engine
from lakehouse.storage.base import Commit, Storage, TableInfo, WriteResult


def open_storage(spark: SparkSession, settings: Settings, engine: str | None = None) -> Storage:
    """The storage engine the session was built for (or `engine`, where a test asks for one)."""
    engine = engine or session_engine(spark)
    if engine == "delta-spark":
        from lakehouse.storage.delta_spark import DeltaSparkStorage

        return DeltaSparkStorage(spark, settings)
    if engine == "delta-rs":
        from lakehouse.storage.delta_rs import DeltaRsStorage

        return DeltaRsStorage(spark, settings)
    raise ValueError(f"unknown storage engine {engine!r}")


__all__ = ["Commit", "Storage", "TableInfo", "WriteResult", "open_storage"]
