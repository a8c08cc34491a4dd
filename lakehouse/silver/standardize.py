"""Column functions that standardize identity fields for linkage (pure: Column -> Column).

Names: upper case, accents folded (JOSÉ -> JOSE, MUÑOZ -> MUNOZ), punctuation dropped (O'BRIEN ->
OBRIEN, ST. JOHN -> ST JOHN), generational suffixes removed, spaces collapsed. Compound surnames are
split into their surnames (GARCIA LOPEZ, GARCIA-LOPEZ -> GARCIA, LOPEZ) while a particle stays with
the word after it (DE LA CRUZ is one surname; LOPEZ DE LA ROSA is LOPEZ + DE LA ROSA). Built-in
Spark functions only, so it runs in the JVM at any scale.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

_ACCENTED = "ÁÀÂÄÃÅÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇÝáàâäãåéèêëíìîïóòôöõúùûüñçý"
_PLAIN = "AAAAAAEEEEIIIIOOOOOUUUUNCYaaaaaaeeeeiiiiooooouuuuncy"
_SUFFIX = r"\s+(JR|SR|II|III|IV)$"
_PARTICLES = r"\b(DE|DEL|DELA|LA|LAS|LOS|VAN|VON|DER|DEN|DA|DI|DU|LE|ST|SAN|SANTA) "


def standardize_name(name: Column) -> Column:
    """Upper case, accents folded, punctuation and suffixes removed; empty becomes null."""
    folded = F.upper(F.translate(F.trim(name), _ACCENTED, _PLAIN))
    no_marks = F.regexp_replace(folded, r"['.`]", "")
    words = F.trim(F.regexp_replace(F.regexp_replace(no_marks, r"[^A-Z\- ]", " "), r"\s+", " "))
    cleaned = F.regexp_replace(F.regexp_replace(words, r"\s*-\s*", "-"), _SUFFIX, "")
    return F.when(cleaned != "", cleaned)


def surname_parts(standardized: Column) -> Column:
    """The surnames of a standardized family name, as an array (a particle joins the next word)."""
    glued = F.regexp_replace(standardized, _PARTICLES, "$1_")
    parts = F.split(glued, "[ -]")
    return F.transform(parts, lambda p: F.regexp_replace(p, "_", " "))


def standardize_gender(gender: Column) -> Column:
    """M, F or X; anything else (blank, unknown codes) is null."""
    g = F.upper(F.trim(gender))
    return F.when(g.isin("M", "MALE", "1"), "M").when(g.isin("F", "FEMALE", "2"), "F").when(g == "X", "X")


def standardize_zip(zip_code: Column) -> Column:
    """The five-digit ZIP, or null."""
    digits = F.regexp_extract(F.trim(zip_code), r"^(\d{5})", 1)
    return F.when(digits != "", digits)
