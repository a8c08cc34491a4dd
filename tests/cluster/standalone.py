"""A Spark standalone cluster on 127.0.0.1: one master and N workers, started from pip's pyspark
distribution (`pyspark/bin/spark-class`), each worker with 1 core. Stopped by `stop()`, which ends the
process group of every process it started (the workers' executors are in their groups)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

SPARK_HOME = Path(find_spec("pyspark").origin).parent
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Standalone:
    root: Path
    master_url: str = ""
    ui_url: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def worker_dirs(self) -> list[Path]:
        return sorted(self.root.glob("worker-*/work"))

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SPARK_HOME": str(SPARK_HOME),
            "SPARK_LOCAL_IP": "127.0.0.1",
            # An empty conf dir: no spark-defaults.conf or spark-env.sh of this machine leaks in.
            "SPARK_CONF_DIR": str(self.root / "spark-conf"),
        }

    def _spawn(self, name: str, *args: str) -> None:
        log = (self.root / f"{name}.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                [str(SPARK_HOME / "bin" / "spark-class"), *args],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() reaches its children too
            )
        )

    def start(self, workers: int = 2, worker_memory: str = "2g", timeout: float = 180) -> Standalone:
        (self.root / "spark-conf").mkdir(parents=True, exist_ok=True)
        port, ui = free_port(), free_port()
        self.master_url, self.ui_url = f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui}"
        self._spawn(
            "master", MASTER_CLASS, "--host", "127.0.0.1", "--port", str(port), "--webui-port", f"{ui}"
        )
        for n in range(workers):
            work = self.root / f"worker-{n}" / "work"
            work.mkdir(parents=True)
            self._spawn(
                f"worker-{n}",
                WORKER_CLASS,
                "--host", "127.0.0.1",
                "--cores", "1",
                "--memory", worker_memory,
                "--work-dir", str(work),
                "--webui-port", "0",
                self.master_url,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"a cluster process exited early; logs in {self.root}")
            state = self.state()
            if state and state.get("aliveworkers") == workers:
                return self
            time.sleep(1)
        raise RuntimeError(f"{workers} workers did not register within {timeout:.0f}s; logs in {self.root}")

    def state(self) -> dict | None:
        """The master's status page as JSON (workers, running and completed applications)."""
        try:
            with urllib.request.urlopen(f"{self.ui_url}/json/", timeout=5) as resp:
                return json.load(resp)
        except OSError:
            return None

    def stop(self) -> None:
        """SIGTERM each started process group, then SIGKILL what is still there after 15 s."""
        for p in self.processes:
            if p.poll() is None:
                _signal_group(p, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(p, signal.SIGKILL)  # executors the worker left behind, if any
            p.wait()


def _signal_group(p: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, sig)  # start_new_session: the group id is the pid we started
