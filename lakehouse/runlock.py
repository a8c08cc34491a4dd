"""One `c2c run` at a time on a lake: a lock file at the lake root.

`<storage.root>/_c2c_run.lock` names the run that holds the lake: run id, host, pid and start time. It
is created with O_CREAT|O_EXCL, so of two runs starting at once exactly one gets it, and removed when
the run ends, however it ends. A lock is stale when it is older than `C2C_LOCK_STALE_HOURS` (default
24) or when its process is gone from this host; a run that finds a stale lock takes it over and says
so on stderr. Object-store roots (`s3a://...`) are not locked: creating a file there is not exclusive,
so whoever schedules runs on them keeps to one at a time.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from lakehouse.errors import C2CError, SettingsError

LOCK_NAME = "_c2c_run.lock"
STALE_HOURS_VAR = "C2C_LOCK_STALE_HOURS"
DEFAULT_STALE_HOURS = 24.0
# A lock file is written right after it is created; one still unreadable after this long never will be.
_UNREADABLE_GRACE = timedelta(seconds=10)


class RunLockError(C2CError):
    """The lock file cannot be created or read where the lake is (permissions, a read-only disk)."""


class RunLockHeld(C2CError):
    """Another run holds the lake."""

    def __init__(self, path: Path, holder: Holder) -> None:
        self.path = path
        self.holder = holder
        super().__init__(
            f"another c2c run holds the lake: run {holder.run_id} on host {holder.host}, pid {holder.pid}, "
            f"started {holder.started_at} (lock {path}). If that run is no longer running, delete {path} "
            f"and start again; a lock is taken over by itself once its pid is gone on {holder.host} or "
            f"after {stale_after_hours():g} h ({STALE_HOURS_VAR})."
        )


@dataclass(frozen=True)
class Holder:
    """What the lock file holds: the run that took it and where it runs."""

    run_id: str
    host: str
    pid: int
    started_at: str  # ISO 8601, UTC

    def text(self) -> str:
        return json.dumps(asdict(self)) + "\n"

    def describe(self) -> str:
        return f"run {self.run_id} on host {self.host}, pid {self.pid}, started {self.started_at}"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """The holder a lock file names, or None when it is empty or not a lock this module wrote."""
        try:
            data = json.loads(text)
            return cls(str(data["run_id"]), str(data["host"]), int(data["pid"]), str(data["started_at"]))
        except (ValueError, TypeError, KeyError):
            return None


def stale_after_hours() -> float:
    """Hours after which a lock is stale: `C2C_LOCK_STALE_HOURS`, or 24."""
    value = os.environ.get(STALE_HOURS_VAR, "").strip()
    if not value:
        return DEFAULT_STALE_HOURS
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if not 0 < hours < 1e6:  # also refuses nan and inf
        raise SettingsError(
            f"environment variable {STALE_HOURS_VAR}={value!r}: expected a number of hours above 0"
        )
    return hours


def stale_reason(
    holder: Holder | None, age: timedelta, *, host: str, pid: int, limit: timedelta
) -> str | None:
    """Why a lock of this `age` held by `holder` is stale, seen from process `pid` on `host`; None when
    it is not. `holder` None is a lock file that could not be parsed."""
    if holder is None:
        return "its file is unreadable" if age > _UNREADABLE_GRACE else None
    if age > limit:
        return f"it is older than {limit.total_seconds() / 3600:g} h ({STALE_HOURS_VAR})"
    # A restarted container has the same host name and pid: our own pid is never another run's.
    if holder.host == host and (holder.pid == pid or not _alive(holder.pid)):
        return f"its process {holder.pid} is gone"
    return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def local_lock_path(root: str) -> Path | None:
    """The lock file of a lake root, or None for an object store (no exclusive create there)."""
    if root.startswith("file://"):
        return Path(root.removeprefix("file://")) / LOCK_NAME
    if "://" in root:
        return None
    return Path(root) / LOCK_NAME


def acquire(path: Path, run_id: str) -> Holder:
    """Take the lock at `path` for `run_id`, taking over a stale one; RunLockHeld when a live run has it."""
    me = Holder(run_id, socket.gethostname(), os.getpid(), datetime.now(UTC).isoformat(timespec="seconds"))
    limit = timedelta(hours=stale_after_hours())
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for _ in range(100):  # each turn either takes the lock, or saw it change under it
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                seen = _read(path)
                if seen is None:
                    continue  # released meanwhile
                text, age = seen
                holder = Holder.parse(text)
                reason = stale_reason(holder, age, host=me.host, pid=me.pid, limit=limit)
                if reason is None:
                    if holder is None:  # being written this instant
                        time.sleep(0.2)
                        continue
                    raise RunLockHeld(path, holder) from None
                if _remove_if_unchanged(path, text):
                    who = holder.describe() if holder else "an unreadable lock"
                    print(f"c2c: taking over a stale lake lock ({who}): {reason}", file=sys.stderr)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(me.text())
                f.flush()
                os.fsync(f.fileno())
            return me
    except OSError as exc:
        raise RunLockError(
            f"cannot take the lake lock {path}: {exc.strerror or exc}. The user running c2c must be able "
            f"to create files in {path.parent}."
        ) from exc
    raise RunLockError(f"the lake lock {path} kept changing while this run tried to take it; start again")


def _read(path: Path) -> tuple[str, timedelta] | None:
    """The lock file's text and its age (from its start time, else its mtime); None if it is gone."""
    try:
        text = path.read_text()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return None
    holder = Holder.parse(text)
    started = mtime
    if holder is not None:
        with suppress(ValueError):
            started = datetime.fromisoformat(holder.started_at)
    return text, datetime.now(UTC) - started


def _remove_if_unchanged(path: Path, text: str) -> bool:
    """Remove the lock if it still holds `text`. Moving it aside first is atomic: of two runs taking over
    the same stale lock, one moves it; the other moves nothing, or the winner's new lock, which it puts
    back."""
    aside = path.with_name(f"{path.name}.{os.getpid()}-{uuid4().hex[:8]}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return False
    try:
        if aside.read_text() == text:
            return True
        with suppress(FileExistsError):  # not ours to remove: put it back unless yet another lock exists
            os.link(aside, path)
        return False
    finally:
        aside.unlink()


def release(path: Path, holder: Holder) -> None:
    """Remove the lock if it is still `holder`'s (a run that outlived the stale timeout may have lost it)."""
    try:
        if Holder.parse(path.read_text()) == holder:
            path.unlink()
    except FileNotFoundError:
        pass


@contextmanager
def run_lock(root: str, run_id: str) -> Iterator[Holder | None]:
    """Hold the lake at `root` for `run_id` while the block runs; None (no lock) for object stores."""
    path = local_lock_path(root)
    if path is None:
        yield None
        return
    holder = acquire(path, run_id)
    try:
        yield holder
    finally:
        release(path, holder)
