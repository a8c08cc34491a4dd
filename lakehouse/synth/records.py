"""Turning one simulated life into agency extract lines, with the identity each agency recorded.

`Recorder` hands out one noisy identity per (source, source record key), the first time a source sees
the person, and writes the ground-truth row for it. Lines are (file, sort key, text) triples; the
Spark job groups them into files. Layouts (columns, delimiters, widths) live in `layouts.py`.
"""

from __future__ import annotations

import json
import random
from datetime import date

from lakehouse.settings import SynthSettings
from lakehouse.sources.layouts import LAYOUTS
from lakehouse.synth import identity as ids
from lakehouse.synth.identity import RecordIdentity, TrueIdentity, noisy
from lakehouse.synth.life import Life
from lakehouse.synth.world import World

TRUTH_FILE = "_truth/person_truth.csv"
_NAMES = {family: tuple(name for name, _ in layout.columns) for family, layout in LAYOUTS.items()}
Line = tuple[str, str, str]


class Recorder:
    def __init__(self, life: Life, world: World, cfg: SynthSettings) -> None:
        self.life, self.world, self.cfg = life, world, cfg
        self.identities: dict[tuple[str, str], RecordIdentity] = {}
        self.lines: list[Line] = []
        self.memo: dict[tuple[str, str], str] = {}  # draws that depend on the person and a key only

    def identity(self, source: str, key: str, as_of: date) -> RecordIdentity:
        """The identity `source` holds for record `key`, fixed when the record was first created."""
        found = self.identities.get((source, key))
        if found is None:
            life = self.life
            true = TrueIdentity(
                life.first, life.middle, life.last_name_on(as_of), life.birth, life.sex, life.ssn
            )
            rng = random.Random(f"{self.cfg.seed}|record|{life.pid}|{source}|{key}")
            coverage = self.cfg.ssn_coverage.get(source, 0.0)
            found = noisy(true, rng, self.cfg.noise, self.world.nicknames, ssn_coverage=coverage)
            self.identities[(source, key)] = found
            self.lines.append((TRUTH_FILE, f"{source}|{key}", csv_line([source, key, str(life.pid)])))
        return found

    def emit(self, family: str, suffix: str, sort_key: str, values: dict[str, object]) -> None:
        """One extract row of layout `family`, in file `<dir>/<family>_<suffix>.<ext>`."""
        layout = LAYOUTS[family]
        get = values.get
        fields = [_text(get(name)) for name in _NAMES[family]]
        if layout.kind == "csv":
            text = csv_line(fields)
        elif layout.kind == "fixed":
            text = "".join(f[:w].ljust(w) for f, (_, w) in zip(fields, layout.columns, strict=True))
        elif layout.kind == "jsonl":
            raw = {name: values.get(name) for name, _ in layout.columns}
            text = json.dumps(
                {
                    k: (v if isinstance(v, int | float) or v is None else str(v) or None)
                    for k, v in raw.items()
                },
                ensure_ascii=False,
            )
        else:  # a delimited layout whose agency strips the delimiter from values
            text = layout.kind.join(f.replace(layout.kind, " ") for f in fields)
        self.lines.append((f"{layout.directory}/{family}_{suffix}.{layout.extension}", sort_key, text))


def _text(value: object) -> str:
    if value is None:
        return ""
    if type(value) is str:
        return value
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def csv_line(fields: list[str]) -> str:
    """RFC 4180: a field holding a comma, a quote or a newline is quoted, its quotes doubled."""
    line = ",".join(fields)
    # Most lines need no quoting: then the only commas are the separators.
    if line.count(",") == len(fields) - 1 and '"' not in line and "\n" not in line:
        return line
    return ",".join(f'"{f.replace(chr(34), chr(34) * 2)}"' if _needs_quotes(f) else f for f in fields)


def _needs_quotes(field: str) -> bool:
    return "," in field or '"' in field or "\n" in field


def ymd(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def mdy(day: date | None) -> str:
    return day.strftime("%m/%d/%Y") if day else ""


def iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def zip_code(life: Life) -> str:
    return f"9{int(life.county):02d}{life.pid % 100:02d}"


def in_window(rec: Recorder, year: int) -> bool:
    return rec.cfg.first_year <= year <= rec.cfg.last_year


def ay_label(ay: int) -> str:
    return f"{ay - 1}-{ay % 100:02d}"


def ssid_of(rec: Recorder, ay: int) -> str:
    """Some students get a second SSID after a move; the first one is used until then."""
    life = rec.life
    second_from = _second_ssid_from(rec)
    return ids.ssid_for(life.pid, rec.cfg.seed, 1 if second_from and ay >= second_from else 0)


def _second_ssid_from(rec: Recorder) -> int | None:
    moves = [y.ay + 1 for y in rec.life.k12 if y.exit_code == "T160"]
    if moves and (rec.life.pid * 7919 + rec.cfg.seed) % 1000 < rec.cfg.noise.duplicate_id * 1000 * 8:
        return moves[0]
    return None


def ssid_on_record(rec: Recorder, source: str, key: str) -> str:
    life = rec.life
    coverage = rec.cfg.ssid_coverage.get(source, 0.0)
    if not life.k12 or random.Random(f"{rec.cfg.seed}|ssid|{life.pid}|{source}|{key}").random() >= coverage:
        return ""
    return ssid_of(rec, life.k12[-1].ay)
