"""SSN tokens: HMAC-SHA256 with a key from the environment, never a bare hash.

The HMAC is composed from Spark's own `sha2` (RFC 2104: H((K ^ opad) || H((K ^ ipad) || m))), so the
SSN never leaves the JVM and no Python UDF is needed. The key comes from the environment variable
named by `pii.key_env`; without it the job stops, unless the settings name a development key file
(the local overlay does), which is created once with random bytes and announced.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from pathlib import Path

from pyspark.sql import Column
from pyspark.sql import functions as F

from lakehouse.errors import SettingsError
from lakehouse.settings import Settings

_BLOCK = 64


def pii_key(settings: Settings) -> bytes:
    """The tokenization key: the environment's, or the local development key file's."""
    value = os.environ.get(settings.pii.key_env)
    if value:
        return value.encode()
    if not settings.pii.dev_key_file:
        raise SettingsError(
            f"environment variable {settings.pii.key_env} is not set: it holds the key that tokenizes SSNs "
            f"(env '{settings.env}' has no development key). Set it from your secret store."
        )
    path = Path(settings.pii.dev_key_file)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
        print(
            f"c2c: created a development PII key at {path} ({settings.pii.key_env} is not set); "
            "never use it for real data",
            file=sys.stderr,
        )
    return path.read_text().strip().encode()


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


def hmac_sha256(message: Column, key: bytes) -> Column:
    """Hex HMAC-SHA256 of a string column (null stays null)."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    ipad = bytes(b ^ 0x36 for b in key)
    opad = bytes(b ^ 0x5C for b in key)
    inner = F.unhex(F.sha2(F.concat(F.lit(ipad), F.encode(message, "UTF-8")), 256))
    return F.sha2(F.concat(F.lit(opad), inner), 256)


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
