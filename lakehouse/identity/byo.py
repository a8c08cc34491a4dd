"""Bring-your-own-file linkage (`c2c link`): a researcher's roster linked to another, or deduplicated,
with the platform's own comparisons, on DuckDB (a roster fits one machine; no Spark needed).

Columns are mapped to roles (`given_name`, `family_name`, `birth_date`, `ssn`, `gender`, `street`,
`city`, `zip`, `state`); other columns stay behind unless `--carry` names them for `clusters.csv`.
SSNs are tokenized with a key made for this run only, so that the partial-SSN comparisons work and no
SSN is written.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lakehouse.errors import C2CError
from lakehouse.identity.features import first_roots

ROLES = ("given_name", "family_name", "birth_date", "ssn", "gender", "street", "city", "zip", "state")
# Roles the platform's model leans on: with all of them a registered model fits the roster.
CORE_ROLES = ("given_name", "family_name", "birth_date")


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
    return Roster(path, header, rows)


def parse_birth_date(value: str, fmt: str) -> str | None:
    """'yyyy-MM-dd', or None for a blank or a value the format cannot read (an impossible date such as
    19450493 is missing data, counted by `ValueCounts`, not an error)."""
    value = value.strip()
    if not value:
        return None
    try:
        return datetime.strptime(value, fmt).date().isoformat()
    except ValueError:
        return None


@dataclass
class ValueCounts:
    """Per mapped column of one roster: blank values, and values that are there but do not parse
    (with the first few row numbers, never the values). Both are linked as missing."""

    role: str
    missing: int = 0
    unparseable: int = 0
    first_unparseable_rows: list[int] = field(default_factory=list)

    def count(self, raw: str, parsed: object, line: int) -> None:
        if not raw:
            self.missing += 1
        elif parsed is None:
            self.unparseable += 1
            if len(self.first_unparseable_rows) < 5:
                self.first_unparseable_rows.append(line)


def standardize(name: str | None) -> str | None:
    """Python twin of lakehouse.silver.standardize.standardize_name (upper, accents folded, letters,
    spaces and hyphens only)."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    folded = "".join(ch for ch in folded if ch not in "'.`")
    cleaned = "".join(ch if ch.isalpha() or ch in " -" else " " for ch in folded)
    cleaned = " ".join(cleaned.split()).replace(" - ", "-").strip()
    for suffix in (" JR", " SR", " II", " III", " IV"):
        if cleaned.endswith(suffix):
            cleaned = cleaned[: -len(suffix)]
    return cleaned or None


def soundex(name: str | None) -> str | None:
    """American Soundex, as Spark's `soundex` computes it."""
    if not name:
        return None
    letters = [c for c in name.upper() if c.isalpha()]
    if not letters:
        return None
    codes = {**dict.fromkeys("BFPV", "1"), **dict.fromkeys("CGJKQSXZ", "2"), **dict.fromkeys("DT", "3")}
    codes.update({"L": "4", "M": "5", "N": "5", "R": "6"})
    out, last = letters[0], codes.get(letters[0], "")
    for c in letters[1:]:
        code = codes.get(c, "")
        if code and code != last:
            out += code
        if c not in "HW":
            last = code
    return (out + "000")[:4]


def _token(key: bytes, prefix: str, value: str) -> str:
    return hmac.new(key, f"{prefix}{value}".encode(), hashlib.sha256).hexdigest()


def linkage_rows(
    roster: Roster, *, id_column: str, mapping: dict[str, str], date_format: str, roots: dict[str, list[str]],
    key: bytes, side: str,
) -> tuple[list[dict[str, Any]], dict[str, ValueCounts]]:  # fmt: skip
    """The roster as linkage input rows (the columns of lakehouse/identity/features.LINKAGE_COLUMNS),
    and per mapped column what was missing or did not parse."""
    by_role = {role: column for column, role in mapping.items()}
    counts = {column: ValueCounts(role) for column, role in mapping.items()}
    out = []
    for line, row in enumerate(roster.rows, start=2):

        def get(role: str, row: dict[str, str] = row) -> str:
            return row[by_role[role]].strip() if role in by_role else ""

        def counted(role: str, parsed: object, line: int = line) -> object:
            if role in by_role:
                counts[by_role[role]].count(get(role), parsed, line)
            return parsed

        first = counted("given_name", standardize(get("given_name")))
        last = counted("family_name", standardize(get("family_name")))
        birth = counted("birth_date", parse_birth_date(get("birth_date"), date_format))
        digits = "".join(ch for ch in get("ssn") if ch.isdigit())
        ssn = counted("ssn", digits if len(digits) == 9 and _issuable(digits) else None)
        parts = [p for p in (last or "").replace("-", " ").split() if p]
        gender = counted("gender", get("gender").upper()[:1] if get("gender").upper()[:1] in "MFX" else None)
        zip_code = counted(
            "zip", get("zip")[:5] if re.fullmatch(r"[0-9]{5}(-?[0-9]{4})?", get("zip")) else None
        )
        for role in ("street", "city", "state"):
            counted(role, get(role) or None)
        out.append(
            {
                "record_token": f"{side}:{row[id_column].strip()}",
                "source": side,
                "first_name": first,
                "first_roots": first_roots(first, roots) if first else None,
                "first_soundex": soundex(first),
                "middle_initial": None,
                "last_name": last,
                "last_names": sorted({last, *parts}) if last else None,
                "last_soundex": soundex(last),
                "birth_date": birth,
                "birth_year": int(birth[:4]) if birth else None,
                "birth_month_day": birth[5:] if birth else None,
                "gender": gender or None,
                "ssn_token": _token(key, "", ssn) if ssn else None,
                "ssn_first5_token": _token(key, "ssn5:", ssn[:5]) if ssn else None,
                "ssn_last4_token": _token(key, "ssn4:", ssn[5:]) if ssn else None,
                "ssn_sorted_token": _token(key, "ssn-sorted:", "".join(sorted(ssn))) if ssn else None,
                "ssid": None,
                "seid": None,
                "cin": None,
                "zip": zip_code,
                "zip3": zip_code[:3] if zip_code else None,
                "wages_from": None,
                "counties": None,
            }
        )
    return out, counts


