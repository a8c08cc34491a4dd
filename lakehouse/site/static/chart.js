/* The page's charts, drawn by Vega-Lite (assets/vega*.min.js), and the number formats the whole page uses.
   A bar is {label, value}: value is a number, "suppressed", or null (no one in the cell). A suppressed
   bar is drawn as a hatched stub marked "Suppressed", never as a zero-length bar; a suppressed county
   is hatched on the map.

   The page's Content-Security-Policy allows no eval and no inline style, so Vega runs with its
   expression interpreter (`ast: true`), draws SVG, injects no stylesheet (its rules are in style.css)
   and gets its data as inline values only: Vega's CSV reader would need eval. Each chart is one
   labelled image (its description) to assistive technology, its marks hidden: the table below it
   holds the same numbers for every reader. */
(function () {
  "use strict";
  var MARK = "\u2021";  // double dagger: the page's mark for a suppressed cell
  var HATCH = "url(#hatch)";  // the pattern in index.html
  var ACCENT = "#1f5f99", WARN = "#7a3e00";
  // Line colours that keep 3:1 contrast against the white page (a line per group, at most six).
  var LINE_COLOURS = ["#1f5f99", "#b35806", "#1b7837", "#762a83", "#a50026", "#4d4d4d"];
  var EMBED = {
    renderer: "svg", actions: false, ast: true, defaultStyle: false,
    tooltip: {disableDefaultStyle: true}
  };
  var pending = [];

  function format(role, value) {
    if (value === "suppressed") return MARK + " Suppressed";
    if (value === null || value === undefined) return "n/a";
    if (role === "rate") return (value * 100).toFixed(1) + "%";
    if (role === "median") return "$" + Math.round(value).toLocaleString("en-US");
    return Math.round(value).toLocaleString("en-US");
  }

  function niceMax(values) {
    var max = Math.max.apply(null, values.concat([1]));
    var step = Math.pow(10, Math.floor(Math.log10(max)));
    var nice = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map(function (m) { return m * step; }).find(function (v) { return v >= max; });
    return nice || max;
  }

  function scaleMax(role, values) {
    return role === "rate" ? 1 : niceMax(values.filter(function (v) { return typeof v === "number"; }));
  }

  function axisFormat(role) { return role === "rate" ? ".0%" : "$,.0f"; }

  /* Render a Vega-Lite spec into `container`, replacing what it showed once the new chart is drawn;
     a render overtaken by a later one is dropped. */
  function embed(container, spec) {
    var seq = (container.c2cSeq || 0) + 1;
    container.c2cSeq = seq;
    var target = document.createElement("div");
    var done = window.vegaEmbed(target, spec, EMBED).then(function (result) {
      if (container.c2cSeq !== seq) { result.finalize(); return; }
      if (container.c2cResult) container.c2cResult.finalize();
      container.c2cResult = result;
      container.textContent = "";
      container.appendChild(target);
      var svg = target.querySelector("svg");
      if (svg) svg.setAttribute("class", "chart");
    }, function (error) {
      container.textContent = "The chart could not be drawn; the table below holds the same numbers.";
      throw error;
    });
    pending.push(done);
    return done;
  }

  /* Resolves when every chart asked for so far is drawn (the browser test waits on it). */
  function idle() {
    var waiting = pending;
    pending = [];
    return Promise.all(waiting).then(function () { return pending.length ? idle() : true; });
  }

  /* Draw `spec` = {title, description, role ("rate" | "median"), bars} into `container` as
     horizontal bars, one per row, in the rows' order, each with its value written beside it. */
  function draw(container, spec) {
    if (!spec.bars.length) {
      if (container.c2cResult) { container.c2cResult.finalize(); container.c2cResult = null; }
      container.c2cSeq = (container.c2cSeq || 0) + 1;
      container.textContent = "No published rows match these filters.";
      return Promise.resolve();
    }
    var max = scaleMax(spec.role, spec.bars.map(function (b) { return b.value; }));
    var values = spec.bars.map(function (b, i) {
      var shown = typeof b.value === "number";
      return {
        order: i, label: b.label, text: format(spec.role, b.value),
        status: shown ? "shown" : (b.value === "suppressed" ? "suppressed" : "na"),
        // a suppressed row gets a short hatched stub, so that it is seen and never read as zero
        x: shown ? b.value : (b.value === "suppressed" ? max * 0.06 : 0)
      };
    });
    var x = {
      field: "x", type: "quantitative", scale: {domain: [0, max], nice: false},
      axis: {format: axisFormat(spec.role), grid: true, tickCount: 4, title: spec.axisTitle || null}
    };
    var y = {
      field: "label", type: "nominal", sort: {field: "order", op: "min"},
      axis: {title: null, labelLimit: 230, labelFontSize: 12}
    };
    var tooltip = [{field: "label", title: spec.groupTitle || "Row"}, {field: "text", title: "Value"}];
    return embed(container, {
      description: spec.description,
      width: 460,
      height: {step: 24},
      data: {values: values},
      encoding: {y: y},
      layer: [
        {name: "bars", transform: [{filter: "datum.status === 'shown'"}],
         mark: {type: "bar", color: ACCENT, aria: false}, encoding: {x: x, tooltip: tooltip}},
        {name: "hatched", transform: [{filter: "datum.status === 'suppressed'"}],
         mark: {type: "bar", fill: HATCH, stroke: WARN, aria: false}, encoding: {x: x, tooltip: tooltip}},
        {name: "values", mark: {type: "text", align: "left", baseline: "middle", dx: 5, fontSize: 12, aria: false},
         encoding: {x: x, text: {field: "text"},
                    color: {condition: {test: "datum.status === 'suppressed'", value: WARN}, value: "#1b1b1b"}}}
      ],
      config: {view: {stroke: null}, aria: false}
    });
  }

  /* Draw `spec` = {description, role, xTitle, axisTitle, xs: [x labels in order], numeric, series:
     [{name, points: [{x, value}]}]} as lines over x, one colour per series. A line breaks where a cell is
     suppressed or empty (it is never drawn through a value nobody may see); a suppressed cell is a
     hatched square on the x axis, in its series' colour. */
  function lines(container, spec) {
    var max = scaleMax(spec.role, [].concat.apply([], spec.series.map(function (s) {
      return s.points.map(function (p) { return p.value; });
    })));
    var values = [];
    spec.series.forEach(function (s, si) {
      var segment = 0, last = null;
      s.points.forEach(function (p) {
        var shown = typeof p.value === "number";
        if (!shown && last !== null) segment += 1;
        last = shown ? p.x : null;
        values.push({
          series: s.name, order: si, x: p.x, text: format(spec.role, p.value),
          status: shown ? "shown" : (p.value === "suppressed" ? "suppressed" : "na"),
          y: shown ? p.value : 0, segment: si + ":" + segment
        });
      });
    });
    // Cohorts are evenly spaced labels; "years after" (spec.numeric) is a distance and drawn to scale.
    var x = spec.numeric ?
      {field: "x", type: "quantitative", scale: {domain: [0, Math.max.apply(null, spec.xs)], nice: false},
       axis: {title: spec.xTitle || null, values: spec.xs, format: "d"}} :
      {field: "x", type: "ordinal", sort: spec.xs, scale: {domain: spec.xs},
       axis: {title: spec.xTitle || null, labelAngle: spec.xs.length > 8 ? -45 : 0, labelLimit: 120}};
    var y = {field: "y", type: "quantitative", scale: {domain: [0, max], nice: false},
             axis: {format: axisFormat(spec.role), grid: true, tickCount: 5, title: spec.axisTitle || null}};
    var names = spec.series.map(function (s) { return s.name; });
    var scale = {domain: names, range: LINE_COLOURS};
    var legend = names.length > 1 ? {title: spec.seriesTitle || null, orient: "right", labelLimit: 200} : null;
    var color = {field: "series", type: "nominal", scale: scale, legend: legend};
    var tooltip = [{field: "series", title: spec.seriesTitle || "Group"}, {field: "x", title: spec.xTitle || "Cohort"},
                   {field: "text", title: "Value"}];
    return embed(container, {
      description: spec.description,
      width: 520,
      height: 260,
      data: {values: values},
      encoding: {x: x, y: y},
      layer: [
        {name: "line", transform: [{filter: "datum.status === 'shown'"}],
         mark: {type: "line", strokeWidth: 2, aria: false},
         encoding: {color: color, detail: {field: "segment"}}},
        {name: "points", transform: [{filter: "datum.status === 'shown'"}],
         mark: {type: "point", filled: true, size: 45, aria: false}, encoding: {color: color, tooltip: tooltip}},
        {name: "hatched", transform: [{filter: "datum.status === 'suppressed'"}],
         mark: {type: "square", size: 90, fill: HATCH, strokeWidth: 1.5, aria: false},
         encoding: {stroke: {field: "series", type: "nominal", scale: scale, legend: legend}, tooltip: tooltip}}
      ],
      config: {view: {stroke: null}, aria: false}
    });
  }

  /* Draw `spec` = {description, axisTitle, rowTitle, parts: [part names in order], rows: [{label,
     whole: the total's share (number, "suppressed" or null), values: [each part's share]}]} as one
     horizontal bar per row, its published parts stacked in order, one colour each. Where a part is
     suppressed, the total is drawn hatched behind the parts: what the published parts leave of it
     uncovered is the suppressed parts together. Nothing is computed: each piece is a published cell,
     and a part is never drawn at a size nobody may see. */
  function stacked(container, spec) {
    var hiddenName = MARK + " Suppressed parts";
    var values = [], hidden = false;
    spec.rows.forEach(function (r, ri) {
      r.values.forEach(function (v, pi) {
        if (typeof v === "number") {
          values.push({kind: "part", row: r.label, order: ri, part: spec.parts[pi], stackOrder: pi, x: v,
                       text: format("rate", v)});
        }
      });
      if (typeof r.whole === "number" && r.values.indexOf("suppressed") >= 0) {
        hidden = true;
        values.push({kind: "whole", row: r.label, order: ri, part: hiddenName, stackOrder: -1, x: r.whole,
                     text: format("rate", r.whole) + " in all"});
      }
    });
    var names = spec.parts.concat(hidden ? [hiddenName] : []);
    var fill = {field: "part", type: "nominal",
                scale: {domain: names, range: LINE_COLOURS.slice(0, spec.parts.length).concat([HATCH])},
                legend: {title: null, orient: "bottom", columns: 3, labelLimit: 220, symbolType: "square"}};
    var x = {field: "x", type: "quantitative", scale: {domain: [0, 1], nice: false},
             axis: {format: ".0%", grid: true, tickCount: 5, title: spec.axisTitle || null}};
    var y = {field: "row", type: "nominal", sort: {field: "order", op: "min"},
             axis: {title: null, labelLimit: 230, labelFontSize: 12}};
    var tooltip = [{field: "row", title: spec.rowTitle || "Row"}, {field: "part", title: "Part"},
                   {field: "text", title: "Share"}];
    return embed(container, {
      description: spec.description,
      width: 460,
      height: {step: 26},
      data: {values: values},
      encoding: {y: y},
      layer: [
        {name: "whole", transform: [{filter: "datum.kind === 'whole'"}], mark: {type: "bar", stroke: WARN, aria: false},
         encoding: {x: x, fill: fill, tooltip: tooltip}},
        {name: "parts", transform: [{filter: "datum.kind === 'part'"}],
         mark: {type: "bar", stroke: "#ffffff", strokeWidth: 0.5, aria: false},
         encoding: {x: Object.assign({stack: "zero"}, x), fill: fill, order: {field: "stackOrder"}, tooltip: tooltip}}
      ],
      config: {view: {stroke: null}, aria: false}
    });
  }

  /* Draw `spec` = {description, stages: [{label, value: a count, "suppressed" or null, text}]} as a
     flow: one horizontal bar per stage, the cohort first, each next stage among the one before it,
     and a band joining each published stage to the next published one, as wide at each end as the
     stage it meets: what is left of the band's start at its end is the people who went no further.
     A suppressed stage is a hatched stub with no band, and nothing is computed: each bar is a
     published count. */
  function flow(container, spec) {
    var labels = spec.stages.map(function (st) { return st.label; });
    var values = [];
    spec.stages.forEach(function (st, i) {
      if (typeof st.value === "number") {
        values.push({kind: "bar", stage: st.label, x: st.value, text: st.text});
        var next = spec.stages[i + 1];
        if (next && typeof next.value === "number") {
          values.push({kind: "band", band: i, stage: st.label, x: st.value, text: st.text});
          values.push({kind: "band", band: i, stage: next.label, x: next.value, text: next.text});
        }
      } else if (st.value === "suppressed") {
        values.push({kind: "stub", stage: st.label, x: 0, text: st.text});
      }
    });
    // Room to the right of the longest bar for its label.
    var max = niceMax(spec.stages.map(function (st) { return st.value; }).filter(function (v) {
      return typeof v === "number";
    }).map(function (v) { return v * 1.3; }).concat([10]));  // whole people on the axis, even with no bar
    var y = {field: "stage", type: "nominal", scale: {type: "point", domain: labels, padding: 0.6},
             axis: {title: null, labelLimit: 260, labelFontSize: 12, labelPadding: 14, domain: false, ticks: false}};
    var x = {field: "x", type: "quantitative", scale: {domain: [0, max], nice: false},
             axis: {format: ",d", grid: true, tickCount: 5, title: spec.axisTitle || "People"}};
    var tooltip = [{field: "stage", title: "Stage"}, {field: "text", title: "People"}];
    return embed(container, {
      description: spec.description,
      width: 460,
      height: {step: 64},
      data: {values: values},
      encoding: {y: y},
      layer: [
        {name: "bands", transform: [{filter: "datum.kind === 'band'"}],
         mark: {type: "area", orient: "horizontal", fill: ACCENT, opacity: 0.18, aria: false},
         encoding: {x: x, x2: {datum: 0}, detail: {field: "band"}, tooltip: tooltip}},
        {name: "bars", transform: [{filter: "datum.kind === 'bar'"}],
         mark: {type: "bar", size: 30, fill: ACCENT, aria: false},
         encoding: {x: x, tooltip: tooltip}},
        {name: "stubs", transform: [{filter: "datum.kind === 'stub'"}],
         mark: {type: "square", size: 160, fill: HATCH, stroke: WARN, strokeWidth: 1, aria: false},
         encoding: {x: x, tooltip: tooltip}},
        {name: "labels", transform: [{filter: "datum.kind !== 'band'"}],
         mark: {type: "text", align: "left", dx: 8, fontSize: 12, fill: "#1a1a1a", aria: false},
         encoding: {x: x, text: {field: "text"}}}
      ],
      config: {view: {stroke: null}, aria: false}
    });
  }

  /* Draw `spec` = {description, role, areas: [{code, label, value}]} as a map of the state's
     counties (window.C2C_COUNTIES, ids = the tables' county codes): shaded by value, hatched where
     suppressed, grey where no row or no one. */
  function map(container, spec) {
    var max = scaleMax(spec.role, spec.areas.map(function (a) { return a.value; }));
    var rows = spec.areas.map(function (a) {
      var shown = typeof a.value === "number";
      return {
        code: a.code, value: shown ? a.value : null, text: format(spec.role, a.value),
        status: shown ? "shown" : (a.value === "suppressed" ? "suppressed" : "na")
      };
    });
    var shape = {type: "geoshape", stroke: "#ffffff", strokeWidth: 0.7, aria: false};
    var tooltip = [{field: "properties.name", title: "County"}, {field: "text", title: "Value"}];
    return embed(container, {
      description: spec.description,
      width: 380,
      height: 430,
      projection: {type: "conicEqualArea", parallels: [34, 40.5], rotate: [120, 0]},
      data: {values: window.C2C_COUNTIES, format: {type: "topojson", feature: "counties"}},
      transform: [
        {lookup: "id", from: {data: {values: rows}, key: "code", fields: ["value", "text", "status"]}},
        {calculate: "datum.status || 'na'", as: "status"},
        {calculate: "datum.text || 'No published row'", as: "text"}
      ],
      layer: [
        {name: "shaded", transform: [{filter: "datum.status === 'shown'"}], mark: shape,
         encoding: {color: {field: "value", type: "quantitative",
                            scale: {domain: [0, max], scheme: "blues", nice: false},
                            legend: {format: axisFormat(spec.role), title: spec.legendTitle || null}},
                    tooltip: tooltip}},
        {name: "hatched", transform: [{filter: "datum.status === 'suppressed'"}], mark: shape,
         encoding: {fill: {datum: MARK + " Suppressed", type: "nominal",
                           scale: {range: [HATCH]},
                           legend: {title: null, symbolType: "square", symbolSize: 220, orient: "bottom-left"}},
                    tooltip: tooltip}},
        {name: "blank", transform: [{filter: "datum.status === 'na'"}],
         mark: {type: "geoshape", stroke: "#ffffff", strokeWidth: 0.7, fill: "#e6e6e6", aria: false},
         encoding: {tooltip: tooltip}}
      ],
      config: {view: {stroke: null}, aria: false}
    });
  }

  window.C2CChart = {draw: draw, lines: lines, stacked: stacked, flow: flow, map: map, idle: idle, format: format, MARK: MARK};
})();
