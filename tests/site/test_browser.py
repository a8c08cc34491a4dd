"""The dashboard in a real headless Chromium, on the site the shared pipeline run built.

Chromium and its driver are Debian's `chromium` and `chromium-driver` (`make system-deps` installs
them); Selenium is pointed at both binaries, so Selenium Manager has nothing to download. Every view
the filters reach is compared, cell by cell, with the published CSV it comes from.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from lakehouse.geo import county_names, load_topology
from lakehouse.site.payload import metric_label
from tests.conftest import ROOT
from tests.e2e import c2c

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "var" / "site" / "screenshots"  # git-ignored; a site build leaves it alone
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
COUNTY_NAMES = county_names(load_topology(ROOT / "conf"))
MARK = "\u2021 Suppressed"
MIN_CELL = 11
MAX_LINES = 6  # the page draws a breakdown of at most this many groups as a line per group

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(pipeline_run, tmp_path_factory) -> Path:
    """`c2c run` built the site and said where; `c2c publish` rebuilds it from the published tables
    (in a copy of the run's `var`: the shared run stays as it was for the tests that read it)."""
    built = (pipeline_run.var / "site" / "index.html").resolve()
    assert f"site:    {built}" in pipeline_run.result.stdout
    workdir = tmp_path_factory.mktemp("publish")
    shutil.copytree(pipeline_run.var, workdir / "var", symlinks=True)
    result = c2c("publish", cwd=workdir, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    index = (workdir / "var" / "site" / "index.html").resolve()
    assert f"site:    {index}" in result.stdout
    return index


@pytest.fixture(scope="module")
def browser(site):
    """The page loaded in headless Chromium, and the browser log of that load."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("no /usr/bin/chromium or /usr/bin/chromedriver: run `make system-deps` as root")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1800"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SE_OFFLINE", "true")  # should Selenium Manager run at all, it must not download
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        driver.set_page_load_timeout(60)
        driver.get(site.as_uri())
        WebDriverWait(driver, 30).until(
            lambda d: d.find_element("tag name", "body").get_attribute("data-ready")
        )
        yield driver, driver.get_log("browser")
    finally:
        driver.quit()


def test_page_loads_clean_and_offline(browser, site):
    driver, log = browser
    assert [e for e in log if e["level"] in ("SEVERE", "WARNING")] == []
    loaded = driver.execute_script(
        "return Array.from(document.querySelectorAll('script[src], link[href], img[src]'))"
        ".map(e => e.src || e.href)"
    )
    assert len(loaded) == 9 and all(u.startswith(("file://", "data:")) for u in loaded), loaded
    policy = driver.find_element("css selector", "meta[http-equiv='Content-Security-Policy']")
    assert "default-src 'none'" in policy.get_attribute("content")  # the page may open no connection
    tabs = [t.text for t in driver.find_elements("css selector", "[role=tab]")]
    # the teacher pipeline leads
    assert tabs == ["Teacher training pipeline", "Student pathways", "Workforce programs"]
    assert driver.find_element("id", "panel-teacher_pipeline").is_displayed()
    assert not driver.find_element("id", "panel-student_pathways").is_displayed()
    for link in driver.find_elements("css selector", "a[href$='.csv'], a[href$='.json']"):
        assert Path(unquote(urlparse(link.get_attribute("href")).path)).is_file()
    assert len(driver.find_elements("css selector", "#downloads a[href$='.csv']")) == len(
        list((site.parent / "data").glob("*.csv"))
    )


def test_a_filter_changes_the_chart_and_the_table(browser):
    from selenium.webdriver.support.ui import Select

    driver, _ = browser
    driver.find_element("id", "tab-student_pathways").click()
    panel = driver.find_element("id", "panel-student_pathways")

    def snapshot():
        _drawn(driver)
        return (
            panel.find_element("css selector", "#student_pathways-chart svg.chart").get_attribute(
                "outerHTML"
            ),
            panel.find_element("css selector", "#student_pathways-table table.data-table").text,
        )

    before = snapshot()
    Select(driver.find_element("id", "student_pathways-breakdown")).select_by_visible_text("Gender")
    Select(driver.find_element("id", "student_pathways-year")).select_by_visible_text("All cohorts")
    by_gender = snapshot()
    assert by_gender[0] != before[0] and by_gender[1] != before[1]
    group = Select(driver.find_element("id", "student_pathways-group"))
    group.select_by_visible_text("F")
    rows = panel.find_elements("css selector", "#student_pathways-table table.data-table tbody tr")
    assert rows and all(r.find_elements("tag name", "th")[1].text == "F" for r in rows)
    _drawn(driver)
    # All cohorts of one group is a trend: a point per shown cell, a hatched square per suppressed one,
    # over the rolling windows (the pool of all years stays in the table).
    chart = panel.find_element("id", "student_pathways-chart")
    assert chart.get_attribute("data-chart") == "lines"
    on_trend = [r for r in rows if not r.find_elements("tag name", "th")[0].text.endswith("(all years)")]
    cells = [r.find_elements("tag name", "td")[2].text for r in on_trend]
    assert len(chart.find_elements("css selector", "g.points_marks path")) == sum(
        c not in (MARK, "n/a") for c in cells
    )
    assert len(chart.find_elements("css selector", "g.hatched_marks path")) == cells.count(MARK)
    assert snapshot() != by_gender
    year = Select(driver.find_element("id", "student_pathways-year"))
    year.select_by_index(1)  # the latest cohort year
    chosen = year.first_selected_option.text
    rows = panel.find_elements("css selector", "#student_pathways-table table.data-table tbody tr")
    assert [[c.text for c in r.find_elements("tag name", "th")] for r in rows] == [[chosen, "F"]]
    group.select_by_visible_text("All")
    notes = [d.text for d in panel.find_elements("css selector", "dl.notes dt")]
    assert {"Measure", "Cohort", "Data vintage", "Match rate", "Coverage", "Suppression"} <= set(notes)
    # With all years chosen, a breakdown too long for one chart opens on its latest cohort year with a
    # published value for the measure.
    year.select_by_visible_text("All cohorts")
    Select(driver.find_element("id", "student_pathways-breakdown")).select_by_visible_text("Race/ethnicity")
    assert year.first_selected_option.text != "All cohorts"
    _drawn(driver)
    assert panel.find_elements("css selector", "#student_pathways-chart g.bars_marks path")
    driver.find_element("id", "tab-teacher_pipeline").click()


def test_every_measure_of_one_group_side_by_side(browser, site):
    """The pathway view: for a chosen group, every rate measure of its last cohort (the pool of all
    years), each the published cell of that row, in the catalog's order, and a bar for each."""
    from selenium.webdriver.support.ui import Select

    driver, _ = browser
    driver.find_element("id", "tab-student_pathways").click()
    Select(driver.find_element("id", "student_pathways-cohorts")).select_by_value("pooled")
    Select(driver.find_element("id", "student_pathways-breakdown")).select_by_visible_text("Gender")
    Select(driver.find_element("id", "student_pathways-year")).select_by_visible_text("All cohorts")
    Select(driver.find_element("id", "student_pathways-group")).select_by_visible_text("F")
    _drawn(driver)
    with (site.parent / "data" / "student_pathways__pooled__by_gender.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["gender"] == "F"]
    spans = {r["cohort"]: tuple(int(y) for y in r["cohort"].split("-")) for r in rows}
    last = max(rows, key=lambda r: (spans[r["cohort"]][1], spans[r["cohort"]][1] - spans[r["cohort"]][0]))
    meta = json.loads((site.parent / "data" / "student_pathways__pooled__by_gender.json").read_text())
    rates = [c.removesuffix("_rate") for c in meta["measures"]["rates"]]
    table = driver.find_element("id", "student_pathways-path-table")
    shown = [
        [c.text for c in r.find_elements("css selector", "th, td")]
        for r in table.find_elements("css selector", "tbody tr")
    ]
    assert [r[1:] for r in shown] == [
        [
            _expected(last[f"{m}_{f}"], role)
            for f, role in (("denominator", "count"), ("numerator", "count"), ("rate", "rate"))
        ]
        for m in rates
    ]
    assert (
        f"cohorts {last['cohort']} (all years)"
        in driver.find_element("id", "student_pathways-path-heading").text
    )
    bars = driver.find_elements("css selector", "#student_pathways-path g.values_marks text")
    assert [b.text for b in bars] == [r[3] for r in shown]
    Select(driver.find_element("id", "student_pathways-group")).select_by_visible_text("All")


CURVES = """
const finish = arguments[arguments.length - 1];
function set(select, value) { select.value = String(value); select.dispatchEvent(new Event("change")); }
async function sweep() {
var views = [];
for (const tab of document.querySelectorAll("[role=tab]")) {
  tab.click();
  var mart = tab.id.slice(4), panel = document.getElementById("panel-" + mart);
  var curve = document.getElementById(mart + "-curve");
  if (!curve) continue;
  var cohorts = document.getElementById(mart + "-cohorts");
  var breakdown = document.getElementById(mart + "-breakdown");
  var kinds = cohorts.closest(".field").hidden ? [null] : Array.from(cohorts.options).map(o => o.value);
  for (const kind of kinds) {
  if (kind) set(cohorts, kind);
  for (const b of Array.from(breakdown.options)) {
    set(breakdown, b.value);
    set(document.getElementById(mart + "-year"), "all");
    for (const c of Array.from(curve.options)) {
      set(curve, c.value);
      await C2CChart.idle();
      var box = document.getElementById(mart + "-curve-table");
      var chart = document.getElementById(mart + "-curve-chart");
      views.push({
        mart: mart, curve: c.text, csv: panel.querySelector("p.download a").getAttribute("href"),
        cohort: box.getAttribute("data-cohort"),
        rows: Array.from(box.querySelectorAll("tbody tr"))
          .map(r => Array.from(r.cells).map(x => x.textContent)),
        points: chart.querySelectorAll("g.points_marks path").length,
        squares: chart.querySelectorAll("g.hatched_marks path").length
      });
    }
  }
  }
}
return views;
}
sweep().then(finish, function (e) { finish({error: String(e)}); });
"""


def test_curves_show_the_published_cells(browser, site):
    """Each curve of the catalog (still teaching 1, 3 and 5 years after placement; employment and
    wages 1, 3 and 5 years after leaving school), under every breakdown of both pooled and single-year
    tables: a row per group and point holding that cohort's published cells, a point per shown cell
    and a hatched square per suppressed one; a breakdown of more than six groups asks for a group."""
    driver, _ = browser
    driver.set_script_timeout(600)
    views = driver.execute_async_script(CURVES)
    assert isinstance(views, list) and views, views
    data = site.parent / "data"
    drawn = 0
    for view in views:
        where = (view["csv"], view["curve"])
        path = data / view["csv"].removeprefix("data/")
        meta = json.loads(path.with_suffix(".json").read_text())
        curve = next(c for c in meta["curves"] if c["title"] == view["curve"])
        with path.open(newline="") as f:
            table = list(csv.DictReader(f))
        statewide = path.stem.endswith("__statewide")
        groups = sorted({list(r.values())[1] for r in table})
        if not statewide and len(groups) > MAX_LINES:
            assert view["rows"] == [] and view["points"] == view["squares"] == 0, where
            continue
        assert view["cohort"] in {_cohort(r) for r in table}, where
        rows = {list(r.values())[1]: r for r in table if _cohort(r) == view["cohort"]}
        rate = f"{curve['points'][0]['metric']}_rate" in table[0]
        fields = (
            (("denominator", "count"), ("numerator", "count"), ("rate", "rate"))
            if rate
            else (("count", "count"), ("median", "median"), ("median_real", "median"))
        )
        expected, values = [], []
        for group in groups:
            for point in curve["points"]:
                row = rows.get(group)
                cells = [row[f"{point['metric']}_{f}"] if row else "" for f, _ in fields]
                keys = [] if statewide else [_group(view["csv"], group)]
                shown = [_expected(c, role) for c, (_, role) in zip(cells, fields, strict=True)]
                expected.append([*keys, str(point["x"]), *shown])
                values.append(cells[2])
        assert view["rows"] == expected, where
        assert view["points"] == sum(v not in ("", "suppressed") for v in values), where
        assert view["squares"] == values.count("suppressed"), where
        drawn += view["points"]
    assert {v["mart"] for v in views} == {"teacher_pipeline", "student_pathways"}
    assert drawn > 0  # the default state publishes some curve cells


PARTS = """
const finish = arguments[arguments.length - 1];
function set(select, value) { select.value = String(value); select.dispatchEvent(new Event("change")); }
async function sweep() {
var views = [], mart = "student_pathways", panel = document.getElementById("panel-" + mart);
document.getElementById("tab-" + mart).click();
var cohorts = document.getElementById(mart + "-cohorts");
var breakdown = document.getElementById(mart + "-breakdown");
var kinds = cohorts.closest(".field").hidden ? [null] : Array.from(cohorts.options).map(o => o.value);
for (const kind of kinds) {
  if (kind) set(cohorts, kind);
  for (const b of Array.from(breakdown.options)) {
    set(breakdown, b.value);
    set(document.getElementById(mart + "-year"), "all");
    await C2CChart.idle();
    var box = document.getElementById(mart + "-parts-table");
    var chart = document.getElementById(mart + "-parts-chart");
    views.push({
      csv: panel.querySelector("p.download a").getAttribute("href"), cohort: box.getAttribute("data-cohort"),
      rows: Array.from(box.querySelectorAll("tbody tr"))
        .map(r => Array.from(r.cells).map(x => x.textContent)),
      pieces: chart.querySelectorAll("g.parts_marks path").length,
      wholes: chart.querySelectorAll("g.whole_marks path").length
    });
  }
}
return views;
}
sweep().then(finish, function (e) { finish({error: String(e)}); });
"""
MAX_BARS = 60  # the page draws at most this many rows in one bar chart


def test_where_graduates_first_enrolled_shows_the_published_parts(browser, site):
    """The parts of enrollment within 16 months (first college by segment), under every breakdown of
    the pooled and single-year tables: the total's and each part's published cells for each group of
    the cohort shown, a piece per shown part, and the total hatched behind the parts wherever a part
    is suppressed and the total is not."""
    driver, _ = browser
    driver.set_script_timeout(600)
    views = driver.execute_async_script(PARTS)
    assert isinstance(views, list) and views, views
    data = site.parent / "data"
    fields = (("denominator", "count"), ("numerator", "count"), ("rate", "rate"))
    pieces = 0
    for view in views:
        path = data / view["csv"].removeprefix("data/")
        split = json.loads(path.with_suffix(".json").read_text())["parts"][0]
        metrics = [split["whole"], *[p["metric"] for p in split["parts"]]]
        labels = [None, *[p["label"] for p in split["parts"]]]
        with path.open(newline="") as f:
            table = list(csv.DictReader(f))
        statewide = path.stem.endswith("__statewide")
        assert view["cohort"] in {_cohort(r) for r in table}, view["csv"]
        rows = {list(r.values())[1]: r for r in table if _cohort(r) == view["cohort"]}
        groups = sorted({list(r.values())[1] for r in table})
        expected, shown, hatched = [], 0, 0
        for i, group in enumerate(groups):
            row = rows.get(group)
            cells = {m: [row[f"{m}_{f}"] if row else "" for f, _ in fields] for m in metrics}
            for metric, label in zip(metrics, labels, strict=True):
                keys = [] if statewide else [_group(view["csv"], group)]
                name = label or "All: " + metric_label(metric)
                expected.append(
                    [*keys, name, *[_expected(c, r) for c, (_, r) in zip(cells[metric], fields, strict=True)]]
                )
            if i < MAX_BARS:
                parts = [cells[m][2] for m in metrics[1:]]
                shown += sum(v not in ("", "suppressed") for v in parts)
                hatched += cells[metrics[0]][2] not in ("", "suppressed") and "suppressed" in parts
        assert view["rows"] == expected, view["csv"]
        assert (view["pieces"], view["wholes"]) == (shown, hatched), view["csv"]
        pieces += shown
    assert pieces > 0  # the default state publishes some parts


FLOWS = """
const finish = arguments[arguments.length - 1];
function set(select, value) { select.value = String(value); select.dispatchEvent(new Event("change")); }
async function sweep() {
var views = [];
for (const mart of ["teacher_pipeline", "student_pathways"]) {
  var panel = document.getElementById("panel-" + mart);
  document.getElementById("tab-" + mart).click();
  var cohorts = document.getElementById(mart + "-cohorts");
  var breakdown = document.getElementById(mart + "-breakdown");
  var kinds = cohorts.closest(".field").hidden ? [null] : Array.from(cohorts.options).map(o => o.value);
  for (const kind of kinds) {
    if (kind) set(cohorts, kind);
    for (const b of Array.from(breakdown.options)) {
      set(breakdown, b.value);
      set(document.getElementById(mart + "-year"), "all");
      var group = document.getElementById(mart + "-group");
      if (!group.closest(".field").hidden) set(group, group.options[1].value);
      await C2CChart.idle();
      var box = document.getElementById(mart + "-flow-table");
      var chart = document.getElementById(mart + "-flow-chart");
      views.push({
        csv: panel.querySelector("p.download a").getAttribute("href"),
        cohort: box.getAttribute("data-cohort"), group: group.closest(".field").hidden ? null : group.value,
        rows: Array.from(box.querySelectorAll("tbody tr"))
          .map(r => Array.from(r.cells).map(x => x.textContent)),
        bars: chart.querySelectorAll("g.bars_marks path").length,
        bands: chart.querySelectorAll("g.bands_marks path").length,
        stubs: chart.querySelectorAll("g.stubs_marks path").length
      });
    }
  }
}
return views;
}
sweep().then(finish, function (e) { finish({error: String(e)}); });
"""


def test_flows_show_the_published_counts_stage_by_stage(browser, site):
    """Each mart's flow (graduates, enrolled, completed; credential earners, placed, still teaching),
    statewide and for one group of every breakdown, pooled and single-year: the table holds each
    stage's published count, the population it was measured on and its share; the chart has a bar
    per published stage whose population is the whole stage before, a band between two such bars
    in a row, and a hatched stub per suppressed stage. The cohort shown, when none is chosen, is one
    whose every stage is shown whenever there is one."""
    driver, _ = browser
    driver.set_script_timeout(600)
    views = driver.execute_async_script(FLOWS)
    assert isinstance(views, list) and views, views
    data = site.parent / "data"
    drawn = 0
    for view in views:
        path = data / view["csv"].removeprefix("data/")
        meta = json.loads(path.with_suffix(".json").read_text())
        flow = meta["flows"][0]
        metrics = [s["metric"] for s in flow["stages"]]
        with path.open(newline="") as f:
            table = list(csv.DictReader(f))
        if not all(f"{m}_rate" in table[0] for m in metrics):  # a breakdown of the placed only
            assert view["rows"] == [] and view["bars"] == 0, view["csv"]
            continue
        c = _flow_cells(table, metrics, view["cohort"], view["group"])
        if any(_chained(_flow_cells(table, metrics, _cohort(r), view["group"])) for r in table):
            assert _chained(c), (view["csv"], view["cohort"])
        expected = [[flow["cohort"], _expected(c[0][0], "count"), "n/a", "n/a"]]
        expected += [
            [s["label"], _expected(cell[1], "count"), _expected(cell[0], "count"), _expected(cell[2], "rate")]
            for s, cell in zip(flow["stages"], c, strict=True)
        ]
        assert view["rows"] == expected, view["csv"]
        stages = [c[0][0]] + [cell[1] if i == 0 or cell[0] == c[i - 1][1] else "" for i, cell in enumerate(c)]
        shown = [v not in ("", "suppressed") for v in stages]
        assert view["bars"] == sum(shown), view["csv"]
        assert view["bands"] == sum(a and b for a, b in zip(shown, shown[1:], strict=False)), view["csv"]
        assert view["stubs"] == stages.count("suppressed"), view["csv"]
        drawn += view["bands"]
    assert drawn > 0  # the default state publishes some whole flows


def _flow_cells(table: list[dict], metrics: list[str], cohort: str, group: str | None) -> list[list[str]]:
    """[denominator, numerator, rate] of each metric in the published row of `cohort` and `group`
    (None: the statewide table's row); empty strings where there is no row."""
    row = next(
        (r for r in table if _cohort(r) == cohort and (group is None or list(r.values())[1] == group)), None
    )
    return [[row[f"{m}_{f}"] if row else "" for f in ("denominator", "numerator", "rate")] for m in metrics]


def _chained(cells: list[list[str]]) -> bool:
    """Every stage published, and measured on the whole stage before it."""
    return cells[0][0] not in ("", "suppressed") and all(
        cell[1] not in ("", "suppressed") and (i == 0 or cell[0] == cells[i - 1][1])
        for i, cell in enumerate(cells)
    )


def _drawn(driver) -> None:
    """Wait until every chart the page was asked to draw is drawn (Vega renders asynchronously)."""
    driver.set_script_timeout(120)
    drawn = driver.execute_async_script(
        "const done = arguments[0]; C2CChart.idle().then(() => done(true), e => done(String(e)));"
    )
    assert drawn is True, drawn


def _axe(driver) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now. `preload: false`: axe
    would otherwise fetch the stylesheets, which the page's policy forbids."""
    if not driver.execute_script("return !!window.axe"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations'],
                           preload: false})
          .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,
                                                  nodes: v.nodes.map(n => n.target)}))))
          .catch(e => done([{error: String(e)}]));""",
        WCAG_AA,
    )
    return result


def test_every_tab_and_breakdown_is_accessible(browser):
    """axe-core on each tab, each of its breakdowns, and the county map: 0 WCAG 2.1 AA violations;
    a screenshot of each tab's first view is saved to var/site/screenshots/."""
    from selenium.webdriver.support.ui import Select

    driver, _ = browser
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    checked = []
    for tab in driver.find_elements("css selector", "[role=tab]"):
        tab.click()
        mart = tab.get_attribute("id").removeprefix("tab-")
        _drawn(driver)
        driver.save_screenshot(str(SCREENSHOTS / f"{mart}.png"))
        breakdown = Select(driver.find_element("id", f"{mart}-breakdown"))
        for label in [o.text for o in breakdown.options]:
            breakdown.select_by_visible_text(label)
            _drawn(driver)
            assert _axe(driver) == [], (mart, label)
            checked.append((mart, label))
            if label in ("County", "County where teaching"):  # the map draws one cohort year
                Select(driver.find_element("id", f"{mart}-year")).select_by_index(1)
                _drawn(driver)
                counties = driver.find_elements(
                    "css selector",
                    ", ".join(f"#{mart}-map g.{g}_marks path" for g in ("shaded", "hatched", "blank")),
                )
                assert len(counties) == len(COUNTY_NAMES), (mart, len(counties))
                name = "county-map" if label == "County" else "teaching-county-map"
                driver.save_screenshot(str(SCREENSHOTS / f"{mart}-{name}.png"))
                assert _axe(driver) == [], (mart, label, "map")
        breakdown.select_by_index(0)
    assert {m for m, _ in checked} == {"teacher_pipeline", "student_pathways", "workforce_programs"}
    assert {("teacher_pipeline", "County"), ("teacher_pipeline", "County where teaching")} <= set(checked)
    driver.find_element("id", "tab-teacher_pipeline").click()


