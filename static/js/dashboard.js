/* The leadership dashboard's charts (ECharts, vendored in static/vendor/echarts).
 *
 * The page works without this file: every chart has a table with the same figures (a breakdown's table under
 * its chart, the drill table for the per-unit chart). Here the data comes from the page's json_script
 * (#dashboard-data); a click on a bar of a unit drills down to it, a click on a bucket opens its list.
 * Tooltips are drawn on the canvas (renderMode "richText"): ECharts' HTML tooltips carry inline styles, which
 * the portal's Content-Security-Policy (style-src 'self') refuses. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  var periodSelect = document.getElementById("dashboard-period");
  if (periodSelect && periodSelect.form) {
    periodSelect.addEventListener("change", function () { periodSelect.form.submit(); });
  }
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];
  var COLOR = "#8b1a1a";
  var PALETTE = ["#8b1a1a", "#d4a017", "#2f6690", "#3a7d44", "#9c6644", "#6d597a", "#e07a5f", "#81b29a",
                 "#3d405b", "#f2cc8f", "#5f0f40", "#0f4c5c"];

  function formatter(ratio, unit) {
    return function (value) {
      if (value === null || value === undefined) { return "—"; }
      return ratio ? value + "%" : Number(value).toLocaleString("zh-CN") + (unit ? " " + unit : "");
    };
  }

  function go(url) { if (url) { window.location.href = url; } }

  function barOption(labels, values, ratio, unit) {
    var horizontal = labels.length > 6 || labels.some(function (l) { return l.length > 5; });
    var category = {type: "category", data: labels, axisTick: {alignWithLabel: true},
                    axisLabel: {interval: 0, width: horizontal ? 96 : 72, overflow: "truncate"}};
    var amount = {type: "value", minInterval: ratio ? 0 : 1, axisLabel: {formatter: ratio ? "{value}%" : "{value}"}};
    if (horizontal) { category.inverse = true; }
    return {
      color: [COLOR],
      grid: {left: 8, right: 24, top: 12, bottom: 8, containLabel: true},
      tooltip: {trigger: "axis", renderMode: "richText", axisPointer: {type: "shadow"}, valueFormatter: formatter(ratio, unit)},
      xAxis: horizontal ? amount : category,
      yAxis: horizontal ? category : amount,
      series: [{type: "bar", data: values, cursor: "pointer", barMaxWidth: 28,
                label: {show: labels.length <= 16, position: horizontal ? "right" : "top",
                        formatter: function (p) { return formatter(ratio, "")(p.value); }}}]
    };
  }

  function pieOption(labels, values, ratio, unit) {
    return {
      color: PALETTE,
      tooltip: {trigger: "item", renderMode: "richText", valueFormatter: formatter(ratio, unit)},
      legend: {bottom: 0, type: "scroll"},
      series: [{type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"], cursor: "pointer",
                label: {formatter: "{b}: {c}"},
                data: labels.map(function (label, i) { return {name: label, value: values[i]}; })}]
    };
  }

  function sizeFor(element, count, horizontal) {
    // A horizontal bar chart grows with its bars so that no label is dropped.
    if (horizontal && count > 8) { element.style.height = (count * 26 + 40) + "px"; }
  }

  function draw(element, option) {
    element.classList.remove("d-none");
    var chart = echarts.init(element, null, {renderer: "canvas"});
    chart.setOption(option, true);
    charts.push(chart);
    return chart;
  }

  data.charts.forEach(function (spec) {
    var element = document.getElementById(spec.id);
    // Nothing counted: a pie of zeros would show equal slices; the table (left open) says it plainly.
    var counted = spec.values.some(function (v) { return v !== null && v !== 0; });
    if (!element || !spec.labels.length || !counted) { return; }
    var option = spec.kind === "pie" ? pieOption(spec.labels, spec.values, spec.ratio, spec.unit)
                                      : barOption(spec.labels, spec.values, spec.ratio, spec.unit);
    if (spec.kind !== "pie") { sizeFor(element, spec.labels.length, option.yAxis.type === "category"); }
    var chart = draw(element, option);
    chart.on("click", function (params) { go(spec.urls[params.dataIndex]); });
    var table = element.parentNode.querySelector("details.dash-chart-table");
    if (table) { table.removeAttribute("open"); }
  });

  var children = data.children;
  var box = document.getElementById("children-chart-box");
  var select = document.getElementById("children-figure");
  var element = document.getElementById("chart-children");
  if (box && select && element && children.units.length && children.figures.length) {
    children.figures.forEach(function (figure, i) {
      var option = document.createElement("option");
      option.value = String(i);
      option.textContent = figure.label;
      select.appendChild(option);
    });
    box.classList.remove("d-none");
    var childChart = null;
    var showFigure = function () {
      var figure = children.figures[Number(select.value) || 0];
      var option = barOption(children.units, figure.values, figure.ratio, figure.unit);
      sizeFor(element, children.units.length, option.yAxis.type === "category");
      if (childChart) { childChart.resize(); childChart.setOption(option, true); return; }
      childChart = draw(element, option);
      childChart.on("click", function (params) {
        var current = children.figures[Number(select.value) || 0];
        go(children.drill[params.dataIndex] || current.urls[params.dataIndex]);
      });
    };
    select.addEventListener("change", showFigure);
    showFigure();
  }

  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(function () { charts.forEach(function (chart) { chart.resize(); }); }, 150);
  });
}());
