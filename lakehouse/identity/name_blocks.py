"""The name blocks of attaching wage clusters by name (lakehouse/identity/attach.py): which pairs of
an unanchored cluster's name and an anchored cluster's name `attach_unique_names` weighs. Each is SQL
over attach's tables: `named` (each cluster's distinct names, with their roots and Soundex codes),
`close_named` (the unanchored rows of the workers with no namesake that counts) and `name_keys`
(made by `name_keys()`).
"""

from __future__ import annotations

# A name's blocking keys for a worker who had no SSN and for its possible partners: each joins a key of
# the first name and one of the last, so that a block is a pair of names, not one name's (a single
# Soundex code holds a few percent of a state, and every such worker would be compared with all of it).
# Two names that the `close` rule takes for one person's share a key, unless both names have changed:
# - a first-name root (its formal names, or the name: BILL and WILLIAM share WILLIAM) or the first
#   name's Soundex code, with a surname (each of a compound family name) or the last name's Soundex
#   code: nicknames, compound surnames, names that sound alike;
# - the first name with one letter deleted (or none) and the last name's Soundex code, and the other
#   way round: two spellings one slip apart (a letter changed, added, dropped or two swapped, ULIS and
#   LUIS) have a deletion in common, wherever the slip falls (the symmetric-deletion method of
#   spelling correction);
# - the first name's initial and the last name's Soundex code, and the other way round: spellings
#   that differ past their first letter (the `close` rule's Jaro-Winkler level rewards a common start).
# A pair that shares none of these keys (each name changed, in its sound and its spelling) is not
# compared.
FIRST_KEYS = "list_distinct(list_append(coalesce(n.first_roots, []), n.first_soundex))"
LAST_KEYS = "list_distinct(list_append(coalesce(n.last_names, []), n.last_soundex))"
INITIAL_KEYS = """[substr(n.first_name, 1, 1) || ' ' || n.last_soundex,
    n.first_soundex || ' ' || substr(n.last_name, 1, 1)]"""


# The (unanchored, anchored) pairs of `named` rows, w and s, of the same first and last name.
SAME_NAME = "named w JOIN named s ON w.first_name = s.first_name AND w.last_name = s.last_name"
# The pairs whose names differ that `attach_unique_names` weighs for a worker with no namesake left
# (`close_named`), w, and an anchored row of `named`, s: for a worker who had no SSN, a
# name key in common (each pair once, however many keys it shares) or the names swapped; for one with
# an SSN, both Soundex codes in common or one name and the other's initial.
KEYED = """(SELECT DISTINCT w.cluster_id AS w_id, w.first_name AS w_first, w.last_name AS w_last,
        s.cluster_id AS s_id, s.first_name AS s_first, s.last_name AS s_last
    FROM name_keys w JOIN name_keys s ON w.name_key = s.name_key
    WHERE w.had_no_ssn AND NOT w.anchored AND s.anchored) k
    JOIN close_named w ON w.cluster_id = k.w_id AND w.first_name = k.w_first AND w.last_name = k.w_last
    JOIN named s ON s.cluster_id = k.s_id AND s.first_name = k.s_first AND s.last_name = k.s_last"""
NAME_JOINS = (
    KEYED,
    "close_named w JOIN named s ON w.had_no_ssn AND w.first_name = s.last_name "
    "AND w.last_name = s.first_name",
    "close_named w JOIN named s ON NOT w.had_no_ssn AND w.first_soundex = s.first_soundex "
    "AND w.last_soundex = s.last_soundex",
    "close_named w JOIN named s ON NOT w.had_no_ssn AND w.first_name = s.first_name "
    "AND substr(w.last_name, 1, 1) = substr(s.last_name, 1, 1)",
    "close_named w JOIN named s ON NOT w.had_no_ssn AND w.last_name = s.last_name "
    "AND substr(w.first_name, 1, 1) = substr(s.first_name, 1, 1)",
)


def _deletions(name: str) -> str:
    """SQL for `name` with its i-th letter deleted (none when i is past its end), over i in `d`."""
    return f"substr(n.{name}, 1, d.i - 1) || substr(n.{name}, d.i + 1)"


def name_keys() -> str:
    """The SELECT of `name_keys`: every row of `named` a worker who had no SSN may be compared with,
    by its cluster and names, once per blocking key (FIRST_KEYS); the workers are those of
    `close_named`, the candidates those of `named`."""
    rows = "WHERE n.anchored OR n.had_no_ssn"
    row = "n.cluster_id, n.anchored, n.had_no_ssn, n.first_name, n.last_name"
    each_letter = "CROSS JOIN unnest(generate_series(1, length(n.{0}) + 1)) AS d(i)"
    named = "(SELECT * FROM named WHERE anchored UNION ALL SELECT * FROM close_named) n"
    return f"""SELECT {row}, f || ' ' || l AS name_key FROM {named}
        CROSS JOIN unnest({FIRST_KEYS}) AS a(f) CROSS JOIN unnest({LAST_KEYS}) AS b(l) {rows}
    UNION SELECT {row}, k AS name_key FROM {named} CROSS JOIN unnest({INITIAL_KEYS}) AS c(k) {rows}
    UNION SELECT {row}, {_deletions("first_name")} || ' ' || n.last_soundex AS name_key FROM {named}
        {each_letter.format("first_name")} {rows}
    UNION SELECT {row}, n.first_soundex || ' ' || {_deletions("last_name")} AS name_key FROM {named}
        {each_letter.format("last_name")} {rows}"""