def test_tabs_work_by_keyboard(browser):
    from selenium.webdriver.common.keys import Keys

    driver, _ = browser
    first = driver.find_element("id", "tab-teacher_pipeline")
    first.click()
    first.send_keys(Keys.ARROW_RIGHT)
    assert driver.switch_to.active_element.get_attribute("id") == "tab-student_pathways"
    assert driver.find_element("id", "panel-student_pathways").is_displayed()
    driver.switch_to.active_element.send_keys(Keys.ARROW_LEFT)
    assert driver.switch_to.active_element.get_attribute("id") == "tab-teacher_pipeline"
    assert driver.find_element("id", "panel-teacher_pipeline").is_displayed()


SWEEP = """
const finish = arguments[arguments.length - 1];
function set(select, value) { select.value = String(value); select.dispatchEvent(new Event("change")); }
async function sweep() {
var views = [];
for (const tab of document.querySelectorAll("[role=tab]")) {
  tab.click();
  var mart = tab.id.slice(4), panel = document.getElementById("panel-" + mart);
  var breakdown = document.getElementById(mart + "-breakdown");
  var year = document.getElementById(mart + "-year"), metric = document.getElementById(mart + "-metric");
  var cohorts = document.getElementById(mart + "-cohorts");
  var kinds = cohorts.closest(".field").hidden ? [null] : Array.from(cohorts.options).map(o => o.value);
  for (const kind of kinds) {
  if (kind) set(cohorts, kind);
  for (const b of Array.from(breakdown.options)) {
    set(breakdown, b.value);
    var years = Array.from(year.options).map(function (o) { return o.value; });
    for (const m of Array.from(metric.options)) {
      set(metric, m.value);
      for (const y of years) {
        if (y !== "all" && m.index > 0) continue;  // single years: under the first measure only
        set(year, y);
        await C2CChart.idle();
        var table = panel.querySelector("#" + mart + "-table table.data-table");
        views.push({
          mart: mart, metric: m.value, year: y, hidden: panel.hidden,
          csv: panel.querySelector("p.download a").getAttribute("href"),
          heads: Array.from(table.tHead.rows[0].cells).map(function (c) { return c.getAttribute("scope"); }),
          rows: Array.from(table.tBodies[0].rows).map(function (r) {
            return Array.from(r.cells).map(function (c) {
              return [c.tagName, c.textContent, c.className, c.getAttribute("data-role"), c.title ? 1 : 0];
            });
          }),
          chart: panel.querySelector("#" + mart + "-chart").getAttribute("data-chart"),
          bars: Array.from(panel.querySelectorAll("#" + mart + "-chart g.values_marks text"))
            .map(function (t) { return t.textContent; }),
          points: panel.querySelectorAll("#" + mart + "-chart g.points_marks path").length,
          squares: panel.querySelectorAll("#" + mart + "-chart g.hatched_marks path").length
        });
      }
    }
  }
  }
}
return views;
}
sweep().then(finish, function (e) { finish({error: String(e)}); });
"""


