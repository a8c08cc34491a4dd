"""What every de-identified silver event table shares: the record token, code mapping with unknown
codes collected per row, academic-year parsing, and provenance columns.

Event tables carry `record_token` instead of the source record key: keys such as an SSID are direct
identifiers, which live only in the restricted zone (and an SSN never reaches silver at all, not even
inside EDD's employer-and-SSN key: see `record_key`). The token is the
keyed HMAC of `<source>:<source_record_key>`; `silver.person_records` holds both, and identity
resolution maps tokens to person ids.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.silver.codes import CodeMaps, map_code, unknown_code
from lakehouse.silver.tokens import hmac_sha256
from lakehouse.sources.layouts import LAYOUTS, RECORD_KEYS

Bronze = dict[str, DataFrame]  # family -> bronze rows (only the families that have landed)


# Record key columns that hold an SSN: silver keeps a keyed token of their text in its place.
SSN_KEY_COLUMNS = {"DE9C": "SSN"}
SSN_KEY_PREFIX = "key-ssn:"


def record_key(family: str, key: bytes) -> Column:
    """The source record key of a bronze row: its key columns joined by "-", as
    `_truth/person_truth.csv` spells it, except that an SSN in the key (EDD's `EMPLOYER_ACCOUNT-SSN`)
    is replaced by the keyed token of its text, so that no silver or identity table holds an SSN.
    The token is of the text as reported, not of the valid digits: two different made-up numbers at
    one employer are two workers (see `keyed_record_key` for the same key from the truth's text)."""
    parts = []
    for column in RECORD_KEYS[family]:
        value = F.trim(F.col(column))
        if SSN_KEY_COLUMNS.get(family) == column:
            value = F.when(value != "", hmac_sha256(F.concat(F.lit(SSN_KEY_PREFIX), value), key)).otherwise(
                value
            )
        parts.append(value)
    return F.concat_ws("-", *parts)


def keyed_record_keys(source: Column, raw_key: Column, key: bytes) -> Column:
    """`keyed_record_key` as a column, for a whole truth file at once."""
    account = F.trim(F.regexp_extract(raw_key, r"(?s)^([^-]*)-(.*)$", 1))
    ssn = F.trim(F.regexp_extract(raw_key, r"(?s)^([^-]*)-(.*)$", 2))
    token = F.when(ssn != "", hmac_sha256(F.concat(F.lit(SSN_KEY_PREFIX), ssn), key)).otherwise(ssn)
    return F.when((source == "edd") & raw_key.contains("-"), F.concat(account, F.lit("-"), token)).otherwise(
        raw_key
    )


def keyed_record_key(source: str, raw_key: str, key: bytes) -> str:
    """`record_key`'s value from a key written as the source spells it (the generator's truth):
    for EDD, `ACCOUNT-SSN` becomes `ACCOUNT-<token of SSN>`; other sources' keys are unchanged. The
    key is cut at its first "-": the generator's employer accounts are digits only."""
    if source != "edd" or "-" not in raw_key:
        return raw_key
    account, ssn = raw_key.split("-", 1)
    ssn = ssn.strip(" ")  # as Spark's trim: spaces only
    token = hmac.digest(key, f"{SSN_KEY_PREFIX}{ssn}".encode(), "sha256").hex() if ssn else ssn
    return f"{account.strip(' ')}-{token}"


def row_order(file: Column, row: Column) -> Column:
    """A sortable position of a bronze row: file name (agencies name files by year or term), then line."""
    return F.concat(file, F.lit("#"), F.lpad(row.cast("string"), 12, "0"))


def record_token(source: Column, key_column: Column, key: bytes) -> Column:
    """Keyed HMAC of `<source>:<source_record_key>`: joins events to person records without the key.
    Null when the key is blank (such a row cannot belong to anyone; the quality gate holds it back)."""
    present = F.regexp_replace(key_column, "-", "") != ""
    return F.when(present, hmac_sha256(F.concat(source, F.lit(":"), key_column), key))


class Coder:
    """Maps agency codes for one family's select and remembers which columns were checked, so the
    same select can list each row's unknown codes (`unknown_codes`) without a second pass."""

    def __init__(self, codes: CodeMaps) -> None:
        self._codes = codes
        self._flags: list[Column] = []

    def map(self, column: str, code_map: str, value: Column | None = None) -> Column:
        """The common code of `column` (or of `value`, a code taken from it), flagging `column` when the
        code is unknown."""
        self.check(column, code_map, value)
        return map_code(F.col(column) if value is None else value, self._codes[code_map])

    def check(self, column: str, code_map: str, value: Column | None = None) -> None:
        """Flag `column` when its code (or `value`, a code taken from it) is not blank and not in
        `code_map`: for coded columns that silver keeps as sent, such as a county code."""
        raw = F.col(column) if value is None else value
        self._flags.append(F.when(unknown_code(raw, self._codes[code_map]), F.lit(column)))

    @property
    def checked(self) -> bool:
        """True once a column has been mapped or checked."""
        return bool(self._flags)

    def unknown(self) -> Column:
        """The columns of the row whose code is unknown (an empty array when none is)."""
        if not self._flags:
            return F.array().cast("array<string>")
        return F.array_compact(F.array(*self._flags))


def blank_to_null(column: Column) -> Column:
    trimmed = F.trim(column)
    return F.when(trimmed != "", trimmed)


def ending_year(label: Column) -> Column:
    """Academic, fiscal or award year label -> its ending year: '2018-19' -> 2019; '2019' -> 2019."""
    text = F.trim(label)
    return F.when(F.length(text) == 7, F.substring(text, 1, 4).try_cast("int") + 1).otherwise(
        text.try_cast("int")
    )


def academic_year_of(day: Column) -> Column:
    """The July-June academic year (by its ending year) that a date falls in."""
    return F.year(day) + F.when(F.month(day) >= 7, 1).otherwise(0)


def event_columns(family: str, key: bytes) -> list[Column]:
    """Columns that start every event row: source and record token (the table's own columns follow)."""
    source = F.lit(LAYOUTS[family].source)
    return [source.alias("source"), record_token(source, record_key(family, key), key).alias("record_token")]


def provenance_columns(coder: Coder) -> list[Column]:
    """Columns that end every event row: unknown codes and where the row came from."""
    return [
        coder.unknown().alias("unknown_codes"),
        F.col("_source_file").alias("source_file"),
        F.col("_row_number").alias("source_row"),
    ]


def union_families(bronze: Bronze, builders: dict[str, Callable[[DataFrame], DataFrame]]) -> DataFrame | None:
    """Build each family present in `bronze` and union the results (None when none has landed)."""
    parts = [build(bronze[family]) for family, build in builders.items() if family in bronze]
    if not parts:
        return None
    return reduce(lambda a, b: a.unionByName(b), parts)
