"""Writing linkage-input rows (lakehouse/identity/features.LINKAGE_COLUMNS) by hand, for tests of the
model, guards and backends that run on DuckDB without Spark."""

from __future__ import annotations

_ARROW_FIELDS = [
    ("record_token", "string"), ("source", "string"), ("first_name", "string"),
    ("first_roots", "list<string>"), ("first_soundex", "string"), ("middle_initial", "string"),
    ("last_name", "string"), ("last_names", "list<string>"), ("last_soundex", "string"),
    ("birth_date", "string"), ("birth_year", "int32"), ("birth_month_day", "string"), ("gender", "string"),
    ("ssn_token", "string"), ("ssn_first5_token", "string"), ("ssn_last4_token", "string"),
    ("ssn_sorted_token", "string"), ("ssid", "string"), ("seid", "string"), ("cin", "string"),
    ("zip", "string"), ("zip3", "string"), ("wages_from", "string"), ("counties", "list<string>"),
]  # fmt: skip


def soundex(name: str | None) -> str | None:
    """American Soundex, as Spark's `soundex` computes it (test_soundex_agrees_with_spark checks)."""
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


def _arrow_type(name: str):
    import pyarrow as pa

    return pa.list_(pa.string()) if name == "list<string>" else getattr(pa, name)()


def arrow_schema():
    import pyarrow as pa

    return pa.schema([(n, _arrow_type(t)) for n, t in _ARROW_FIELDS])