def _expected(text: str, role: str) -> str:
    """A published CSV cell as the page must show it (same rounding as the page's JavaScript)."""
    if text == "suppressed":
        return MARK
    if text == "":
        return "n/a"
    value = float(text)
    if role == "count":
        return f"{int(value):,}"
    if role == "rate":
        return f"{Decimal(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
    return f"${math.floor(value + 0.5):,}"


def test_every_view_shows_exactly_the_published_cells(browser, site):
    """Every breakdown x measure (all years, and each year under the first measure) of both tabs: the
    table holds the CSV's cells, formatted, in order; no count below 11; suppressed cells are marked."""
    driver, _ = browser
    driver.set_script_timeout(600)
    views = driver.execute_async_script(SWEEP)
    assert isinstance(views, list), views
    data = site.parent / "data"
    tables = {}
    for path in data.glob("*.csv"):
        with path.open(newline="") as f:
            tables[f"data/{path.name}"] = list(csv.DictReader(f))
    marked = counts = 0
    for view in views:
        assert not view["hidden"]
        rows = [r for r in tables[view["csv"]] if view["year"] in ("all", _cohort(r))]
        marked_here, counts_here = _check_view(view, rows, tables[view["csv"]])
        marked, counts = marked + marked_here, counts + counts_here
    sidecars = {f"data/{p.stem}.csv": json.loads(p.read_text()) for p in data.glob("*.json")}
    every_view = {(name, m) for name, meta in sidecars.items() for m in meta["metrics"]}
    assert {(v["csv"], v["metric"]) for v in views} == every_view
    assert marked > 0 and counts > 0  # a state of 3,000 people has suppressed cells: they are shown marked


