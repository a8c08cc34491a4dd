"""Bring-your-own-file linkage (`c2c link`): a researcher's roster linked to another, or deduplicated,
by the pipeline's own identity core: silver's standardization (lakehouse/silver/person_records.py
`identity_columns`), the linkage features (lakehouse/identity/features.py), and the deterministic
rules, model, scoring, guards and clustering of lakehouse/identity/link.py `resolve_in_duckdb`. The
features are computed on Spark (as in the pipeline, so a roster of any size can be prepared on a
cluster); scoring runs on an in-process DuckDB.

Columns are mapped to roles (`given_name`, `middle_name`, `family_name`, `birth_date`, `ssn`,
`gender`, `zip`; `street`, `city` and `state` are accepted and counted, not compared). Other columns
stay behind unless `--carry` names them for `clusters.csv`. SSNs are tokenized with a key made for
this run only, so that the partial-SSN comparisons work and no SSN is written.
"""

from __future__ import annotations

import csv
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.errors import C2CError
from lakehouse.identity.features import LINKAGE_COLUMNS, nickname_roots, with_linkage_features
from lakehouse.identity.link import Resolution, resolve_in_duckdb
from lakehouse.silver.person_records import identity_columns

ROLES = (
    "given_name", "middle_name", "family_name", "birth_date", "ssn", "gender", "zip",
    "street", "city", "state",
)  # fmt: skip
# A role -> the role silver's `identity_columns` takes it as, and the standardized column that is null
# when the value did not parse. street, city and state have no such column: they are only counted.
SILVER_ROLE = {
    "given_name": ("first", "first_name"),
    "middle_name": ("middle", "middle_name"),
    "family_name": ("last", "last_name"),
    "birth_date": ("birth", "birth_date"),
    "ssn": ("ssn", "ssn_token"),
    "gender": ("gender", "gender"),
    "zip": ("zip", "zip"),
}


class LinkInputError(C2CError):
    """A roster or its column mapping cannot be used; the message names the file, row and column."""


class LinkOutputError(C2CError):
    """--out cannot take the results: it holds other files, or a previous output and no --force."""


@dataclass(frozen=True)
class Roster:
    path: Path
    header: list[str]
    rows: list[dict[str, str]]


def parse_mapping(text: str) -> dict[str, str]:
    """'first=given_name,dob=birth_date' -> {'first': 'given_name', 'dob': 'birth_date'}."""
    mapping: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        column, sep, role = item.partition("=")
        if not sep or not column.strip() or not role.strip():
            raise LinkInputError(f"--map: '{item}' is not column=role")
        role = role.strip()
        if role not in ROLES:
            raise LinkInputError(
                f"--map: unknown role '{role}' for column '{column}' (roles: {', '.join(ROLES)})"
            )
        if role in mapping.values():
            raise LinkInputError(f"--map: role '{role}' is given to two columns")
        mapping[column.strip()] = role
    if not mapping:
        raise LinkInputError("--map: map at least one column to a role")
    return mapping


def read_roster(path: Path, *, id_column: str, mapping: dict[str, str], carry: Sequence[str] = ()) -> Roster:
    """Read a CSV roster (UTF-8, header line), checking that the id, mapped and carried columns exist
    and ids are unique and non-empty."""
    if not path.is_file():
        raise LinkInputError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        missing = [c for c in [id_column, *mapping] if c not in header]
        if missing:
            raise LinkInputError(
                f"{path}: no column {', '.join(repr(c) for c in missing)} (the file has: {', '.join(header)})"
            )
        missing = [c for c in carry if c not in header]
        if missing:
            raise LinkInputError(
                f"{path}: no column {', '.join(repr(c) for c in missing)} to --carry "
                f"(the file has: {', '.join(header)})"
            )
        rows: list[dict[str, str]] = []
        rows_seen: dict[str, int] = {}  # id -> its first row
        for line, row in enumerate(reader, start=2):
            if None in row or any(v is None for v in row.values()):
                raise LinkInputError(f"{path}, row {line}: expected {len(header)} fields")
            key = row[id_column].strip()
            if not key:
                raise LinkInputError(f"{path}, row {line}, column '{id_column}': the id is empty")
            if key in rows_seen:
                first = rows_seen[key]
                raise LinkInputError(
                    f"{path}, row {line}, column '{id_column}': the id of row {first} is repeated"
                )
            rows_seen[key] = line
            rows.append(row)
    if not rows:
        raise LinkInputError(f"{path}: no rows after the header line; there is nothing to link")
    return Roster(path, header, rows)


# strftime directives a roster's birth dates may use -> (Spark pattern, the shape a value must have).
# A numeric field next to another numeric field has a fixed width (19450403 is %Y%m%d); between
# separators a month or day may have one digit or two, as strptime allows.
_DIRECTIVES = {
    "Y": ("yyyy", "[0-9]{4}"),
    "m": ("M", "[0-9]{1,2}"),
    "d": ("d", "[0-9]{1,2}"),
    "b": ("MMM", "[A-Za-z]{3}"),
    "B": ("MMMM", "[A-Za-z]+"),
}
_FIXED = {"m": ("MM", "[0-9]{2}"), "d": ("dd", "[0-9]{2}")}


