"""The metric catalog: conf/metrics.yml loads, and each kind of mistake stops with a message that names
the file, the mart and the metric."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakehouse.errors import SettingsError
from lakehouse.gold.catalog import Flow, Parts, load_catalog
from lakehouse.gold.cohorts import COHORTS
from lakehouse.gold.marts import mart_relations
from lakehouse.gold.outcomes import OUTCOMES
from lakehouse.privacy.cells import Relation

ROOT = Path(__file__).resolve().parents[2]


def shape(metric) -> tuple:
    return (metric.name, metric.kind, metric.outcome, metric.window, metric.among, metric.value)


def test_the_catalog_in_conf_loads():
    catalog = load_catalog(ROOT / "conf", cohorts=COHORTS, outcomes=OUTCOMES)
    assert (catalog.vintage, catalog.cpi_base_year, catalog.min_cell_size, catalog.employment_threshold) == (
        None,
        2024,
        11,
        1.0,
    )
    assert [m.name for m in catalog.marts] == ["teacher_pipeline", "student_pathways", "workforce_programs"]
    workforce = catalog.mart("workforce_programs")
    assert workforce.cohort == "workforce_program_exits" and workforce.breakdowns[0] == "program"
    assert [shape(m) for m in workforce.metrics] == [
        ("employed_q2", "rate", "employed_in_quarter_after_exit", {"quarters": 2}, (), None),
        ("employed_q4", "rate", "employed_in_quarter_after_exit", {"quarters": 4}, (), None),
        ("earnings_q2", "median", None, {}, (("employed_q2", True),), "employed_q2"),
    ]
    teachers, pathways = catalog.mart("teacher_pipeline"), catalog.mart("student_pathways")
    assert (teachers.cohort, pathways.cohort) == ("first_teaching_credential", "high_school_graduates")
    assert "county" in teachers.breakdowns and "district" in pathways.breakdowns
    placed, not_placed, employed = (
        (("placed", True),),
        (("placed", False),),
        (("employed_not_teaching", True),),
    )
    assert [shape(m) for m in teachers.metrics] == [
        ("placed", "rate", "teaching_within", {"years": 1}, (), None),
        ("retained_1y", "rate", "teaching_after_placement", {"years": 1}, placed, None),
        ("retained_3y", "rate", "teaching_after_placement", {"years": 3}, placed, None),
        ("retained_5y", "rate", "teaching_after_placement", {"years": 5}, placed, None),
        *[
            (f"retained_same_district_{k}y", "rate", "teaching_after_placement",
             {"years": k, "same_district": True}, placed, None)
            for k in (1, 3, 5)
        ],
        ("employed_not_teaching", "rate", "employed_in_fiscal_year", {"years": 1}, not_placed, None),
        ("wage_not_teaching", "median", None, {}, employed, "employed_not_teaching"),
    ]  # fmt: skip
    assert [(c.title, c.points) for c in teachers.curves] == [
        ("Still teaching after placement", ((1, "retained_1y"), (3, "retained_3y"), (5, "retained_5y"))),
        ("Teaching in the placement district",
         tuple((k, f"retained_same_district_{k}y") for k in (1, 3, 5))),
    ]  # fmt: skip
    assert teachers.breakdowns_among == (("teaching_county", (("placed", True),)),)
    assert [m.name for m in teachers.metrics_by("teaching_county")] == [
        "retained_1y", "retained_3y", "retained_5y",
        *[f"retained_same_district_{k}y" for k in (1, 3, 5)],
    ]  # fmt: skip
    assert teachers.metrics_by("county") == teachers.metrics
    assert [c.points for c in pathways.curves] == [
        tuple((k, f"completed_{k}pct") for k in (100, 150, 200)),
        *[tuple((k, f"{m}_{k}y") for k in (1, 3, 5)) for m in ("employed", "wages")],
    ]
    assert {m.name: m.window["factor"] for m in pathways.metrics if m.outcome == "completion_within"} == {
        "completed_100pct": 1,
        "completed_150pct": 1.5,
        "completed_200pct": 2,
    }
    assert shape(pathways.metric("completed_150pct")) == (
        "completed_150pct",
        "rate",
        "completion_within",
        {"normal_years": {"CCC": 2, "CSU": 4, "UC": 4, "AICCU": 4}, "factor": 1.5},
        (("enrolled_16mo", True),),
        None,
    )
    with pytest.raises(KeyError, match="no mart named 'nope'"):
        catalog.mart("nope")


MART = """
marts:
  m:
    cohort: {cohort}
    cohort_definition: Everyone.
    breakdowns: [gender]
    metrics:
{metrics}
"""
PLACED = "      - {name: placed, outcome: teaching_within, window: {years: 1}}"
WAGE = "      - {name: wage, kind: median, value: placed}"
RETAINED = (
    "      - {name: retained, outcome: teaching_after_placement, window: {years: 1}, among: {placed: true}}"
)


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        pytest.param(
            ["      - {name: placed, outcome: teaching_forever}"],
            "mart 'm', metric 'placed': unknown outcome rule 'teaching_forever'",
            id="unknown-outcome-rule",
        ),
        pytest.param(
            ["      - {name: placed, outcome: teaching_within, window: {months: 3}}"],
            r"metric 'placed': outcome 'teaching_within' takes window keys \['years'\], not \['months'\]",
            id="bad-window-key",
        ),
        pytest.param(
            [RETAINED, PLACED],
            "metric 'retained': 'among' names 'placed', which is not a rate metric defined above it",
            id="among-a-later-metric",
        ),
        pytest.param(
            [PLACED, WAGE, RETAINED.replace("placed: true", "wage: true")],
            "metric 'retained': 'among' names 'wage', which is not a rate metric",
            id="among-a-median",
        ),
        pytest.param(
            [PLACED, "      - {name: wage, kind: median, value: earnings}"],
            "metric 'wage': 'value' must name a rate metric defined above it, not 'earnings'",
            id="median-of-an-unknown-metric",
        ),
        pytest.param([PLACED, PLACED], "metric 'placed': defined twice", id="duplicate-metric"),
        pytest.param(
            ["      - {name: placed, kind: mean, outcome: teaching_within}"],
            "metric 'placed': kind must be 'rate' or 'median', not 'mean'",
            id="unknown-kind",
        ),
        pytest.param(["      - {outcome: teaching_within}"], "mart 'm': a metric has no name", id="no-name"),
    ],
)  # fmt: skip
def test_a_bad_metric_is_a_settings_error_naming_file_and_metric(tmp_path, metrics, message):
    (tmp_path / "metrics.yml").write_text(
        MART.format(cohort="first_teaching_credential", metrics="\n".join(metrics))
    )
    with pytest.raises(SettingsError, match=message) as caught:
        load_catalog(tmp_path, cohorts=COHORTS, outcomes=OUTCOMES)
    assert str(tmp_path / "metrics.yml") in str(caught.value)


ONE_MART = MART.format(cohort="first_teaching_credential", metrics=PLACED)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(MART.format(cohort="everyone", metrics=PLACED),
                     "mart 'm': unknown cohort rule 'everyone'", id="unknown-cohort-rule"),
        pytest.param(ONE_MART.replace("    cohort_definition: Everyone.\n", ""),
                     "mart 'm' has no 'cohort_definition'", id="missing-key"),
        pytest.param("vintage: soon\n" + ONE_MART,
                     "vintage must be 'auto' or a year, not 'soon'", id="bad-vintage"),
        pytest.param("cpi_base_year: 2024\n", "no marts defined", id="no-marts"),
        pytest.param("marts: [unclosed\n", "cannot read the metric catalog", id="not-yaml"),
    ],
)  # fmt: skip
def test_a_bad_catalog_file_is_a_settings_error(tmp_path, text, message):
    (tmp_path / "metrics.yml").write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_catalog(tmp_path, cohorts=COHORTS, outcomes=OUTCOMES)


@pytest.mark.parametrize(
    ("curve", "message"),
    [
        pytest.param("{title: T, points: {1: placed, 3: retained_3y}}",
                     "curve 'T': no metric named 'retained_3y' in this mart", id="unknown-metric"),
        pytest.param("{title: T, points: {1: placed, 3: wage}}",
                     "curve 'T': its metrics must all be rates or all medians", id="mixed-kinds"),
        pytest.param("{title: T, points: {1: placed}}", "curve 'T': points must map at least two",
                     id="one-point"),
        pytest.param("{title: T, points: {one: placed, 3: retained}}", "curve 'T': x values must be whole",
                     id="x-not-a-number"),
        pytest.param("{points: {1: placed, 3: retained}}", "a curve takes a title, an axis and points",
                     id="no-title"),
    ],
)  # fmt: skip
def test_a_bad_curve_is_a_settings_error(tmp_path, curve, message):
    text = MART.format(cohort="first_teaching_credential", metrics="\n".join([PLACED, WAGE, RETAINED]))
    (tmp_path / "metrics.yml").write_text(text + f"    curves:\n      - {curve}\n")
    with pytest.raises(SettingsError, match=message) as caught:
        load_catalog(tmp_path, cohorts=COHORTS, outcomes=OUTCOMES)
    assert "mart 'm'" in str(caught.value)


ENROLLED = "      - {name: enrolled, outcome: college_enrollment_within, window: {months: 16}}"
FIRST = "      - {{name: {name}, outcome: first_college_within, window: {{months: 16, segment: {segment}}}}}"
SEGMENT_PARTS = [FIRST.format(name=f"at_{s.lower()}", segment=s) for s in ("CCC", "UC", "other")]


def test_parts_are_read_with_their_labels_and_give_disclosure_control_their_identities(tmp_path):
    text = MART.format(cohort="high_school_graduates", metrics="\n".join([ENROLLED, *SEGMENT_PARTS]))
    parts = (
        "{title: First college, whole: enrolled,"
        " parts: {Community college: at_ccc, UC: at_uc, Other: at_other}}"
    )
    (tmp_path / "metrics.yml").write_text(text + f"    parts:\n      - {parts}\n")
    (mart,) = load_catalog(tmp_path, cohorts=COHORTS, outcomes=OUTCOMES).marts
    assert mart.parts == (
        Parts(
            "First college",
            "enrolled",
            (("Community college", "at_ccc"), ("UC", "at_uc"), ("Other", "at_other")),
        ),
    )
    assert mart_relations(mart) == [
        Relation(((1, "enrolled", "numerator"), (-1, "at_ccc", "numerator"), (-1, "at_uc", "numerator"),
                  (-1, "at_other", "numerator"))),
        *[Relation(((1, m, "denominator"), (-1, "enrolled", "denominator")))
          for m in ("at_ccc", "at_uc", "at_other")],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        pytest.param("{title: T, whole: nope, parts: {A: at_ccc, B: at_uc}}", "whole must name a rate metric",
                     id="unknown-whole"),
        pytest.param("{title: T, whole: enrolled, parts: {A: at_ccc}}", "parts must map at least two",
                     id="one-part"),
        pytest.param("{title: T, whole: enrolled, parts: {A: at_ccc, B: nope}}",
                     "'nope' is not a rate metric of the mart", id="unknown-part"),
        pytest.param("{title: T, whole: enrolled, parts: {A: at_ccc, B: enrolled}}",
                     "'enrolled' is not a rate metric of the mart other than the whole",
                     id="the-whole-a-part"),
        pytest.param("{title: T, whole: enrolled, parts: {A: at_ccc, B: among}}",
                     "'among' must count the whole's population", id="another-population"),
        pytest.param("{title: T, whole: enrolled, parts: {A: at_ccc, B: at_uc}}\n"
                     "      - {title: U, whole: enrolled, parts: {A: at_ccc, B: at_other}}",
                     "parts 'U': 'at_ccc' is a part twice", id="a-part-twice"),
        pytest.param("{title: T, whole: enrolled}", "takes a title, a whole and parts", id="no-parts"),
    ],
)  # fmt: skip
def test_bad_parts_are_a_settings_error(tmp_path, parts, message):
    among = (
        "      - {name: among, outcome: first_college_within, window: {months: 16, segment: CSU},"
        " among: {enrolled: true}}"
    )
    metrics = "\n".join([ENROLLED, *SEGMENT_PARTS, among])
    text = MART.format(cohort="high_school_graduates", metrics=metrics)
    (tmp_path / "metrics.yml").write_text(text + f"    parts:\n      - {parts}\n")
    with pytest.raises(SettingsError, match=message) as caught:
        load_catalog(tmp_path, cohorts=COHORTS, outcomes=OUTCOMES)
    assert "mart 'm'" in str(caught.value)


COMPLETED = (
    "      - {name: completed, outcome: completion_within,"
    " window: {normal_years: {CCC: 2, CSU: 4, UC: 4, AICCU: 4}, factor: 1.5}, among: {enrolled: true}}"
)
EMPLOYED = "      - {name: employed, outcome: employed_after_exit, window: {years: 1}}"


@pytest.mark.parametrize(
    ("flows", "message"),
    [
        pytest.param("{title: T, cohort: Graduates, stages: {Enrolled: enrolled, Done: completed}}", None,
                     id="a-flow"),
        pytest.param("{title: T, cohort: Graduates, stages: {Done: completed}}",
                     "stage 'completed' must count the whole cohort", id="first-stage-among"),
        pytest.param("{title: T, cohort: Graduates, stages: {Enrolled: enrolled, Employed: employed}}",
                     "stage 'employed' must count among {enrolled: true}", id="not-within-the-stage-before"),
        pytest.param("{title: T, cohort: Graduates, stages: {Enrolled: enrolled, Wages: wage}}",
                     "'wage' is not a rate metric", id="a-median"),
        pytest.param("{title: T, cohort: Graduates, stages: {}}", "stages must map labels", id="no-stage"),
        pytest.param("{title: T, stages: {Enrolled: enrolled}}", "takes a title, a cohort and stages",
                     id="no-cohort"),
        pytest.param("{}", "takes a title, a cohort and stages", id="empty"),
    ],
)  # fmt: skip
def test_flows_are_read_in_order_and_each_stage_is_within_the_one_before(tmp_path, flows, message):
    wage = "      - {name: wage, kind: median, value: employed, among: {employed: true}}"
    metrics = "\n".join([ENROLLED, COMPLETED, EMPLOYED, wage])
    text = MART.format(cohort="high_school_graduates", metrics=metrics)
    (tmp_path / "metrics.yml").write_text(text + f"    flows:\n      - {flows}\n")
    if message is None:
        (mart,) = load_catalog(tmp_path, cohorts=COHORTS, outcomes=OUTCOMES).marts
        assert mart.flows == (Flow("T", "Graduates", (("Enrolled", "enrolled"), ("Done", "completed"))),)
        return
    with pytest.raises(SettingsError, match=re.escape(message)) as caught:
        load_catalog(tmp_path, cohorts=COHORTS, outcomes=OUTCOMES)
    assert "mart 'm'" in str(caught.value)


@pytest.mark.parametrize(
    ("among", "message"),
    [
        pytest.param("{district: {placed: true}}", "names 'district', which is not a breakdown",
                     id="not-a-breakdown"),
        pytest.param("{gender: {wage: true}}", "gender must map rate metrics", id="a-median"),
        pytest.param("{gender: {retained: true}}", "no metric's population is within", id="no-metric-left"),
        pytest.param("[gender]", "breakdowns_among maps a breakdown to", id="not-a-map"),
    ],
)  # fmt: skip
def test_a_bad_breakdown_among_is_a_settings_error(tmp_path, among, message):
    text = MART.format(cohort="first_teaching_credential", metrics="\n".join([PLACED, WAGE, RETAINED]))
    (tmp_path / "metrics.yml").write_text(text + f"    breakdowns_among: {among}\n")
    with pytest.raises(SettingsError, match=message):
        load_catalog(tmp_path, cohorts=COHORTS, outcomes=OUTCOMES)


def test_a_fixed_vintage_and_thresholds_are_read(tmp_path):
    head = "vintage: 2023\ncpi_base_year: 2020\nmin_cell_size: 5\nemployment_threshold: 100\n"
    (tmp_path / "metrics.yml").write_text(head + MART.format(cohort="high_school_graduates", metrics=PLACED))
    catalog = load_catalog(tmp_path, cohorts=COHORTS, outcomes=OUTCOMES)
    assert (catalog.vintage, catalog.cpi_base_year, catalog.min_cell_size, catalog.employment_threshold) == (
        2023,
        2020,
        5,
        100.0,
    )
    assert [shape(m) for m in catalog.mart("m").metrics] == [
        ("placed", "rate", "teaching_within", {"years": 1}, (), None)
    ]