def _cohort(row: dict) -> str:
    """A published row's cohort: its year, or its pooled cohort's label (the first column)."""
    return next(iter(row.values()))


def _cohort_name(cohort: str, table: list[dict]) -> str:
    """The cohort as the page names it: the pool of every year the table has is marked."""
    if "-" not in cohort:
        return cohort
    spans = [tuple(map(int, _cohort(r).split("-"))) for r in table]
    widest = f"{min(a for a, _ in spans)}-{max(b for _, b in spans)}"
    return f"{cohort} (all years)" if cohort == widest else cohort


def _group(csv_name: str, group: str) -> str:
    """A group as the page names it: a county code with its name, every other group as published."""
    county = csv_name.endswith(("__by_county.csv", "__by_teaching_county.csv")) and group in COUNTY_NAMES
    return f"{COUNTY_NAMES[group]} ({group})" if county else group


def _check_view(view: dict, rows: list[dict], table: list[dict]) -> tuple[int, int]:
    """Compare one view's table and chart with its published rows; return (suppressed cells, counts)."""
    where = (view["csv"], view["metric"], view["year"])
    dims = 1 if view["csv"].endswith("__statewide.csv") else 2
    assert view["heads"] == ["col"] * (dims + 3), where
    if f"{view['metric']}_rate" in rows[0]:
        fields = {"denominator": "count", "numerator": "count", "rate": "rate"}
    else:
        fields = {"count": "count", "median": "median", "median_real": "median"}
    expected = [
        [
            _cohort_name(_cohort(row), table),
            *([] if dims == 1 else [_group(view["csv"], list(row.values())[1])]),
        ]
        + [_expected(row[f"{view['metric']}_{field}"], role) for field, role in fields.items()]
        for row in rows
    ]
    assert [[c[1] for c in cells] for cells in view["rows"]] == expected, where
    marked = counts = 0
    for cells in view["rows"]:
        assert [c[0] for c in cells] == ["TH"] * dims + ["TD"] * 3, where
        for _, text, cls, role, titled in cells[dims:]:
            if text == MARK:
                assert cls == "suppressed" and titled, where
                marked += 1
            if role == "count":
                counts += 1
                assert text in (MARK, "n/a") or int(text.replace(",", "")) >= MIN_CELL, (*where, text)
            else:
                assert not re.fullmatch(r"[\d,]+", text), (*where, text)  # only counts are plain numbers
    value = f"{view['metric']}_{list(fields)[2]}"  # the chart's value: rate or base-year median
    groups = {list(row.values())[1] for row in table}
    trend = [r for r in rows if not _cohort_name(_cohort(r), table).endswith("(all years)")]
    cohorts = {_cohort(r) for r in trend}
    if view["year"] == "all" and len(cohorts) > 1 and (dims == 1 or len(groups) <= MAX_LINES):
        assert view["chart"] == "lines" and not view["bars"], where
        assert view["points"] == sum(r[value] not in ("", "suppressed") for r in trend), where
        assert view["squares"] == sum(r[value] == "suppressed" for r in trend), where
    else:
        assert view["chart"] == "bars", where
        assert len(view["bars"]) == min(60, len(rows)), where
    return marked, counts