def spark_date_format(fmt: str) -> tuple[str, str]:
    """A strftime birth-date format -> (Spark datetime pattern, regex of the values it may read)."""
    tokens: list[tuple[str, str]] = []  # ("directive", letter) or ("text", text)
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            letter = fmt[i + 1 : i + 2]
            if letter == "%":
                tokens.append(("text", "%"))
            elif letter in _DIRECTIVES:
                tokens.append(("directive", letter))
            else:
                raise LinkInputError(
                    f"--date-format '{fmt}': %{letter} is not supported (use %Y, %m, %d, %b or %B)"
                )
            i += 2
        else:
            tokens.append(("text", fmt[i]))
            i += 1
    numeric = [kind == "directive" and value in "Ymd" for kind, value in tokens]
    pattern, shape = "", ""
    for n, (kind, value) in enumerate(tokens):
        if kind == "text":
            pattern += f"'{value}'" if value.isalpha() else ("''" if value == "'" else value)
            shape += re.escape(value)
            continue
        beside = (n > 0 and numeric[n - 1]) or (n + 1 < len(tokens) and numeric[n + 1])
        spark, regex = (_FIXED if beside and value in _FIXED else _DIRECTIVES)[value]
        pattern, shape = pattern + spark, shape + regex
    if not any(kind == "directive" for kind, _ in tokens):
        raise LinkInputError(f"--date-format '{fmt}': no %Y, %m or %d in it")
    return pattern, f"^{shape}$"


def roster_frame(spark: SparkSession, rosters: Sequence[Roster], sides: Sequence[str], *, id_column: str,
                 mapping: dict[str, str]) -> DataFrame:  # fmt: skip
    """The rosters' rows as one Spark DataFrame of raw text: record_token ('<side>:<id>'), source
    (the side), line (the row's line in its file), and one column per mapped role (trimmed, blank is
    null)."""
    import pandas as pd

    by_role = {role: column for column, role in mapping.items()}
    rows = []
    for roster, side in zip(rosters, sides, strict=True):
        for line, row in enumerate(roster.rows, start=2):
            values = {role: (row[column].strip() or None) for role, column in by_role.items()}
            rows.append(
                {"record_token": f"{side}:{row[id_column].strip()}", "source": side, "line": line, **values}
            )
    columns = ["record_token", "source", "line", *by_role]
    schema = ", ".join(
        ["record_token STRING", "source STRING", "line INT", *(f"{r} STRING" for r in by_role)]
    )
    return spark.createDataFrame(pd.DataFrame(rows, columns=columns), schema)


def roster_records(frame: DataFrame, *, mapping: dict[str, str], date_format: str, key: bytes) -> DataFrame:
    """`roster_frame` -> person records as silver makes them (`identity_columns`), keeping `line` and
    the raw values (`raw_<role>`) for `value_counts`."""
    pattern, shape = spark_date_format(date_format)
    raw: dict[str, Column] = {}
    for role in mapping.values():
        if role in SILVER_ROLE:
            raw[SILVER_ROLE[role][0]] = F.col(role)
    if "birth" in raw:
        raw["birth"] = F.when(raw["birth"].rlike(shape), F.try_to_date(raw["birth"], pattern))
    return frame.select(
        "record_token",
        "source",
        "line",
        *[F.col(role).alias(f"raw_{role}") for role in mapping.values()],
        *identity_columns(raw, key=key),
    )


def value_counts(records: DataFrame, *, mapping: dict[str, str], sides: dict[str, str]) -> dict[str, dict]:
    """Per roster file (`sides`: side -> file name) and mapped column: blank values, values that are
    there but did not parse (linked as missing), and the first five row numbers of those (never the
    values)."""
    aggregates = []
    for column, role in mapping.items():
        raw = F.col(f"raw_{role}")
        bad = raw.isNotNull() & F.col(SILVER_ROLE[role][1]).isNull() if role in SILVER_ROLE else F.lit(False)
        aggregates += [
            F.count_if(raw.isNull()).alias(f"{column}|missing"),
            F.count_if(bad).alias(f"{column}|unparseable"),
            F.slice(F.array_sort(F.collect_list(F.when(bad, F.col("line")))), 1, 5).alias(f"{column}|rows"),
        ]
    counted = {row["source"]: row for row in records.groupBy("source").agg(*aggregates).collect()}
    out: dict[str, dict] = {}
    for side, name in sides.items():
        row = counted.get(side)
        out[name] = {
            column: {
                "role": role,
                "missing": row[f"{column}|missing"] if row else 0,
                "unparseable": row[f"{column}|unparseable"] if row else 0,
                "first_unparseable_rows": list(row[f"{column}|rows"]) if row else [],
            }
            for column, role in mapping.items()
        }
    return out


def linkage_input(spark: SparkSession, records: DataFrame) -> DataFrame:
    """The pipeline's linkage features of roster records (no wages, no counties)."""
    return with_linkage_features(records, roots=nickname_roots(spark)).select(*LINKAGE_COLUMNS)


def new_key() -> bytes:
    return secrets.token_bytes(32)


def link(
    linkage: DataFrame,
    *,
    model: dict[str, Any] | None,
    threshold: float | None,
    review_floor: float,
    max_cluster_size: int,
    train_max_pairs: float,
    link_only: bool,
) -> Resolution:
    """Resolve the roster records with the pipeline's core on an in-process DuckDB: trained on them by
    expectation maximisation unless `model` is given; threshold chosen from the fitted model unless
    given; every candidate pair scored, so the decision's expected precision and recall cover them."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("linkage_input_arrow", linkage.toArrow())
        con.execute("CREATE TABLE linkage_input AS SELECT * FROM linkage_input_arrow")
        return resolve_in_duckdb(
            con,
            model,
            threshold=threshold,
            review_floor=review_floor,
            max_cluster_size=max_cluster_size,
            train_max_pairs=train_max_pairs,
            training="em",
            all_candidates=True,
            link_only=link_only,
        )
    finally:
        con.close()
