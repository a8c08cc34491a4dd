"""The cohort engine: a mart of the catalog -> per-person outcomes -> cells by every breakdown.

`cohort_outcomes` runs the mart's cohort rule once and each metric's outcome rule, applies `among`
restrictions (a person outside a metric's population gets a null outcome, i.e. is not in its
denominator), and returns one wide row per cohort member. `metric_cells` aggregates it in one pass:
each member is repeated once per dimension (statewide plus every breakdown), so every cell of every
metric comes from a single group-by.
"""

from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.gold.catalog import Mart, Metric
from lakehouse.gold.cohorts import COHORTS, GoldInputs
from lakehouse.gold.outcomes import OUTCOMES
from lakehouse.gold.wages import in_base_year_dollars
from lakehouse.privacy import Relation

STATEWIDE = "statewide"
ALL = "All"
CELL_COLUMNS = (
    "mart STRING, metric STRING, kind STRING, cohort_year INT, dimension STRING, `group` STRING, "
    "denominator BIGINT, numerator BIGINT, value DOUBLE, value_real DOUBLE"
)


def _in_population(metric: Metric) -> Column:
    conditions = [F.col(other) == F.lit(required) for other, required in metric.among]
    return reduce(lambda a, b: a & b, conditions, F.lit(True))


def cohort_outcomes(mart: Mart, inputs: GoldInputs) -> DataFrame:
    """person_id, cohort_year, the mart's breakdowns, and per rate metric `<name>` (outcome, null when
    censored or outside the population), `<name>__value` (e.g. annual wages) and `<name>__year` (the
    fiscal year it was earned in)."""
    # Each rule re-reads the cohort, and the results join back one by one: checkpointing the cohort and
    # each (one row per member) result keeps the plan to one small join per metric instead of a single
    # stage with every rule's joins in it, which ran out of execution memory at 3,000 people.
    cohort = COHORTS[mart.cohort](inputs).localCheckpoint()
    people = cohort
    for metric in mart.metrics:
        if metric.kind != "rate":
            continue
        rule, _ = OUTCOMES[metric.outcome]
        result = (
            rule(cohort, inputs, **metric.window)
            .select(
                "person_id",
                F.col("outcome").alias(metric.name),
                F.col("value").alias(f"{metric.name}__value"),
                F.col("value_year").alias(f"{metric.name}__year"),
            )
            .localCheckpoint()
        )
        people = people.join(result, "person_id", "left")
        inside = _in_population(metric)
        people = people.withColumn(metric.name, F.when(inside, F.col(metric.name))).withColumn(
            f"{metric.name}__value", F.when(inside, F.col(f"{metric.name}__value"))
        )
    return people


def metric_cells(mart: Mart, people: DataFrame, *, cpi: dict[int, float], cpi_base_year: int) -> DataFrame:
    """Every (metric, cohort year, dimension, group) cell: denominator, numerator and rate for rate
    metrics; count and median (nominal and in base-year dollars) for median metrics. A breakdown the
    catalog gives only among some results (`breakdowns_among`) has cells of the metrics whose
    population is within them only."""
    dims = F.explode(
        F.array(
            F.struct(F.lit(STATEWIDE).alias("dimension"), F.lit(ALL).alias("group")),
            *[
                F.struct(F.lit(d).alias("dimension"), F.col(d).cast("string").alias("group"))
                for d in mart.breakdowns
            ],
        )
    ).alias("cell")
    long = people.select("*", dims).select("*", "cell.dimension", "cell.group")
    aggs = []
    for m in mart.metrics:
        if m.kind == "rate":
            aggs += [
                F.count(m.name).alias(f"{m.name}__d"),
                F.sum(F.col(m.name).cast("long")).alias(f"{m.name}__n"),
            ]
        else:
            value = F.when(_in_population(m), F.col(f"{m.value}__value"))
            real = in_base_year_dollars(value, F.col(f"{m.value}__year"), cpi, cpi_base_year)
            aggs += [
                F.count(value).alias(f"{m.name}__d"),
                F.percentile(value, 0.5).alias(f"{m.name}__v"),
                F.percentile(real, 0.5).alias(f"{m.name}__r"),
            ]
    wide = long.groupBy("cohort_year", "dimension", "group").agg(*aggs)
    cells = []
    for m in mart.metrics:
        d = F.col(f"{m.name}__d")
        if m.kind == "rate":
            n = F.col(f"{m.name}__n")
            measures = [
                n.alias("numerator"),
                (n / d).alias("value"),
                F.lit(None).cast("double").alias("value_real"),
            ]
        else:
            measures = [
                F.lit(None).cast("long").alias("numerator"),
                F.round(f"{m.name}__v", 2).alias("value"),
                F.round(f"{m.name}__r", 2).alias("value_real"),
            ]
        excluded = [b for b in mart.breakdowns if not mart.breaks_down(m, b)]
        published = (d > 0) & ~F.col("dimension").isin(*excluded) if excluded else d > 0
        cells.append(
            wide.where(published).select(
                F.lit(mart.name).alias("mart"),
                F.lit(m.name).alias("metric"),
                F.lit(m.kind).alias("kind"),
                "cohort_year",
                "dimension",
                "group",
                d.cast("long").alias("denominator"),
                *measures,
            )
        )
    return reduce(DataFrame.unionByName, cells)


