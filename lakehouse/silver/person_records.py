"""`silver.person_records`: one row per source person record, identity standardized and SSN tokenized.

Every bronze family contributes the record keys it carries (so a record seen only in, say, a degree
file is still a person record); the families that carry names contribute the identity, taken from
the record's latest row (file name order: the agencies name files by year or term). This table is in
the restricted zone: it holds names and birth dates for identity resolution and nothing downstream.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.silver.codes import CodeMaps
from lakehouse.silver.events import Coder, record_key, record_token, row_order
from lakehouse.silver.standardize import standardize_gender, standardize_name, standardize_zip, surname_parts
from lakehouse.silver.tokens import ssn_part_tokens, ssn_token
from lakehouse.sources.checks import parse_date
from lakehouse.sources.layouts import DATE_FORMATS, LAYOUTS

# family -> role -> raw column. Roles: first, middle, last, birth, gender, ssn, ssid, seid, cin, zip.
IDENTITY: dict[str, dict[str, str]] = {
    "ELC_ENROLLMENT": {
        "first": "CHILD_FIRST_NAME",
        "last": "CHILD_LAST_NAME",
        "birth": "BIRTH_DATE",
        "gender": "GENDER",
        "zip": "ZIP_CODE",
    },
    "SINF": {
        "first": "FIRST_NAME",
        "middle": "MIDDLE_NAME",
        "last": "LAST_NAME",
        "birth": "BIRTH_DATE",
        "gender": "GENDER",
        "ssid": "SSID",
        "zip": "RESIDENCE_ZIP",
    },
    "SDEM": {
        "first": "FIRST_NAME",
        "last": "LAST_NAME",
        "birth": "BIRTH_DATE",
        "gender": "GENDER",
        "seid": "SEID",
    },
    "SB": {
        "first": "SB32_FIRST_NAME",
        "middle": "SB33_MIDDLE_NAME",
        "last": "SB31_LAST_NAME",
        "birth": "SB03_BIRTH_DATE",
        "gender": "SB04_GENDER",
        "ssn": "SB01_SSN",
        "ssid": "SB_SSID",
        "zip": "SB29_ZIP",
    },
    "ERSS": {
        "first": "FIRST_NAME",
        "middle": "MIDDLE_NAME",
        "last": "LAST_NAME",
        "birth": "BIRTH_DATE",
        "gender": "GENDER",
        "ssn": "SSN",
        "ssid": "SSID",
        "zip": "ZIP",
    },
    "enrollment": {
        "first": "first_name",
        "middle": "middle_name",
        "last": "last_name",
        "birth": "birth_date",
        "gender": "sex",
        "ssn": "ssn",
    },
    "AICCU_ENROLLMENT": {
        "first": "FIRST_NAME",
        "last": "LAST_NAME",
        "birth": "DOB",
        "gender": "GENDER",
        "ssn": "SSN",
    },
    "APPLICATIONS": {"first": "FIRST_NAME", "last": "LAST_NAME", "birth": "DOB", "ssn": "SSN"},
    "CREDENTIALS": {
        "first": "FIRST_NAME",
        "middle": "MIDDLE_NAME",
        "last": "LAST_NAME",
        "birth": "BIRTH_DATE",
        "seid": "SEID",
    },
    "DE9C": {"first": "FIRST_NAME", "middle": "MIDDLE_INITIAL", "last": "LAST_NAME", "ssn": "SSN"},
    "CALFRESH": {
        "first": "FIRST_NAME",
        "last": "LAST_NAME",
        "birth": "BIRTH_DATE",
        "gender": "GENDER",
        "ssn": "SSN",
    },
    "CALWORKS": {
        "first": "FIRST_NAME",
        "last": "LAST_NAME",
        "birth": "BIRTH_DATE",
        "gender": "GENDER",
        "ssn": "SSN",
    },
    "MEDS_ELIG": {
        "first": "FIRST_NAME",
        "last": "LAST_NAME",
        "birth": "BIRTH_DATE",
        "gender": "SEX",
        "ssn": "SSN",
        "cin": "CIN",
    },
    "VR_CASES": {
        "first": "first_name",
        "last": "last_name",
        "birth": "dob",
        "gender": "gender",
        "ssn": "ssn",
    },
    "CONSUMERS": {
        "first": "FIRST_NAME",
        "last": "LAST_NAME",
        "birth": "BIRTH_DATE",
        "gender": "GENDER",
        "ssn": "SSN",
    },
    "PIRL": {
        "first": "FIRST_NAME",
        "last": "LAST_NAME",
        "birth": "BIRTH_DATE",
        "gender": "GENDER",
        "ssn": "SSN",
    },
}
ROLES = ("first", "middle", "last", "birth", "gender", "ssn", "ssid", "seid", "cin", "zip")
# Families whose reported gender an event table reads and checks (silver.demographics).
GENDER_IN_EVENTS = ("SINF", "SDEM")


def record_code_flags(family: str, codes: CodeMaps) -> Column | None:
    """The coded columns of a bronze row of `family` that silver reads only into person records, as an
    array of the columns whose code is unknown (None when the family has none). They are the reported
    gender of each family that no event table reads it from, and the codes of rows no event table
    reads: CAASPP test results (grade and subject) and CSU credential programs not completed (the
    completed ones are checked in silver.completions). The silver gate counts them at person records,
    per family and column (quality/gate.py), as every event table's unknown codes are counted."""
    c = Coder(codes)
    gender = IDENTITY.get(family, {}).get("gender")
    if gender and family not in GENDER_IN_EVENTS:
        c.check(gender, "gender", F.upper(F.trim(gender)))
    if family == "CAASPP":
        c.check("GRADE_LEVEL", "calpads_grade_level")
        c.check("SUBJECT", "caaspp_subject")
    if family == "ERST":
        completed = F.upper(F.trim("COMPLETED"))
        c.check("COMPLETED", "yes_no", completed)
        c.check("PROGRAM", "csu_credential_program", F.when(completed != "Y", F.col("PROGRAM")))
    return c.unknown() if c.checked else None


