"""Researcher rosters with known truth, for measuring `c2c link`: people drawn from the generator's name
tables, each record of them written through the generator's own noise (`identity.noisy`) under a
profile's noise settings, impossible birth dates included.

- `two_files`: a left and a right roster, each holding a person at most once; most people are in both.
- `one_file`: one roster in which some people appear two to four times.

Rows are dicts of text: id, first, middle, last, dob (yyyy-mm-dd as keyed, possibly impossible),
gender, ssn (blank where the agency had none), zip. The truth maps each id to a person number.
"""

from __future__ import annotations

import random
from datetime import date

from lakehouse.settings import SynthSettings, load_settings
from lakehouse.synth.identity import TrueIdentity, noisy, ssn_for
from lakehouse.synth.profiles import with_profile
from lakehouse.synth.world import World, build_world

COLUMNS = ("id", "first", "middle", "last", "dob", "gender", "ssn", "zip")
MAP = "first=given_name,middle=middle_name,last=family_name,dob=birth_date,gender=gender,ssn=ssn,zip=zip"
# Rosters always hold some impossible birth dates (month 13, day 32), whatever the profile.
IMPOSSIBLE_DOB = 0.01
SSN_COVERAGE = 0.7  # share of records that carry an SSN


def _people(world: World, n: int, rng: random.Random, seed: int) -> list[tuple[TrueIdentity, str]]:
    groups = sorted(world.last_names)
    people = []
    for pid in range(n):
        group, sex = rng.choice(groups), rng.choice("MF")
        first_names = world.first_names[(sex, group)]
        birth = date(1950, 1, 1).toordinal() + rng.randrange(60 * 365)
        true = TrueIdentity(
            first=first_names.pick(rng),
            middle=first_names.pick(rng) if rng.random() < 0.6 else "",
            last=world.last_names[group].pick(rng),
            birth=date.fromordinal(birth),
            sex=sex,
            ssn=ssn_for(pid, seed),
        )
        people.append((true, f"9{rng.randrange(1000, 6200):04d}"))
    return people


def _record(true: TrueIdentity, zip_code: str, key: str, rng: random.Random, synth: SynthSettings,
            world: World) -> dict[str, str]:  # fmt: skip
    noise = synth.noise.model_copy(update={"impossible_dob": max(synth.noise.impossible_dob, IMPOSSIBLE_DOB)})
    row = _one(true, zip_code, key, rng, synth.model_copy(update={"noise": noise}), world, SSN_COVERAGE)
    if rng.random() < 0.3:  # records made years apart: about a third of people have moved
        row["zip"] = f"9{rng.randrange(1000, 6200):04d}"
    return row


def _setup(profile: str, persons: int, seed: int) -> tuple[SynthSettings, World, random.Random]:
    base = load_settings("local").synth.model_copy(update={"seed": seed})
    synth = with_profile(base, profile)
    return synth, build_world(seed, persons), random.Random(f"rosters|{profile}|{seed}")


def two_files(persons: int, *, profile: str = "default", seed: int = 11, overlap: float = 0.8):
    """(left rows, right rows, truth pairs {(left id, right id)}): every person on the left, `overlap`
    of them on the right as well, and a fifth more people on the right only."""
    synth, world, rng = _setup(profile, persons, seed)
    people = _people(world, persons + persons // 5, rng, seed)
    left, right, truth = [], [], set()
    for pid, (true, zip_code) in enumerate(people):
        on_left = pid < persons
        on_right = pid >= persons or rng.random() < overlap
        if on_left:
            left.append(_record(true, zip_code, f"A{pid:06d}", rng, synth, world))
        if on_right:
            right.append(_record(true, zip_code, f"B{pid:06d}", rng, synth, world))
        if on_left and on_right:
            truth.add((f"A{pid:06d}", f"B{pid:06d}"))
    rng.shuffle(right)
    return left, right, truth


def one_file(persons: int, *, profile: str = "default", seed: int = 11, duplicated: float = 0.3):
    """(rows, truth {id: person}): every person once, and `duplicated` of them two to four times."""
    synth, world, rng = _setup(profile, persons, seed)
    rows, truth = [], {}
    for pid, (true, zip_code) in enumerate(_people(world, persons, rng, seed)):
        copies = 1 + (rng.choice((1, 1, 2, 3)) if rng.random() < duplicated else 0)
        for copy in range(copies):
            key = f"P{pid:06d}-{copy}"
            rows.append(_record(true, zip_code, key, rng, synth, world))
            truth[key] = pid
    rng.shuffle(rows)
    return rows, truth


def true_pairs(truth: dict[str, int]) -> set[tuple[str, str]]:
    """The pairs of ids (sorted within the pair) that are one person, from `one_file`'s truth."""
    by_person: dict[int, list[str]] = {}
    for key, pid in truth.items():
        by_person.setdefault(pid, []).append(key)
    return {(a, b) for keys in by_person.values() for a in keys for b in keys if a < b}


# The noise kinds of `identity.noisy` that one record can carry on its own (`one_kind_each`).
NOISE_KINDS = (
    "typo", "nickname", "swap_names", "compound_partial", "dob_swap", "dob_typo", "ssn_transpose",
    "ssn_typo", "missing_gender", "missing_dob", "impossible_dob",
)  # fmt: skip


def one_kind_each(persons: int, *, seed: int = 5):
    """(left rows, right rows, truth pairs, kind of each right id): every person once on the left as
    the generator draws them with no noise, and once on the right with exactly one noise kind (the
    kinds taken in turn; a kind that cannot apply, such as a nickname for a name that has none,
    leaves the record as it is). Half the records carry an SSN, all of them for the SSN kinds."""
    synth, world, rng = _setup("default", persons, seed)
    quiet = {name: 0.0 for name in type(synth.noise).model_fields}
    clean = synth.model_copy(update={"noise": synth.noise.model_copy(update=quiet)})
    left, right, truth, kind_of = [], [], set(), {}
    for pid, (true, zip_code) in enumerate(_people(world, persons, rng, seed)):
        kind = NOISE_KINDS[pid % len(NOISE_KINDS)]
        noisy_one = clean.model_copy(update={"noise": clean.noise.model_copy(update={kind: 1.0})})
        coverage = 1.0 if kind.startswith("ssn") else 0.5
        left_row = _one(true, zip_code, f"A{pid:06d}", rng, clean, world, coverage)
        right_row = _one(true, zip_code, f"B{pid:06d}", rng, noisy_one, world, coverage)
        left.append(left_row)
        right.append(right_row)
        truth.add((left_row["id"], right_row["id"]))
        kind_of[right_row["id"]] = kind
    rng.shuffle(right)
    return left, right, truth, kind_of


def _one(true: TrueIdentity, zip_code: str, key: str, rng: random.Random, synth: SynthSettings, world: World,
         coverage: float) -> dict[str, str]:  # fmt: skip
    got = noisy(true, rng, synth.noise, world.nicknames, ssn_coverage=coverage)
    return {
        "id": key,
        "first": got.first,
        "middle": got.middle,
        "last": got.last,
        "dob": got.birth.isoformat() if got.birth else "",
        "gender": got.sex,
        "ssn": got.ssn,
        "zip": zip_code,
    }
