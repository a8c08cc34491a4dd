"""Linkage input: one row per person record, with the features the deterministic rules and the
probabilistic model compare. Computed in Spark, so both Splink backends get the same features and
no comparison depends on a function one SQL dialect lacks (phonetic codes, nickname roots).
"""

from __future__ import annotations

import csv
import importlib.resources
import re

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

# What the linkage input holds (the model's columns; `record_token` is Splink's unique id).
LINKAGE_COLUMNS = (
    "record_token",
    "source",
    "first_name",
    "first_roots",
    "first_soundex",
    "middle_initial",
    "last_name",
    "last_names",
    "last_soundex",
    "birth_date",
    "birth_year",
    "birth_month_day",
    "gender",
    "ssn_token",
    "ssn_first5_token",
    "ssn_last4_token",
    "ssn_sorted_token",
    "ssid",
    "seid",
    "cin",
    "zip",
    "zip3",
    "wages_from",
    "counties",
)


# Spanish hypocorisms in common use, which the `nicknames` package (English names only) lacks; most
# California's K-12 students are Hispanic. formal name -> its nicknames, accents folded as
# silver folds them. Diminutives in -ITA/-ITO (ANITA, JUANITO) need no entry: see `first_roots`.
SPANISH_NICKNAMES = {
    "ADRIANA": ("ADRI",),
    "ALBERTO": ("BETO",),
    "ALEJANDRA": ("ALE", "ALEX"),
    "ALEJANDRO": ("ALEJO", "ALEX"),
    "ALFREDO": ("FREDDY", "FREDO"),
    "ANDRES": ("ANDY",),
    "ANTONIO": ("TONO",),
    "ARMANDO": ("MANDO",),
    "CONCEPCION": ("CONCHA", "CONCHITA"),
    "DANIELA": ("DANI",),
    "DOLORES": ("LOLA", "LOLITA"),
    "EDUARDO": ("LALO",),
    "ENRIQUE": ("KIKE", "QUIQUE"),
    "ERNESTO": ("NETO",),
    "ESMERALDA": ("ESME",),
    "FERNANDO": ("NANDO",),
    "FRANCISCO": ("PACO", "PANCHO", "KIKO", "FRANK"),
    "GABRIELA": ("GABY",),
    "GERARDO": ("JERRY",),
    "GONZALO": ("CHALO",),
    "GRACIELA": ("CHELA",),
    "GUADALUPE": ("LUPE", "LUPITA"),
    "GUILLERMO": ("MEMO", "WILLY"),
    "HUMBERTO": ("BETO",),
    "IGNACIO": ("NACHO",),
    "ISABEL": ("CHABELA",),
    "JAVIER": ("JAVI",),
    "JESUS": ("CHUY", "CHUCHO"),
    "JOSE": ("PEPE", "CHEPE"),
    "JOSEFINA": ("PEPA", "FINA"),
    "JUAN": ("JUANCHO",),
    "LETICIA": ("LETY",),
    "LUIS": ("LUCHO", "WICHO"),
    "MANUEL": ("MANOLO",),
    "MARIA": ("MARI",),
    "MARTIN": ("TINO",),
    "MERCEDES": ("MECHE",),
    "MONICA": ("MONI",),
    "PATRICIA": ("PATY",),
    "RAFAEL": ("RAFA",),
    "RAMON": ("MONCHO",),
    "REYNALDO": ("REY",),
    "RICARDO": ("RICO",),
    "ROBERTO": ("BETO",),
    "RODOLFO": ("RUDY", "FITO"),
    "ROGELIO": ("ROGER",),
    "ROSARIO": ("CHAYO", "CHARO"),
    "SALVADOR": ("CHAVA",),
    "SANTIAGO": ("SANTI",),
    "SERGIO": ("CHECO",),
    "SOCORRO": ("COCO",),
    "SOFIA": ("SOFI",),
    "VALERIA": ("VALE",),
    "VERONICA": ("VERO",),
}

