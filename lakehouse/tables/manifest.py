"""Layer manifests: silver, identity and gold are each promoted whole or not at all.

A layer's job commits its tables one by one (Delta commits are per table) and then, last, one row in
`ops.layer_manifests`: the version of each of the layer's tables and the versions of the inputs it was
built from. The layer's committed state is what its latest manifest names; a table version newer than
that belongs to a promotion that never finished (a killed run), and makes the layer due again.

- A layer is due when it has no manifest, when one of its tables is not at the version its manifest
  recorded (partly promoted: rebuild it), or when its inputs are not at the versions the manifest
  recorded (new upstream data). Never from one table's commit time.
- A lake written before manifests existed is adopted once (`adopt_existing_lake`): each layer whose
  tables exist gets a manifest of their current versions with no inputs, so each is rebuilt once and
  its current tables count as its committed state until then.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.errors import StorageError
from lakehouse.tables.ops import OPS_LAYER_MANIFESTS
from lakehouse.tables.registry import Table

if TYPE_CHECKING:
    from lakehouse.storage import Storage


@dataclass(frozen=True)
class Manifest:
    """One promotion of a layer: `tables` and `inputs` map a table's fqn to its Delta version."""

    layer: str
    seq: int
    run_id: str
    committed_at: datetime
    tables: dict[str, int]
    inputs: dict[str, int]


def table_versions(storage: Storage, tables: Iterable[Table]) -> dict[str, int]:
    """The current version of each table that exists, by fqn."""
    versions = {}
    for table in tables:
        info = storage.info(table)
        if info.exists:
            versions[table.fqn] = int(info.version)
    return versions


def latest_manifest(storage: Storage, layer: str) -> Manifest | None:
    """The layer's last completed promotion, or None when it has none."""
    if not storage.info(OPS_LAYER_MANIFESTS).exists:
        return None
    rows = (
        storage.read(OPS_LAYER_MANIFESTS)
        .where(F.col("layer") == layer)
        .orderBy(F.col("seq").desc())
        .limit(1)
        .collect()
    )
    if not rows:
        return None
    r = rows[0]
    return Manifest(
        layer=r["layer"],
        seq=int(r["seq"]),
        run_id=r["run_id"],
        # Spark hands timestamps to Python as naive local times.
        committed_at=r["committed_at"].astimezone(UTC),
        tables={k: int(v) for k, v in json.loads(r["table_versions"]).items()},
        inputs={k: int(v) for k, v in json.loads(r["input_versions"]).items()},
    )


def upstream_versions(storage: Storage, layers: dict[str, Iterable[Table]]) -> dict[str, int]:
    """The table versions the given layers' latest manifests name (a layer without one: its tables'
    current versions). What a downstream layer records as its inputs."""
    versions: dict[str, int] = {}
    for layer, tables in layers.items():
        manifest = latest_manifest(storage, layer)
        versions.update(manifest.tables if manifest else table_versions(storage, tables))
    return versions


def layer_due(
    storage: Storage,
    layer: str,
    tables: Iterable[Table],
    inputs: dict[str, int],
    *,
    ignore_inputs: Iterable[str] = (),
) -> bool:
    """True when the layer must be (re)built: no manifest, a table not at its manifest's version (a
    partial promotion), or `inputs` (current input versions) not those the manifest recorded.
    `ignore_inputs` are recorded but do not make the layer due (silver's file ledger)."""
    manifest = latest_manifest(storage, layer)
    if manifest is None:
        return True
    if manifest.tables != table_versions(storage, tables):
        return True
    skip = set(ignore_inputs)
    recorded = {k: v for k, v in manifest.inputs.items() if k not in skip}
    return recorded != {k: v for k, v in inputs.items() if k not in skip}


def refuse_stale_rerun(
    manifest: Manifest | None, run_id: str, inputs: dict[str, int], *, ignore_inputs: Iterable[str] = ()
) -> None:
    """Raise when this run id already promoted the layer from other inputs: every table write of the
    rebuild is an idempotent step keyed by the run id, so each would be skipped as done and the layer
    would keep its old contents under a manifest naming the new inputs."""
    if manifest is None or manifest.run_id != run_id:
        return
    skip = set(ignore_inputs)
    if {k: v for k, v in manifest.inputs.items() if k not in skip} != {
        k: v for k, v in inputs.items() if k not in skip
    }:
        raise StorageError(
            f"{manifest.layer}: run id {run_id!r} already promoted this layer from older inputs, and its "
            "writes would be skipped as done; start the run again under a new run id"
        )


def committed_frame(storage: Storage, manifest: Manifest | None, table: Table) -> DataFrame | None:
    """The table as the manifest committed it (time travel to its recorded version); None when the
    manifest does not name it, or there is no manifest (the layer never completed a promotion)."""
    if manifest is None or table.fqn not in manifest.tables:
        return None
    return storage.read(table, version=manifest.tables[table.fqn])


def write_manifest(
    storage: Storage,
    layer: str,
    tables: Iterable[Table],
    inputs: dict[str, int],
    *,
    run_id: str,
) -> Manifest:
    """Record the layer as promoted: its tables' current versions and `inputs`. Call it last, after
    every table of the layer committed. Idempotent per run and content: a retry of the same run that
    finds the same versions writes nothing new; one with other versions adds a row."""
    versions = table_versions(storage, tables)
    previous = latest_manifest(storage, layer)
    if previous is not None and previous.tables == versions and previous.inputs == inputs:
        return previous
    seq = 1
    if storage.info(OPS_LAYER_MANIFESTS).exists:
        top = storage.read(OPS_LAYER_MANIFESTS).agg(F.max("seq")).first()[0]
        seq = int(top or 0) + 1
    manifest = Manifest(layer, seq, run_id, datetime.now(UTC), versions, dict(inputs))
    row = (
        layer,
        seq,
        run_id,
        manifest.committed_at,
        json.dumps(versions, sort_keys=True),
        json.dumps(manifest.inputs, sort_keys=True),
    )
    digest = hashlib.sha256("\n".join(map(str, (row[0], row[4], row[5]))).encode()).hexdigest()[:16]
    storage.write(
        storage.spark.createDataFrame([row], OPS_LAYER_MANIFESTS.schema),
        OPS_LAYER_MANIFESTS,
        "append",
        run_id=run_id,
        step=f"manifest/{layer}/{digest}",
    )
    return manifest


def adopt_existing_lake(storage: Storage, layers: dict[str, Iterable[Table]], *, run_id: str) -> list[str]:
    """A lake from before manifests (no `ops.layer_manifests` yet): give each layer whose tables exist
    a manifest of their current versions and no inputs. Its current tables then count as committed
    (an identity rebuild carries their person ids over) and the layer is due once, so a layer left
    half promoted by an old run is rebuilt whole. Returns the layers adopted; a no-op afterwards."""
    if storage.info(OPS_LAYER_MANIFESTS).exists:
        return []
    adopted = []
    for layer, tables in layers.items():
        tables = list(tables)
        if table_versions(storage, tables):
            write_manifest(storage, layer, tables, {}, run_id=f"adopted-in-{run_id}")
            adopted.append(layer)
    return adopted
