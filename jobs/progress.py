"""What `c2c run` prints as it goes: one line per layer when it starts and when it is done, with
counts and the time it took (`bronze: 688 files, 31.2M rows landed, 4m12s`). `--quiet` (schedulers)
prints none of it; the run report keeps the same timings whatever is printed."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def elapsed(seconds: float) -> str:
    """12.3s, 4m12s, 1h03m."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def count(n: float) -> str:
    """A row count as people read it: 812, 31.2k, 31.2M, 1.4B."""
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{int(n)}"


class Progress:
    """Prints `<layer>: <what>` lines on `stream` (stdout by default), unless quiet."""

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream
        self.started = time.perf_counter()

    def say(self, layer: str, what: str, seconds: float | None = None) -> None:
        if self.quiet:
            return
        tail = f", {elapsed(seconds)}" if seconds is not None else ""
        print(f"{layer}: {what}{tail}", file=self.stream or sys.stdout, flush=True)
