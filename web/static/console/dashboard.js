/* 统计看板: draws the charts from the JSON block #dash-data with the vendored Chart.js (no CDN).
   Every number is also in the HTML tables below the charts; without JavaScript or Chart.js nothing is lost. */
(function () {
  "use strict";

  var PALETTE = ["#0b7a53", "#1a56db", "#d9822b", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#b7950b"];

  function data() {
    var el = document.getElementById("dash-data");
    if (!el) return null;
    try { return JSON.parse(el.textContent || "{}"); } catch (e) { return null; }
  }

  function colour(i) { return PALETTE[i % PALETTE.length]; }

  function draw(id, cfg) {
    var canvas = document.getElementById(id);
    if (!canvas || !cfg || !cfg.labels || !cfg.labels.length) return;
    // eslint-disable-next-line no-new
    new window.Chart(canvas, cfg.chart);
  }

  function init() {
    var d = data();
    if (!d || typeof window.Chart === "undefined") return;
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    window.Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
    window.Chart.defaults.animation = still ? false : window.Chart.defaults.animation;
    window.Chart.defaults.maintainAspectRatio = false;

    var q = d.questions || {};
    draw("chart-questions", { labels: q.labels, chart: {
      type: "bar",
      data: { labels: q.labels, datasets: (q.datasets || []).map(function (ds, i) {
        return { label: ds.label, data: ds.data, backgroundColor: colour(i), stack: "q" };
      }) },
      options: { responsive: true, interaction: { mode: "index", intersect: false },
                 scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
                 plugins: { legend: { position: "bottom" } } }
    } });

    var c = d.consult || {};
    draw("chart-consult", { labels: c.labels, chart: {
      type: "bar",
      data: { labels: c.labels, datasets: (c.datasets || []).map(function (ds, i) {
        return { label: ds.label, data: ds.data, backgroundColor: colour(i) };
      }) },
      options: { responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
                 plugins: { legend: { position: "bottom" } } }
    } });

    var t = d.topics || {};
    draw("chart-topics", { labels: t.labels, chart: {
      type: "bar",
      data: { labels: t.labels, datasets: (t.datasets || []).map(function (ds) {
        return { label: ds.label, data: ds.data, backgroundColor: colour(0) };
      }) },
      options: { indexAxis: "y", responsive: true, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
                 plugins: { legend: { display: false } } }
    } });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
