"""The best outcome accuracy any linkage of a kept lake could reach, against the outcome targets.

    .venv/bin/python benchmarks/outcome_ceiling.py DIR

DIR is one size's work directory of `benchmarks/pipeline.py --keep` (e.g. `<keep>/state-100000`).

A wage record of a worker without an SSN carries a name, a middle initial, an employer county and a
first quarter, nothing else. When two or more people of the truth could have earned it by all of
that (a record with that exact first and last name and a birth date or native id, no SSN in any of
their records, a compatible middle initial, a county in common, born at least 14 years before the
first quarter), no rule can tell whose it is. This script finds those records from the truth's side
(distinct true persons, so two fragments of one person never count as two candidates), then
recomputes the generator's own true metrics (`lakehouse.synth.truth_metrics`) with one change: a
person all of whose wage records are such records shows no wages. That is what a perfect linkage of
every other record would publish, at best: a person with only some such records may lose a year as
well, so the errors below are lower bounds.

The oracle's cells are compared with the truth by the benchmark's own comparison
(`lakehouse.gold.accuracy.compare_to_truth`), on the cells the pipeline published unsuppressed.
Last line: `ceiling_max_rate_error_pp=... ceiling_max_statewide_rate_error_pp=...
ceiling_max_wage_error_pct=... cells_compared=... ambiguous_wage_records=...
persons_without_placeable_wages=...`.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from identity_misses import ANCHORED, load  # noqa: E402
from pipeline import keyed_truth, settings_for  # noqa: E402

from lakehouse.gold.accuracy import compare_to_truth, read_true_metrics  # noqa: E402
from lakehouse.spark import build_spark  # noqa: E402
from lakehouse.storage import open_storage  # noqa: E402
from lakehouse.synth import truth_metrics as tm  # noqa: E402
from lakehouse.tables import GOLD_PUBLISHED_CELLS  # noqa: E402


def ambiguous_wage_records(con, truth: Path) -> None:
    """`ambiguous` (source_record_key): wage records without an SSN that two or more true persons
    could have earned by name, middle initial, county and age; `wageless` (true person id): people
    all of whose wage records are such records."""
    con.execute(
        f"""CREATE TABLE r AS SELECT f.*, k.source_record_key, t.true_person_id AS t
        FROM linkage_input f JOIN record_keys k USING (record_token)
        JOIN read_csv('{truth}', all_varchar = true) t ON t.source = k.source
         AND t.source_record_key = k.source_record_key"""
    )
    con.execute(
        """CREATE TABLE person AS SELECT t, count(ssn_token) > 0 AS has_ssn,
            coalesce(list(DISTINCT middle_initial) FILTER (WHERE middle_initial IS NOT NULL), [])
                AS initials,
            min(birth_date) AS earliest_birth,
            list_distinct(flatten(list(coalesce(counties, [])))) AS counties,
            count(*) FILTER (WHERE source = 'edd') AS wage_records
        FROM r GROUP BY t"""
    )
    con.execute(
        f"""CREATE TABLE anchored_names AS SELECT DISTINCT f.t, f.first_name, f.last_name FROM r f
        WHERE {ANCHORED} AND f.first_name IS NOT NULL AND f.last_name IS NOT NULL"""
    )
    con.execute(
        """CREATE TABLE ambiguous AS
        SELECT w.source_record_key, any_value(w.t) AS t FROM r w
        JOIN anchored_names a ON a.first_name = w.first_name AND a.last_name = w.last_name
        JOIN person p ON p.t = a.t
        WHERE w.source = 'edd' AND w.ssn_token IS NULL AND NOT p.has_ssn
          AND (w.middle_initial IS NULL OR len(p.initials) = 0 OR list_contains(p.initials, w.middle_initial))
          AND len(list_intersect(coalesce(w.counties, []), p.counties)) > 0
          AND coalesce(CAST(p.earliest_birth AS DATE) <= CAST(w.wages_from AS DATE) - INTERVAL 14 YEAR, TRUE)
        GROUP BY w.source_record_key HAVING count(DISTINCT a.t) >= 2"""
    )
    con.execute(
        """CREATE TABLE wageless AS SELECT p.t FROM person p JOIN ambiguous a USING (t)
        GROUP BY p.t, p.wage_records HAVING count(*) = p.wage_records"""
    )


def oracle_cells(spark, raw: Path, wageless: set[str]) -> pd.DataFrame:
    """The true metrics, with no wages for the `wageless` people, in `_truth/metrics.csv` form."""
    from pyspark.sql import functions as F

    rows = []
    for mart, file, columns, rates, wages, dimensions in tm.MARTS:
        schema = ", ".join(f"`{c}` STRING" for c in columns)
        people = spark.read.csv(str(raw / "_truth" / Path(file).name), header=True, schema=schema)
        people = people.fillna("").withColumn("statewide", F.lit("All"))
        lost = F.col("person_id").isin(sorted(wageless))
        for employed, wage in wages:
            people = people.withColumn(wage, F.when(lost, F.lit("")).otherwise(F.col(wage)))
            people = people.withColumn(
                employed, F.when(lost & (F.col(employed) == "1"), F.lit("0")).otherwise(F.col(employed))
            )
        rows += tm._cells(people, mart, rates, wages, dimensions)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(tm.HEADER)
        writer.writerows(rows)
    cells = read_true_metrics(f.name)
    Path(f.name).unlink()
    cells["kind"] = cells["rate"].notna().map({True: "rate", False: "median"})
    cells["value"] = cells["rate"].where(cells["rate"].notna(), cells["median_wage"])
    return cells[["metric", "cohort_year", "dimension", "group", "kind", "value", "denominator"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", help="one size's work directory of benchmarks/pipeline.py --keep")
    work = Path(parser.parse_args().work)
    raw = work / "raw"
    con = duckdb.connect()
    load(con, work)
    ambiguous_wage_records(con, keyed_truth(work))
    wageless = {t for (t,) in con.execute("SELECT t FROM wageless").fetchall()}
    n_ambiguous = con.execute("SELECT count(*) FROM ambiguous").fetchall()[0][0]
    settings = settings_for(work, "gated")
    spark = build_spark(settings)
    try:
        published = open_storage(spark, settings).read(GOLD_PUBLISHED_CELLS).toPandas()
        oracle = oracle_cells(spark, raw, wageless)
    finally:
        spark.stop()
    keys = ["metric", "cohort_year", "dimension", "group"]
    if "value_suppressed" in published:
        published = published[~published["value_suppressed"].astype(bool)]
    oracle = oracle.merge(published[keys].drop_duplicates(), on=keys, how="inner")
    result = compare_to_truth(oracle, read_true_metrics(raw / "_truth" / "metrics.csv"), min_denominator=100)
    for row in result["worst"]:
        print("  worst cell:", {k: v for k, v in row.items() if v == v})
    final = {
        "ceiling_max_rate_error_pp": result["max_rate_error_pp"],
        "ceiling_max_statewide_rate_error_pp": result["max_statewide_rate_error_pp"],
        "ceiling_max_wage_error_pct": result["max_wage_error_pct"],
        "cells_compared": result["cells_compared"],
        "ambiguous_wage_records": n_ambiguous,
        "persons_without_placeable_wages": len(wageless),
    }
    print(" ".join(f"{k}={v}" for k, v in final.items()))


if __name__ == "__main__":
    main()
