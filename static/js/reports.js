/* Report pages: charts (ECharts, vendored) drawn from the page's json_script block, and the
   export progress bar. No inline script: the data is a <script type="application/json">. */
(function () {
  "use strict";

  var PALETTE = ["#1f4e8c", "#b3261e", "#2e7d32", "#b26a00", "#6a3d9a", "#00838f"];

  function readData() {
    var node = document.getElementById("report-data");
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }

  // categories: the full values (tooltip header, axis-label hover); labels: what the axis
  // prints (short department names, "3月"), computed on the server (reports/charts.py).
  function barOption(categories, labels, series, horizontal) {
    var labelOf = {};
    categories.forEach(function (c, i) { labelOf[c] = labels[i]; });
    var axisLabel = {
      formatter: function (v) { return Object.prototype.hasOwnProperty.call(labelOf, v) ? labelOf[v] : v; },
      hideOverlap: true
    };
    if (horizontal) {
      axisLabel.interval = 0;
      axisLabel.width = 150;
      axisLabel.overflow = "truncate";
    } else if (categories.length > 24) {
      axisLabel.rotate = 45;  // a long period: slanted, and ECharts leaves out what would overlap
    }
    // numbers on every bar and point run together on a long axis: the tooltip and the table
    // beside the chart have them
    var valueLabels = horizontal || categories.length <= 12;
    // triggerEvent: hovering an axis label shows its full value in the tooltip
    var category = { type: "category", data: categories, axisLabel: axisLabel, triggerEvent: true, inverse: !!horizontal };
    var value = { type: "value", minInterval: 1 };
    return {
      color: PALETTE,
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: series.length > 1 ? { top: 0 } : undefined,
      grid: { left: 8, right: horizontal ? 40 : 16, top: series.length > 1 ? 30 : 12, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: series.map(function (s) {
        return { name: s.name, type: s.type || "bar", data: s.data, label: { show: valueLabels, position: horizontal ? "right" : "top" } };
      })
    };
  }

  function pluck(rows, key) { return rows.map(function (r) { return r[key]; }); }

  function options(data) {
    var L = data.labels || {};
    return {
      trend: barOption(
        pluck(data.trend, "month"),
        pluck(data.trend, "label"),
        [
          { name: L.registered, data: pluck(data.trend, "registered") },
          { name: L.closed, type: "line", data: pluck(data.trend, "closed") }
        ]
      ),
      by_department: barOption(
        pluck(data.by_department, "name"),
        pluck(data.by_department, "label"),
        [{ name: L.assigned, data: pluck(data.by_department, "assigned") }],
        true
      ),
      aging: barOption(
        pluck(data.aging, "bucket"),
        pluck(data.aging, "bucket"),
        [{ name: L.open, data: pluck(data.aging, "count") }]
      ),
      by_center: {
        color: PALETTE,
        animation: false,
        tooltip: { trigger: "item" },
        series: [{
          type: "pie", radius: ["35%", "65%"],
          label: { formatter: "{b}：{c}" },
          data: data.by_center.map(function (r) { return { name: r.name, value: r.count }; })
        }]
      },
      overdue: barOption(
        pluck(data.overdue, "name"),
        pluck(data.overdue, "label"),
        [{ name: L.overdue, data: pluck(data.overdue, "count") }],
        true
      )
    };
  }

  // {short label: full name} of a chart whose axis prints short department names
  function fullNames(data, key) {
    var rows = key === "by_department" || key === "overdue" ? data[key] : null;
    if (!rows) { return null; }
    var map = {};
    rows.forEach(function (r) { if (r.label !== r.name) { map[r.label] = r.name; } });
    return map;
  }

  // The full name on hover: an SVG <title> on each axis label that is short (or cut short).
  function titleLabels(el, full) {
    el.querySelectorAll("svg text").forEach(function (t) {
      var node = t.firstChild;
      if (!node || node.nodeType !== 3 || t.querySelector("title")) { return; }
      var shown = node.nodeValue;
      var name = full[shown];
      if (!name && shown.slice(-1) === "…") {
        var head = shown.slice(0, -1);
        Object.keys(full).forEach(function (k) { if (!name && k.indexOf(head) === 0) { name = full[k]; } });
      }
      if (!name) { return; }
      var title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = name;
      t.appendChild(title);
      t.setAttribute("data-full-name", name);
    });
  }

  function drawCharts() {
    var data = readData();
    if (!data || typeof window.echarts === "undefined") { return; }
    var opts = options(data);
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var option = opts[el.getAttribute("data-chart")];
      if (!option) { return; }
      // SVG: sharp when printed, and text a screen reader can ignore (the table has the numbers)
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option);
      var full = fullNames(data, el.getAttribute("data-chart"));
      if (full) {
        // ECharts redraws its SVG on resize: put the titles back after every drawing
        chart.on("finished", function () { titleLabels(el, full); });
        titleLabels(el, full);
      }
      el.setAttribute("data-rendered", "1");
      charts.push(chart);
    });
    var resize = function () { charts.forEach(function (c) { c.resize(); }); };
    window.addEventListener("resize", resize);
    window.addEventListener("beforeprint", resize);
    window.addEventListener("afterprint", resize);
  }

  function pollExport() {
    var box = document.querySelector("[data-export-status-url]");
    if (!box) { return; }
    var url = box.getAttribute("data-export-status-url");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var link = document.querySelector("[data-download]");
    var failed = document.querySelector("[data-failed]");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          var percent = Math.round((job.progress || 0) * 100);
          bar.value = percent;
          bar.setAttribute("aria-valuenow", String(percent));
          box.setAttribute("data-status", job.status);
          if (text) { text.textContent = percent + "%（" + job.rows + " / " + job.total + "）"; }
          if (job.status === "done") {
            if (link) { link.hidden = false; }
            return;
          }
          if (job.status === "failed") {
            if (failed) { failed.hidden = false; }
            return;
          }
          window.setTimeout(tick, 1000);
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    pollExport();
    // [data-print] buttons are handled once, by app.js (a second handler here opened the print
    // dialog twice).
  });
})();
