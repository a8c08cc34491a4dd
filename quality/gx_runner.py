"""great-expectations (GX Core 1.x) behind one small class: validate a Spark DataFrame (the gate gives
it staged Parquet) against a list of expectations, turn GX's results into `CheckResult`s, build Data Docs.

Each expectation carries its policy in `meta` ({"policy": "fail" | "warn"}). GX computes a Spark job
per metric, so suites stay small and row-level rules run in our own single pass (quality/rules.py);
results are asked for in BASIC format (counts plus up to 20 example values).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from pyspark.sql import DataFrame  # noqa: E402

from quality.results import CheckResult  # noqa: E402

logging.getLogger("great_expectations").setLevel(logging.WARNING)


class GxValidator:
    """One ephemeral GX context per run; Data Docs (when `docs_dir` is given) are written there."""

    def __init__(self, docs_dir: Path | None) -> None:
        self.docs_dir = docs_dir
        self._lock = threading.Lock()
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        if docs_dir is not None:
            docs_dir.mkdir(parents=True, exist_ok=True)
            self.context.update_data_docs_site(
                "local_site",
                {
                    "class_name": "SiteBuilder",
                    "show_how_to_buttons": False,
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        # persist=False: the gate validates staged Parquet files, cheap to read again per metric.
        self.source = self.context.data_sources.add_spark(name="c2c", persist=False)

    def validate(self, df: DataFrame, *, gate: str, table_name: str, expectations: list) -> list[CheckResult]:
        """Run `expectations` on `df` (each metric is a Spark job: give it a cheap frame to read)."""
        if not expectations:
            return []
        name = f"{gate} {table_name}"
        with self._lock:  # the context's registries are not made for concurrent additions
            asset = self.source.add_dataframe_asset(name=name)
            batch = asset.add_batch_definition_whole_dataframe("whole table")
            suite = self.context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
            definition = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )
        # Runs of different tables may overlap (the silver gate runs them from a thread pool).
        outcome = definition.run(batch_parameters={"dataframe": df}, result_format="BASIC")
        return [_check_result(r, gate=gate, table_name=table_name) for r in outcome.results]

    def build_docs(self) -> Path | None:
        if self.docs_dir is None:
            return None
        self.context.build_data_docs()
        index = self.docs_dir / "index.html"
        return index if index.exists() else None


def _check_result(r, *, gate: str, table_name: str) -> CheckResult:
    config = r.expectation_config
    meta = config.meta or {}
    kwargs = dict(config.kwargs)
    column = kwargs.get("column") or (",".join(kwargs["column_list"]) if "column_list" in kwargs else None)
    result = r.result or {}
    observed = result.get("observed_value")
    message = ""
    if r.exception_info and r.exception_info.get("raised_exception"):
        message = f"expectation raised: {r.exception_info.get('exception_message')}"
    return CheckResult(
        gate=gate,
        table_name=table_name,
        check_id=meta.get("check_id") or f"{config.type}:{column or ''}",
        expectation=config.type,
        column_name=column,
        policy=meta.get("policy", "warn"),
        success=bool(r.success),
        element_count=result.get("element_count"),
        unexpected_count=result.get("unexpected_count"),
        unexpected_percent=result.get("unexpected_percent"),
        observed_value=None if observed is None else str(observed),
        examples=list(result.get("partial_unexpected_list") or [])[:10],
        message=message or meta.get("note", ""),
    )
