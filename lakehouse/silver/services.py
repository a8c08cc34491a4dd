"""Aid, benefits and services silver tables: `silver.aid` (CSAC applications and Cal Grants, CSU aid
flags), `silver.benefits` (CalFresh, CalWORKs and Medi-Cal spells) and `silver.services` (early learning,
vocational rehabilitation, developmental services, WIOA programs)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.silver.codes import CodeMaps
from lakehouse.silver.events import (
    Bronze,
    Coder,
    blank_to_null,
    ending_year,
    event_columns,
    provenance_columns,
    union_families,
)

AID_COLUMNS = ("award_year", "aid_type", "amount", "institution")
BENEFIT_COLUMNS = (
    "program",
    "county_code",
    "aid_code",
    "eligibility_group",
    "start_month",
    "end_month",
    "months",
)
SERVICE_COLUMNS = (
    "program",
    "provider",
    "county_code",
    "service_year",
    "start_date",
    "end_date",
    "outcome",
    "credential_attained",
    "days",
)
_TYPES = {"decimal": "decimal(10,2)"}


def _null(kind: str) -> Column:
    return F.lit(None).cast(_TYPES.get(kind, kind))


def _row(
    family: str, key: bytes, c: Coder, names: tuple[str, ...], values: dict[str, Column]
) -> list[Column]:
    return [*event_columns(family, key), *[values[n].alias(n) for n in names], *provenance_columns(c)]


def build_aid(bronze: Bronze, *, codes: CodeMaps, key: bytes) -> DataFrame | None:
    """One row per aid application or grant: award year, type, amount and (for CSU) the campus."""

    def applications(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        values = {
            "award_year": ending_year(F.col("AWARD_YEAR")),
            "aid_type": c.map("APP_TYPE", "csac_application"),
            "amount": _null("decimal"),
            "institution": _null("string"),
        }
        return df.select(*_row("APPLICATIONS", key, c, AID_COLUMNS, values))

    def payments(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        values = {
            "award_year": ending_year(F.col("AWARD_YEAR")),
            "aid_type": c.map("GRANT_TYPE", "cal_grant_type"),
            "amount": F.col("AMOUNT").try_cast("decimal(10,2)"),
            "institution": _null("string"),
        }
        return df.select(*_row("CALGRANT_PAYMENTS", key, c, AID_COLUMNS, values))

    def ersfa(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        c.check("CAMPUS", "institution_segment")
        values = {
            "award_year": ending_year(F.col("ACADEMIC_YEAR")),
            "aid_type": c.map("CAL_GRANT", "cal_grant_type"),
            "amount": F.col("AMOUNT").try_cast("decimal(10,2)"),
            "institution": F.trim("CAMPUS"),
        }
        return df.select(*_row("ERSFA", key, c, AID_COLUMNS, values))

    return union_families(
        bronze, {"APPLICATIONS": applications, "CALGRANT_PAYMENTS": payments, "ERSFA": ersfa}
    )


def _spell(start: Column, end: Column) -> dict[str, Column]:
    start_month = F.try_to_date(F.trim(start), "yyyyMM")
    end_month = F.try_to_date(F.trim(end), "yyyyMM")
    months = F.months_between(end_month, start_month).cast("int") + 1
    return {"start_month": start_month, "end_month": end_month, "months": months}


def build_benefits(bronze: Bronze, *, codes: CodeMaps, key: bytes) -> DataFrame | None:
    """One row per benefit spell: program, county, start and end month, months of receipt."""

    def cases(family: str, program: str):
        def build(df: DataFrame) -> DataFrame:
            c = Coder(codes)
            c.check("COUNTY_CODE", "county_name")
            values = {
                "program": F.lit(program),
                "county_code": blank_to_null(F.col("COUNTY_CODE")),
                "aid_code": _null("string"),
                "eligibility_group": _null("string"),
                **_spell(F.col("BEGIN_MONTH"), F.col("END_MONTH")),
            }
            return df.select(*_row(family, key, c, BENEFIT_COLUMNS, values))

        return build

    def meds(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        c.check("COUNTY_CODE", "county_name")
        values = {
            "program": F.lit("medi_cal"),
            "county_code": blank_to_null(F.col("COUNTY_CODE")),
            "aid_code": blank_to_null(F.col("AID_CODE")),
            "eligibility_group": c.map("AID_CODE", "medi_cal_aid_code"),
            **_spell(F.col("ELIG_START_YM"), F.col("ELIG_END_YM")),
        }
        return df.select(*_row("MEDS_ELIG", key, c, BENEFIT_COLUMNS, values))

    builders = {
        "CALFRESH": cases("CALFRESH", "calfresh"),
        "CALWORKS": cases("CALWORKS", "calworks"),
        "MEDS_ELIG": meds,
    }
    return union_families(bronze, builders)


def build_services(bronze: Bronze, *, codes: CodeMaps, key: bytes) -> DataFrame | None:
    """One row per program participation: program, provider, county, year, dates and outcome."""

    def elc(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        ready = F.upper(F.trim("DRDP_KINDERGARTEN_READY"))
        c.check("DRDP_KINDERGARTEN_READY", "yes_no", ready)
        c.check("AGENCY_CODE", "county_name", F.substring(F.trim("AGENCY_CODE"), 1, 2))  # county first
        values = {
            **{n: _null("date") for n in ("start_date", "end_date")},
            "program": c.map("PROGRAM_TYPE", "elc_program"),
            "provider": F.trim("AGENCY_CODE"),
            "county_code": F.substring(F.trim("AGENCY_CODE"), 1, 2),
            "service_year": ending_year(F.col("FISCAL_YEAR")),
            "outcome": F.when(ready == "Y", "kindergarten_ready").when(
                ready == "N", "not_kindergarten_ready"
            ),
            "credential_attained": _null("boolean"),
            "days": F.col("DAYS_ENROLLED").try_cast("int"),
        }
        return df.select(*_row("ELC_ENROLLMENT", key, c, SERVICE_COLUMNS, values))

    def vr(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        start = F.try_to_date("application_date", "yyyy-MM-dd")
        values = {
            "program": F.lit("vocational_rehabilitation"),
            "provider": _null("string"),
            "county_code": _null("string"),
            "service_year": F.year(start),
            "start_date": start,
            "end_date": F.try_to_date("closure_date", "yyyy-MM-dd"),
            "outcome": c.map("outcome", "dor_outcome"),
            "credential_attained": _null("boolean"),
            "days": _null("int"),
        }
        return df.select(*_row("VR_CASES", key, c, SERVICE_COLUMNS, values))

    def dds(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        c.check("REGIONAL_CENTER", "dds_regional_center")
        c.check("COUNTY_CODE", "county_name")
        values = {
            **{n: _null("date") for n in ("start_date", "end_date")},
            "program": F.lit("developmental_services"),
            "provider": F.trim("REGIONAL_CENTER"),
            "county_code": blank_to_null(F.col("COUNTY_CODE")),
            "service_year": F.trim("STATUS_YEAR").try_cast("int"),
            "outcome": _null("string"),
            "credential_attained": _null("boolean"),
            "days": _null("int"),
        }
        return df.select(*_row("CONSUMERS", key, c, SERVICE_COLUMNS, values))

    def pirl(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        start = F.try_to_date("ENTRY_DATE", "yyyyMMdd")
        attained = F.upper(F.trim("CREDENTIAL_ATTAINED"))
        c.check("CREDENTIAL_ATTAINED", "yes_no", attained)
        values = {
            "program": c.map("PROGRAM", "wioa_program"),
            "provider": _null("string"),
            "county_code": _null("string"),
            "service_year": F.year(start),
            "start_date": start,
            "end_date": F.try_to_date("EXIT_DATE", "yyyyMMdd"),
            "outcome": _null("string"),
            "credential_attained": F.when(attained == "Y", True).when(attained == "N", False),
            "days": _null("int"),
        }
        return df.select(*_row("PIRL", key, c, SERVICE_COLUMNS, values))

    return union_families(bronze, {"ELC_ENROLLMENT": elc, "VR_CASES": vr, "CONSUMERS": dds, "PIRL": pirl})
