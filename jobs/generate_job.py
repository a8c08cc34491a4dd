"""`c2c generate`: write a synthetic state's agency extracts and ground truth (lakehouse/synth)."""

from __future__ import annotations

import time
from pathlib import Path

from lakehouse.settings import Settings
from lakehouse.spark import build_spark
from lakehouse.synth.corrupt import corrupt
from lakehouse.synth.generate import GenerateError, generate
from lakehouse.synth.profiles import with_profile


def main(
    settings: Settings,
    *,
    persons: int | None,
    seed: int | None,
    profile: str = "default",
    out: str | None,
    first_year: int | None,
    last_year: int | None,
    corrupt_rate: float,
) -> int:
    updates = {
        k: v
        for k, v in {
            "persons": persons,
            "seed": seed,
            "first_year": first_year,
            "last_year": last_year,
        }.items()
        if v is not None
    }
    cfg = with_profile(settings.synth, profile).model_copy(update=updates)
    if cfg.persons <= 0:
        raise GenerateError(f"--persons must be positive, not {cfg.persons}")
    if not 0 <= corrupt_rate < 0.5:
        raise GenerateError(f"--corrupt-rate must lie in [0, 0.5), not {corrupt_rate}")
    target = Path(out) if out else Path(settings.storage.raw_root)
    spark = build_spark(settings)
    started = time.perf_counter()
    result = generate(spark, cfg, target)
    if corrupt_rate > 0:
        manifest = corrupt(target, corrupt_rate, cfg.seed)
        print(
            f"corrupted: {len(manifest['injections'])} lines, {len(manifest['duplicated_files'])} duplicated "
            f"file(s); see {target / '_truth' / 'corruption_manifest.json'}"
        )
    seconds = time.perf_counter() - started
    print(
        f"generated {result.persons:,} people ({cfg.first_year}-{cfg.last_year}, seed {cfg.seed}, "
        f"profile {profile}) "
        f"in {seconds:.1f}s: "
        f"{result.files} files, {result.lines:,} lines, {result.truth_records:,} person records"
    )
    print(f"  extracts: {target}")
    print(f"  truth:    {target / '_truth'}")
    return 0