def mart_relations(mart: Mart) -> list[Relation]:
    """Identities between metrics of a mart that disclosure control must respect: a metric restricted to
    `x = true` has x's numerator as its denominator, one restricted to `x = false` has x's denominator
    minus numerator (each only where nothing is censored in between; the suppressor checks every cell).
    The parts of a whole add up to its numerator and share its denominator."""
    relations = []
    for split in mart.parts:
        numerators = ((1, split.whole, "numerator"), *[(-1, m, "numerator") for _, m in split.parts])
        relations.append(Relation(terms=numerators))
        relations += [
            Relation(terms=((1, m, "denominator"), (-1, split.whole, "denominator"))) for _, m in split.parts
        ]
    for m in mart.metrics:
        if len(m.among) != 1:
            continue
        other, required = m.among[0]
        if required:
            relations.append(Relation(terms=((1, m.name, "denominator"), (-1, other, "numerator"))))
        else:
            relations.append(
                Relation(
                    terms=((1, m.name, "denominator"), (-1, other, "denominator"), (1, other, "numerator"))
                )
            )
    return relations


def members_and_outcomes(mart: Mart, people: DataFrame) -> tuple[DataFrame, DataFrame]:
    """The wide per-person frame as the two long gold tables: cohort members with their breakdown
    attributes, and one row per member and rate metric."""
    attributes = F.create_map(*[x for d in mart.breakdowns for x in (F.lit(d), F.col(d).cast("string"))])
    members = people.select(
        F.lit(mart.name).alias("mart"), "person_id", "cohort_year", attributes.alias("attributes")
    )
    rates = [m for m in mart.metrics if m.kind == "rate"]
    stacked = F.explode(
        F.array(
            *[
                F.struct(
                    F.lit(m.name).alias("metric"),
                    F.col(m.name).alias("outcome"),
                    F.col(f"{m.name}__value").alias("value"),
                    F.col(f"{m.name}__year").alias("value_year"),
                )
                for m in rates
            ]
        )
    ).alias("o")
    outcomes = people.select("person_id", "cohort_year", stacked).select(
        F.lit(mart.name).alias("mart"),
        "o.metric",
        "person_id",
        "cohort_year",
        "o.outcome",
        "o.value",
        "o.value_year",
    )
    return members, outcomes


def match_rate(mart_people: DataFrame, timeline: DataFrame, sources: tuple[str, ...]) -> DataFrame:
    """One row: cohort members, and how many have any record of the mart's outcome sources."""
    present = {
        "staff_assignments": F.col("staff_fte").isNotNull() | F.col("teaching").isNotNull(),
        "wages": F.col("wages").isNotNull(),
        "college_enrollments": F.size("college_terms") > 0,
        "completions": F.size("awards") > 0,
    }
    seen = reduce(lambda a, b: a | b, [present[s] for s in sources])
    linked = timeline.where(seen).select("person_id").distinct().withColumn("linked", F.lit(1))
    joined = mart_people.select("person_id").join(linked, "person_id", "left")
    return joined.agg(F.count("*").alias("members"), F.count("linked").alias("linked"))
