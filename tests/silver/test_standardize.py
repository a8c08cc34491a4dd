"""Name, gender and ZIP standardization, and SSN tokens, on whole frames."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from lakehouse.errors import SettingsError
from lakehouse.silver.standardize import standardize_gender, standardize_name, standardize_zip, surname_parts
from lakehouse.silver.tokens import pii_key, ssn_part_tokens, ssn_token


def test_names_are_folded_cleaned_and_split(spark):
    raw = [
        ("José",),
        ("  maría  del carmen ",),
        ("O'Brien",),
        ("St. John",),
        ("Muñoz-Ibáñez",),
        ("Garcia Lopez",),
        ("De La Cruz",),
        ("Lopez de la Rosa",),
        ("Smith Jr.",),
        ("Van Der Berg III",),
        ("",),
        (None,),
        ("Nguyen  ,Tran",),
    ]
    df = (
        spark.createDataFrame(raw, "name STRING")
        .select(standardize_name(F.col("name")).alias("std"))
        .select("std", surname_parts(F.col("std")).alias("parts"))
    )
    expected = spark.createDataFrame(
        [
            ("JOSE", ["JOSE"]),
            ("MARIA DEL CARMEN", ["MARIA", "DEL CARMEN"]),
            ("OBRIEN", ["OBRIEN"]),
            ("ST JOHN", ["ST JOHN"]),
            ("MUNOZ-IBANEZ", ["MUNOZ", "IBANEZ"]),
            ("GARCIA LOPEZ", ["GARCIA", "LOPEZ"]),
            ("DE LA CRUZ", ["DE LA CRUZ"]),
            ("LOPEZ DE LA ROSA", ["LOPEZ", "DE LA ROSA"]),
            ("SMITH", ["SMITH"]),
            ("VAN DER BERG", ["VAN DER BERG"]),
            (None, None),
            (None, None),
            ("NGUYEN TRAN", ["NGUYEN", "TRAN"]),
        ],
        "std STRING, parts ARRAY<STRING>",
    )
    assert_df_equality(df, expected, ignore_nullable=True)


def test_gender_and_zip(spark):
    df = spark.createDataFrame(
        [("m", "95814-1234"), ("Female", "9581"), ("", " 90001 "), ("U", None)], "g STRING, z STRING"
    )
    out = df.select(standardize_gender(F.col("g")).alias("g"), standardize_zip(F.col("z")).alias("z"))
    expected = spark.createDataFrame(
        [("M", "95814"), ("F", None), (None, "90001"), (None, None)], "g STRING, z STRING"
    )
    assert_df_equality(out, expected, ignore_nullable=True)


def test_ssn_token_is_a_keyed_hmac_computed_in_spark(spark):
    key = b"a test key that is not secret"
    ssns = [
        "123456789",
        "123-45-6789",
        " 587 65 4321 ",
        "987654321",  # area 9xx: an ITIN or a made-up number, never an SSN
        "000123456",
        "666123456",
        "123004567",
        "12345678",
        None,
    ]
    out = spark.createDataFrame([(s,) for s in ssns], "ssn STRING").select(
        ssn_token(F.col("ssn"), key).alias("t")
    )

    def python_hmac(digits):
        return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()

    expected = [
        python_hmac("123456789"),
        python_hmac("123456789"),
        python_hmac("587654321"),
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert [r["t"] for r in out.collect()] == expected
    long_key = b"k" * 100  # keys longer than the SHA-256 block are hashed first, per RFC 2104
    [row] = (
        spark.createDataFrame([("123456789",)], "s STRING").select(ssn_token(F.col("s"), long_key)).collect()
    )
    assert row[0] == hmac.new(long_key, b"123456789", hashlib.sha256).hexdigest()


def test_ssn_part_tokens_show_partial_agreement_and_nothing_else(spark):
    key = b"a test key that is not secret"
    ssns = [("123456789",), ("123456798",), ("123459999",), ("12345678",), (None,)]
    out = spark.createDataFrame(ssns, "ssn STRING").select(*ssn_part_tokens(F.col("ssn"), key)).collect()

    def tokens(digits):
        return (
            hmac.new(key, f"ssn5:{digits[:5]}".encode(), hashlib.sha256).hexdigest(),
            hmac.new(key, f"ssn4:{digits[5:]}".encode(), hashlib.sha256).hexdigest(),
            hmac.new(key, ("ssn-sorted:" + "".join(sorted(digits))).encode(), hashlib.sha256).hexdigest(),
        )

    assert [tuple(r) for r in out] == [
        tokens("123456789"),
        tokens("123456798"),  # a transposition: same first five, same sorted digits
        tokens("123459999"),
        (None, None, None),
        (None, None, None),
    ]
    assert out[0][0] == out[1][0] and out[0][2] == out[1][2] and out[0][1] != out[1][1]


VAULT_KEY = "3f8a0c1e9b7d4e2a6c5b1f0e8d7a9c3b2e4f6a8c0d1e3b5a7c9e2f4a6b8d0c1e"


def test_key_comes_from_the_environment_or_an_announced_dev_file(settings, monkeypatch, capsys):
    monkeypatch.setenv("C2C_PII_KEY", VAULT_KEY)
    assert pii_key(settings) == VAULT_KEY.encode()
    monkeypatch.delenv("C2C_PII_KEY")
    key = pii_key(settings)
    assert len(key) == 64 and pii_key(settings) == key
    assert "created a development PII key" in capsys.readouterr().err
    assert stat.S_IMODE(os.stat(settings.pii.dev_key_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(settings.pii.dev_key_file)).st_mode) == 0o700
    cluster_like = settings.model_copy(update={"pii": settings.pii.model_copy(update={"dev_key_file": None})})
    with pytest.raises(SettingsError, match="C2C_PII_KEY is not set"):
        pii_key(cluster_like)


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("my secret key!", "hex or base64"),
        ("from-the-vault", "holds 10 bytes"),
        ("00112233445566778899aabbccddeeff", "holds 16 bytes"),  # hex, but 16 bytes
        ("c2VjcmV0", "holds 6 bytes"),  # base64 of 'secret'
        ("ab" * 32, "repeated pattern"),
        ("0" * 64, "repeated pattern"),
    ],
)
def test_a_weak_or_malformed_key_is_refused_without_quoting_it(settings, monkeypatch, value, complaint):
    monkeypatch.setenv("C2C_PII_KEY", value)
    with pytest.raises(SettingsError, match=complaint) as caught:
        pii_key(settings)
    assert "C2C_PII_KEY" in str(caught.value) and value not in str(caught.value)


def test_a_base64_key_of_32_random_bytes_is_accepted(settings, monkeypatch):
    text = base64.b64encode(bytes.fromhex(VAULT_KEY)).decode()
    monkeypatch.setenv("C2C_PII_KEY", text)
    assert pii_key(settings) == text.encode()


def test_the_dev_key_file_is_never_readable_by_others(settings, monkeypatch):
    """Created with mode 0600 at open(), not chmod-ed after: with a permissive umask too."""
    monkeypatch.delenv("C2C_PII_KEY", raising=False)
    old = os.umask(0)
    try:
        pii_key(settings)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(settings.pii.dev_key_file).st_mode) == 0o600