# Common nicknames the `nicknames` package lacks: newer English short forms, and Filipino ones
# (Filipinos are California's largest Asian group).
MORE_NICKNAMES = {
    "ALEXANDER": ("XANDER", "SASHA"),
    "ALEXANDRA": ("ALEXA", "LEXI", "SASHA"),
    "CHRISTOPHER": ("TOPHER",),
    "DANILO": ("DANNY",),
    "EMMANUEL": ("MANNY",),
    "ERLINDA": ("LINDA",),
    "ISABELLA": ("IZZY",),
    "JASMINE": ("JAZZ",),
    "JASON": ("JAY",),
    "KATHERINE": ("KATIE", "KAT"),
    "KIMBERLY": ("KIMMY",),
    "KRISTINE": ("TIN",),
    "LATOYA": ("TOYA",),
    "LOURDES": ("LULU",),
    "MADISON": ("MADDIE",),
    "MAURICE": ("MO",),
    "MOHAMMED": ("MO", "MOE"),
    "OLIVIA": ("LIV",),
    "ROBERT": ("ROBBIE", "BERT"),
    "ROWENA": ("WENG",),
    "SAVANNAH": ("VANNA",),
    "TANISHA": ("TISH",),
    "TERESITA": ("TESS", "TESSIE"),
    "TERRENCE": ("TERRY",),
    "TYLER": ("TY",),
    "WILLIAM": ("LIAM",),
}


def nickname_table() -> dict[str, list[str]]:
    """Every name of the `nicknames` package's curated table (an open list of English given names
    and their nicknames), of SPANISH_NICKNAMES and of MORE_NICKNAMES -> the name itself and the
    formal names it can stand for."""
    text = importlib.resources.files("nicknames").joinpath("names.csv").read_text()
    pairs = [
        (formal, nickname)
        for formal, relationship, nickname in list(csv.reader(text.splitlines()))[1:]
        if relationship == "has_nickname"
    ]
    pairs += [
        (formal, nickname)
        for table in (SPANISH_NICKNAMES, MORE_NICKNAMES)
        for formal, names in table.items()
        for nickname in names
    ]
    roots: dict[str, set[str]] = {}
    for formal, nickname in pairs:
        formal, nickname = formal.strip().upper(), nickname.strip().upper()
        roots.setdefault(formal, {formal})
        roots.setdefault(nickname, {nickname}).add(formal)
    return {name: sorted(r) for name, r in sorted(roots.items())}


# A Spanish diminutive (ANITA, ROSITA, JUANITO): the name it is made from, with its vowel or without.
DIMINUTIVE = r"^(.{2,})IT([AO])$"


def diminutive_roots(name: str) -> list[str]:
    """The names a diminutive may be made from: ANITA -> ANA, AN; JUANITO -> JUANO, JUAN."""
    found = re.match(DIMINUTIVE, name)
    return [found[1] + found[2], found[1]] if found else []


def first_roots(name: str, table: dict[str, list[str]]) -> list[str]:
    """A first name's roots: its entry in `nickname_table` (or the name) and its `diminutive_roots`;
    what `with_linkage_features` computes in Spark."""
    return sorted({*table.get(name, [name]), *diminutive_roots(name)})


def nickname_roots(spark: SparkSession) -> DataFrame:
    """[name STRING, roots ARRAY<STRING>] from `nickname_table`. Two first names with a root in
    common may be one person's ('BILL' and 'WILLIAM')."""
    rows = list(nickname_table().items())
    return spark.createDataFrame(rows, "name STRING, roots ARRAY<STRING>")


def wages_from(wages: DataFrame) -> DataFrame:
    """`silver.wages` -> (record_token, wages_from): the last day of each wage record's first quarter
    with wages, as 'yyyy-MM-dd'. Whoever earned them was of working age by then."""
    first = F.min("yrqtr")
    quarter_end = F.last_day(F.make_date((first / 10).cast("int"), (first % 10) * 3, F.lit(1)))
    return wages.groupBy("record_token").agg(F.date_format(quarter_end, "yyyy-MM-dd").alias("wages_from"))


