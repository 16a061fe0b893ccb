// Analytics charts (uPlot), drawn from the JSON each chart's element carries in data-points
// (an attribute rather than a <script type="application/json"> block: htmx drops script
// elements from the fragments it swaps in, and the forecast is such a fragment).
"use strict";

const COLOURS = { current: "#0b57d0", previous: "#6b7280", band: "rgba(11, 87, 208, 0.15)" };

function seriesOptions(data) {
  return {
    series: [
      {},
      { label: `This period: ${data.label}`, stroke: COLOURS.current, width: 2 },
      { label: "Comparison period", stroke: COLOURS.previous, width: 1.5, dash: [6, 4] },
    ],
    data: [data.x, data.current, data.previous],
  };
}

function forecastOptions(data) {
  return {
    series: [
      {},
      { label: `Forecast: ${data.label}`, stroke: COLOURS.current, width: 2 },
      { label: "Lower bound", stroke: COLOURS.band, width: 1 },
      { label: "Upper bound", stroke: COLOURS.band, width: 1 },
    ],
    bands: [{ series: [3, 2], fill: COLOURS.band }],
    data: [data.x, data.value, data.lower, data.upper],
  };
}

const BUILDERS = { series: seriesOptions, forecast: forecastOptions };

function draw(target) {
  if (target.dataset.drawn) return;
  target.dataset.drawn = "true";
  const data = JSON.parse(target.dataset.points);
  const { data: columns, ...options } = BUILDERS[target.dataset.chart](data);
  const size = () => ({ width: Math.max(target.clientWidth, 280), height: 240 });
  const chart = new uPlot({ ...size(), ...options }, columns, target);
  new ResizeObserver(() => chart.setSize(size())).observe(target);
}

const drawAll = (root) => {
  if (window.uPlot) root.querySelectorAll("[data-chart]").forEach(draw);
};
document.addEventListener("DOMContentLoaded", () => drawAll(document));
// The forecast arrives as an htmx fragment after the first paint.
document.addEventListener("htmx:afterSettle", (event) => drawAll(event.detail.elt));
