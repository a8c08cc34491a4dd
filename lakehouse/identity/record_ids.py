"""Identity on DuckDB works on record numbers, not record tokens.

A record token is a 64-character HMAC. Every step after the input is staged joins, groups and sorts
pairs of them: the candidate pairs, the decision, the pair guards, connected components and the
joins after clustering. A state's pairs run to hundreds of millions, and at 128 bytes of tokens a pair
those steps spill tens of gigabytes. `numbered` replaces each token by its rank among the tokens (a
BIGINT) before the steps run, and `restored` puts the tokens back after them.

The rank keeps the tokens' order, so every rule that depends on it gives the same answer on numbers:
a pair is (smaller, larger); a cluster's id is its smallest member; ties break the same way. Only
what hashes a token (Splink's chunks, the training sample of lakehouse/identity/model.py
`labels_sql`) sees other values, and each of those is a sample or a partition of the same pairs.
"""

from __future__ import annotations

from typing import Any

# The tables a resolution leaves that hold record tokens, and their token columns.
TOKEN_COLUMNS = {
    "linkage_input": ("record_token",),
    "pairs": ("record_token_l", "record_token_r"),
    "clusters": ("record_token", "cluster_id"),
}


def numbered(con: Any) -> None:
    """Replace `linkage_input`'s record_token by its rank (BIGINT, from 1), keeping the ranks in
    `record_numbers` [number, record_token]."""
    con.execute(
        "CREATE OR REPLACE TABLE record_numbers AS "
        "SELECT row_number() OVER (ORDER BY record_token) AS number, record_token FROM linkage_input"
    ).fetchall()
    _rewrite(con, "linkage_input", ("record_token",), "number", "record_token")


def restored(con: Any, guard: dict[str, Any]) -> dict[str, Any]:
    """Put the tokens back into the tables of TOKEN_COLUMNS that exist, and return `guard` (the
    resolution's report) with its tokens put back."""
    for table, columns in TOKEN_COLUMNS.items():
        if con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{table}'").fetchone()[0]:
            _rewrite(con, table, columns, "record_token", "number")
    broken, unresolved = guard.get("links_broken", []), guard.get("unresolved", [])
    numbers = {b[k] for b in broken for k in ("record_token_l", "record_token_r")}
    numbers |= {u["cluster_id"] for u in unresolved}
    token = _tokens(con, numbers)
    con.execute("DROP TABLE record_numbers").fetchall()
    return {
        **guard,
        "links_broken": [
            {**b, "record_token_l": token[b["record_token_l"]], "record_token_r": token[b["record_token_r"]]}
            for b in broken
        ],
        "unresolved": [{**u, "cluster_id": token[u["cluster_id"]]} for u in unresolved],
    }


def _rewrite(con: Any, table: str, columns: tuple[str, ...], to: str, by: str) -> None:
    """Rebuild `table` with each of `columns` mapped through `record_numbers` from `by` to `to`,
    keeping the columns' order. A column that is null stays null."""
    names = [r[0] for r in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()]
    joins = " ".join(f"LEFT JOIN record_numbers n{i} ON n{i}.{by} = t.{c}" for i, c in enumerate(columns))
    select = ", ".join(f"n{columns.index(c)}.{to} AS {c}" if c in columns else f"t.{c}" for c in names)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {select} FROM {table} t {joins}").fetchall()


def _tokens(con: Any, numbers: set) -> dict:
    if not numbers:
        return {}
    listed = ", ".join(str(int(n)) for n in numbers)
    rows = con.execute(
        f"SELECT number, record_token FROM record_numbers WHERE number IN ({listed})"
    ).fetchall()
    return dict(rows)
