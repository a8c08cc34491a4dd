"""Find restricted values where they must not be: a scan an operator (and the test suite) runs on a lake.

Three scans, each a count of hits by kind:

- **files**: every file under a folder (the var dir, an event-log dir, a site) outside the restricted
  and raw roots, read as bytes, for SSNs and CTC document numbers the raw extracts hold, and for the
  PII key: its text, or any 8-byte run of `key ^ ipad` / `key ^ opad` (the two HMAC pads an HMAC
  composed from Spark expressions would print in a plan), as raw bytes or as hex in either case; and
  for birth dates of person records written as ISO dates (report.json, Data Docs).
- **tables**: every string value of every Delta table outside the restricted root, for the same SSNs
  and document numbers (an SSN is found inside a longer value too, e.g. an `ACCOUNT-SSN` key), and
  the run log and quality results (`ops`) for birth dates of person records.
- **restricted tables**: the same SSN scan on the silver and identity tables of the restricted root,
  which may hold SSN tokens but never an SSN.

The restricted values come from the bronze tables (which hold the raw text), so the scan needs no
access to the raw files, and it reports counts and places, never the values it found.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

# Nine digits standing alone (a hex token's digit runs are bounded by letters: those are not SSNs).
_NINE_DIGITS = re.compile(rb"(?<![0-9A-Za-z])([0-9]{3})-?([0-9]{2})-?([0-9]{4})(?![0-9A-Za-z])")
_ISO_DATE = re.compile(rb"(?<![0-9])(19|20)[0-9]{2}-[01][0-9]-[0-3][0-9](?![0-9])")
_SSN_COLUMNS = re.compile(r"(^|_)ssn$", re.IGNORECASE)
_DOC_COLUMNS = ("DOC_NUMBER",)
# The layers `scan_tables` reads by default (bronze, the raw text, is where the values come from).
SCANNED_LAYERS = ("silver", "identity", "gold", "ops")


@dataclass(frozen=True)
class Needles:
    """What to look for: 9-digit SSNs, document numbers, and byte strings of the key."""

    ssns: frozenset[bytes]
    documents: frozenset[bytes]
    key: tuple[bytes, ...] = ()
    birth_dates: frozenset[bytes] = frozenset()  # ISO; looked for in files only (tables hold dates)


@dataclass
class ScanResult:
    hits: Counter = field(default_factory=Counter)  # kind -> hits
    places: dict[str, set[str]] = field(default_factory=dict)  # kind -> files or table.columns

    def add(self, kind: str, place: str, n: int) -> None:
        if n:
            self.hits[kind] += n
            self.places.setdefault(kind, set()).add(place)

    def total(self) -> int:
        return sum(self.hits.values())


def key_fragments(key: bytes, run: int = 8) -> tuple[bytes, ...]:
    """The key's text, and every `run`-byte window of the HMAC pads, raw and in hex."""
    block = key if len(key) <= 64 else hashlib.sha256(key).digest()
    block = block.ljust(64, b"\0")
    out = {key}
    for pad in (0x36, 0x5C):
        padded = bytes(b ^ pad for b in block)
        for i in range(len(padded) - run + 1):
            window = padded[i : i + run]
            if window.strip(bytes([pad])):  # a window of padding alone is no secret
                out.update((window, window.hex().encode(), window.hex().upper().encode()))
    return tuple(sorted(out))


