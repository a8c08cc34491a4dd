"""`c2c link`: bring-your-own-file linkage for researchers (lakehouse/identity/byo.py).

The output folder holds person-level results, so it is guarded: a new or empty folder is used, a
previous link output (it holds the marker `.c2c-link` and only link files) is replaced with
`--force` only, and a folder holding anything else is refused. Every file is created owner-only
(0600) and a folder the job creates is 0700.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from lakehouse.identity import byo, registry
from lakehouse.identity.decide import match_weight
from lakehouse.identity.model import untrained_levels
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
        ok = datetime.strptime(sample.strftime(fmt), fmt).date() == sample
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


def check_probability(value: float | None, option: str) -> None:
    if value is not None and not 0 < value < 1:
        raise byo.LinkInputError(f"{option} {value}: a match probability, above 0 and below 1")


def load_model(settings: Settings, which: str | None) -> tuple[dict, str] | None:
    """The registered model `--model` names ('champion' or a version), or None to train on the input."""
    if which is None:
        return None
    if which != registry.CHAMPION and not which.isdigit():
        raise byo.LinkInputError(f"--model '{which}': 'champion' or a version number")
    found = registry.load_model(settings, which)
    if found is None:
        raise byo.LinkInputError(
            f"--model {which}: no such registered version of {settings.identity.model_name} "
            "(`c2c train-linkage --promote` registers a champion; omit --model to train on the files)"
        )
    return found


def write_pairs(folder: Path, pairs, *, two_files: bool) -> dict[str, int]:
    """pairs.csv: every pair at or above the review floor, best first, with its decision ('match': at
    or above the threshold, or certain by a deterministic rule; 'review': below it). Returns counts."""
    names = ("left_id", "right_id") if two_files else ("id_l", "id_r")
    rows = sorted(
        pairs.to_pylist(), key=lambda r: (-r["match_probability"], r["record_token_l"], r["record_token_r"])
    )
    decided = {"match": 0, "review": 0}
    with owner_only(folder / "pairs.csv") as handle:
        writer = csv.writer(handle)
        writer.writerow([*names, "match_probability", "match_weight", "decision", "method"])
        for r in rows:
            decision = "review" if r["method"] == "below_threshold" else "match"
            decided[decision] += 1
            writer.writerow(
                [
                    r["record_token_l"].split(":", 1)[1],
                    r["record_token_r"].split(":", 1)[1],
                    f"{r['match_probability']:.6f}",
                    f"{match_weight(r['match_probability']):.2f}",
                    decision,
                    r["method"],
                ]
            )
    return decided


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
    model: str | None = None,
    threshold: float | None = None,
    review_floor: float | None = None,
) -> int:
    started = time.perf_counter()
    roles = byo.parse_mapping(mapping)
    check_date_format(date_format)
    byo.spark_date_format(date_format)
    check_probability(threshold, "--threshold")
    check_probability(review_floor, "--review-floor")
    carried = parse_carry(carry, id_column=id_column, mapping=roles)
    folder = Path(out)
    check_out(folder, force=force)
    paths = [Path(left), *([Path(right)] if right else [])]
    rosters = [byo.read_roster(p, id_column=id_column, mapping=roles, carry=carried) for p in paths]
    registered = load_model(settings, model)
    sides = ["left", "right"][: len(rosters)]
    files = {side: roster.path.name for side, roster in zip(sides, rosters, strict=True)}
    if len(set(files.values())) < len(files):
        files = {side: str(roster.path) for side, roster in zip(sides, rosters, strict=True)}

    from lakehouse.spark import build_spark

    spark = build_spark(settings)
    # Splink warns about untrained levels on stderr; summary.json lists them (untrained_levels).
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)
    frame = byo.roster_frame(spark, rosters, sides, id_column=id_column, mapping=roles)
    records = byo.roster_records(frame, mapping=roles, date_format=date_format, key=byo.new_key()).persist()
    try:
        quality = byo.value_counts(records, mapping=roles, sides=files)
        resolution = byo.link(
            byo.linkage_input(spark, records),
            model=registered[0] if registered else None,
            threshold=threshold,
            review_floor=review_floor if review_floor is not None else settings.identity.review_floor,
            max_cluster_size=settings.identity.max_cluster_size,
            train_max_pairs=settings.identity.train_max_pairs,
            link_only=right is not None,
        )
    finally:
        records.unpersist()
    decision = resolution.decision
    cluster_of = dict(zip(*resolution.clusters.to_pydict().values(), strict=True))

    prepare_out(folder, force=force)
    decided = write_pairs(folder, resolution.pairs, two_files=right is not None)
    with owner_only(folder / "clusters.csv") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", id_column, "cluster_id", *carried])
        for roster, side in zip(rosters, sides, strict=True):
            for row in roster.rows:
                token = f"{side}:{row[id_column].strip()}"
                writer.writerow([side, row[id_column].strip(), cluster_of[token], *[row[c] for c in carried]])
    model_note = (
        f"registered model version {registered[1]}" if registered else "a model trained on the input by EM"
    )
    guard = resolution.guard
    summary = {
        "records": sum(len(r.rows) for r in rosters),
        "model": model_note,
        # The line between a match and a pair to review, and what the model expects of it.
        "threshold": {
            "match_probability": decision.match_probability,
            "match_weight": round(decision.match_weight, 3),
            "chosen_by": decision.chosen_by,
        },
        "expected": {
            "precision": _rounded(decision.expected_precision),
            "recall": _rounded(decision.expected_recall),
            "f1": _rounded(decision.expected_f1),
            "candidate_pairs": decision.candidate_pairs,
            "matches": round(decision.expected_matches, 1),
        },
        "review_floor": min(
            review_floor if review_floor is not None else settings.identity.review_floor,
            decision.match_probability,
        ),
        "pairs": decided,
        "clusters": len(set(cluster_of.values())),
        "guards": {
            "ssn_conflicts": guard.get("ssn_conflicts", 0),
            "suspect_clusters": guard.get("suspect_clusters", 0),
            "links_broken": len(guard.get("links_broken", [])),
        },
        "training_skipped": guard.get("training_skipped", []),
        # Levels no pair of these files could train: scored with Splink's default m or u.
        "untrained_levels": untrained_levels(resolution.model),
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
        f"linked {summary['records']:,} records with {model_note}: {decided['match']:,} matches at or above "
        f"probability {decision.match_probability:.4g} ({decision.chosen_by}; expected precision "
        f"{_shown(decision.expected_precision)}, recall {_shown(decision.expected_recall)}), "
        f"{decided['review']:,} pairs to review, {summary['clusters']:,} clusters -> {folder}/pairs.csv, "
        f"{folder}/clusters.csv"
    )
    return 0


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