def record_counties(events: list[tuple[DataFrame, str]]) -> DataFrame:
    """(record_token, counties): every county code a record's events name (a school, a benefit spell,
    a service, an employer), from (silver event table, its county column) pairs."""
    union = None
    for frame, column in events:
        part = frame.select("record_token", F.col(column).alias("county")).where(F.col("county").isNotNull())
        union = part if union is None else union.unionByName(part)
    if union is None:
        raise ValueError("record_counties needs at least one event table")
    return union.groupBy("record_token").agg(F.sort_array(F.collect_set("county")).alias("counties"))


def _with_diminutive_roots(roots: Column, first: Column) -> Column:
    """`roots` plus `diminutive_roots` of `first`, sorted (Spark's form of `first_roots`)."""
    made_from = F.array(
        F.regexp_replace(first, DIMINUTIVE, "$1$2"), F.regexp_replace(first, DIMINUTIVE, "$1")
    )
    extra = F.when(first.rlike(DIMINUTIVE), made_from).otherwise(F.array().cast("array<string>"))
    return F.array_sort(F.array_distinct(F.concat(roots, extra)))


def with_linkage_features(
    records: DataFrame,
    *,
    roots: DataFrame,
    wages: DataFrame | None = None,
    counties: DataFrame | None = None,
) -> DataFrame:
    """`silver.person_records` -> the linkage input (LINKAGE_COLUMNS). Columns added:
    first_roots (the name and its formal names), soundex codes, the middle initial, every surname of
    a compound family name (plus the whole), the birth date as 'yyyy-MM-dd' and its parts (a
    day/month swap or a year typo keeps one of them), the ZIP's three-digit area, and for wage records
    `wages_from` (see `wages_from`; from `wages`, silver.wages, when given), and `counties` (see
    `record_counties`, when given).
    Records without any identity (a key seen only in an event file) are kept: they link by id only."""
    first = F.col("first_name")
    joined = records.join(
        F.broadcast(roots.withColumnRenamed("name", "_name")), first == F.col("_name"), "left"
    )
    if wages is None:
        joined = joined.withColumn("wages_from", F.lit(None).cast("string"))
    else:
        joined = joined.join(wages_from(wages), "record_token", "left")
    if counties is None:
        joined = joined.withColumn("counties", F.lit(None).cast("array<string>"))
    else:
        joined = joined.join(counties, "record_token", "left")
    last_names = F.array_distinct(
        F.filter(
            F.array(F.col("last_name"), F.col("last_name_1"), F.col("last_name_2")),
            lambda n: n.isNotNull(),
        )
    )
    birth = F.date_format("birth_date", "yyyy-MM-dd")
    return joined.select(
        "record_token",
        "source",
        first.alias("first_name"),
        F.when(
            first.isNotNull(), _with_diminutive_roots(F.coalesce(F.col("roots"), F.array(first)), first)
        ).alias("first_roots"),
        F.when(first.isNotNull(), F.soundex(first)).alias("first_soundex"),
        F.substring("middle_name", 1, 1).alias("middle_initial"),
        "last_name",
        F.when(F.size(last_names) > 0, last_names).alias("last_names"),
        F.when(F.col("last_name").isNotNull(), F.soundex("last_name")).alias("last_soundex"),
        birth.alias("birth_date"),
        F.year("birth_date").alias("birth_year"),
        F.date_format("birth_date", "MM-dd").alias("birth_month_day"),
        "gender",
        "ssn_token",
        "ssn_first5_token",
        "ssn_last4_token",
        "ssn_sorted_token",
        "ssid",
        "seid",
        "cin",
        "zip",
        F.substring("zip", 1, 3).alias("zip3"),
        "wages_from",
        "counties",
    )
