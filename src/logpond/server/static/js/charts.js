// uPlot charts: the search histogram (drag to zoom) and the stats chart (bars or lines).

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { formatTime, timeZone } from "./util.js";

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16"];

function axis(extra = {}) {
  return { stroke: css("--muted"), grid: { stroke: css("--line"), width: 1 }, ticks: { stroke: css("--line") }, ...extra };
}

function timeAxisValues(_u, splits) {
  return splits.map((v) => formatTime(v, { withDate: false }).slice(0, 8));
}

function sized(container, build) {
  const width = () => Math.max(200, container.clientWidth);
  const height = () => Math.max(80, container.clientHeight);
  const plot = build(width(), height());
  const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: height() }));
  observer.observe(container);
  const rebuild = () => { plot.redraw(); };
  window.addEventListener("logpond:theme", rebuild);
  return { plot, destroy() { observer.disconnect(); window.removeEventListener("logpond:theme", rebuild); plot.destroy(); } };
}

// buckets: [[ms, count], ...]; onZoom(startMs, endMs) after a drag.
export function histogram(container, { buckets, binMs, start, end, onZoom }) {
  const xs = [];
  const ys = [];
  const byStart = new Map(buckets);
  const first = Math.floor(start / binMs) * binMs;
  for (let t = first; t < end; t += binMs) { xs.push(t / 1000); ys.push(byStart.get(t) || 0); }
  return sized(container, (width, height) => new uPlot({
    width, height,
    legend: { show: false },
    cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
    scales: { x: { time: true, range: [start / 1000, end / 1000] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    axes: [axis({ values: (u, s) => timeAxisValues(u, s.map((v) => v * 1000)) }), axis({ size: 40 })],
    series: [
      { value: (_u, v) => (v == null ? "" : formatTime(v * 1000)) },
      { label: "events", fill: `${css("--accent")}99`, stroke: css("--accent"), width: 0,
        paths: uPlot.paths.bars({ size: [0.9, 60], align: 1 }), points: { show: false } },
    ],
    hooks: {
      setSelect: [(u) => {
        if (u.select.width < 4) return;
        const a = u.posToVal(u.select.left, "x") * 1000;
        const b = u.posToVal(u.select.left + u.select.width, "x") * 1000;
        u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
        onZoom(Math.round(a), Math.round(b));
      }],
    },
  }, [xs, ys], container));
}

// A stats result: the first column is the x (times make a line chart, anything else bars).
export function statsChart(container, { fields, records, isTime, parseTime }) {
  const [xField, ...rest] = fields;
  const numeric = rest.filter((f) => records.some((r) => r[f] !== undefined && !Number.isNaN(Number(r[f]))));
  if (!numeric.length) return null;
  let rows = records;
  if (isTime) rows = [...records].sort((a, b) => parseTime(a[xField]) - parseTime(b[xField]));
  const labels = rows.map((r) => r[xField] ?? "(none)");
  const xs = isTime ? rows.map((r) => parseTime(r[xField]) / 1000) : rows.map((_r, i) => i);
  const data = [xs, ...numeric.map((f) => rows.map((r) => (r[f] === undefined ? null : Number(r[f]))))];
  const bars = !isTime;
  const n = numeric.length;
  return sized(container, (width, height) => new uPlot({
    width, height,
    scales: {
      x: { time: isTime, range: bars ? [-0.5, rows.length - 0.5] : undefined },
      y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.05 : 1] },
    },
    axes: [
      axis(bars
        ? { values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? String(labels[i] ?? "").slice(0, 18) : "")), space: 40, rotate: 0 }
        : { values: (u, s) => s.map((v) => formatTime(v * 1000, { withDate: false }).slice(0, 8)) }),
      axis({ size: 50 }),
    ],
    series: [
      { label: xField, value: (_u, v) => (bars ? labels[v] : formatTime(v * 1000)) },
      ...numeric.map((f, i) => ({
        label: f,
        stroke: PALETTE[i % PALETTE.length],
        fill: bars ? `${PALETTE[i % PALETTE.length]}${n > 1 ? "99" : "cc"}` : undefined,
        width: bars ? 0 : 2,
        // Several measures overlap as translucent bars, the first widest.
        paths: bars ? uPlot.paths.bars({ size: [0.8 - (0.5 * i) / n, 80], align: 0 }) : undefined,
        points: { show: !bars && rows.length < 60 },
      })),
    ],
  }, data, container));
}

// Metric values over time, one line each ({label, points: [[ms, value], ...]}), with a
// dashed threshold line when given.
export function metricChart(container, { series, start, end, threshold }) {
  const edges = threshold != null ? [start, end] : [];  // the threshold spans the whole range
  const times = [...new Set([...edges, ...series.flatMap((s) => s.points.map(([t]) => t))])].sort((a, b) => a - b);
  const data = [times.map((t) => t / 1000), ...series.map((s) => {
    const byTime = new Map(s.points);
    return times.map((t) => (byTime.has(t) ? byTime.get(t) : null));
  })];
  const lines = series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: times.length < 60 }, spanGaps: true }));
  if (threshold != null) {
    data.push(times.map(() => threshold));
    lines.push({ label: "threshold", stroke: css("--error"), width: 1, dash: [6, 4], points: { show: false } });
  }
  return sized(container, (width, height) => new uPlot({
    width, height,
    scales: { x: { time: true, range: [start / 1000, end / 1000] }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
    axes: [axis({ values: (u, s) => timeAxisValues(u, s.map((v) => v * 1000)) }), axis({ size: 50 })],
    series: [{ value: (_u, v) => (v == null ? "" : formatTime(v * 1000)) }, ...lines],
  }, data, container));
}

export { timeZone };
