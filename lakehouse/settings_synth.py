"""The `synth` section of the settings: the synthetic state's size, window, rates and identity noise,
and the 15 sources it writes. Loaded and validated with the rest by `lakehouse.settings`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


SOURCES = (
    "cde_elc",
    "calpads",
    "calpads_staff",
    "ccc",
    "csu",
    "uc",
    "aiccu",
    "csac",
    "ctc",
    "edd",
    "cdss",
    "dhcs",
    "dor",
    "dds",
    "wioa",
)


class SynthRates(_Strict):
    """Life-course rates of the synthetic state (approximate public figures; see docs/domain.md)."""

    twins: float = Field(0.015, ge=0, le=0.2)
    no_ssn: float = Field(0.05, ge=0, le=1)
    in_migration: float = Field(0.15, ge=0, le=1)
    out_migration: float = Field(0.012, ge=0, le=0.2)
    dropout_hazard: float = Field(0.022, ge=0, le=0.5)
    college_going: float = Field(0.64, ge=0, le=1)
    teacher_prep: float = Field(0.12, ge=0, le=1)
    teacher_exit_hazard: float = Field(0.11, ge=0, le=1)
    marriage: float = Field(0.06, ge=0, le=1)
    name_change_on_marriage_f: float = Field(0.75, ge=0, le=1)
    name_change_on_marriage_m: float = Field(0.03, ge=0, le=1)
    # A job at an employer in another county of the worker's region (ACS commuting flows: a fifth to a
    # quarter of workers work outside their county of residence, most of them within their metro area).
    commute: float = Field(0.0, ge=0, le=1)
    # Per adult year, a move to another county (employers and benefit spells follow the person).
    adult_move: float = Field(0.0, ge=0, le=0.5)


class SynthNoise(_Strict):
    """Identity noise per source person record."""

    typo: float = Field(0.02, ge=0, le=1)
    nickname: float = Field(0.04, ge=0, le=1)
    swap_names: float = Field(0.01, ge=0, le=1)
    compound_partial: float = Field(0.3, ge=0, le=1)
    dob_swap: float = Field(0.01, ge=0, le=1)
    dob_typo: float = Field(0.01, ge=0, le=1)
    ssn_transpose: float = Field(0.01, ge=0, le=1)
    ssn_typo: float = Field(0.005, ge=0, le=1)
    missing_middle: float = Field(0.3, ge=0, le=1)
    missing_gender: float = Field(0.01, ge=0, le=1)
    duplicate_id: float = Field(0.01, ge=0, le=1)
    missing_dob: float = Field(0.0, ge=0, le=1)  # the agency holds no birth date for the record
    impossible_dob: float = Field(0.0, ge=0, le=1)  # keyed as an impossible date (month 13, day 32, Feb 30)


class SynthSettings(_Strict):
    persons: int = Field(3000, gt=0)
    seed: int = 20261128
    first_year: int = Field(2006, ge=1990, le=2100)
    last_year: int = Field(2025, ge=1990, le=2100)
    rates: SynthRates = Field(default_factory=SynthRates)
    noise: SynthNoise = Field(default_factory=SynthNoise)
    ssn_coverage: dict[str, float] = Field(default_factory=dict)
    ssid_coverage: dict[str, float] = Field(default_factory=dict)
    bands: dict[str, tuple[float, float]] = Field(default_factory=dict)

    @field_validator("ssn_coverage", "ssid_coverage")
    @classmethod
    def _known_sources(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(SOURCES))
        if unknown:
            raise ValueError(f"unknown sources {unknown} (sources: {', '.join(SOURCES)})")
        bad = {k: v for k, v in value.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"coverage must lie in [0, 1]: {bad}")
        return value
