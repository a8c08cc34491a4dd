"""Splink on Spark for `identity.backend: spark`: the trained model scores candidate pairs on the
cluster, and the rest (the pairs' merge with the deterministic ones, clustering, guards and joins)
runs as on one machine, in DuckDB on the driver, on the scored pairs (`link.resolve_in_duckdb`).

The model is one JSON for both backends. It is trained and stored in DuckDB's SQL dialect;
`spark_settings` translates its comparison levels and blocking rules to Spark's (sqlglot, plus the
names of Splink's Scala similarity functions, which need `splink.backends.spark.similarity_jar_location()`
on `spark.jars`: `lakehouse.spark.build_spark` adds it when the backend is spark).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
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


def spark_scorer(spark: SparkSession, records: DataFrame) -> Callable[[dict[str, Any], float], Any]:
    """A scorer for `resolve_in_duckdb`: (trained model, floor) -> Arrow table of the pairs Splink
    on Spark scores at or above the floor (record_token_l, record_token_r, match_weight,
    match_probability)."""

    def score(model: dict[str, Any], floor: float) -> Any:
        from splink import Linker
        from splink.backends.spark import SparkAPI

        db_api = SparkAPI(spark_session=spark, break_lineage_method="persist")
        # Splink registers the input as a temporary view and refuses a name that exists: a second
        # scoring in one session (a notebook, a retrained model) replaces the first one's view.
        spark.catalog.dropTempView("linkage_input")
        table = db_api.register(records, dataset_display_name="linkage_input")
        linker = Linker(table, spark_settings(model))
        scored = linker.inference.predict(threshold_match_probability=floor)
        frame = scored.as_spark_dataframe().select(
            "record_token_l", "record_token_r", "match_weight", "match_probability"
        )
        return frame.toArrow()

    return score
