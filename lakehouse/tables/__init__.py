"""Every table of the platform, declared once: layer, name, schema, keys, partitioning, zone.

`registry` holds the contract (`Table`) and the registry; `landing` declares the run log, bronze, silver
and quality tables; `linked` the identity and gold tables. Import tables from here.
"""

from lakehouse.tables.landing import *  # noqa: F403
from lakehouse.tables.linked import *  # noqa: F403
from lakehouse.tables.registry import LAYERS, Table, all_tables, get, register

__all__ = ["LAYERS", "Table", "all_tables", "get", "register"]
