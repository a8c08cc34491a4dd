"""The only place a SparkSession is built.

Before the session exists we start (or join, under spark-submit) the JVM gateway and look for the
delta-spark classes. That decides the storage engine, because delta-spark needs its SQL extension and
catalog configured when the session is created. The decision travels with the session in the conf key
`spark.c2c.storage.engine`, so every later `open_storage(spark, ...)` agrees with it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

from lakehouse.errors import EngineUnavailableError
from lakehouse.settings import Settings

ENGINE_CONF = "spark.c2c.storage.engine"
PRIVATE_UMASK = 0o077
REDACTION_REGEX = r"(?i)secret|password|token|access[.]?key|pii"
DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"

_DELTA_SPARK_CONF = {
    "spark.sql.extensions": DELTA_EXTENSION,
    "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
    # Only protocol features every delta-spark 4.x and Databricks reader handles.
    "spark.databricks.delta.properties.defaults.enableDeletionVectors": "false",
    # vacuum(retain_hours < 168) is a deliberate call of ours, not an accident to guard against.
    "spark.databricks.delta.retentionDurationCheck.enabled": "false",
}


def build_spark(settings: Settings) -> SparkSession:
    """Build (or join) the session described by `settings.spark` and pick the storage engine."""
    # Python workers must run this interpreter, or pandas UDFs and Python data sources cannot import us.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if settings.spark.master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Files this process writes are its owner's only: the JVM and Python workers inherit the umask,
    # and Hadoop's local filesystem, which chmods what it creates by its own umask setting, is told
    # the same. The restricted zone and the raw root then hold files 0600 in folders 0700 from the
    # moment they exist; the public site is opened up where it is built (lakehouse/site/build.py).
    os.umask(PRIVATE_UMASK)
    conf = SparkConf().setMaster(settings.spark.master).setAppName(settings.spark.app_name)
    conf.set("spark.hadoop.fs.permissions.umask-mode", f"{PRIVATE_UMASK:03o}")
    # The UI's environment tab and the event log mask conf values whose keys match this; Spark's own
    # pattern misses a key passed as e.g. spark.kubernetes.driverEnv.C2C_PII_KEY.
    redaction = conf.get("spark.redaction.regex", REDACTION_REGEX)
    conf.set("spark.redaction.regex", redaction if "pii" in redaction.lower() else f"{redaction}|pii")
    log_conf = Path(settings.conf_dir) / "log4j2.properties"
    if log_conf.is_file() and "spark.driver.extraJavaOptions" not in settings.spark.conf:
        conf.set("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log_conf}")
    for key, value in settings.spark.conf.items():
        conf.set(key, value)
    if settings.identity.backend == "spark":
        # Splink's similarity functions (jaro_winkler, damerau_levenshtein) are Scala UDFs in its jar.
        from splink.backends.spark import similarity_jar_location

        jars = [j for j in (settings.spark.conf.get("spark.jars", ""), similarity_jar_location()) if j]
        conf.set("spark.jars", ",".join(jars))
    for key in ("spark.local.dir", "spark.sql.warehouse.dir"):
        if key in settings.spark.conf and "://" not in settings.spark.conf[key]:
            os.makedirs(settings.spark.conf[key], exist_ok=True)

    SparkContext._ensure_initialized(conf=conf)
    engine = resolve_engine(settings.storage.engine, delta_classes_available())
    if engine == "delta-spark":
        for key, value in _DELTA_SPARK_CONF.items():
            conf.set(key, value)
    conf.set(ENGINE_CONF, engine)
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    # A session that already existed (a notebook, Databricks) ignores static conf: set what is runtime.
    spark.conf.set(ENGINE_CONF, engine)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def delta_classes_available() -> bool:
    """True when the delta-spark classes can be loaded by the driver JVM."""
    jvm = SparkContext._jvm
    if jvm is None:
        return False
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
    try:
        loader.loadClass(DELTA_EXTENSION)
        return True
    except Exception:  # py4j wraps ClassNotFoundException
        return False


def resolve_engine(requested: str, delta_available: bool) -> str:
    """Map the `storage.engine` setting and what the classpath holds to the engine to use."""
    if requested == "auto":
        return "delta-spark" if delta_available else "delta-rs"
    if requested == "delta-spark" and not delta_available:
        raise EngineUnavailableError(
            "storage.engine is 'delta-spark' but the delta-spark classes are not on the classpath "
            f"({DELTA_EXTENSION} not found). Add the io.delta jars to the cluster, or set storage.engine "
            "to 'auto' or 'delta-rs'."
        )
    return requested


def session_engine(spark: SparkSession) -> str:
    """The engine chosen when the session was built; sessions built elsewhere are probed."""
    engine = spark.conf.get(ENGINE_CONF, None)
    if engine:
        return engine
    return "delta-spark" if delta_classes_available() else "delta-rs"
