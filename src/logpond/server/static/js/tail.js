// Live tail: follow groups with a filter pattern; events arrive over Server-Sent Events
// within a second of being committed. The list is virtualized and bounded (10,000 rows;
// the oldest go), DOM updates are batched per animation frame, and pausing keeps a
// bounded backlog that is shown on resume.

import { allGroups } from "./api.js";
import { emptyState } from "./empty.js";
import { groupPicker } from "./pickers.js";
import { copy, formatTime, h, isErrorLevel, prettyJson } from "./util.js";
import { VirtualList } from "./vlist.js";

const MAX_ROWS = 10_000;

// Terms of a plain filter pattern to highlight ("ERROR", "?timeout", "-debug" excluded).
export function highlightTerms(pattern) {
  const text = (pattern || "").trim();
  if (!text || text.startsWith("{") || text.startsWith("[")) return [];
  const terms = [];
  for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    const term = m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2].replace(/^\?/, "");
    if (term && !term.startsWith("-") && term !== "%") terms.push(term);
  }
  return terms;
}

function marked(text, terms) {
  if (!terms.length || !text) return [text || ""];
  const escaped = terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`(${escaped.join("|")})`, "gi");
  return text.split(re).map((part, i) => (i % 2 ? h("mark", part) : part));
}

export async function render(container, params) {
  const groups = await allGroups();
  if (!groups.length) { container.replaceChildren(emptyState()); return null; }
  const names = groups.map((g) => g.name);
  let chosen = params.getAll("g").filter((g) => names.includes(g));
  if (!chosen.length) chosen = [names[0]];
  let source = null;
  let paused = false;
  let backlog = [];
  let incoming = [];
  let frame = 0;
  let received = 0;
  let dropped = 0;
  let terms = [];
  const rate = { count: 0, since: performance.now(), value: 0 };

  const picker = groupPicker(names, chosen, (values) => { chosen = values.slice(0, 10); syncUrl(); });
  const pattern = h("input.grow#tail-pattern", {
    placeholder: "Filter pattern: ERROR, \"timeout\" -debug, { $.status >= 500 }", value: params.get("p") || "", "data-focus": true,
    "aria-label": "Filter pattern", on: { keydown: (e) => { if (e.key === "Enter") start(); } },
  });
  const startButton = h("button.primary#tail-start", { type: "button", on: { click: () => start() } }, "Start");
  const pauseButton = h("button#tail-pause", { type: "button", disabled: true, on: { click: () => togglePause() } }, "Pause");
  const clearButton = h("button", { type: "button", on: { click: () => { list.clear(); received = 0; updateCounts(); } } }, "Clear");
  const badge = h("span.badge#tail-status", "stopped");
  const counts = h("span.muted#tail-counts");
  const note = h("span.error-text#tail-error");
  const listEl = h("div#tail-list");
  const waiting = h("div.muted#tail-waiting", { style: "padding:12px" },
    "Waiting for events. New events of the chosen groups appear here within a second of being sent; ",
    "try ", h("code", "logpond ingest app.log --group <group>"), ".");
  container.replaceChildren(h("div.tail",
    h("div.toolbar", picker.el, pattern, startButton, pauseButton, clearButton),
    h("div.row", badge, counts, note),
    h("div.panel", { style: "flex:1;display:flex;flex-direction:column;min-height:0" }, waiting, listEl)));
  const list = new VirtualList(listEl, { max: MAX_ROWS, render: row });

  function syncUrl() {
    const q = new URLSearchParams();
    for (const g of chosen) q.append("g", g);
    if (pattern.value) q.set("p", pattern.value);
    history.replaceState(null, "", `#/tail?${q}`);
  }

  function row(event, _i, expanded) {
    const level = event.level;
    return h("div.vrow", {
      class: `vrow${expanded ? " expanded" : ""}${isErrorLevel(level) ? " error-row" : /warn/i.test(level || "") ? " warn-row" : ""}`,
      on: { click: (e) => { if (!e.target.closest("pre, button, a")) list.toggle(event); } },
    },
    h("span.t", formatTime(event.timestamp)),
    h("div.m", h("span.muted", `${event.group} `), level ? h("span", { class: `lvl lvl-${level}` }, `${level} `) : null,
      ...marked(event.message ?? "", terms),
      expanded ? h("div", h("pre.json", prettyJson({ ...event, fields: event.fields ? JSON.parse(event.fields) : null })),
        h("div.actions",
          h("button.small", { type: "button", on: { click: () => copy(event.message ?? "") } }, "Copy message"),
          event.trace_id ? h("a", { href: `#/trace/${encodeURIComponent(event.trace_id)}` }, `Trace ${event.trace_id}`) : null)) : null));
  }

  function start() {
    stop();
    if (!chosen.length) { note.textContent = "Choose at least one log group."; return; }
    note.textContent = "";
    terms = highlightTerms(pattern.value);
    syncUrl();
    const q = new URLSearchParams();
    for (const g of chosen) q.append("group", g);
    if (pattern.value.trim()) q.set("pattern", pattern.value.trim());
    source = new EventSource(`/api/v1/tail?${q}`);
    badge.textContent = "connecting…";
    badge.className = "badge";
    source.addEventListener("open", () => {
      badge.textContent = paused ? "paused" : "live";
      badge.className = `badge ${paused ? "paused" : "live"}`;
      badge.dataset.state = "live";
    });
    source.addEventListener("message", (e) => {
      const data = JSON.parse(e.data);
      dropped += data.dropped;
      receive(data.events);
    });
    source.addEventListener("end", (e) => {
      const data = JSON.parse(e.data);
      note.textContent = data.message;
      stop();
    });
    source.addEventListener("error", () => {
      if (source && source.readyState === EventSource.CLOSED) {
        note.textContent = "The live tail was refused or lost; check the groups and the pattern.";
        stop();
      } else {
        badge.textContent = "reconnecting…";
        badge.className = "badge";
      }
    });
    startButton.textContent = "Restart";
    pauseButton.disabled = false;
  }

  function stop() {
    if (source) { source.close(); source = null; }
    badge.textContent = "stopped";
    badge.className = "badge";
    delete badge.dataset.state;
    pauseButton.disabled = true;
  }

  function receive(events) {
    received += events.length;
    rate.count += events.length;
    if (paused) {
      backlog.push(...events);
      if (backlog.length > MAX_ROWS) { dropped += backlog.length - MAX_ROWS; backlog = backlog.slice(-MAX_ROWS); }
      updateCounts();
      return;
    }
    incoming.push(...events);
    if (!frame) frame = requestAnimationFrame(flush);
  }

  function flush() {
    frame = 0;
    const batch = incoming.length > MAX_ROWS ? incoming.slice(-MAX_ROWS) : incoming;
    incoming = [];
    list.append(batch);
    waiting.hidden = true;
    updateCounts();
  }

  function togglePause() {
    paused = !paused;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    badge.textContent = paused ? "paused" : "live";
    badge.className = `badge ${paused ? "paused" : "live"}`;
    if (!paused && backlog.length) { incoming.push(...backlog); backlog = []; if (!frame) frame = requestAnimationFrame(flush); }
  }

  function updateCounts() {
    const now = performance.now();
    if (now - rate.since > 1000) { rate.value = (rate.count * 1000) / (now - rate.since); rate.count = 0; rate.since = now; }
    counts.textContent = `${received.toLocaleString()} ${received === 1 ? "event" : "events"} · ${Math.round(rate.value)}/s${dropped ? ` · ${dropped.toLocaleString()} dropped (too fast)` : ""}${backlog.length ? ` · ${backlog.length.toLocaleString()} waiting` : ""}`;
  }

  if (params.get("start") !== "0") start();
  return () => { stop(); picker.destroy(); if (frame) cancelAnimationFrame(frame); };
}
