"""Generator profiles: named worlds beside the default one, so that identity resolution is measured on
more than the world it was built on. Each is a set of changes to the `synth` settings.

- `default`: the settings as they are (`conf/base.yml`).
- `dirty`: about three times the typos, nicknames, swapped names, birth-date and SSN errors; twice the
  missing middle names, five times the missing genders; birth dates missing from 3% of records and
  impossible (month 13, day 32, February 30) in 1%.
- `mobile`: a fifth of new jobs are in another county of the worker's labor market (ACS county-to-
  county commuting: a fifth to a quarter of workers work outside their county of residence, mostly
  within their metro area), and adults move to another county at 3% a year (later jobs and benefit
  spells follow them; school records do not).

The truth files are exact in every profile: the noise is in the extracts only.
"""

from __future__ import annotations

from typing import Any

from lakehouse.errors import SettingsError
from lakehouse.settings import SynthSettings

PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "default": {},
    "dirty": {
        "noise": {
            "typo": 0.06,
            "nickname": 0.12,
            "swap_names": 0.03,
            "dob_swap": 0.03,
            "dob_typo": 0.03,
            "ssn_transpose": 0.03,
            "ssn_typo": 0.015,
            "missing_middle": 0.6,
            "missing_gender": 0.05,
            "missing_dob": 0.03,
            "impossible_dob": 0.01,
        }
    },
    "mobile": {"rates": {"commute": 0.2, "adult_move": 0.03}},
}


def with_profile(synth: SynthSettings, profile: str) -> SynthSettings:
    """`synth` with the profile's changes (validated like settings)."""
    if profile not in PROFILES:
        raise SettingsError(f"unknown generator profile '{profile}' (profiles: {', '.join(PROFILES)})")
    data = synth.model_dump()
    for section, changes in PROFILES[profile].items():
        data[section] = {**data[section], **changes}
    return SynthSettings.model_validate(data)
