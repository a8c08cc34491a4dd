"""`--corrupt-rate`: damage a generated state the way real agency submissions arrive damaged.

Each data line is hit with probability `rate`, by one of four kinds:
- `malformed`: a garbage line inserted before it (not a record);
- `column_count`: a copy of it with a field missing or one too many, inserted before it (not a record);
- `invalid_date`: a date field of the record itself replaced by an impossible date;
- `invalid_code`: a code field of the record itself replaced by a code outside its code set.
Plus one file sent twice under another name, and one line with bytes that are not UTF-8. Everything
is listed in `_truth/corruption_manifest.json` with its file and 1-based physical line number. Records
hit by `invalid_date`/`invalid_code` keep their truth rows: the pipeline should quarantine them (an
invalid date hits a date of an event, never a birth date, which landing keeps as missing data).

Runs on the driver, file by file, streaming: it is a tool for test and demo states.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from lakehouse.sources.checks import is_identity_date
from lakehouse.sources.layouts import DATE_FORMATS, LAYOUTS, Layout, family_of

CODE_COLUMNS = {
    "EXIT_CODE",
    "GRADE_LEVEL",
    "JOB_CLASS_CODE",
    "CREDENTIAL_TYPE_CODE",
    "SP02_AWARD",
    "AID_CODE",
    "PROGRAM_TYPE",
    "CREDENTIAL_KIND",
    "GRANT_TYPE",
    "APP_TYPE",
    "LEVEL",
    "DEGREE",
    "PROGRAM",
    "outcome",
    "term",
    "ELA_STATUS",
    "REGIONAL_CENTER",
    "DEGREE_LEVEL",
}
KINDS = ("malformed", "column_count", "invalid_date", "invalid_code")


def _layout_of(rel: str) -> Layout | None:
    family = family_of(rel)
    return LAYOUTS[family] if family else None


def _is_date(column: str) -> bool:
    """A date of an event: a row with an impossible one is quarantined. (An impossible birth date is
    missing data, landed and counted: see lakehouse/sources/checks.py.)"""
    return any(column in formats for formats in DATE_FORMATS.values()) and not is_identity_date(column)


def corrupt(out: Path, rate: float, seed: int) -> dict:
    rng = random.Random(f"corrupt|{seed}|{rate}")
    files = sorted(
        p for p in out.rglob("*") if p.is_file() and not p.relative_to(out).parts[0].startswith("_")
    )
    injections: list[dict] = []
    for path in files:
        rel = path.relative_to(out).as_posix()
        layout = _layout_of(rel)
        if layout is None or layout.source == "edd" and rel.endswith("EMPLOYERS_all.csv"):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        start = 0 if layout.header is None else 1
        result = lines[:start]
        for line in lines[start:]:
            if rng.random() < rate:
                kind = rng.choice(KINDS)
                damaged = _damage(kind, line, layout, rng)
                if damaged is None:  # no date or code field in this layout: insert a malformed line instead
                    kind, damaged = "malformed", _garbage(rng)
                if kind in ("malformed", "column_count"):
                    result.append(damaged)
                    injections.append({"file": rel, "line": len(result), "kind": kind})
                    result.append(line)
                else:
                    result.append(damaged)
                    injections.append({"file": rel, "line": len(result), "kind": kind})
                continue
            result.append(line)
        path.write_text("\n".join(result) + "\n", encoding="utf-8")

    encoding = _encoding_error(out, files, rng)
    for injection in injections:  # lines after the inserted one moved down by one
        if injection["file"] == encoding["file"] and injection["line"] >= encoding["line"]:
            injection["line"] += 1
    injections.append(encoding)
    duplicated = _duplicate_one(out, files, rng)
    copy, original = duplicated[0]["file"], duplicated[0]["copy_of"]
    injections += [{**i, "file": copy} for i in injections if i["file"] == original]
    manifest = {"rate": rate, "seed": seed, "injections": injections, "duplicated_files": duplicated}
    (out / "_truth" / "corruption_manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def _garbage(rng: random.Random) -> str:
    return rng.choice(
        ("#### RECORD TRUNCATED BY TRANSFER ####", "\x1a\x1a\x1a", "NULL", "<html>error 502</html>")
    )


def _damage(kind: str, line: str, layout: Layout, rng: random.Random) -> str | None:
    if kind == "malformed":
        return _garbage(rng)
    names = [n for n, _ in layout.columns]
    if layout.kind == "jsonl":
        record = json.loads(line)
        if kind == "column_count":
            return line[: len(line) // 2]  # a cut-off JSON object
        targets = [
            n
            for n in names
            if (_is_date(n) if kind == "invalid_date" else n in CODE_COLUMNS) and record.get(n)
        ]
        if not targets:
            return None
        record[rng.choice(targets)] = "2019-02-31" if kind == "invalid_date" else "ZZ9"
        return json.dumps(record, ensure_ascii=False)
    if layout.kind == "fixed":
        if kind == "column_count":
            return line[: len(line) - 7]
        widths = [w for _, w in layout.columns]
        offsets = [sum(widths[:i]) for i in range(len(widths))]
        targets = [
            i
            for i, n in enumerate(names)
            if (_is_date(n) if kind == "invalid_date" else n in CODE_COLUMNS)
            and line[offsets[i] : offsets[i] + widths[i]].strip()
            and widths[i] >= 3  # room for the whole invalid code
        ]
        if not targets:
            return None
        i = rng.choice(targets)
        value = ("20191345" if kind == "invalid_date" else "ZZ9").ljust(widths[i])[: widths[i]]
        return line[: offsets[i]] + value + line[offsets[i] + widths[i] :]
    delimiter = "," if layout.kind == "csv" else layout.kind
    fields = line.split(delimiter)
    if len(fields) != len(names):  # a quoted CSV value holds a comma: leave this line alone
        return None
    if kind == "column_count":
        return delimiter.join(fields[:-1] if rng.random() < 0.5 else [*fields, "EXTRA"])
    targets = [
        i
        for i, n in enumerate(names)
        if (_is_date(n) if kind == "invalid_date" else n in CODE_COLUMNS) and fields[i]
    ]
    if not targets:
        return None
    i = rng.choice(targets)
    fields[i] = {"invalid_date": "13/45/2019" if "/" in fields[i] else "2019-13-45"}.get(kind, "ZZ9")
    return delimiter.join(fields)


def _duplicate_one(out: Path, files: list[Path], rng: random.Random) -> list[dict]:
    candidates = [p for p in files if _layout_of(p.relative_to(out).as_posix())]
    source = rng.choice(candidates)
    copy = source.with_name(f"{source.stem}_RESENT{source.suffix}")
    shutil.copyfile(source, copy)
    return [{"file": copy.relative_to(out).as_posix(), "copy_of": source.relative_to(out).as_posix()}]


def _encoding_error(out: Path, files: list[Path], rng: random.Random) -> dict:
    """One line of Latin-1 bytes in a UTF-8 CSV file: 'MU\\xd1OZ' cannot be decoded."""
    csvs = [
        p
        for p in files
        if p.suffix == ".csv"
        and (layout := _layout_of(p.relative_to(out).as_posix()))
        and layout.kind == "csv"
        and not p.name.startswith("EMPLOYERS")
    ]
    target = rng.choice(csvs)
    layout = _layout_of(target.relative_to(out).as_posix())
    data = target.read_bytes().splitlines(keepends=True)
    row = ",".join(["X"] * (len(layout.columns) - 1) + ["MU\u00d1OZ"]).encode("latin-1") + b"\n"
    position = min(len(data), 1 + rng.randrange(max(1, len(data) - 1)))
    data.insert(position, row)
    target.write_bytes(b"".join(data))
    return {"file": target.relative_to(out).as_posix(), "line": position + 1, "kind": "encoding"}
