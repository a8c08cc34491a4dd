"""Restricted data stays restricted: on the real `c2c run` the tests share (tests/e2e.py), no plan holds
the PII key, no file or table outside the restricted zone holds an SSN, a document number or a person
record's birth date, no silver or identity table holds an SSN at all, and the restricted zone and the
raw root are their owner's only. Plus the same plan check on the tokenizing transforms themselves,
with a check that the scan does find a key that is in a plan."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import stat
import time

import pytest
from pyspark.sql import functions as F

from lakehouse.privacy.leaks import key_fragments, restricted_needles, scan_bytes, scan_files, scan_tables
from lakehouse.silver.tokens import hmac_sha256, ssn_part_tokens, ssn_token

KEY = b"5b1f0e8d7a9c3b2e4f6a8c0d1e3b5a7c3f8a0c1e9b7d4e2a6c5b1f0e8d7a9c3b"


def plan_text(df) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        df.explain(mode="extended")
    return out.getvalue()


def _executions(spark) -> list:
    executions = spark._jsparkSession.sharedState().statusStore().executionsList()
    return [executions.apply(i) for i in range(executions.size())]


def sql_executions(spark) -> int:
    """The id of the session's latest SQL execution (-1 before any): later ones have larger ids. (The
    store keeps only the latest `spark.sql.ui.retainedExecutions`, so a count is no position in it.)"""
    return max((e.executionId() for e in _executions(spark)), default=-1)


def sql_tab_plans(spark, since: int, *, expect: int = 1) -> list[str]:
    """The physical plan strings of the SQL executions after execution `since`, as the UI's SQL tab
    and the History Server show them (they come from the same status store). The store is filled by an
    asynchronous listener: wait (up to 60 s) until at least `expect` of them are there."""
    deadline = time.monotonic() + 60
    while True:
        later = [e for e in _executions(spark) if e.executionId() > since]
        if len(later) >= expect or time.monotonic() > deadline:
            return [e.physicalPlanDescription() for e in later]
        time.sleep(0.5)


def plan_literal_hmac(message, key: bytes):
    """An HMAC composed from Spark expressions: its pads enter the plan as literals."""
    block = key.ljust(64, b"\0")
    ipad, opad = bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)
    inner = F.unhex(F.sha2(F.concat(F.lit(ipad), F.encode(message, "UTF-8")), 256))
    return F.sha2(F.concat(F.lit(opad), inner), 256)


def test_tokenizing_puts_no_key_material_in_any_plan(spark):
    fragments = key_fragments(KEY)
    since = sql_executions(spark)
    df = spark.createDataFrame([("123-45-6789",), ("987654321",), (None,)], "ssn STRING")
    tokens = df.select(
        ssn_token(F.col("ssn"), KEY).alias("t"),
        *ssn_part_tokens(F.col("ssn"), KEY),
        hmac_sha256(F.col("ssn"), KEY),
    )
    rows = tokens.collect()
    assert rows[0]["t"] == hmac.new(KEY, b"123456789", hashlib.sha256).hexdigest()
    texts = [plan_text(tokens), *sql_tab_plans(spark, since)]
    tokenized = sql_executions(spark)
    assert any("keyed_hash" in t for t in texts)  # the plans were really looked at
    assert [f for f in fragments for t in texts if f.decode("latin-1") in t] == []

    # The scan is not blind: an HMAC whose key pads are plan literals is caught in both places.
    leaky = df.select(plan_literal_hmac(F.col("ssn"), KEY).alias("t"))
    leaky.collect()
    assert any(f.decode("latin-1") in plan_text(leaky) for f in fragments)
    assert any(f.decode("latin-1") in t for f in fragments for t in sql_tab_plans(spark, tokenized))


@pytest.mark.slow
def test_the_pipeline_leaves_no_restricted_value_outside_the_restricted_zone(pipeline_run):
    var = pipeline_run.var
    key = (var / "secrets" / "pii_dev.key").read_text().strip().encode()
    needles = restricted_needles(var / "restricted", key=key)
    # The search has something to find: the state's SSNs, document numbers and birth dates.
    assert len(needles.ssns) > 1000 and len(needles.documents) > 10 and len(needles.birth_dates) > 1000

    event_logs = list((pipeline_run.workdir / "eventlog").rglob("*"))
    assert any(p.is_file() and p.stat().st_size > 100_000 for p in event_logs)  # plans were logged
    plans = scan_files(pipeline_run.workdir / "eventlog", needles)
    assert dict(plans.hits) == {}, plans.places

    # Restricted tables' Data Docs pages are built inside the zone, the others' outside it.
    assert (var / "restricted" / "quality" / "docs" / "index.html").is_file()
    outside = scan_files(var, needles, skip=[var / "restricted", var / "raw", var / "secrets"])
    assert dict(outside.hits) == {}, outside.places
    logged = scan_bytes((pipeline_run.result.stdout + pipeline_run.result.stderr).encode(), needles)
    assert dict(logged.hits) == {}

    public = scan_tables(var / "lake", needles)
    assert dict(public.hits) == {}, public.places
    restricted = scan_tables(var / "restricted", needles, layers=("silver", "identity"))
    assert restricted.hits["ssn"] == 0, restricted.places


@pytest.mark.slow
def test_the_restricted_zone_and_raw_root_are_their_owners_only(pipeline_run):
    """Files 0600 in folders 0700, from the moment they were written (umask, not a chmod after)."""
    var = pipeline_run.var
    for root in (var / "restricted", var / "raw", var / "secrets"):
        paths = [root, *root.rglob("*")]
        assert len(paths) > 10 or root.name == "secrets"
        opened = [
            f"{p.relative_to(var)} {stat.S_IMODE(p.stat().st_mode):o}"
            for p in paths
            if stat.S_IMODE(p.stat().st_mode) & 0o077
        ]
        assert opened == [], root
    # The public site is the exception: meant to be served, it is readable by all.
    index = var / "site" / "index.html"
    assert stat.S_IMODE(index.stat().st_mode) == 0o644
