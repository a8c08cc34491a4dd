"""Splink on Spark for `identity.backend: spark`: the model is trained and scores candidate pairs on
the cluster (lakehouse/identity/steps.py `run_steps`, whose other steps, clustering included, run as
Spark SQL through lakehouse/identity/engine.py).

The model is one JSON for both backends. It is stored in DuckDB's SQL dialect; `spark_settings`
translates its comparison levels and blocking rules to Spark's (sqlglot, plus the
names of Splink's Scala similarity functions, which need `splink.backends.spark.similarity_jar_location()`
on `spark.jars`: `lakehouse.spark.build_spark` adds it when the backend is spark).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pyspark.sql import DataFrame, SparkSession

# DuckDB functions in the model's SQL -> their Spark names (Splink's jar registers jaro_winkler and
# damerau_levenshtein; sqlglot spells the DuckDB ones as below when it writes Spark SQL).
SPARK_FUNCTIONS = {
    "LIST_INTERSECT": "ARRAY_INTERSECT",
    "JAROWINKLER_SIMILARITY": "jaro_winkler",
    "DAMERAU_LEVENSHTEIN": "damerau_levenshtein",
}


def to_spark_sql(condition: str) -> str:
    """One comparison level's or blocking rule's condition in Spark SQL."""
    import sqlglot

    text = sqlglot.transpile(condition, read="duckdb", write="spark")[0]
    for duck, spark in SPARK_FUNCTIONS.items():
        text = re.sub(rf"\b{duck}\(", f"{spark}(", text)
    return text


def spark_settings(model: dict[str, Any]) -> dict[str, Any]:
    """The trained model for Splink's Spark backend: the same levels, m, u and prior, Spark SQL."""
    settings = copy.deepcopy(model)
    settings["sql_dialect"] = "spark"
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level["sql_condition"] != "ELSE":
                level["sql_condition"] = to_spark_sql(level["sql_condition"])
    for rule in settings["blocking_rules_to_generate_predictions"]:
        rule["blocking_rule"] = to_spark_sql(rule["blocking_rule"])
        rule["sql_dialect"] = "spark"
    return settings


def spark_api(spark: SparkSession) -> Any:
    """Splink's Spark backend on this session, for training and scoring (the connected components
    on Spark are lakehouse/identity/clustering.py's). Its tables are persisted (executor memory,
    spilling to the local dir), and a table Splink drops is also uncached: Spark keeps a persisted
    frame whose temporary view is dropped, so without that every table of a linkage would stay in
    executor storage until the session ends."""
    from splink.backends.spark import SparkAPI

    class ReleasingSparkAPI(SparkAPI):
        def delete_table_from_database(self, name: str) -> None:
            if self.spark.catalog.tableExists(name):
                self.spark.catalog.uncacheTable(name)
            super().delete_table_from_database(name)

    return ReleasingSparkAPI(spark_session=spark, break_lineage_method="persist")


def register_input(db_api: Any, frame: DataFrame, name: str) -> Any:
    """`frame` registered with Splink under `name`. Splink makes it a temporary view and refuses a
    name that exists: a second linkage in one session (a notebook, a retrained model) replaces the
    first one's view."""
    db_api.spark.catalog.dropTempView(name)
    return db_api.register(frame, dataset_display_name=name)


def with_parameters_of(model: dict[str, Any], trained: dict[str, Any]) -> dict[str, Any]:
    """`model` (DuckDB's dialect) with the prior and every level's m and u of `trained`, the same
    model trained in Spark's dialect (`spark_settings(model)`: the same comparisons and levels in
    the same order)."""
    out = copy.deepcopy(model)
    out["probability_two_random_records_match"] = trained["probability_two_random_records_match"]
    pairs = zip(out["comparisons"], trained["comparisons"], strict=True)
    for ours, theirs in pairs:
        for level, fitted in zip(ours["comparison_levels"], theirs["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability"):
                if key in fitted:
                    level[key] = fitted[key]
                else:
                    level.pop(key, None)
    return out
