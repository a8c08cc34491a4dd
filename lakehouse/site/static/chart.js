/* Horizontal bar charts in plain SVG, and the number formats the whole page uses.
   A bar is {label, value}: value is a number, "suppressed", or null (no one in the cell). A suppressed
   bar is drawn as a hatched stub marked "Suppressed", never as a zero-length bar. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";  // the SVG namespace name, not a network address
  var MARK = "\u2021";  // double dagger: the page's mark for a suppressed cell

  function format(role, value) {
    if (value === "suppressed") return MARK + " Suppressed";
    if (value === null || value === undefined) return "n/a";
    if (role === "rate") return (value * 100).toFixed(1) + "%";
    if (role === "median") return "$" + Math.round(value).toLocaleString("en-US");
    return Math.round(value).toLocaleString("en-US");
  }

  function node(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function niceMax(values) {
    var max = Math.max.apply(null, values.concat([1]));
    var step = Math.pow(10, Math.floor(Math.log10(max)));
    var nice = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map(function (m) { return m * step; }).find(function (v) { return v >= max; });
    return nice || max;
  }

  function shorten(text, n) {
    return text.length > n ? text.slice(0, n - 1) + "\u2026" : text;
  }

  /* Draw `spec` = {id, title, description, role ("rate" | "median"), bars} into `container`. */
  function draw(container, spec) {
    container.textContent = "";
    var bars = spec.bars;
    var labelW = 230, barW = 420, valueW = 120, rowH = 26, top = 30, bottom = 10;
    var width = labelW + barW + valueW;
    var height = top + Math.max(bars.length, 1) * rowH + bottom;
    var svg = node("svg", {
      viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-labelledby": spec.id + "-title " + spec.id + "-desc", "class": "chart", "data-bars": bars.length
    });
    svg.appendChild(node("title", {id: spec.id + "-title"}, spec.title));
    svg.appendChild(node("desc", {id: spec.id + "-desc"}, spec.description));
    var defs = node("defs");
    var hatch = node("pattern", {
      id: spec.id + "-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)"
    });
    hatch.appendChild(node("rect", {width: 6, height: 6, "class": "hatch-bg"}));
    hatch.appendChild(node("line", {x1: 0, y1: 0, x2: 0, y2: 6, "class": "hatch-line"}));
    defs.appendChild(hatch);
    svg.appendChild(defs);

    var numbers = bars.map(function (b) { return b.value; }).filter(function (v) { return typeof v === "number"; });
    var max = spec.role === "rate" ? 1 : niceMax(numbers);
    [0, 0.25, 0.5, 0.75, 1].forEach(function (f) {
      var x = labelW + f * barW;
      svg.appendChild(node("line", {x1: x, y1: top - 6, x2: x, y2: height - bottom, "class": "grid"}));
      svg.appendChild(node("text", {x: x, y: top - 12, "class": "tick", "text-anchor": "middle"},
        format(spec.role, f * max)));
    });
    if (!bars.length) {
      svg.appendChild(node("text", {x: labelW + 8, y: top + rowH * 0.65, "class": "empty"},
        "No published rows match these filters."));
    }
    bars.forEach(function (b, i) {
      var y = top + i * rowH;
      var g = node("g", {"class": "bar-row"});
      var label = node("text", {x: labelW - 8, y: y + rowH * 0.65, "text-anchor": "end", "class": "label"},
        shorten(b.label, 32));
      g.appendChild(label);
      var text = format(spec.role, b.value);
      if (typeof b.value === "number") {
        g.appendChild(node("rect", {
          x: labelW, y: y + 4, width: Math.max(1, (b.value / max) * barW), height: rowH - 8, "class": "bar"
        }));
      } else if (b.value === "suppressed") {
        g.appendChild(node("rect", {
          x: labelW, y: y + 4, width: 40, height: rowH - 8, "class": "bar-suppressed",
          fill: "url(#" + spec.id + "-hatch)"
        }));
      }
      g.appendChild(node("text", {
        x: labelW + barW + 8, y: y + rowH * 0.65,
        "class": b.value === "suppressed" ? "value suppressed" : (b.value === null ? "value na" : "value")
      }, text));
      g.appendChild(node("title", {}, b.label + ": " + text));
      svg.appendChild(g);
    });
    container.appendChild(svg);
    return svg;
  }

  window.C2CChart = {draw: draw, format: format, MARK: MARK};
})();