def restricted_needles(restricted_root: str | Path, *, key: bytes | None = None) -> Needles:
    """SSNs (9 digits) and CTC document numbers from the bronze tables of `restricted_root`, and the
    birth dates of `silver.person_records` (ISO)."""
    bronze = Path(restricted_root) / "bronze"
    ssns: set[bytes] = set()
    docs: set[bytes] = set()
    for table in sorted(p for p in bronze.iterdir() if p.is_dir()) if bronze.is_dir() else []:
        dataset = _dataset(table)
        if dataset is None:
            continue
        for name in dataset.schema.names:
            if _SSN_COLUMNS.search(name):
                for value in _strings(dataset, name):
                    digits = re.sub(r"[^0-9]", "", value)
                    if len(digits) == 9:
                        ssns.add(digits.encode())
            elif name in _DOC_COLUMNS:
                docs.update(v.strip().encode() for v in _strings(dataset, name) if len(v.strip()) >= 6)
    births: set[bytes] = set()
    records = _dataset(Path(restricted_root) / "silver" / "person_records")
    if records is not None:
        column = records.to_table(columns=["birth_date"]).column("birth_date").unique()
        births = {d.isoformat().encode() for d in column.to_pylist() if d is not None}
    return Needles(frozenset(ssns), frozenset(docs), key_fragments(key) if key else (), frozenset(births))


def scan_files(folder: str | Path, needles: Needles, *, skip: Iterable[str | Path] = ()) -> ScanResult:
    """Hits in every file under `folder`, except under the folders of `skip` (Parquet data files are
    left to `scan_tables`, which reads their values)."""
    skipped = [Path(s).resolve() for s in skip]
    result = ScanResult()
    for path in sorted(Path(folder).rglob("*")):
        resolved = path.resolve()
        if not path.is_file() or any(resolved.is_relative_to(s) for s in skipped):
            continue
        if path.suffix == ".parquet" or path.name.endswith(".crc"):
            continue
        _count(_read(path), needles, str(path), result)
    return result


def scan_bytes(data: bytes, needles: Needles, place: str = "text") -> ScanResult:
    """Hits in one piece of text or bytes (a command's output, a log)."""
    result = ScanResult()
    _count(data, needles, place, result)
    return result


def scan_tables(root: str | Path, needles: Needles, *, layers: Iterable[str] = SCANNED_LAYERS) -> ScanResult:
    """Hits in the string columns of every Delta table `<root>/<layer>/<name>` of `layers`."""
    result = ScanResult()
    for layer in layers:
        folder = Path(root) / layer
        if not folder.is_dir():
            continue
        for table in sorted(p for p in folder.iterdir() if p.is_dir()):
            dataset = _dataset(table)
            if dataset is None:
                continue
            for name, kind in zip(dataset.schema.names, dataset.schema.types, strict=True):
                if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                    blob = "\n".join(_strings(dataset, name)).encode()
                    # Birth dates only in the run log and quality results: data tables hold dates.
                    place = f"{layer}.{table.name}.{name}"
                    _count(blob, needles, place, result, key=False, births=layer == "ops")
    return result


def _count(
    data: bytes, needles: Needles, place: str, result: ScanResult, *, key: bool = True, births: bool = True
) -> None:
    if needles.ssns:
        found = sum(1 for m in _NINE_DIGITS.finditer(data) if b"".join(m.groups()) in needles.ssns)
        result.add("ssn", place, found)
    for doc in needles.documents:
        result.add("document_number", place, data.count(doc))
    if key:
        result.add("pii_key", place, sum(1 for k in needles.key if k in data))
    if births and needles.birth_dates:
        found = {m.group(0) for m in _ISO_DATE.finditer(data)} & needles.birth_dates
        result.add("birth_date", place, len(found))


def _read(path: Path) -> bytes:
    """A file's bytes; Spark's zstd-compressed event logs (its default codec) decompressed."""
    if path.suffix in (".zstd", ".zst"):
        return pa.input_stream(str(path), compression="zstd").read()
    return path.read_bytes()


def _dataset(table: Path) -> ds.Dataset | None:
    files = [str(p) for p in table.rglob("*.parquet") if "_staging" not in p.parts]
    if not files:
        return None
    return ds.dataset(files, format="parquet")


def _strings(dataset: ds.Dataset, column: str) -> list[str]:
    values = dataset.to_table(columns=[column]).column(column)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return []
    return [v for v in values.unique().to_pylist() if v]
