// The search page: groups, time range, an Insights query; a histogram, the results (events
// or a stats table and chart), a field sidebar with top values, saved queries and exports.
// Its whole state is in the URL: #/search?g=<group>&g=...&q=<query>&from=now-1h&to=now&tz=utc

import { ApiError, allGroups, api, download, get, post } from "./api.js";
import { histogram, statsChart } from "./charts.js";
import { QueryEditor } from "./editor.js";
import { groupPicker, timeRangePicker } from "./pickers.js";
import { emptyState } from "./empty.js";
import {
  copy, formatTime, h, isErrorLevel, parseResultTime, prettyJson, resolveTime, setTimeZone, timeZone, toast, tryJson,
} from "./util.js";
import { VirtualList } from "./vlist.js";

const DEFAULT_QUERY = "fields @timestamp, @message, @logStream\n| sort @timestamp desc\n| limit 200";
const MAX_SIDEBAR_FIELDS = 60;

export async function render(container, params) {
  performance.mark("logpond:search-start");
  const state = {
    groups: params.getAll("g"),
    query: params.get("q") || DEFAULT_QUERY,
    from: params.get("from") || "now-1h",
    to: params.get("to") || "now",
    tz: params.get("tz") || timeZone(),
  };
  setTimeZone(state.tz);
  const [groups, saved] = await Promise.all([allGroups(), get("/api/v1/saved-queries").catch(() => [])]);
  if (!groups.length) {
    container.replaceChildren(emptyState());
    performance.mark("logpond:search-ready");
    return null;
  }
  const names = groups.map((g) => g.name);
  if (!state.groups.length) state.groups = JSON.parse(localStorage.getItem("logpond.groups") || "[]");
  state.groups = state.groups.filter((g) => names.includes(g));
  if (!state.groups.length) state.groups = [names[0]];

  let job = null; // the running query: { id, abort }
  let discovered = [];
  let listView = null;
  let charts = [];

  const editor = new QueryEditor({ value: state.query, onRun: () => run(), fields: () => discovered });
  const groupsControl = groupPicker(names, state.groups, (chosen) => {
    state.groups = chosen;
    localStorage.setItem("logpond.groups", JSON.stringify(chosen));
    syncUrl();
  });
  const rangeControl = timeRangePicker(state, () => { syncUrl(); run(); });
  const runButton = h("button.primary#run", { type: "button", title: "Run (Ctrl+Enter)", on: { click: () => (job ? cancel() : run()) } }, "Run");
  const savedSelect = h("select#saved", { "aria-label": "Saved queries", on: { change: () => loadSaved() } },
    h("option", { value: "" }, saved.length ? "Saved queries…" : "No saved queries"),
    saved.map((s) => h("option", { value: s.id }, s.name)));
  const status = h("span.muted#status");
  const progress = h("div.progress", { hidden: true });
  const errorBox = h("div.parse-error#query-error", { hidden: true, role: "alert" });
  const histBox = h("div.histogram#histogram");
  const histInfo = h("span.muted#hist-info");
  const resultsHead = h("div.results-head", h("strong#result-count", ""), status);
  const resultsBody = h("div.grow", { style: "display:flex;flex-direction:column;min-height:0" });
  const sidebar = h("div.fields#fields", h("h3", "Fields"), h("p.muted", { style: "padding:0 12px" }, "Run a query to see its fields."));

  const exportMenu = h("select", { "aria-label": "Export", on: { change: (e) => { exportAll(e.target.value); e.target.value = ""; } } },
    h("option", { value: "" }, "Export…"), h("option", { value: "csv" }, "All rows as CSV"), h("option", { value: "ndjson" }, "All rows as NDJSON"));

  // data-state (running, done, error) and data-runs tell tests and scripts where a run is.
  const page = h("div.search#search", { dataset: { runs: "0", state: "idle", histograms: "0" } },
    h("aside.panel", sidebar),
    h("div.main-col",
      h("div.toolbar", groupsControl.el, rangeControl.el, savedSelect, h("span.grow"),
        h("button", { type: "button", title: "Copy a link to this search", on: { click: () => copy(location.href) } }, "Share"),
        h("button", { type: "button", on: { click: () => saveQuery() } }, "Save"),
        exportMenu, runButton),
      editor.el,
      errorBox,
      progress,
      h("div.panel", h("div.panel-head.row", h("strong", "Events over time"), histInfo, h("span.grow"),
        h("span.muted", { style: "font-size:12px" }, "drag to zoom")), histBox),
      h("div.panel.results", resultsHead, resultsBody)));
  container.replaceChildren(page);

  performance.mark("logpond:search-ready");
  run();

  function syncUrl(push = false) {
    const q = new URLSearchParams();
    for (const g of state.groups) q.append("g", g);
    q.set("q", editor.value);
    q.set("from", String(state.from));
    q.set("to", String(state.to));
    q.set("tz", state.tz);
    const url = `#/search?${q}`;
    if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
  }

  function body() {
    const now = Date.now();
    return { query: editor.value, groups: state.groups, start: resolveTime(state.from, now), end: resolveTime(state.to, now) };
  }

  function showError(err) {
    const b = err.body || {};
    errorBox.hidden = false;
    if (b.error === "MalformedQueryException") {
      editor.setError(b.offset, b.end_offset);
      errorBox.replaceChildren(`${b.message} (line ${b.line}, column ${b.column})`, b.snippet ? h("pre", b.snippet) : null);
    } else {
      errorBox.replaceChildren(err.message || String(err));
    }
  }

  async function run() {
    if (job) await cancel();
    state.query = editor.value;
    syncUrl(true);
    errorBox.hidden = true;
    editor.setError(null);
    const request = body();
    const abort = new AbortController();
    job = { id: null, abort };
    runButton.textContent = "Cancel";
    page.dataset.state = "running";
    progress.hidden = false;
    status.textContent = "Running…";
    resultsBody.replaceChildren(h("div", { style: "padding:12px" }, [1, 2, 3, 4, 5].map(() => h("div.skeleton.line"))));
    const started = performance.now();
    loadHistogram(request, abort.signal);
    try {
      const started_job = await post("/api/v1/queries", request, { signal: abort.signal });
      job.id = started_job.query_id;
      let result = started_job;
      while (!["Complete", "Failed", "Cancelled", "Timeout"].includes(result.status)) {
        await new Promise((r) => setTimeout(r, 120));
        if (abort.signal.aborted) return;
        result = await get(`/api/v1/queries/${result.query_id}`, { signal: abort.signal });
        const s = result.statistics;
        status.textContent = `${result.status}… ${Math.round(s.recordsScanned).toLocaleString()} scanned`;
      }
      if (result.status !== "Complete") {
        status.textContent = result.status;
        showError(new ApiError(400, result.error || { message: `query ${result.status.toLowerCase()}` }));
        resultsBody.replaceChildren();
        finish("error");
        return;
      }
      performance.mark("logpond:results-received");
      showResults(result, performance.now() - started);
      finish("done");
    } catch (err) {
      if (err.name === "AbortError") return;
      showError(err);
      status.textContent = "";
      resultsBody.replaceChildren();
      finish("error");
    } finally {
      if (job && job.abort === abort) { job = null; runButton.textContent = "Run"; progress.hidden = true; }
    }
  }

  function finish(how) {
    page.dataset.state = how;
    page.dataset.runs = String(Number(page.dataset.runs) + 1);
  }

  async function cancel() {
    const current = job;
    if (!current) return;
    job = null;
    current.abort.abort();
    runButton.textContent = "Run";
    progress.hidden = true;
    status.textContent = "Cancelled";
    page.dataset.state = "cancelled";
    if (current.id) await api("DELETE", `/api/v1/queries/${current.id}`).catch(() => null);
  }

  async function loadHistogram(request, signal) {
    histInfo.textContent = "";
    histBox.replaceChildren(h("div.skeleton", { style: "height:100%" }));
    try {
      const data = await post("/api/v1/query/histogram", { ...request, bins: 80 }, { signal });
      for (const c of charts.filter((c) => c.kind === "hist")) c.destroy();
      charts = charts.filter((c) => c.kind !== "hist");
      histBox.replaceChildren();
      histInfo.textContent = `${data.total.toLocaleString()} events · ${formatTime(data.start)} – ${formatTime(data.end)} ${state.tz === "utc" ? "UTC" : "local"}`;
      histBox.dataset.start = data.start;
      histBox.dataset.end = data.end;
      page.dataset.histograms = String(Number(page.dataset.histograms) + 1);
      const chart = histogram(histBox, {
        buckets: data.buckets, binMs: data.bin_ms, start: data.start, end: data.end,
        onZoom: (a, b) => { state.from = String(a); state.to = String(b); rangeControl.refresh(); run(); },
      });
      charts.push({ kind: "hist", destroy: () => chart.destroy() });
    } catch (err) {
      if (err.name === "AbortError") return;
      histBox.replaceChildren(h("p.muted", { style: "padding:8px" }, "No histogram for this query."));
    }
  }

  function showResults(result, ms) {
    const { fields, records, statistics } = result;
    const count = document.getElementById("result-count");
    count.textContent = `${records.length.toLocaleString()} ${records.length === 1 ? "row" : "rows"}`;
    status.textContent = `${Math.round(statistics.recordsMatched).toLocaleString()} matched · ${Math.round(statistics.recordsScanned).toLocaleString()} scanned · ${(ms / 1000).toFixed(2)} s`;
    for (const c of charts.filter((c) => c.kind === "stats")) c.destroy();
    charts = charts.filter((c) => c.kind !== "stats");
    const aggregated = records.length > 0 && !records.some((r) => "@ptr" in r);
    discovered = discoverFields(fields, records);
    renderSidebar();
    if (!records.length) {
      resultsBody.replaceChildren(h("div.empty", h("h2", "No results"),
        h("p.muted", "Nothing matched in this time range. Widen the range, check the groups, or loosen the filter.")));
      return;
    }
    if (aggregated) showStats(fields, records); else showEvents(fields, records);
    performance.mark("logpond:results-rendered");
  }

  function showEvents(fields, records) {
    const shown = fields.filter((f) => f !== "@timestamp" && f !== "@ptr");
    const listEl = h("div#results-list");
    resultsBody.replaceChildren(listEl);
    listView = new VirtualList(listEl, {
      render: (record, i, expanded) => eventRow(record, i, expanded, shown),
    });
    listView.setItems(records);
  }

  function eventRow(record, i, expanded, shown) {
    const parsed = tryJson(record["@message"]);
    const level = record.level || parsed?.level;
    const summary = shown.map((f) => (f === "@message" ? messageSummary(record[f], parsed) : record[f] !== undefined ? `${f}=${record[f]}` : null))
      .filter((v) => v != null).join("  ");
    const t = parseResultTime(record["@timestamp"]);
    const row = h("div.vrow", {
      dataset: { index: i }, class: `vrow${expanded ? " expanded" : ""}${isErrorLevel(level) ? " error-row" : /warn/i.test(level || "") ? " warn-row" : ""}`,
      on: { click: (e) => { if (!e.target.closest("pre, button, a")) listView.toggle(record); } },
    },
    h("span.t", t != null ? formatTime(t) : record["@timestamp"] || ""),
    h("div.m", summary, expanded ? expandedEvent(record, parsed) : null));
    return row;
  }

  // A JSON message reads better as "message  key=value ...".
  function messageSummary(text, parsed) {
    if (!parsed) return text ?? "";
    const rest = Object.entries(parsed).filter(([k]) => k !== "timestamp" && k !== "message" && k !== "level")
      .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`);
    return [parsed.level ? `[${parsed.level}]` : null, parsed.message, ...rest].filter((v) => v != null).join("  ");
  }

  function expandedEvent(record, parsed) {
    const full = { ...record };
    if (parsed) full["@message"] = parsed;
    const traceId = record.trace_id || parsed?.trace_id;
    return h("div", h("pre.json", prettyJson(full)), h("div.actions",
      h("button.small", { type: "button", on: { click: () => copy(record["@message"] ?? "") } }, "Copy message"),
      h("button.small", { type: "button", on: { click: () => copy(JSON.stringify(full, null, 2)) } }, "Copy JSON"),
      traceId ? h("a.trace-link", { href: `#/trace/${encodeURIComponent(traceId)}?from=${resolveTime(state.from) - 3600_000}&to=${resolveTime(state.to) + 3600_000}` }, `Trace ${traceId}`) : null));
  }

  function showStats(fields, records) {
    const isTime = records.every((r) => r[fields[0]] === undefined || parseResultTime(r[fields[0]]) != null);
    const chartBox = h("div.chart#stats-chart");
    const toggle = h("div.row", { style: "padding:6px 12px" },
      h("strong", "Chart"), h("span.muted", isTime ? "line over time" : `bars by ${fields[0]}`));
    const table = h("div", { style: "overflow:auto;max-height:60vh" }, h("table.grid#stats-table",
      h("thead", h("tr", fields.map((f) => h("th", f)))),
      h("tbody", records.map((r) => h("tr", fields.map((f) => {
        const v = r[f];
        return h("td", { class: v !== undefined && !Number.isNaN(Number(v)) ? "num" : "" }, v ?? "");
      }))))));
    resultsBody.replaceChildren(toggle, chartBox, table);
    if (fields.length > 1) {
      const chart = statsChart(chartBox, { fields, records, isTime, parseTime: parseResultTime });
      if (chart) charts.push({ kind: "stats", destroy: () => chart.destroy() }); else chartBox.remove();
    } else chartBox.remove();
  }

  function discoverFields(fields, records) {
    const seen = new Map();
    const sample = records.slice(0, 500);
    for (const r of sample) {
      for (const k of Object.keys(r)) if (!k.startsWith("@")) seen.set(k, (seen.get(k) || 0) + 1);
      const parsed = tryJson(r["@message"]);
      if (parsed) collectKeys(parsed, "", seen);
    }
    for (const f of fields) if (!f.startsWith("@")) seen.set(f, seen.get(f) || 1);
    return [...seen.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, MAX_SIDEBAR_FIELDS).map(([k]) => k);
  }

  function collectKeys(obj, prefix, seen) {
    for (const [k, v] of Object.entries(obj)) {
      if (k === "timestamp" || k === "message") continue;
      const name = prefix + k;
      if (v && typeof v === "object" && !Array.isArray(v)) collectKeys(v, `${name}.`, seen);
      else if (!Array.isArray(v)) seen.set(name, (seen.get(name) || 0) + 1);
    }
  }

  function renderSidebar() {
    const items = discovered.map((name) => {
      const values = h("div.topvals", { hidden: true });
      const button = h("button", { type: "button", dataset: { field: name }, on: { click: () => toggleField(name, values) } },
        h("span", name), h("span.muted", "▸"));
      return h("div.field", button, values);
    });
    sidebar.replaceChildren(h("h3", "Fields"), ...(items.length ? items : [h("p.muted", { style: "padding:0 12px" }, "No fields in these results.")]));
  }

  async function toggleField(name, box) {
    if (!box.hidden) { box.hidden = true; return; }
    box.hidden = false;
    box.replaceChildren(h("div.skeleton.line"), h("div.skeleton.line"));
    try {
      const data = await post("/api/v1/query/top-values", { ...body(), field: name, top: 10 });
      const max = Math.max(1, ...data.values.map((v) => v.count));
      box.replaceChildren(...(data.values.length ? data.values.map((v) => h("div.topval",
        h("span.v", { title: v.value ?? "(missing)" }, v.value ?? "(missing)"),
        h("span.muted", v.count.toLocaleString()),
        v.value == null ? h("span") : h("button.small", { type: "button", title: "Only this value", on: { click: () => addFilter(name, v.value, "=") } }, "+"),
        v.value == null ? h("span") : h("button.small", { type: "button", title: "Exclude this value", on: { click: () => addFilter(name, v.value, "!=") } }, "−"),
        h("span.bar", { style: `width:${(100 * v.count) / max}%` }))) : [h("span.muted", "No values.")]));
    } catch (err) {
      box.replaceChildren(h("span.error-text", err.message));
    }
  }

  function addFilter(field, value, op) {
    const quotedField = /^[A-Za-z_@][\w.@]*$/.test(field) ? field : `\`${field.replace(/`/g, "``")}\``;
    const literal = value !== "" && !Number.isNaN(Number(value)) && String(Number(value)) === value
      ? value : JSON.stringify(value);
    const lines = editor.value.trimEnd().split("\n");
    // Filters go right after the first command, so they apply before stats, sort and limit.
    const filter = `| filter ${quotedField} ${op} ${literal}`;
    lines.splice(1, 0, filter);
    editor.value = lines.join("\n");
    run();
  }

  async function loadSaved() {
    const chosen = saved.find((s) => s.id === savedSelect.value);
    savedSelect.value = "";
    if (!chosen) return;
    editor.value = chosen.query;
    const usable = chosen.groups.filter((g) => names.includes(g));
    if (usable.length) { state.groups = usable; groupsControl.set(usable); }
    run();
  }

  async function saveQuery() {
    const name = prompt("Save this query as:");
    if (!name) return;
    try {
      const created = await post("/api/v1/saved-queries", { name, query: editor.value, groups: state.groups });
      saved.push(created);
      savedSelect.append(h("option", { value: created.id }, created.name));
      toast(`Saved "${name}"`);
    } catch (err) { showError(err); }
  }

  async function exportAll(format) {
    if (!format) return;
    try {
      toast("Exporting…");
      await download(`/api/v1/query/export?format=${format}`, body(), `logpond-export.${format}`);
    } catch (err) { showError(err); }
  }

  return () => {
    if (job) cancel();
    for (const c of charts) c.destroy();
    groupsControl.destroy();
    rangeControl.destroy();
  };
}
