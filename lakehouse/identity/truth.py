"""The synthetic generator's truth (`_truth/person_truth.csv`): which true person each source record
belongs to, with its keys spelled as silver spells them, for scoring identity resolution."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.settings import Settings
from lakehouse.silver.events import keyed_record_keys
from lakehouse.silver.tokens import pii_key
from lakehouse.synth.records import TRUTH_FILE

KEY = ("source", "source_record_key")


def read_truth(spark: SparkSession, settings: Settings) -> DataFrame | None:
    """The generator's truth [source, source_record_key, true_person_id] (synthetic states only), or
    None; see `truth_and_shared_keys`."""
    found = truth_and_shared_keys(spark, settings)
    return None if found is None else found[0]


def shared_truth_keys(spark: SparkSession, settings: Settings) -> int:
    """How many record keys the generator's truth gives to more than one person (left out of it)."""
    found = truth_and_shared_keys(spark, settings)
    return 0 if found is None else found[1]


def truth_and_shared_keys(spark: SparkSession, settings: Settings) -> tuple[DataFrame, int] | None:
    """The truth, or None when the raw root holds none, and how many keys were left out of it.

    A key the truth gives to two people is left out: an employer can report two workers under one SSN
    (a mistyped number that is another worker's, or two made-up ones that agree), and EDD's record is
    the employer and the SSN, so the data holds one record with both people's wages, which no linkage
    can give to one of them. Those keys are found in one pass over the file and kept as a local
    checkpoint (a handful of rows), which both the count and the truth's anti-join read.
    """
    path = Path(settings.storage.raw_root) / TRUTH_FILE
    if "://" in settings.storage.raw_root or not path.is_file():
        return None
    truth = spark.read.csv(str(path), header=True, schema="source STRING, source_record_key STRING, "
                           "true_person_id STRING")  # fmt: skip
    # The truth spells EDD keys with the SSN; silver holds its token there.
    truth = truth.withColumn(
        "source_record_key",
        keyed_record_keys(F.col("source"), F.col("source_record_key"), pii_key(settings)),
    )
    shared = (
        truth.groupBy(*KEY)
        .agg(F.countDistinct("true_person_id").alias("people"))
        .where("people > 1")
        .select(*KEY)
        .localCheckpoint()
    )
    return truth.join(F.broadcast(shared), list(KEY), "left_anti"), shared.count()
