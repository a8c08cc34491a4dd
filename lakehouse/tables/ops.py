"""Tables of the platform's own operation: the run log, quality results and layer manifests."""

from __future__ import annotations

from lakehouse.tables.registry import Table, register

__all__ = ["OPS_LAYER_MANIFESTS", "OPS_QUALITY_RESULTS", "OPS_RUNS"]

OPS_RUNS = register(
    Table(
        layer="ops",
        name="runs",
        schema=(
            "run_id STRING, job STRING, env STRING, engine STRING, started_at TIMESTAMP, "
            "finished_at TIMESTAMP, status STRING, detail STRING"
        ),
        keys=("run_id", "job"),
        description="One row per job run: what ran, where, on which engine, and how it ended.",
    )
)

OPS_QUALITY_RESULTS = register(
    Table(
        layer="ops",
        name="quality_results",
        schema=(
            "run_id STRING, checked_at TIMESTAMP, gate STRING, table_name STRING, check_id STRING, "
            "expectation STRING, column_name STRING, policy STRING, success BOOLEAN, element_count BIGINT, "
            "unexpected_count BIGINT, unexpected_percent DOUBLE, observed_value STRING, examples STRING, "
            "message STRING"
        ),
        keys=("run_id", "table_name", "check_id"),
        description="Every quality check of every run: policy, outcome, counts and examples.",
    )
)


OPS_LAYER_MANIFESTS = register(
    Table(
        layer="ops",
        name="layer_manifests",
        schema=(
            "layer STRING, seq BIGINT, run_id STRING, committed_at TIMESTAMP, table_versions STRING, "
            "input_versions STRING"
        ),
        keys=("layer", "seq"),
        description="One row per promoted layer: its tables' versions (JSON) and its inputs' versions "
        "(JSON), written after every table of the layer committed. The highest seq is the layer's state.",
    )
)
