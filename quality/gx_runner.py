"""great-expectations (GX Core 1.x) behind one small class: validate a Spark DataFrame (the gate gives
it staged Parquet) against a list of expectations, turn GX's results into `CheckResult`s, build Data Docs.

Each expectation carries its policy in `meta` ({"policy": "fail" | "warn"}). GX computes a Spark job
per metric, so suites stay small and row-level rules run in our own single pass (quality/rules.py).

Results are asked for in BASIC format: counts, and for an unrestricted table up to 20 example values
(10 kept as examples). A restricted table's values stay in the restricted zone (quality/positions.py):
GX is asked for none, so none reach the results nor Data Docs. Row-level (map) expectations return
counts only; expectations on the table as a whole keep their observed value (a row count, the column
names); any other expectation (a column aggregate: min, max, mean... of values) is run pass/fail only.
A failed row-level expectation is run once more, apart, for the positions of a few failing rows.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.expectations.expectation import (  # noqa: E402
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)
from pyspark.sql import DataFrame  # noqa: E402

from lakehouse.tables import get as get_table  # noqa: E402
from quality.positions import LIMIT, index_positions, position_columns  # noqa: E402
from quality.results import CheckResult  # noqa: E402

logging.getLogger("great_expectations").setLevel(logging.WARNING)

UNRESTRICTED = "BASIC"
COUNTS_ONLY = {
    "result_format": "BASIC",
    "partial_unexpected_count": 0,
    "exclude_unexpected_values": True,
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
}
PASS_FAIL = "BOOLEAN_ONLY"
ROW_LEVEL = (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)


def is_restricted(table_name: str) -> bool:
    """As the table registry says; a name it does not know counts as restricted."""
    try:
        return get_table(table_name).restricted
    except KeyError:
        return True


def _value_free(expectation) -> bool:
    """True when GX, asked for COUNTS_ONLY, returns no value of the data for this expectation."""
    return isinstance(expectation, ROW_LEVEL) or expectation.expectation_type.startswith("expect_table_")


class GxValidator:
    """Ephemeral GX contexts for a run: one for unrestricted tables, whose Data Docs (when `docs_dir`
    is given) are written there, and one for restricted tables, whose Data Docs go to
    `restricted_docs_dir` (under the restricted root) or nowhere. Restricted results carry no values
    either way; keeping their pages apart also keeps out what GX renders of a raised expectation."""

    def __init__(self, docs_dir: Path | None, restricted_docs_dir: Path | None = None) -> None:
        self.docs_dir = docs_dir
        self.restricted_docs_dir = restricted_docs_dir
        self._lock = threading.Lock()
        self.context, self.source = _context(docs_dir)
        self.restricted_context, self.restricted_source = _context(restricted_docs_dir)

    def validate(
        self,
        df: DataFrame,
        *,
        gate: str,
        table_name: str,
        expectations: list,
        restricted: bool | None = None,
        part: str | None = None,
    ) -> list[CheckResult]:
        """Run `expectations` on `df` (each metric is a Spark job: give it a cheap frame to read).
        `restricted` (by default, as the registry says of `table_name`): no value leaves, see above.
        `part` names a second frame checked for one table (its suite's name in Data Docs)."""
        if not expectations:
            return []
        restricted = is_restricted(table_name) if restricted is None else restricted
        name = f"{gate} {table_name}" + (f" ({part})" if part else "")
        if restricted:
            runs = [
                (name, [e for e in expectations if _value_free(e)], COUNTS_ONLY),
                (f"{name} (pass/fail only)", [e for e in expectations if not _value_free(e)], PASS_FAIL),
            ]
        else:
            runs = [(name, expectations, UNRESTRICTED)]
        order = {id(e): i for i, e in enumerate(expectations)}
        found: list[tuple[int, CheckResult]] = []
        for run_name, suite, result_format in runs:
            if not suite:
                continue
            definition = self._definition(run_name, suite, restricted=restricted)
            # Runs of different tables may overlap (the silver gate runs them from a thread pool).
            outcome = definition.run(batch_parameters={"dataframe": df}, result_format=result_format)
            by_id = {e.id: e for e in suite}
            for r in outcome.results:  # GX orders them its own way
                expectation = by_id.get(r.expectation_config.id)
                result = _check_result(r, gate=gate, table_name=table_name, restricted=restricted)
                if restricted and expectation is not None and result.unexpected_count:
                    result.examples = _positions(definition, df, expectation)
                found.append((order.get(id(expectation), len(order)), result))
        return [result for _, result in sorted(found, key=lambda pair: pair[0])]

    def _definition(self, name: str, expectations: list, *, restricted: bool):
        context, source = (
            (self.restricted_context, self.restricted_source) if restricted else (self.context, self.source)
        )
        with self._lock:  # the contexts' registries are not made for concurrent additions
            asset = source.add_dataframe_asset(name=name)
            batch = asset.add_batch_definition_whole_dataframe("whole table")
            suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
            return context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )

    def build_docs(self) -> Path | None:
        """Build both sites; the unrestricted index, or None without one."""
        if self.restricted_docs_dir is not None:
            self.restricted_context.build_data_docs()
        if self.docs_dir is None:
            return None
        self.context.build_data_docs()
        index = self.docs_dir / "index.html"
        return index if index.exists() else None


def _context(docs_dir: Path | None):
    """An ephemeral GX context with a Spark data source, and a Data Docs site in `docs_dir` if given."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.update_data_docs_site(
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
    return context, context.data_sources.add_spark(name="c2c", persist=False)


def _positions(definition, df: DataFrame, expectation) -> list[str]:
    """Positions of a few rows a row-level expectation failed on (a restricted table's examples),
    from GX's row index on the position columns with the values left out; validated apart from
    the suite, so nothing of it is stored nor reaches Data Docs. None without position columns."""
    columns = position_columns(df.columns)
    if columns is None:
        return []
    file, row = columns
    result_format = {
        **COUNTS_ONLY,
        "result_format": "SUMMARY",
        "partial_unexpected_count": LIMIT,
        "unexpected_index_column_names": [file, *([row] if row else [])],
    }
    batch = definition.batch_definition.get_batch(batch_parameters={"dataframe": df})
    outcome = batch.validate(expectation, result_format=result_format)
    return index_positions(outcome.result or {}, file, row)


def _check_result(r, *, gate: str, table_name: str, restricted: bool) -> CheckResult:
    config = r.expectation_config
    meta = config.meta or {}
    kwargs = dict(config.kwargs)
    column = kwargs.get("column") or (",".join(kwargs["column_list"]) if "column_list" in kwargs else None)
    result = r.result or {}
    observed = result.get("observed_value")
    if restricted and not config.type.startswith("expect_table_"):
        observed = None  # could be a value of the column (a min, a max, a most common value)
    message = ""
    if r.exception_info and r.exception_info.get("raised_exception"):
        # An engine's message can quote the value it failed on (a cast, a parse).
        detail = "its message is withheld: restricted table" if restricted else None
        message = f"expectation raised: {detail or r.exception_info.get('exception_message')}"
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
        examples=[] if restricted else list(result.get("partial_unexpected_list") or [])[:10],
        message=message or meta.get("note", ""),
        restricted=restricted,
    )