def _issuable(digits: str) -> bool:
    """Nine digits that could be an SSN: no area 000, 666 or 9xx, no group 00, no serial 0000 (the
    same rule as silver's tokens: a made-up number links nobody)."""
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def new_key() -> bytes:
    return secrets.token_bytes(32)


def elapsed(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)


def link_rosters(
    left: list[dict[str, Any]],
    right: list[dict[str, Any]] | None,
    *,
    model: dict[str, Any] | None,
    threshold: float,
    max_pairs: float = 1e6,
) -> tuple[list[tuple[str, str, float]], dict[str, str], dict[str, Any]]:
    """Score pairs across `left` and `right` (or within `left`) and cluster the matches.
    Returns the pairs (left id, right id, probability) at or above `threshold`, each record's
    cluster id, and the trained model (or `model`, when given)."""
    import duckdb
    import pyarrow as pa
    from splink import DuckDBAPI, Linker
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    from lakehouse.identity import model as linkage_model

    con = duckdb.connect()
    rows = left + (right or [])
    con.register("roster_arrow", pa.Table.from_pylist(rows, schema=_schema()))
    con.execute("CREATE TABLE roster AS SELECT * FROM roster_arrow")
    db_api = DuckDBAPI(con)
    if model is None:
        certain = con.execute(f"SELECT count(*) FROM ({linkage_model.labels_sql('roster')})").fetchall()[0][0]
        settings: Any = linkage_model.linkage_settings(
            prior_probability=linkage_model.prior(certain, len(rows))
        )
    else:
        settings = dict(model)
    linker = Linker(
        db_api.register("roster", dataset_display_name="roster"), settings, log_level=logging.WARNING
    )
    skipped: list[str] = []
    if model is None:
        con.execute(f"CREATE TABLE labels AS {linkage_model.labels_sql('roster')}")
        labels = db_api.register("labels", dataset_display_name="labels")
        skipped = linkage_model.train(linker, labels, max_pairs=max_pairs)
    scored = linker.inference.predict(threshold_match_probability=threshold)
    con.execute(
        f"CREATE TABLE matched AS SELECT record_token_l, record_token_r, match_probability "
        f"FROM {scored.physical_name}"
    )
    if right is not None:  # a link of two files: one dedupe of both, keeping the pairs across them
        con.execute(
            "DELETE FROM matched "
            "WHERE split_part(record_token_l, ':', 1) = split_part(record_token_r, ':', 1)"
        )
    con.execute("CREATE TABLE nodes AS SELECT record_token FROM roster")
    clusters = cluster_pairwise_predictions_at_threshold(
        db_api.register("nodes", dataset_display_name="nodes"),
        db_api.register("matched", dataset_display_name="matched"),
        db_api,
        "record_token",
    )
    cluster_of = dict(
        con.execute(f"SELECT record_token, cluster_id FROM {clusters.physical_name}").fetchall()
    )
    pairs = con.execute(
        "SELECT record_token_l, record_token_r, match_probability FROM matched ORDER BY 3 DESC, 1, 2"
    ).fetchall()
    trained = linker.misc.save_model_to_json()
    con.close()
    return pairs, cluster_of, {"model": trained, "training_skipped": skipped}


_ARROW_FIELDS = [
    ("record_token", "string"), ("source", "string"), ("first_name", "string"),
    ("first_roots", "list<string>"), ("first_soundex", "string"), ("middle_initial", "string"),
    ("last_name", "string"), ("last_names", "list<string>"), ("last_soundex", "string"),
    ("birth_date", "string"), ("birth_year", "int32"), ("birth_month_day", "string"), ("gender", "string"),
    ("ssn_token", "string"), ("ssn_first5_token", "string"), ("ssn_last4_token", "string"),
    ("ssn_sorted_token", "string"), ("ssid", "string"), ("seid", "string"), ("cin", "string"),
    ("zip", "string"), ("zip3", "string"), ("wages_from", "string"), ("counties", "list<string>"),
]  # fmt: skip


def _arrow_type(name: str):
    import pyarrow as pa

    return pa.list_(pa.string()) if name == "list<string>" else getattr(pa, name)()


def _schema():
    import pyarrow as pa

    return pa.schema([(n, _arrow_type(t)) for n, t in _ARROW_FIELDS])
