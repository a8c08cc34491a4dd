"""SSN tokens and other keyed hashes: HMAC-SHA256 under the platform's PII key, never a bare hash.

The key must never enter a query plan. Spark prints every literal of a plan (`explain()`, the SQL tab
of the UI, event logs, the History Server), so an HMAC composed from Spark expressions (`sha2` over
`lit(key ^ ipad)`) would hand the key to anyone who can read a plan, and with it every SSN token
(there are only ~10^9 SSNs to try). Here the HMAC runs in a vectorized (Arrow) Python UDF whose
closure holds the key: the plan shows `keyed_hash(<column>)` and nothing else, and the closure travels
to the Python workers inside the serialized task, which Spark neither prints nor logs.

The key comes from the environment variable named by `pii.key_env`; without it the job stops, unless
the settings name a development key file (the local overlay does), which is created once, with mode
0600 from the start, and announced. `check_pii_key` runs at the start of every job that tokenizes.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import secrets
import sys
from functools import lru_cache
from pathlib import Path

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F

from lakehouse.errors import SettingsError
from lakehouse.settings import Settings

MIN_KEY_BYTES = 32
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


def pii_key(settings: Settings) -> bytes:
    """The tokenization key: the environment's, or the local development key file's; checked first.

    The key is used as the text it is given in (hex or base64), so tokens stay the same however the
    text is later decoded."""
    value = os.environ.get(settings.pii.key_env)
    if value:
        _check_key_text(value.strip(), where=f"environment variable {settings.pii.key_env}")
        return value.encode()  # as given: tokens and person ids depend on every byte
    if not settings.pii.dev_key_file:
        raise SettingsError(
            f"environment variable {settings.pii.key_env} is not set: it holds the key that tokenizes SSNs "
            f"(env '{settings.env}' has no development key). Set it from your secret store, e.g. "
            f"{settings.pii.key_env}=$(openssl rand -hex 32) kept in the store."
        )
    path = Path(settings.pii.dev_key_file)
    if not path.is_file():
        _create_private_file(path, secrets.token_hex(MIN_KEY_BYTES))
        print(
            f"c2c: created a development PII key at {path} ({settings.pii.key_env} is not set); "
            "never use it for real data",
            file=sys.stderr,
        )
    text = path.read_text().strip()
    _check_key_text(text, where=f"development key file {path}")
    return text.encode()


def check_pii_key(settings: Settings) -> None:
    """Stop before any step runs when the key is missing or too weak (see `pii_key`)."""
    pii_key(settings)


def _check_key_text(text: str, *, where: str) -> None:
    """At least 32 bytes of key material, written in hex or base64, and not a repeated pattern.

    The message never quotes the value."""
    decoded = _decode(text)
    if decoded is None:
        raise SettingsError(
            f"{where}: the PII key must be written in hex or base64 (it is neither); "
            "generate one with `openssl rand -hex 32`"
        )
    if len(decoded) < MIN_KEY_BYTES:
        raise SettingsError(
            f"{where}: the PII key holds {len(decoded)} bytes; at least {MIN_KEY_BYTES} random bytes are "
            "needed (`openssl rand -hex 32`)"
        )
    # 32 random bytes show ~30 distinct values; fewer than 16 means a pattern, not randomness.
    if len(set(decoded)) < 16:
        raise SettingsError(
            f"{where}: the PII key is a repeated pattern ({len(set(decoded))} distinct bytes), not random "
            "bytes; generate one with `openssl rand -hex 32`"
        )


def _decode(text: str) -> bytes | None:
    if len(text) % 2 == 0 and _HEX.fullmatch(text):
        return bytes.fromhex(text)
    if _BASE64.fullmatch(text):
        padded = text + "=" * (-len(text) % 4)
        try:
            return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            return None
    return None


def _create_private_file(path: Path, text: str) -> None:
    """Create `path` readable by its owner only, from the first byte (no chmod after the fact)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def ssn_digits(ssn: Column) -> Column:
    """Nine digits, or null for blanks and numbers never issued as SSNs: area 000, 666 or 900-999
    (the 9xx areas are ITINs and made-up numbers employers report for workers without an SSN),
    group 00, serial 0000. A null SSN makes no link; a made-up one would make false links."""
    digits = F.regexp_replace(ssn, r"[^0-9]", "")
    valid = (
        (F.length(digits) == 9)
        & ~F.substring(digits, 1, 3).isin("000", "666")
        & (F.substring(digits, 1, 1) != "9")
        & (F.substring(digits, 4, 2) != "00")
        & (F.substring(digits, 6, 4) != "0000")
    )
    return F.when(valid, digits)


@lru_cache(maxsize=4)
def _keyed_hash_udf(key: bytes):
    """A pandas UDF computing hex HMAC-SHA256 under `key` (held in its closure, not in the plan)."""

    def keyed_hash(messages: pd.Series) -> pd.Series:
        digest = hmac.digest
        return pd.Series(
            [None if m is None else digest(key, m.encode(), "sha256").hex() for m in messages],
            dtype=object,
        )

    return F.pandas_udf(keyed_hash, "string")


def hmac_sha256(message: Column, key: bytes) -> Column:
    """Hex HMAC-SHA256 of a string column (null stays null); the key stays out of the plan."""
    return _keyed_hash_udf(key)(message)


def ssn_token(ssn: Column, key: bytes) -> Column:
    return hmac_sha256(ssn_digits(ssn), key)


def ssn_part_tokens(ssn: Column, key: bytes) -> list[Column]:
    """Keyed tokens of SSN parts, so that linkage can see partial agreement without the SSN: the area
    and group (first five digits), the serial (last four), and the digits in sorted order (equal for
    a transposition). Each is an HMAC under its own prefix, so no token equals another kind's."""
    digits = ssn_digits(ssn)
    sorted_digits = F.array_join(F.array_sort(F.split(digits, "")), "")
    return [
        hmac_sha256(F.concat(F.lit("ssn5:"), F.substring(digits, 1, 5)), key).alias("ssn_first5_token"),
        hmac_sha256(F.concat(F.lit("ssn4:"), F.substring(digits, 6, 4)), key).alias("ssn_last4_token"),
        hmac_sha256(F.concat(F.lit("ssn-sorted:"), sorted_digits), key).alias("ssn_sorted_token"),
    ]
