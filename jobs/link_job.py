"""`c2c link`: bring-your-own-file linkage for researchers (lakehouse/identity/byo.py).

The output folder holds person-level results, so it is guarded: a new or empty folder is used, a
previous link output (it holds the marker `.c2c-link` and only link files) is replaced with
`--force` only, and a folder holding anything else is refused. Every file is created owner-only
(0600) and a folder the job creates is 0700.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TextIO

from lakehouse.identity import byo, registry
from lakehouse.identity.features import nickname_table
from lakehouse.settings import Settings

MARKER = ".c2c-link"
MARKER_TEXT = "c2c link output: pairs.csv, clusters.csv, summary.json (`c2c link --force` replaces them)\n"
OUTPUTS = ("pairs.csv", "clusters.csv", "summary.json")
# What the link job wrote before the marker existed: a summary with exactly these keys.
LEGACY_SUMMARY = {"records", "pairs", "clusters", "model", "training_skipped", "seconds"}


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


def parse_carry(text: str | None, *, id_column: str, mapping: dict[str, str]) -> list[str]:
    """'school,grade' -> ['school', 'grade']: the input columns copied into clusters.csv besides the id."""
    carry = list(dict.fromkeys(filter(None, (c.strip() for c in (text or "").split(",")))))
    for column in carry:
        if column == id_column:
            raise byo.LinkInputError(f"--carry: '{column}' is the id column, which clusters.csv always holds")
        if mapping.get(column) == "ssn":
            raise byo.LinkInputError(f"--carry: '{column}' is mapped to ssn, and no SSN is ever written")
    return carry


def _is_previous_output(folder: Path, names: set[str]) -> bool:
    """The folder holds a link output and nothing else: the marker (or, from before the marker, the
    three files with the old summary) plus link files only."""
    if not names <= {MARKER, *OUTPUTS} or any((folder / n).is_dir() for n in names):
        return False
    if MARKER in names:
        marker = folder / MARKER
        if not marker.is_file() or marker.is_symlink():
            return False
        return marker.read_text(errors="replace") == MARKER_TEXT
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return names == set(OUTPUTS) and isinstance(summary, dict) and set(summary) == LEGACY_SUMMARY


def check_out(folder: Path, *, force: bool) -> None:
    """Refuse a folder the outputs must not go to (see the module docstring)."""
    if (folder.is_symlink() and not folder.exists()) or (folder.exists() and not folder.is_dir()):
        raise byo.LinkOutputError(f"--out {folder}: exists and is not a folder")
    names = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    if not names:
        return
    if not _is_previous_output(folder, names):
        listed = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
        raise byo.LinkOutputError(
            f"--out {folder}: the folder holds files that are not a c2c link output ({listed}); "
            "choose a new or empty folder"
        )
    if not force:
        raise byo.LinkOutputError(
            f"--out {folder}: holds a previous c2c link output; pass --force to replace it, "
            "or choose a new or empty folder"
        )


def prepare_out(folder: Path, *, force: bool) -> None:
    """Check the folder again, create it (0700) or clear the previous output, and mark it as ours."""
    check_out(folder, force=force)
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700)
        folder.chmod(0o700)
    if not (folder / MARKER).exists():
        with owner_only(folder / MARKER) as handle:
            handle.write(MARKER_TEXT)
    for name in OUTPUTS:  # unlinked, not written through: a symlink's target is never touched
        (folder / name).unlink(missing_ok=True)


@contextmanager
def owner_only(path: Path) -> Iterator[TextIO]:
    """A new text file readable by its owner only from the moment it exists (never an existing one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.fchmod(fd, 0o600)  # the umask can only narrow 0600; this makes it exactly 0600
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
        yield handle


def main(
    settings: Settings,
    *,
    left: str,
    right: str | None,
    id_column: str,
    mapping: str,
    date_format: str,
    out: str,
    carry: str | None = None,
    force: bool = False,
) -> int:
    started = time.perf_counter()
    roles = byo.parse_mapping(mapping)
    check_date_format(date_format)
    carried = parse_carry(carry, id_column=id_column, mapping=roles)
    folder = Path(out)
    check_out(folder, force=force)
    paths = [Path(left), *([Path(right)] if right else [])]
    rosters = [byo.read_roster(p, id_column=id_column, mapping=roles, carry=carried) for p in paths]
    key, roots = byo.new_key(), nickname_table()
    sides = ["left", "right"][: len(rosters)]
    rows, quality = [], {}
    for roster, side in zip(rosters, sides, strict=True):
        linked, counts = byo.linkage_rows(
            roster,
            id_column=id_column,
            mapping=roles,
            date_format=date_format,
            roots=roots,
            key=key,
            side=side,
        )
        rows.append(linked)
        quality[str(roster.path)] = {column: asdict(c) for column, c in counts.items()}
    fits = all(role in roles.values() for role in byo.CORE_ROLES)
    champion = registry.load_champion(settings) if fits else None
    pairs, cluster_of, trained = byo.link_rosters(
        rows[0],
        rows[1] if right else None,
        model=champion[0] if champion else None,
        threshold=settings.identity.match_threshold,
    )
    prepare_out(folder, force=force)
    names = ("left_id", "right_id") if right else ("id_l", "id_r")
    with owner_only(folder / "pairs.csv") as handle:
        writer = csv.writer(handle)
        writer.writerow([*names, "match_probability"])
        for a, b, p in pairs:
            writer.writerow([a.split(":", 1)[1], b.split(":", 1)[1], f"{p:.6f}"])
    with owner_only(folder / "clusters.csv") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", id_column, "cluster_id", *carried])
        for roster, side in zip(rosters, sides, strict=True):
            for row in roster.rows:
                token = f"{side}:{row[id_column].strip()}"
                writer.writerow([side, row[id_column].strip(), cluster_of[token], *[row[c] for c in carried]])
    model_note = f"champion model version {champion[1]}" if champion else "a model trained on the input"
    summary = {
        "records": sum(len(r.rows) for r in rosters),
        "pairs": len(pairs),
        "clusters": len(set(cluster_of.values())),
        "model": model_note,
        "training_skipped": trained["training_skipped"],
        # Per file and mapped column: blank values, and values that did not parse (linked as missing).
        "values": quality,
        "seconds": round(time.perf_counter() - started, 3),
    }
    with owner_only(folder / "summary.json") as handle:
        handle.write(json.dumps(summary, indent=2))
    unparseable = sum(c["unparseable"] for columns in quality.values() for c in columns.values())
    if unparseable:
        print(f"{unparseable:,} values did not parse and were linked as missing (see summary.json 'values')")
    print(
        f"linked {summary['records']:,} records with {model_note}: {summary['pairs']:,} pairs at or above "
        f"{settings.identity.match_threshold}, {summary['clusters']:,} clusters -> {folder}/pairs.csv, "
        f"{folder}/clusters.csv"
    )
    return 0
