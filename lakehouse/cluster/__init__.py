"""Packaging the project for a Spark cluster and the spark-submit line that runs it (`c2c submit`).

`package.py` builds what a cluster needs: the project wheel, a packed environment of its dependencies,
a copy of the settings directory and the driver entry script. `command.py` turns those and the settings
into the exact `spark-submit` argument list.
"""

from lakehouse.cluster.command import SubmitError, find_spark_submit, spark_submit_argv
from lakehouse.cluster.package import Artifacts, build_artifacts

__all__ = ["Artifacts", "SubmitError", "build_artifacts", "find_spark_submit", "spark_submit_argv"]
