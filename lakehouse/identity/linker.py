"""Splink's linker on either identity engine (lakehouse/identity/engine.py): the input registered
with the engine's Splink backend, training, the trained model in DuckDB's dialect, and scoring into
one of the engine's tables."""

from __future__ import annotations

import logging
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

    def predict(self, table: str, floor: float | None, chunks: int = 1) -> None:
        """Score the candidate pairs (at or above `floor`) into the engine's table `table`, on DuckDB in
        `chunks` x `chunks` parts (records split by a hash of their id on each side): each part's
        candidate pairs are compared and filtered before the next, so only the kept pairs are ever
        held. Spark spreads the pairs over its executors instead, and takes them in one pass."""
        split = (
            {"num_chunks_left": chunks, "num_chunks_right": chunks}
            if chunks > 1 and not self.on_spark
            else {}
        )
        scored = self.linker.inference.predict(threshold_match_probability=floor, **split)
        columns = ("record_token_l", "record_token_r", "match_weight", "match_probability")
        if self.on_spark:
            self.db.put(table, scored.as_spark_dataframe().select(*columns))
            self.release()
        else:
            self.db.create(table, f"SELECT {', '.join(columns)} FROM {scored.physical_name}")
