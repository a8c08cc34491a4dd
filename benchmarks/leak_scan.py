"""Where restricted values leak, on a working directory that `c2c run` ran in (counts, never values).

    .venv/bin/python benchmarks/leak_scan.py WORKDIR [--event-log DIR] [--key-file FILE]

WORKDIR holds `var/` (lake, restricted zone, raw root, runs, quality docs, site). The PII key is read
from `--key-file`, else from `C2C_PII_KEY`, else from the development key `var/secrets/pii_dev.key`.
Run the pipeline with `spark.eventLog.enabled=true` and `spark.eventLog.dir=DIR` in a copy of `conf/`
to have the plans of every query scanned (the SQL tab and the History Server show what the event log
holds). See `lakehouse/privacy/leaks.py` for what each scan looks for.

Last line: `plan_key_hits=<n> file_hits=<n> public_table_hits=<n> restricted_table_ssn_hits=<n>`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lakehouse.privacy.leaks import restricted_needles, scan_files, scan_tables  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--event-log", type=Path, help="spark.eventLog.dir of the run")
    parser.add_argument("--key-file", type=Path)
    args = parser.parse_args()
    var = args.workdir / "var"
    if args.key_file:
        key = args.key_file.read_text().strip().encode()
    elif os.environ.get("C2C_PII_KEY"):
        key = os.environ["C2C_PII_KEY"].strip().encode()
    else:
        key = (var / "secrets" / "pii_dev.key").read_text().strip().encode()
    needles = restricted_needles(var / "restricted", key=key)
    print(
        f"needles: {len(needles.ssns):,} SSNs, {len(needles.documents):,} document numbers, "
        f"{len(needles.key)} key fragments"
    )

    plans = scan_files(args.event_log, needles) if args.event_log else None
    files = scan_files(var, needles, skip=[var / "restricted", var / "raw", var / "secrets"])
    public = scan_tables(var / "lake", needles)
    restricted = scan_tables(var / "restricted", needles, layers=("silver", "identity"))
    for name, result in (
        ("plans", plans),
        ("files", files),
        ("public tables", public),
        ("restricted tables", restricted),
    ):
        if result is None:
            continue
        print(f"{name}: {dict(result.hits) or 'none'}")
        for kind, places in sorted(result.places.items()):
            shown = sorted(places)[:8]
            print(f"  {kind}: {len(places)} places, e.g. {', '.join(shown)}")
    print(
        f"plan_key_hits={plans.hits['pii_key'] if plans else 'n/a'} file_hits={files.total()} "
        f"public_table_hits={public.total()} restricted_table_ssn_hits={restricted.hits['ssn']}"
    )


if __name__ == "__main__":
    main()
