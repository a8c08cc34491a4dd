"""The real `c2c` CLI in a scratch working directory, and one shared end-to-end run of the pipeline.

`pipeline_run` (a session fixture in conftest) runs `c2c run` once on the embedded default (a generated
state of 3,000 people) in its own working directory; the CLI test, the site test and the notebook test read
what it left under `<workdir>/var`, so the whole pipeline runs once per test session, not once per test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

C2C = str(Path(sys.executable).with_name("c2c"))


def c2c(*args: str, cwd: Path, env: dict | None = None, timeout: int = 1500) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "C2C_ENV": "local", **(env or {})}
    return subprocess.run(
        [C2C, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


@dataclass(frozen=True)
class PipelineRun:
    workdir: Path  # the working directory `c2c run` ran in: var/raw, var/lake, var/site, var/runs under it
    run_id: str
    result: subprocess.CompletedProcess

    @property
    def var(self) -> Path:
        return self.workdir / "var"
