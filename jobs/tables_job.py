"""`c2c tables`: every registered table with its path, engine, current version and row count."""

from __future__ import annotations

import json
from dataclasses import asdict

from lakehouse.settings import Settings
from lakehouse.spark import build_spark
from lakehouse.storage import open_storage
from lakehouse.tables import all_tables


def main(settings: Settings, *, as_json: bool) -> int:
    spark = build_spark(settings)
    storage = open_storage(spark, settings)
    infos = [storage.info(table) for table in all_tables()]
    if as_json:
        print(json.dumps([asdict(i) for i in infos], indent=2))
        return 0
    print(f"{'table':<28} {'engine':<12} {'version':>7} {'rows':>12}  path")
    for i in infos:
        version = "-" if i.version is None else str(i.version)
        rows = "-" if i.rows is None else f"{i.rows:,}"
        print(f"{i.table:<28} {i.engine:<12} {version:>7} {rows:>12}  {i.path}")
    return 0
