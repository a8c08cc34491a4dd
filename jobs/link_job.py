"""`c2c link`: bring-your-own-file linkage for researchers (lakehouse/identity/byo.py)."""

from __future__ import annotations

import csv
import json
import time
from datetime import date
from pathlib import Path

from lakehouse.identity import byo, registry
from lakehouse.identity.features import nickname_table
from lakehouse.settings import Settings


def check_date_format(fmt: str) -> None:
    """A format that cannot read back what it writes (an unknown directive) is refused up front."""
    sample = date(1999, 12, 31)
    try:
        ok = byo.datetime.strptime(sample.strftime(fmt), fmt).date() == sample
    except ValueError:
        ok = False
    if not ok:
        raise byo.LinkInputError(
            f"--date-format '{fmt}' cannot be parsed (use strftime directives, e.g. %Y-%m-%d or %m/%d/%Y)"
        )


def main(
    settings: Settings,
    *,
    left: str,
    right: str | None,
    id_column: str,
    mapping: str,
    date_format: str,
    out: str,
) -> int:
    started = time.perf_counter()
    roles = byo.parse_mapping(mapping)
    check_date_format(date_format)
    rosters = [byo.read_roster(Path(left), id_column=id_column, mapping=roles)]
    if right:
        rosters.append(byo.read_roster(Path(right), id_column=id_column, mapping=roles))
    key, roots = byo.new_key(), nickname_table()
    sides = ["left", "right"][: len(rosters)]
    rows = [
        byo.linkage_rows(
            r, id_column=id_column, mapping=roles, date_format=date_format, roots=roots, key=key, side=side
        )
        for r, side in zip(rosters, sides, strict=True)
    ]
    fits = all(role in roles.values() for role in byo.CORE_ROLES)
    champion = registry.load_champion(settings) if fits else None
    pairs, cluster_of, trained = byo.link_rosters(
        rows[0],
        rows[1] if right else None,
        model=champion[0] if champion else None,
        threshold=settings.identity.match_threshold,
    )
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    names = ("left_id", "right_id") if right else ("id_l", "id_r")
    with (folder / "pairs.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*names, "match_probability"])
        for a, b, p in pairs:
            writer.writerow([a.split(":", 1)[1], b.split(":", 1)[1], f"{p:.6f}"])
    carried = [c for c in rosters[0].header if c != id_column and c not in roles]
    with (folder / "clusters.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", id_column, "cluster_id", *carried])
        for roster, side in zip(rosters, sides, strict=True):
            for row in roster.rows:
                token = f"{side}:{row[id_column].strip()}"
                writer.writerow(
                    [side, row[id_column].strip(), cluster_of[token], *[row.get(c, "") for c in carried]]
                )
    model_note = f"champion model version {champion[1]}" if champion else "a model trained on the input"
    summary = {
        "records": sum(len(r.rows) for r in rosters),
        "pairs": len(pairs),
        "clusters": len(set(cluster_of.values())),
        "model": model_note,
        "training_skipped": trained["training_skipped"],
        "seconds": round(time.perf_counter() - started, 3),
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    print(
        f"linked {summary['records']:,} records with {model_note}: {summary['pairs']:,} pairs at or above "
        f"{settings.identity.match_threshold}, {summary['clusters']:,} clusters -> {folder}/pairs.csv, "
        f"{folder}/clusters.csv"
    )
    return 0
