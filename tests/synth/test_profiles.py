"""Generator profiles: the default world unchanged, a dirty world whose impossible birth dates land as
missing data (counted, not quarantined), and a mobile world of commuters and movers."""

from __future__ import annotations

import random
import shutil
from datetime import date

import pytest
from pyspark.sql import functions as F

from lakehouse.errors import SettingsError
from lakehouse.sources.landing import land
from lakehouse.storage import open_storage
from lakehouse.synth.generate import generate
from lakehouse.synth.identity import ImpossibleDate
from lakehouse.synth.life import simulate
from lakehouse.synth.life_work import commute_zone, job_county
from lakehouse.synth.profiles import PROFILES, with_profile
from lakehouse.synth.world import build_world
from lakehouse.tables import BRONZE_QUARANTINE

from .conftest import synth_settings


def test_the_default_profile_is_the_settings_and_others_change_only_what_they_name():
    synth = synth_settings(persons=100, seed=3)
    assert with_profile(synth, "default") == synth
    dirty = with_profile(synth, "dirty")
    assert dirty.noise.typo == pytest.approx(3 * synth.noise.typo)
    assert dirty.noise.impossible_dob > 0 and dirty.rates == synth.rates
    mobile = with_profile(synth, "mobile")
    assert mobile.noise == synth.noise and mobile.rates.commute == 0.2
    assert set(PROFILES) == {"default", "dirty", "mobile"}
    with pytest.raises(SettingsError, match="unknown generator profile 'messy'"):
        with_profile(synth, "messy")


def test_impossible_dates_are_written_in_each_agencys_format():
    day = ImpossibleDate(1984, 2, 30)
    assert (day.strftime("%m/%d/%Y"), day.strftime("%Y%m%d"), day.isoformat()) == (
        "02/30/1984",
        "19840230",
        "1984-02-30",
    )


@pytest.mark.slow
def test_a_dirty_state_lands_its_impossible_birth_dates_as_missing_data(spark, settings, tmp_path):
    raw = tmp_path / "raw"
    generate(spark, with_profile(synth_settings(persons=250, seed=7), "dirty"), raw)
    report = land(spark, open_storage(spark, settings), str(raw))
    counted = sum(sum(f.get("unparseable", {}).values()) for f in report["files"].values())
    assert counted > 3  # about 1% of ~1,500 records, on each of their rows
    assert all(f["raw"] == f["landed"] + f["quarantined"] for f in report["files"].values() if "raw" in f)
    quarantine = open_storage(spark, settings).read(BRONZE_QUARANTINE)
    assert quarantine.where(F.col("reason").contains("BIRTH") | F.col("reason").contains("DOB")).count() == 0
    assert quarantine.count() == 0  # nothing else in a generated state is broken
    shutil.rmtree(raw)


def test_a_mobile_world_has_commuters_and_movers_and_the_default_has_none():
    synth = synth_settings(persons=600, seed=4)
    world = build_world(synth.seed, synth.persons)
    employer_county = {e.account: e.county for es in world.employers.values() for e in es.items}

    def away(cfg) -> tuple[int, int, int]:
        jobs = elsewhere = movers = 0
        for pid in range(cfg.persons):
            life = simulate(pid, world, cfg)
            movers += bool(life.moves)
            for yrqtr, account, _ in life.wages:
                if account not in employer_county:
                    continue  # a school district's payroll
                day = date(yrqtr // 10, 3 * (yrqtr % 10) - 1, 15)
                jobs += 1
                county = employer_county[account]
                elsewhere += county != life.county_on(day)
        return jobs, elsewhere, movers

    jobs, elsewhere, movers = away(synth)
    assert jobs > 1000 and elsewhere == 0 and movers == 0
    jobs, elsewhere, movers = away(with_profile(synth, "mobile"))
    assert 0.05 < elsewhere / jobs < 0.35 and movers > 20


def test_a_commuter_works_in_another_county_of_the_same_labor_market():
    synth = with_profile(synth_settings(persons=100, seed=4), "mobile")
    always = synth.model_copy(update={"rates": synth.rates.model_copy(update={"commute": 1.0})})
    world = build_world(synth.seed, synth.persons)
    life = simulate(1, world, synth)
    rng = random.Random(1)
    for _ in range(50):
        county = job_county(life, date(2020, 1, 1), rng, world, always)
        home = life.county_on(date(2020, 1, 1))
        assert county != home and commute_zone(world, county) == commute_zone(world, home)