def family_identities(family: str, bronze: DataFrame, *, key: bytes) -> DataFrame:
    """Raw identity of every row of one bronze family, roles as columns (null where the family lacks one);
    the record key as silver spells it (`record_key`: no SSN in it)."""
    roles = IDENTITY.get(family, {})
    fmt = DATE_FORMATS.get(family, {}).get(roles.get("birth", ""), None)
    values = {}
    for role in ROLES:
        column = roles.get(role)
        raw = F.trim(F.col(column)) if column else F.lit(None).cast("string")
        values[role] = F.when(raw != "", raw)
    if fmt:
        # A birth date that does not parse (month 13, day 32) landed as raw text: here it is missing.
        values["birth"] = parse_date(values["birth"], fmt)
    else:
        values["birth"] = F.lit(None).cast("date")
    return bronze.select(
        F.lit(LAYOUTS[family].source).alias("source"),
        record_key(family, key).alias("source_record_key"),
        F.lit(bool(roles)).alias("has_identity"),
        row_order(F.col("_source_file"), F.col("_row_number")).alias("_order"),
        F.col("_source_file"),
        *[v.alias(role) for role, v in values.items()],
    )


def identity_columns(raw: dict[str, Column], *, key: bytes) -> list[Column]:
    """The standardized identity of a record from its raw role values (`ROLES`; `birth` already a
    date; a role absent from `raw` is null): names standardized and family names split into their
    surnames, gender and ZIP coded, SSN tokenized. Silver's person records and `c2c link`'s rosters are
    both made by this function, so the two are linked on the same features."""

    def role(name: str) -> Column:
        return raw.get(name, F.lit(None).cast("date" if name == "birth" else "string"))

    last = standardize_name(role("last"))
    parts = surname_parts(last)
    return [
        standardize_name(role("first")).alias("first_name"),
        standardize_name(role("middle")).alias("middle_name"),
        last.alias("last_name"),
        parts[0].alias("last_name_1"),
        F.when(F.size(parts) > 1, parts[1]).alias("last_name_2"),
        role("birth").alias("birth_date"),
        standardize_gender(role("gender")).alias("gender"),
        ssn_token(role("ssn"), key).alias("ssn_token"),
        *ssn_part_tokens(role("ssn"), key),
        role("ssid").alias("ssid"),
        role("seid").alias("seid"),
        role("cin").alias("cin"),
        standardize_zip(role("zip")).alias("zip"),
    ]


def build_person_records(identities: DataFrame, *, key: bytes) -> DataFrame:
    """One row per (source, source_record_key) from the union of `family_identities` outputs."""
    latest = F.max_by(F.struct(*ROLES), F.when(F.col("has_identity"), F.col("_order")))
    records = identities.groupBy("source", "source_record_key").agg(
        latest.alias("id"),
        F.max("has_identity").alias("has_identity"),
        F.min("_source_file").alias("first_file"),
        F.max("_source_file").alias("last_file"),
    )
    return records.select(
        "source",
        "source_record_key",
        record_token(F.col("source"), F.col("source_record_key"), key).alias("record_token"),
        *identity_columns({role: F.col(f"id.{role}") for role in ROLES}, key=key),
        "has_identity",
        "first_file",
        "last_file",
    )
