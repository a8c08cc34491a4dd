/* The dashboard: one tab per published mart (teacher pipeline first), filters, a chart, the data table
   behind it, the table's notes and its CSV. Reads only window.C2C_DATA (assets/data.js, generated from
   the published tables) and shows cells as published: it sums or derives nothing. */
(function () {
  "use strict";
  var DATA = window.C2C_DATA;
  var Chart = window.C2CChart;
  var MAX_BARS = 60;
  var MAX_LINES = 6;  // more lines than this in one chart cannot be told apart
  var ROLE_LABELS = {
    rate: ["Population (denominator)", "With the outcome (numerator)", "Rate"],
    median: ["People with wages", "Median annual wages (nominal $)", "Median annual wages (base-year $)"]
  };

  function h(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function options(select, items, value) {
    select.textContent = "";
    items.forEach(function (it) {
      select.appendChild(h("option", {value: String(it[0]), text: it[1]}));
    });
    select.value = String(value);
  }

  function field(id, label, select) {
    return h("div", {"class": "field"}, [h("label", {"for": id, text: label}), select]);
  }

  function pct(v) { return (v * 100).toFixed(1) + "%"; }

  /* A group as the page names it: a county code with its name ("Los Angeles (19)"), else as published. */
  function groupName(t, g, short) {
    var name = t.group_labels && t.group_labels[g];
    return name ? (short ? name : name + " (" + g + ")") : g;
  }

  /* "2011-2024" -> [2011, 2024]; a single year -> null. */
  function span(cohort) {
    var m = /^(\d{4})-(\d{4})$/.exec(String(cohort));
    return m ? [Number(m[1]), Number(m[2])] : null;
  }

  /* A cohort as the filters name it: the year, a pooled window, or the pool of every year. */
  function cohortName(t, cohort) {
    var s = span(cohort);
    if (!s) return String(cohort);
    var all = t.years.map(span);
    var first = Math.min.apply(null, all.map(function (x) { return x[0]; }));
    var last = Math.max.apply(null, all.map(function (x) { return x[1]; }));
    return s[0] === first && s[1] === last ? cohort + " (all years)" : cohort;
  }

  /* The cohorts a trend runs over: every year, or every rolling window (the pool of all years is
     not a point in time: it stays in the table). */
  function trendCohorts(t) {
    return t.years.filter(function (y) { return !t.pooled || !/\(all years\)$/.test(cohortName(t, y)); });
  }

  function View(mart) {
    var id = mart.name;
    // The pooled tables (several cohort years together) are the default view where they exist.
    var hasPooled = mart.tables.some(function (t) { return t.pooled; });
    var state = {
      pooled: hasPooled, table: hasPooled ? mart.tables.findIndex(function (t) { return t.pooled; }) : 0,
      metric: mart.metrics[0].name, year: "all", group: "all", curve: 0
    };
    var sel = {};
    ["cohorts", "breakdown", "group", "year", "metric"].forEach(function (k) {
      sel[k] = h("select", {id: id + "-" + k, name: k});
    });
    var groupField = field(id + "-group", "Group", sel.group);
    var yearField = field(id + "-year", "Cohort year", sel.year);
    var cohortsField = field(id + "-cohorts", "Cohorts", sel.cohorts);
    cohortsField.hidden = !hasPooled;
    var heading = h("h3", {"class": "view-title", "aria-live": "polite"});
    var chartBox = h("div", {"class": "chart-box", id: id + "-chart"});
    var chartNote = h("p", {"class": "chart-note"});
    var mapBox = h("div", {"class": "map-box", id: id + "-map"});
    var mapNote = h("p", {"class": "chart-note"});
    var mapFigure = h("figure", {"class": "map-figure"}, [mapBox, h("figcaption", {}, [mapNote])]);
    var pathHeading = h("h3", {"class": "view-title"});
    var pathBox = h("div", {"class": "chart-box", id: id + "-path"});
    var pathNote = h("p", {"class": "chart-note"});
    var pathTable = h("div", {
      "class": "table-box", id: id + "-path-table", tabindex: "0", role: "region",
      "aria-label": mart.title + ": every measure of one cohort and group"
    });
    var pathSection = h("section", {"class": "pathway", "aria-labelledby": id + "-path-heading"}, [
      pathHeading, h("figure", {"class": "chart-figure"}, [pathBox, h("figcaption", {}, [pathNote])]), pathTable
    ]);
    pathHeading.id = id + "-path-heading";
    // Curves: metrics that measure one outcome further and further on (still teaching 1, 3 and 5
    // years after placement), a line per group, for one cohort.
    var curves = mart.curves || [];
    var curveSel = h("select", {id: id + "-curve", name: "curve"});
    var curveField = field(id + "-curve", "Curve", curveSel);
    curveField.hidden = curves.length < 2;
    var curveHeading = h("h3", {"class": "view-title", id: id + "-curve-heading"});
    var curveBox = h("div", {"class": "chart-box", id: id + "-curve-chart"});
    var curveNote = h("p", {"class": "chart-note"});
    var curveTable = h("div", {
      "class": "table-box", id: id + "-curve-table", tabindex: "0", role: "region",
      "aria-label": mart.title + ": curve data table"
    });
    var curveSection = curves.length ? h("section", {"class": "curve", "aria-labelledby": id + "-curve-heading"}, [
      curveHeading,
      h("form", {"class": "filters", "aria-label": mart.title + " curve"}, [curveField]),
      h("figure", {"class": "chart-figure"}, [curveBox, h("figcaption", {}, [curveNote])]),
      curveTable
    ]) : null;
    if (curveSection) {
      curveSection.querySelector("form").addEventListener("submit", function (e) { e.preventDefault(); });
      options(curveSel, curves.map(function (c, i) { return [i, c.title]; }), 0);
    }
    // Parts: a whole split into parts that add up to it (where graduates first enrolled), stacked.
    var splits = mart.parts || [];
    var partsHeading = h("h3", {"class": "view-title", id: id + "-parts-heading"});
    var partsBox = h("div", {"class": "chart-box", id: id + "-parts-chart"});
    var partsNote = h("p", {"class": "chart-note"});
    var partsTable = h("div", {
      "class": "table-box", id: id + "-parts-table", tabindex: "0", role: "region",
      "aria-label": mart.title + ": parts data table"
    });
    var partsSection = splits.length ? h("section", {"class": "parts", "aria-labelledby": id + "-parts-heading"}, [
      partsHeading, h("figure", {"class": "chart-figure"}, [partsBox, h("figcaption", {}, [partsNote])]), partsTable
    ]) : null;
    // Flow: the cohort's way through stages, each among the one before (graduates, enrolled, completed).
    var flows = mart.flows || [];
    var flowHeading = h("h3", {"class": "view-title", id: id + "-flow-heading"});
    var flowBox = h("div", {"class": "chart-box", id: id + "-flow-chart"});
    var flowNote = h("p", {"class": "chart-note"});
    var flowTable = h("div", {
      "class": "table-box", id: id + "-flow-table", tabindex: "0", role: "region",
      "aria-label": mart.title + ": flow data table"
    });
    var flowSection = flows.length ? h("section", {"class": "flow", "aria-labelledby": id + "-flow-heading"}, [
      flowHeading, h("figure", {"class": "chart-figure"}, [flowBox, h("figcaption", {}, [flowNote])]), flowTable
    ]) : null;
    // The table scrolls inside its box: focusable and named, so a keyboard can scroll it too.
    var tableBox = h("div", {
      "class": "table-box", id: id + "-table", tabindex: "0", role: "region", "aria-label": mart.title + ": data table"
    });
    var notes = h("dl", {"class": "notes", id: id + "-notes"});
    var download = h("p", {"class": "download"});
    var panel = h("section", {
      "class": "panel", id: "panel-" + id, role: "tabpanel", "aria-labelledby": "tab-" + id
    }, [
      h("h2", {text: mart.title}),
      h("form", {"class": "filters", "aria-label": mart.title + " filters"}, [
        cohortsField, field(id + "-breakdown", "Breakdown", sel.breakdown), groupField,
        yearField, field(id + "-metric", "Measure", sel.metric)
      ]),
      heading,
      h("figure", {"class": "chart-figure"}, [chartBox, h("figcaption", {}, [chartNote, legend()])]),
      mapFigure,
      tableBox, download, flowSection, partsSection, curveSection, pathSection,
      h("h4", {text: "About these numbers"}), notes
    ]);
    panel.querySelector("form").addEventListener("submit", function (e) { e.preventDefault(); });

    options(sel.cohorts, [["pooled", "Pooled cohorts"], ["yearly", "Single cohort years"]],
      state.pooled ? "pooled" : "yearly");
    options(sel.metric, mart.metrics.map(function (m) { return [m.name, m.label]; }), state.metric);

    function breakdowns() {
      var items = [];
      mart.tables.forEach(function (t, i) { if (t.pooled === state.pooled) items.push([i, t.label]); });
      options(sel.breakdown, items, state.table);
    }

    function table() { return mart.tables[state.table]; }
    /* The chosen table's measures; the chosen measure becomes its first when the table lacks it. */
    function measures() {
      var t = table();
      var list = mart.metrics.filter(function (m) { return t.metrics.indexOf(m.name) >= 0; });
      if (t.metrics.indexOf(state.metric) < 0) state.metric = list[0].name;
      return list;
    }
    function metric() { return mart.metrics.find(function (m) { return m.name === state.metric; }); }

    function refreshChoices() {
      var t = table();
      if (t.years.map(String).indexOf(state.year) < 0) state.year = "all";
      if (t.groups.indexOf(state.group) < 0) state.group = "all";
      breakdowns();
      options(sel.year, [["all", "All cohorts"]].concat(t.years.slice().reverse().map(function (y) {
        return [String(y), cohortName(t, y)];
      })), state.year);
      yearField.querySelector("label").textContent = t.pooled ? "Pooled cohort" : "Cohort year";
      options(sel.group, [["all", "All"]].concat(t.groups.map(function (g) { return [g, groupName(t, g)]; })), state.group);
      // A breakdown only some members have (where the placed teach) publishes only the measures
      // whose population has it.
      options(sel.metric, measures().map(function (m) { return [m.name, m.label]; }), state.metric);
      groupField.querySelector("label").textContent = t.label;
      groupField.hidden = t.dimension === "statewide";
    }

    /* With all cohorts chosen, a breakdown of at most MAX_LINES groups is a trend: a line per group.
       One with more groups, and more rows than the chart holds, opens on its last cohort with a
       published value for the measure: the latest year, or the pool of all years (All cohorts stays
       one choice away). */
    function narrowYear() {
      measures();
      var t = table(), col = t.columns.indexOf(metric().columns[2]);
      if (state.year !== "all" || state.group !== "all" || t.rows.length <= MAX_BARS) return;
      if (t.groups.length <= MAX_LINES) return;
      var shown = t.rows.filter(function (r) { return typeof r[col] === "number"; });
      var at = (shown.length ? shown : t.rows).map(function (r) { return t.years.indexOf(r[0]); });
      state.year = String(t.years[Math.max.apply(null, at)]);
    }

    sel.cohorts.addEventListener("change", function () {
      var dimension = table().dimension;
      state.pooled = sel.cohorts.value === "pooled";
      var same = mart.tables.findIndex(function (t) { return t.pooled === state.pooled && t.dimension === dimension; });
      state.table = same >= 0 ? same : mart.tables.findIndex(function (t) { return t.pooled === state.pooled; });
      state.group = "all"; state.year = "all"; narrowYear(); refreshChoices(); render();
    });
    sel.breakdown.addEventListener("change", function () {
      state.table = Number(sel.breakdown.value); state.group = "all"; narrowYear(); refreshChoices(); render();
    });
    sel.group.addEventListener("change", function () { state.group = sel.group.value; render(); });
    sel.year.addEventListener("change", function () { state.year = sel.year.value; render(); });
    sel.metric.addEventListener("change", function () { state.metric = sel.metric.value; render(); });
    curveSel.addEventListener("change", function () { state.curve = Number(curveSel.value); renderCurve(table()); });

    function render() {
      var t = table(), m = metric();
      var statewide = t.dimension === "statewide";
      var idx = m.columns.map(function (c) { return t.columns.indexOf(c); });
      var rows = t.rows.filter(function (r) {
        return (state.year === "all" || String(r[0]) === state.year) && (state.group === "all" || r[1] === state.group);
      });
      var cohorts = t.pooled ? "pooled cohorts" : "cohort years";
      var where = (statewide ? "statewide" : "by " + t.label.toLowerCase()) +
        (state.group === "all" ? "" : " (" + groupName(t, state.group) + ")") +
        (state.year === "all" ? ", all " + cohorts : ", " + (t.pooled ? "cohorts " : "cohort year ") +
          cohortName(t, state.year));
      heading.textContent = m.label + ": " + where;
      var trend = state.year === "all" && trendCohorts(t).length > 1 &&
        (statewide || state.group !== "all" || t.groups.length <= MAX_LINES);
      var drawn = trend ? drawTrend(t, m, idx, where) : drawBars(t, m, idx, rows, where);
      chartBox.setAttribute("data-chart", trend ? "lines" : "bars");
      renderMap(t, m, where);
      renderFlow(t);
      renderParts(t);
      renderCurve(t);
      renderPathway(t);
      chartNote.textContent = drawn;
      renderTable(t, m, idx, rows, where);
      renderNotes(t, m);
      download.textContent = "";
      download.appendChild(h("a", {href: t.csv, download: "", text: "Download this table (" + t.name + ".csv)"}));
      download.appendChild(document.createTextNode(" \u00b7 "));
      download.appendChild(h("a", {href: t.sidecar, text: "its notes (JSON)"}));
    }

    /* Bars, one per row (the first MAX_BARS); returns the chart's note. */
    function drawBars(t, m, idx, rows, where) {
      var statewide = t.dimension === "statewide";
      var bars = rows.slice(0, MAX_BARS).map(function (r) {
        var label = statewide || state.group !== "all" ? cohortName(t, r[0]) :
          (state.year === "all" ? groupName(t, r[1], true) + " \u00b7 " + r[0] : groupName(t, r[1], true));
        return {label: label, value: r[idx[2]]};
      });
      var valueText = m.kind === "rate" ? "rate" : "median annual wages in base-year dollars";
      Chart.draw(chartBox, {
        role: m.kind, bars: bars, groupTitle: statewide || state.group !== "all" ? "Cohort year" : t.label,
        axisTitle: m.kind === "rate" ? "Rate" : "Median annual wages (base-year $)",
        description: "Bar chart of " + m.label + ", " + valueText + ", " + where + ": " + bars.length +
          " rows; the table below it holds the same numbers."
      });
      return (m.kind === "rate" ? "Bars show the rate. " : "Bars show the median in base-year dollars. ") +
        (rows.length > MAX_BARS ? "The chart shows the first " + MAX_BARS + " of " + rows.length +
          " rows; the table lists them all (choose a cohort year or a group to narrow the chart)." : "");
    }

    /* A line over the cohorts (years, or rolling pooled windows) for statewide, the chosen group, or
       each group of the breakdown; returns the chart's note. */
    function drawTrend(t, m, idx, where) {
      var statewide = t.dimension === "statewide";
      var xs = trendCohorts(t);
      var groups = statewide ? ["All"] : (state.group !== "all" ? [state.group] : t.groups);
      var series = groups.map(function (g) {
        return {
          name: statewide ? "Statewide" : groupName(t, g, true),
          points: xs.map(function (y) {
            var row = t.rows.find(function (r) { return r[0] === y && (statewide || r[1] === g); });
            return {x: String(y), value: row ? row[idx[2]] : null};
          })
        };
      });
      var valueText = m.kind === "rate" ? "rate" : "median annual wages in base-year dollars";
      Chart.lines(chartBox, {
        role: m.kind, xs: xs.map(String), series: series, seriesTitle: t.label,
        xTitle: t.pooled ? "Pooled cohorts" : "Cohort year",
        axisTitle: m.kind === "rate" ? "Rate" : "Median annual wages (base-year $)",
        description: "Line chart of " + m.label + ", " + valueText + ", " + where + ": " + series.length +
          (series.length === 1 ? " line" : " lines") + " over " + xs.length + " cohorts; the table below it holds the same numbers."
      });
      return (m.kind === "rate" ? "Lines show the rate" : "Lines show the median in base-year dollars") +
        " for each " + (t.pooled ? "pooled cohort" : "cohort year") + ". A line breaks where a cell is " +
        "suppressed (a hatched square on the axis) or has no one in it." +
        (t.pooled ? " The pool of all years is in the table." : "");
    }

    /* The chosen curve for one cohort (the chosen one, or the last with someone in every point's
       cells: the pool of all years, or the latest year observed long enough): a line for statewide, for the chosen group, or for each group of a breakdown of at
       most MAX_LINES; each point a published cell, listed in the table below it. */
    function renderCurve(t) {
      if (!curves.length) return;
      var c = curves[state.curve], statewide = t.dimension === "statewide";
      var ms = c.points.map(function (p) { return mart.metrics.find(function (m) { return m.name === p.metric; }); });
      if (ms.some(function (m) { return t.metrics.indexOf(m.name) < 0; })) {
        curveHeading.textContent = c.title;
        curveTable.textContent = "";
        curveTable.removeAttribute("data-cohort");
        curveBox.textContent = "";
        curveNote.textContent = "This breakdown does not publish these measures.";
        return;
      }
      var cols = ms.map(function (m) { return t.columns.indexOf(m.columns[2]); });
      function observed(y, col) {
        return t.rows.some(function (r) { return r[0] === y && r[col] !== null; });
      }
      var whole = t.years.filter(function (y) { return cols.every(function (col) { return observed(y, col); }); });
      var some = t.years.filter(function (y) { return cols.some(function (col) { return observed(y, col); }); });
      var cohort = state.year !== "all" ? state.year :
        String((whole.length ? whole : (some.length ? some : t.years)).slice(-1)[0]);
      var when = (t.pooled ? "cohorts " : "cohort year ") + cohortName(t, cohort);
      var groups = statewide ? ["All"] : (state.group !== "all" ? [state.group] : t.groups);
      var who = statewide ? "statewide" : (state.group !== "all" ? groupName(t, state.group) : "by " + t.label.toLowerCase());
      curveHeading.textContent = c.title + ": " + who + ", " + when;
      curveTable.textContent = "";
      curveTable.setAttribute("data-cohort", cohort);
      if (groups.length > MAX_LINES) {
        curveBox.textContent = "";
        curveNote.textContent = "This breakdown has more groups than one chart can tell apart: choose a " +
          t.label.toLowerCase() + " above to see its curve.";
        return;
      }
      var series = groups.map(function (g) {
        var row = t.rows.find(function (r) { return String(r[0]) === cohort && (statewide || r[1] === g); });
        return {
          name: statewide ? "Statewide" : groupName(t, g, true), group: g,
          cells: ms.map(function (m) {
            return m.columns.map(function (col) { return row ? row[t.columns.indexOf(col)] : null; });
          })
        };
      });
      var axisTitle = c.kind === "rate" ? "Rate" : "Median annual wages (base-year $)";
      Chart.lines(curveBox, {
        role: c.kind, numeric: true, xs: c.points.map(function (p) { return p.x; }), seriesTitle: t.label,
        xTitle: c.axis, axisTitle: axisTitle,
        series: series.map(function (s) {
          return {name: s.name, points: c.points.map(function (p, i) { return {x: p.x, value: s.cells[i][2]}; })};
        }),
        description: "Line chart of " + c.title.toLowerCase() + ", " + who + ", " + when + ": " + series.length +
          (series.length === 1 ? " line" : " lines") + " at " + c.points.length +
          " points; the table below it holds the same numbers."
      });
      curveNote.textContent = "Each point is a published cell with its own population: a later point counts " +
        "only those whose window had closed by the data's last year, so within a pool it may rest on fewer " +
        "cohort years. A line breaks where a cell is suppressed (a hatched square on the axis).";
      var head = (statewide ? [] : [t.label]).concat([c.axis]).concat(ROLE_LABELS[c.kind]);
      var roles = ["count", c.kind === "rate" ? "count" : c.kind, c.kind];
      var body = [];
      series.forEach(function (s) {
        c.points.forEach(function (p, i) {
          var keys = (statewide ? [] : [h("th", {scope: "row", text: groupName(t, s.group)})])
            .concat([h("th", {scope: "row", text: String(p.x)})]);
          body.push(h("tr", {}, keys.concat(s.cells[i].map(function (v, j) {
            return h("td", {"class": v === "suppressed" ? "suppressed" : (v === null ? "na" : "num"),
              "data-role": roles[j], text: Chart.format(roles[j], v)});
          }))));
        });
      });
      curveTable.appendChild(h("table", {"class": "data-table"}, [
        h("caption", {text: c.title + ", " + who + ", " + when + ". Source: " + t.name + ".csv"}),
        h("thead", {}, [h("tr", {}, head.map(function (x) { return h("th", {scope: "col", text: x}); }))]),
        h("tbody", {}, body)
      ]));
    }

    /* The mart's first split of a whole into parts, for one cohort (the chosen one, or the last in
       which the whole is observed): a stacked bar for statewide, for the chosen group, or for each
       group of the breakdown; the table lists the whole's and each part's published cells. */
    function renderParts(t) {
      if (!splits.length) return;
      var sp = splits[0], statewide = t.dimension === "statewide";
      var byName = function (n) { return mart.metrics.find(function (m) { return m.name === n; }); };
      var ms = [byName(sp.whole)].concat(sp.parts.map(function (p) { return byName(p.metric); }));
      partsHeading.textContent = sp.title;
      partsTable.textContent = "";
      partsTable.removeAttribute("data-cohort");
      if (ms.some(function (m) { return t.metrics.indexOf(m.name) < 0; })) {
        partsBox.textContent = "";
        partsNote.textContent = "This breakdown does not publish these measures.";
        return;
      }
      var wholeCol = t.columns.indexOf(ms[0].columns[2]);
      var observed = t.years.filter(function (y) {
        return t.rows.some(function (r) { return r[0] === y && r[wholeCol] !== null; });
      });
      var cohort = state.year !== "all" ? state.year : String((observed.length ? observed : t.years).slice(-1)[0]);
      var when = (t.pooled ? "cohorts " : "cohort year ") + cohortName(t, cohort);
      var groups = statewide ? ["All"] : (state.group !== "all" ? [state.group] : t.groups);
      var who = statewide ? "statewide" : (state.group !== "all" ? groupName(t, state.group) : "by " + t.label.toLowerCase());
      partsHeading.textContent = sp.title + ": " + who + ", " + when;
      partsTable.setAttribute("data-cohort", cohort);
      var rows = groups.slice(0, MAX_BARS).map(function (g) {
        var row = t.rows.find(function (r) { return String(r[0]) === cohort && (statewide || r[1] === g); });
        return {
          name: statewide ? "Statewide" : groupName(t, g, true), group: g,
          cells: ms.map(function (m) {
            return m.columns.map(function (col) { return row ? row[t.columns.indexOf(col)] : null; });
          })
        };
      });
      var labels = sp.parts.map(function (p) { return p.label; });
      Chart.stacked(partsBox, {
        parts: labels, rowTitle: statewide ? "Cohort" : t.label, axisTitle: "Share of the cohort",
        rows: rows.map(function (r) {
          return {label: r.name, whole: r.cells[0][2], values: r.cells.slice(1).map(function (c) { return c[2]; })};
        }),
        description: "Stacked bar chart of " + sp.title.toLowerCase() + ", " + who + ", " + when + ": " +
          rows.length + (rows.length === 1 ? " bar" : " bars") + " of " + labels.length +
          " parts; the table below it holds the same numbers."
      });
      partsNote.textContent = "Each piece is a published rate of the whole cohort; the parts add up to " +
        ms[0].label.toLowerCase() + ". Where a part is suppressed, that total is drawn hatched behind the " +
        "published parts." + (groups.length > MAX_BARS ? " The chart shows the first " + MAX_BARS + " of " +
        groups.length + " groups; the table lists them all." : "");
      var head = (statewide ? [] : [t.label]).concat(["Part"]).concat(ROLE_LABELS.rate);
      var body = [];
      groups.forEach(function (g) {
        var row = t.rows.find(function (r) { return String(r[0]) === cohort && (statewide || r[1] === g); });
        ms.forEach(function (m, i) {
          var keys = (statewide ? [] : [h("th", {scope: "row", text: groupName(t, g)})])
            .concat([h("th", {scope: "row", text: i === 0 ? "All: " + m.label : sp.parts[i - 1].label})]);
          body.push(h("tr", {}, keys.concat(m.columns.map(function (col, j) {
            var v = row ? row[t.columns.indexOf(col)] : null, role = j === 2 ? "rate" : "count";
            return h("td", {"class": v === "suppressed" ? "suppressed" : (v === null ? "na" : "num"),
              "data-role": role, text: Chart.format(role, v)});
          }))));
        });
      });
      partsTable.appendChild(h("table", {"class": "data-table"}, [
        h("caption", {text: sp.title + ", " + who + ", " + when + ". Source: " + t.name + ".csv"}),
        h("thead", {}, [h("tr", {}, head.map(function (x) { return h("th", {scope: "col", text: x}); }))]),
        h("tbody", {}, body)
      ]));
    }

    /* The mart's first flow for one group (statewide, or the chosen group) and one cohort (the chosen
       one, or the last whose every stage is observed: a stage's population is the whole stage before
       it, no one left out as still inside the outcome's window). A stage whose population falls
       short of the stage before is not observed yet for that cohort and is left out with its band. */
    function renderFlow(t) {
      if (!flows.length) return;
      var fl = flows[0], statewide = t.dimension === "statewide";
      var byName = function (n) { return mart.metrics.find(function (m) { return m.name === n; }); };
      var ms = fl.stages.map(function (st) { return byName(st.metric); });
      flowHeading.textContent = fl.title;
      flowTable.textContent = "";
      flowTable.removeAttribute("data-cohort");
      if (ms.some(function (m) { return t.metrics.indexOf(m.name) < 0; })) {
        flowBox.textContent = "";
        flowNote.textContent = "This breakdown does not publish these measures.";
        return;
      }
      if (!statewide && state.group === "all") {
        flowBox.textContent = "";
        flowNote.textContent = "Choose a " + t.label.toLowerCase() + " above to see its flow.";
        return;
      }
      function cells(cohort) {
        var row = t.rows.find(function (r) { return String(r[0]) === cohort && (statewide || r[1] === state.group); });
        return ms.map(function (m) {
          return m.columns.map(function (col) { return row ? row[t.columns.indexOf(col)] : null; });
        });
      }
      // Each stage's people: the cohort, then each metric's numerator where its population is the
      // whole stage before (both suppressed counts too: disclosure control suppresses them as a pair).
      function reached(c) {
        return [c[0][0]].concat(c.map(function (cell, i) {
          return i === 0 || cell[0] === c[i - 1][1] ? cell[1] : null;
        }));
      }
      function shown(c) { return reached(c).filter(function (v) { return typeof v === "number"; }).length; }
      // Unless chosen: the last cohort with every stage shown, else the last with the most shown.
      var cohort = state.year;
      if (cohort === "all") {
        var best = -1;
        t.years.forEach(function (y) {
          var n = shown(cells(String(y)));
          if (n >= best) { best = n; cohort = String(y); }
        });
      }
      var c = cells(cohort);
      var who = statewide ? "statewide" : groupName(t, state.group);
      var when = (t.pooled ? "cohorts " : "cohort year ") + cohortName(t, cohort);
      flowHeading.textContent = fl.title + ": " + who + ", " + when;
      flowTable.setAttribute("data-cohort", cohort);
      var people = reached(c);
      var stages = [{label: fl.cohort, value: people[0], rate: null, observed: true}];
      c.forEach(function (cell, i) {
        stages.push({label: fl.stages[i].label, value: people[i + 1], rate: cell[2],
                     observed: i === 0 || cell[0] === c[i - 1][1], population: cell[0]});
      });
      Chart.flow(flowBox, {
        stages: stages.map(function (st) {
          var text = Chart.format("count", st.value);
          if (typeof st.value === "number" && typeof st.rate === "number") text += " (" + Chart.format("rate", st.rate) + ")";
          return {label: st.label, value: st.value, text: text};
        }),
        description: "Flow chart of " + fl.title.toLowerCase() + ", " + who + ", " + when + ": " + stages.length +
          " stages, each a bar of the people who reached it; the table below holds the same numbers."
      });
      var unobserved = stages.filter(function (st) { return !st.observed; }).length;
      flowNote.textContent = "Each bar counts the people who reached its stage; the share beside it is of the " +
        "stage before. A band joins each stage to the next: what it narrows by went no further." +
        (unobserved ? " A stage whose window has not yet closed for this whole cohort is not drawn; " +
          "its row below counts only those whose window has." : "");
      var head = ["Stage", "People", "Population (the stage before)", "Share of the stage before"];
      flowTable.appendChild(h("table", {"class": "data-table"}, [
        h("caption", {text: fl.title + ", " + who + ", " + when + ". Source: " + t.name + ".csv"}),
        h("thead", {}, [h("tr", {}, head.map(function (x) { return h("th", {scope: "col", text: x}); }))]),
        h("tbody", {}, stages.map(function (st, i) {
          var values = i === 0 ? [[st.value, "count"], [null, "count"], [null, "rate"]]
            : [[c[i - 1][1], "count"], [st.population, "count"], [st.rate, "rate"]];
          return h("tr", {}, [h("th", {scope: "row", text: st.label})].concat(values.map(function (pair) {
            var v = pair[0];
            return h("td", {"class": v === "suppressed" ? "suppressed" : (v === null ? "na" : "num"),
              "data-role": pair[1], text: Chart.format(pair[1], v)});
          })));
        }))
      ]));
    }

    /* A breakdown by county (where credentials were prepared, or where the placed teach) is also a
       map, one cohort year at a time (every county of that year, whatever group is chosen). */
    /* Every rate measure of the mart, in the catalog's order, for one cohort and group: for teachers,
       placement then retention 1, 3 and 5 years on; for students, enrollment, completion, then
       employment 1, 3 and 5 years on. The chosen cohort, or the last one (the latest year, or the
       pool of all years); the chosen group, or the statewide row. Each bar is a published cell. */
    function renderPathway(t) {
      var group = state.group;
      if (t.dimension !== "statewide" && group === "all") {
        pathHeading.textContent = "Every measure of one group";
        pathBox.textContent = "";
        pathTable.textContent = "";
        pathNote.textContent = "Choose a " + t.label.toLowerCase() + " above to see every measure of that group side by side.";
        return;
      }
      var cohort = state.year !== "all" ? state.year : String(t.years[t.years.length - 1]);
      var row = t.rows.find(function (r) {
        return String(r[0]) === cohort && (t.dimension === "statewide" || r[1] === group);
      });
      var rates = mart.metrics.filter(function (m) { return m.kind === "rate" && t.metrics.indexOf(m.name) >= 0; });
      var who = t.dimension === "statewide" ? "statewide" : groupName(t, group);
      var when = (t.pooled ? "cohorts " : "cohort year ") + cohortName(t, cohort);
      pathHeading.textContent = "Every measure: " + who + ", " + when;
      var cells = rates.map(function (m) {
        var idx = m.columns.map(function (c) { return t.columns.indexOf(c); });
        return {m: m, values: idx.map(function (i) { return row ? row[i] : null; })};
      });
      Chart.draw(pathBox, {
        role: "rate", groupTitle: "Measure", axisTitle: "Rate",
        bars: cells.map(function (c) { return {label: c.m.label, value: c.values[2]}; }),
        description: "Bar chart of every rate measure, " + who + ", " + when + "; the table below holds the same numbers."
      });
      pathNote.textContent = "Each measure has its own population (for example, retention counts only those placed): " +
        "read each bar with its row below.";
      pathTable.textContent = "";
      pathTable.appendChild(h("table", {"class": "data-table"}, [
        h("caption", {text: "Every measure, " + who + ", " + when + ". Source: " + t.name + ".csv"}),
        h("thead", {}, [h("tr", {}, ["Measure"].concat(ROLE_LABELS.rate).map(function (c) {
          return h("th", {scope: "col", text: c});
        }))]),
        h("tbody", {}, cells.map(function (c) {
          return h("tr", {}, [h("th", {scope: "row", text: c.m.label})].concat(c.values.map(function (v, i) {
            var role = i === 2 ? "rate" : "count";
            return h("td", {"class": v === "suppressed" ? "suppressed" : (v === null ? "na" : "num"),
              "data-role": role, text: Chart.format(role, v)});
          })));
        }))
      ]));
    }

    function renderMap(t, m, where) {
      var drawable = t.map && window.C2C_COUNTIES;
      mapFigure.hidden = !drawable;
      if (!drawable) return;
      if (state.year === "all") {
        mapBox.textContent = "";
        mapNote.textContent = "Choose a cohort year to see this measure on the county map.";
        return;
      }
      var col = t.columns.indexOf(m.columns[2]);
      var areas = t.rows.filter(function (r) { return String(r[0]) === state.year; }).map(function (r) {
        return {code: r[1], value: r[col]};
      });
      var year = " by " + t.label.toLowerCase() + ", " + (t.pooled ? "cohorts " : "cohort year ") + cohortName(t, state.year);
      Chart.map(mapBox, {
        role: m.kind, areas: areas, legendTitle: m.kind === "rate" ? "Rate" : "Median (base-year $)",
        description: "Map of " + m.label + year + ": " + areas.length + " counties with a published row; " +
          "the table below holds the same numbers."
      });
      mapNote.textContent = "Map: " + m.label + year + ". Darker is higher; hatched counties are " +
        "suppressed, grey ones have no published row or no one in the cohort.";
    }

    function renderTable(t, m, idx, rows, where) {
      var statewide = t.dimension === "statewide";
      var suppressed = 0;
      var head = [t.pooled ? "Pooled cohort" : "Cohort year"].concat(statewide ? [] : [t.label]).concat(ROLE_LABELS[m.kind]);
      var roles = ["count", m.kind === "rate" ? "count" : m.kind, m.kind];
      var body = rows.map(function (r) {
        var keys = [h("th", {scope: "row", text: cohortName(t, r[0])})];
        if (!statewide) keys.push(h("th", {scope: "row", text: groupName(t, r[1])}));
        return h("tr", {}, keys.concat(idx.map(function (col, i) {
          var v = r[col];
          var cls = v === "suppressed" ? "suppressed" : (v === null ? "na" : "num");
          if (v === "suppressed") suppressed += 1;
          var td = h("td", {"class": cls, "data-role": roles[i], text: Chart.format(roles[i], v)});
          if (v === "suppressed") td.title = "Suppressed to protect privacy: see Suppression below.";
          if (v === null) td.title = "No one in this cell (for example, a window not yet observed).";
          return td;
        })));
      });
      if (!rows.length) {
        body = [h("tr", {}, [h("td", {colspan: String(head.length), text: "No published rows match these filters."})])];
      }
      tableBox.textContent = "";
      tableBox.appendChild(h("table", {"class": "data-table"}, [
        h("caption", {text: m.label + ", " + where + ": " + rows.length + " rows, " + suppressed +
          " suppressed cells (" + Chart.MARK + "). Source: " + t.name + ".csv" +
          (t.pooled ? ". Each pooled cohort counts everyone of the cohort years it names." : "")}),
        h("thead", {}, [h("tr", {}, head.map(function (c) { return h("th", {scope: "col", text: c}); }))]),
        h("tbody", {}, body)
      ]));
    }

    function renderNotes(t, m) {
      var n = t.notes;
      var items = [
        ["Measure", m.label + ": " + m.description],
        ["Cohort", n.cohort_definition],
        ["Pooled cohorts", n.pooled_cohorts_note],
        ["Data vintage", n.data_vintage],
        ["Match rate", n.match_rate === undefined ? "" : pct(n.match_rate) + ". " + (n.match_rate_note || "")],
        ["Coverage", n.coverage],
        ["Wages", n.wages_note],
        ["Suppression", Chart.MARK + " " + (n.suppression_note || "") + " This table has " +
          n.cells_with_suppression + " cells with suppression."],
        ["Not applicable", "n/a: no one in the cell, for example an outcome window not yet observed."]
      ];
      notes.textContent = "";
      items.forEach(function (it) {
        if (!it[1]) return;
        notes.appendChild(h("dt", {text: it[0]}));
        notes.appendChild(h("dd", {text: it[1]}));
      });
    }

    refreshChoices();
    render();
    return panel;
  }

  function legend() {
    return h("p", {"class": "legend"}, [
      h("span", {"class": "swatch swatch-suppressed", "aria-hidden": "true"}),
      document.createTextNode(" " + Chart.MARK + " Suppressed: too few people to publish safely. "),
      h("span", {"class": "swatch swatch-na", "aria-hidden": "true"}),
      document.createTextNode(" n/a: no one in the cell.")
    ]);
  }

  function downloads(box) {
    DATA.marts.forEach(function (mart) {
      box.appendChild(h("h3", {text: mart.title}));
      box.appendChild(h("ul", {}, mart.tables.map(function (t) {
        return h("li", {}, [h("a", {href: t.csv, download: "", text: t.name + ".csv"}),
          document.createTextNode(" (" + t.label + ", " + t.rows.length + " rows) \u00b7 "),
          h("a", {href: t.sidecar, text: "notes"})]);
      })));
    });
  }

  function start() {
    var tabs = document.getElementById("tabs"), main = document.getElementById("main");
    if (!DATA || !DATA.marts || !DATA.marts.length) {
      main.appendChild(h("p", {text: "No published tables were found when this site was built."}));
      return;
    }
    var buttons = DATA.marts.map(function (mart, i) {
      var b = h("button", {
        type: "button", role: "tab", id: "tab-" + mart.name, "aria-controls": "panel-" + mart.name, text: mart.title
      });
      b.addEventListener("click", function () { show(i); });
      b.addEventListener("keydown", function (e) {
        var step = e.key === "ArrowRight" ? 1 : (e.key === "ArrowLeft" ? -1 : 0);
        if (step) { show((i + step + buttons.length) % buttons.length); buttons[(i + step + buttons.length) % buttons.length].focus(); }
      });
      tabs.appendChild(b);
      return b;
    });
    var panels = DATA.marts.map(function (mart) { var p = View(mart); main.appendChild(p); return p; });
    function show(i) {
      buttons.forEach(function (b, j) {
        b.setAttribute("aria-selected", String(i === j));
        b.tabIndex = i === j ? 0 : -1;
        panels[j].hidden = i !== j;
      });
    }
    show(0);
    downloads(document.getElementById("downloads"));
    Chart.idle().then(function () { document.body.setAttribute("data-ready", "true"); });
  }

  start();
})();
