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

  function barOption(names, series, horizontal) {
    var category = { type: "category", data: names, axisLabel: { interval: 0, width: 120, overflow: "truncate" } };
    var value = { type: "value", minInterval: 1 };
    return {
      color: PALETTE,
      animation: false,
      tooltip: { trigger: "axis" },
      legend: series.length > 1 ? { top: 0 } : undefined,
      grid: { left: horizontal ? 140 : 40, right: 16, top: series.length > 1 ? 30 : 12, bottom: 30, containLabel: !horizontal },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: series.map(function (s) {
        return { name: s.name, type: s.type || "bar", data: s.data, label: { show: true, position: horizontal ? "right" : "top" } };
      })
    };
  }

  function options(data) {
    var L = data.labels || {};
    return {
      trend: barOption(
        data.trend.map(function (r) { return r.month; }),
        [
          { name: L.registered, data: data.trend.map(function (r) { return r.registered; }) },
          { name: L.closed, type: "line", data: data.trend.map(function (r) { return r.closed; }) }
        ]
      ),
      by_department: barOption(
        data.by_department.map(function (r) { return r.name; }),
        [{ name: L.assigned, data: data.by_department.map(function (r) { return r.assigned; }) }],
        true
      ),
      aging: barOption(
        data.aging.map(function (r) { return r.bucket; }),
        [{ name: L.open, data: data.aging.map(function (r) { return r.count; }) }]
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
        data.overdue.map(function (r) { return r.name; }),
        [{ name: L.overdue, data: data.overdue.map(function (r) { return r.count; }) }],
        true
      )
    };
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
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  });
})();
