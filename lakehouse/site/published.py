"""Read and check the published tables (`<var>/site/data/*.csv` and their `*.json` sidecars).

The dashboard is built from these files only: they are the output of disclosure control
(lakehouse.privacy.suppress, written by lakehouse.publish.tables), never a gold Delta table. Reading
them again checks what the page will show: every count is blank, `suppressed` or at least the minimum
cell size, every rate lies in [0, 1], and every column is one the sidecar describes. A file that
breaks a rule stops the build with its file, line and column, so a bad table is never put on a page.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

from lakehouse.errors import C2CError
from lakehouse.privacy.pools import pool_years

SUPPRESSED = "suppressed"  # what lakehouse.publish.tables writes for a suppressed cell
SIDECAR_KEYS = ("table", "mart", "title", "dimensions", "measures", "metrics", "cohort_definition")


class SiteError(C2CError):
    """The published tables cannot be turned into the dashboard (missing, malformed or unsafe)."""


class NoPublishedTablesError(SiteError):
    """The folder of published tables is missing or holds no table."""


@dataclass(frozen=True)
class PublishedTable:
    """One published CSV and its sidecar. `rows` keep the CSV's text cells, converted: an int for a
    count, a float for a rate or median, `SUPPRESSED`, or None for a blank (no one in the cell)."""

    name: str
    csv_path: Path
    json_path: Path
    meta: dict
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]

    @property
    def mart(self) -> str:
        return self.meta["mart"]

    @property
    def pooled(self) -> bool:
        """Rows are pooled cohorts (a `cohort` label such as "2016-2018"), not single cohort years."""
        return self.meta["dimensions"][0] == "cohort"

    @property
    def dimension(self) -> str:
        """The breakdown: `statewide` or the column the table is broken down by."""
        return "statewide" if self.name.endswith("__statewide") else self.meta["dimensions"][1]


def read_published(data_dir: Path, *, min_cell_size: int) -> list[PublishedTable]:
    """Every `*.csv` of `data_dir` with its sidecar, checked and converted, sorted by name."""
    data_dir = Path(data_dir)
    paths = sorted(data_dir.glob("*.csv")) if data_dir.is_dir() else []
    if not paths:
        state = "holds no published table (*.csv)" if data_dir.is_dir() else "does not exist"
        raise NoPublishedTablesError(
            f"{data_dir.resolve()} {state}: the dashboard is built from the published tables that the "
            "gold step of `c2c run` writes there; run the pipeline first"
        )
    return [_read_table(p, min_cell_size) for p in paths]


def _read_table(path: Path, min_cell_size: int) -> PublishedTable:
    sidecar = path.with_suffix(".json")
    try:
        meta = json.loads(sidecar.read_text())
    except FileNotFoundError:
        raise SiteError(f"{path}: no sidecar {sidecar.name} beside it; re-run `c2c run`") from None
    except (OSError, ValueError) as exc:
        raise SiteError(f"{sidecar}: not readable JSON ({exc})") from None
    missing = [k for k in SIDECAR_KEYS if k not in meta]
    if missing:
        raise SiteError(f"{sidecar}: missing {', '.join(missing)}")
    with path.open(newline="") as f:
        lines = list(csv.reader(f))
    if not lines:
        raise SiteError(f"{path}: empty file (no header line)")
    header, body = lines[0], lines[1:]
    dims = list(meta["dimensions"])
    if header[:2] != dims:
        raise SiteError(f"{path}: the first columns are {header[:2]}, the sidecar says {dims}")
    roles = _roles(meta["measures"])
    unknown = [c for c in header[2:] if c not in roles]
    if unknown:
        raise SiteError(f"{path}: column(s) {', '.join(unknown)} are not described in {sidecar.name}")
    rows = []
    for number, line in enumerate(body, start=2):
        if len(line) != len(header):
            raise SiteError(f"{path}, line {number}: {len(line)} cells, the header has {len(header)}")
        year = _cohort(line[0], path, number) if dims[0] == "cohort" else _year(line[0], path, number)
        cells = tuple(
            _cell(text, roles[col], min_cell_size, f"{path}, line {number}, column {col}")
            for col, text in zip(header[2:], line[2:], strict=True)
        )
        rows.append((year, line[1], *cells))
    return PublishedTable(path.stem, path, sidecar, meta, tuple(header), tuple(rows))


def _roles(measures: dict) -> dict[str, str]:
    role_of = {"counts": "count", "rates": "rate", "medians": "median"}
    return {col: role_of[kind] for kind, cols in measures.items() if kind in role_of for col in cols}


def _year(text: str, path: Path, number: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise SiteError(f"{path}, line {number}: cohort_year {text!r} is not a year") from None


def _cohort(text: str, path: Path, number: int) -> str:
    if pool_years(text) is None:
        raise SiteError(f"{path}, line {number}: cohort {text!r} is not a pooled cohort (first-last)")
    return text


def _cell(text: str, role: str, min_cell_size: int, where: str) -> int | float | str | None:
    """A CSV cell as the page will get it; raise on anything a public page must not show."""
    if text == "":
        return None
    if text == SUPPRESSED:
        return SUPPRESSED
    try:
        value = float(text)
    except ValueError:
        raise SiteError(f"{where}: {text!r} is neither a number, '{SUPPRESSED}' nor blank") from None
    if not math.isfinite(value):
        raise SiteError(f"{where}: {text!r} is not a finite number")
    if role == "count":
        if value != int(value) or value < min_cell_size:
            raise SiteError(
                f"{where}: count {text} is below the minimum cell size {min_cell_size} (or not whole); "
                "a published count must be suppressed; the table did not come from disclosure control"
            )
        return int(value)
    if role == "rate" and not 0 <= value <= 1:
        raise SiteError(f"{where}: rate {text} is outside [0, 1]")
    return value
