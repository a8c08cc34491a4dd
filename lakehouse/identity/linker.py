"""Splink's linker on either identity engine (lakehouse/identity/engine.py): the input registered
with the engine's Splink backend, training, the trained model in DuckDB's dialect, and scoring into
one of the engine's tables."""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import product
from typing import Any

from lakehouse.identity.engine import Engine, SparkEngine


class SplinkOnEngine:
    """Splink's linker on the engine's backend. The model stays in DuckDB's dialect (the registry's,
    `c2c link`'s); on Spark the linker gets its translation and the trained m and u come back."""

    def __init__(self, db: Engine, db_api: Any, settings: Any) -> None:
        from splink import Linker

        self.db, self.db_api, self._linker_type = db, db_api, Linker
        self.on_spark = isinstance(db, SparkEngine)
        if self.on_spark:
            from lakehouse.identity.spark_backend import register_input

            self.input = register_input(db_api, db.frame("linkage_input"), "c2c_linkage_input")
        else:
            self.input = db_api.register("linkage_input", dataset_display_name="linkage_input")
        self.use(settings)

    def use(self, settings: Any) -> None:
        """A linker for `settings` (a SettingsCreator or a model dict in DuckDB's dialect)."""
        if self.on_spark:
            from lakehouse.identity.spark_backend import spark_settings

            self.model = settings if isinstance(settings, dict) else settings.get_settings("duckdb").as_dict()
            settings = spark_settings(self.model)
            if hasattr(self, "linker"):
                self.release()
        self.linker = self._linker_type(self.input, settings, log_level=logging.WARNING)

    def release(self) -> None:
        """Drop the tables Splink made for this linker (on Spark: persisted frames in executor storage
        and on the local dir), once its results are copied into the engine's own tables."""
        self.linker.table_management.invalidate_cache()

    def table(self, name: str) -> Any:
        """The engine's table `name` for Splink (labels for training)."""
        if self.on_spark:
            from lakehouse.identity.spark_backend import register_input

            return register_input(self.db_api, self.db.frame(name), f"c2c_{name}")
        return self.db_api.register(name, dataset_display_name=name)

    def trained(self) -> dict[str, Any]:
        """The trained model, in DuckDB's dialect."""
        trained = self.linker.misc.save_model_to_json()
        if not self.on_spark:
            return trained
        from lakehouse.identity.spark_backend import with_parameters_of

        return with_parameters_of(self.model, trained)

    def predict(
        self,
        table: str,
        floor: float | None,
        chunks: int = 1,
        progress: Callable[[int, int, int], None] | None = None,
    ) -> None:
        """Score the candidate pairs (at or above `floor`) into the engine's table `table`
        [record_token_l, record_token_r, match_weight, match_probability].

        On DuckDB with `chunks` > 1 the records are split by a hash of their id into `chunks` parts a
        side, and the `chunks` x `chunks` parts are scored one after another: each part's pairs are
        compared, filtered, and only the four columns kept are appended to `table` before the part's
        own table (every comparison column of both records) is dropped. So scratch space holds one
        part's comparisons and the kept pairs, never all parts' comparisons at once (Splink's own
        chunked `predict` keeps every part's full table until it has unioned them).
        `progress(done, of, pairs)` is told after each part: parts done, parts in all, pairs kept.
        Spark spreads the pairs over its executors instead, and takes them in one pass."""
        columns = "record_token_l, record_token_r, match_weight, match_probability"
        if self.on_spark:
            scored = self.linker.inference.predict(threshold_match_probability=floor)
            self.db.put(table, scored.as_spark_dataframe().select(*columns.split(", ")))
            self.release()
            return
        parts = [(1, 1)] if chunks <= 1 else list(product(range(1, chunks + 1), repeat=2))
        of = len(parts)
        for done, (left, right) in enumerate(parts, start=1):
            part = self.linker.inference.predict_chunk(
                left_chunk=(left, max(chunks, 1)),
                right_chunk=(right, max(chunks, 1)),
                threshold_match_probability=floor,
                warning_mode="never",
            )
            if done == 1:
                self.db.create(table, f"SELECT {columns} FROM {part.physical_name}")
            else:  # DuckDB only: an append, which the engines' shared SQL never does
                self.db.con.execute(
                    f"INSERT INTO {table} SELECT {columns} FROM {part.physical_name}"
                ).fetchall()
            part.drop_table_from_database_and_remove_from_cache()
            if progress is not None:
                progress(done, of, self.db.one(f"SELECT count(*) FROM {table}")[0])
