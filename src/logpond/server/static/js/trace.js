// The trace view: every event of one trace_id across log groups, on one timeline with a
// lane per service (the group when an event names no service), errors in red, each event
// expandable below.

import { allGroups, post } from "./api.js";
import { copy, formatTime, h, isErrorLevel, parseResultTime, prettyJson, tryJson } from "./util.js";

const DAY = 86_400_000;

export async function render(container, params, { arg }) {
  const traceId = arg;
  const now = Date.now();
  const start = Number(params.get("from")) || now - 7 * DAY;
  const end = Number(params.get("to")) || now;
  container.replaceChildren(h("div.stack", h("h1", "Trace ", h("code", traceId)), h("div.skeleton.block")));
  const groups = (await allGroups()).map((g) => g.name);
  const scope = groups.length <= 50 ? { groups } : { group_prefix: "/" };
  const query = `fields @timestamp, @log, @logStream, @message, level, service, span_id
| filter trace_id = ${JSON.stringify(traceId)}
| sort @timestamp asc
| limit 10000`;
  const result = await post("/api/v1/query", { query, ...scope, start, end });
  const events = result.records.map((r, i) => {
    const parsed = tryJson(r["@message"]);
    const group = (r["@log"] || "").replace(/^\d+:/, "");
    return {
      i, record: r, parsed, group, ts: parseResultTime(r["@timestamp"]),
      lane: r.service || parsed?.service || group, level: r.level || parsed?.level || "",
      message: parsed?.message ?? r["@message"],
    };
  });
  if (!events.length) {
    container.replaceChildren(h("div.panel.empty", h("h2", "No events for this trace"),
      h("p.muted", `Nothing with trace_id ${traceId} between ${formatTime(start)} and ${formatTime(end)} in the groups this key can read.`)));
    return null;
  }
  const t0 = events[0].ts;
  const t1 = events[events.length - 1].ts;
  const span = Math.max(1, t1 - t0);
  const lanes = [...new Set(events.map((e) => e.lane))];
  const groupsSeen = [...new Set(events.map((e) => e.group))];
  const errors = events.filter((e) => isErrorLevel(e.level)).length;
  const pos = (t) => `${3 + (94 * (t - t0)) / span}%`;

  const rows = new Map();
  const table = h("table.grid.trace-events#trace-events",
    h("thead", h("tr", h("th", "time"), h("th", "+ms"), h("th", "service"), h("th", "group"), h("th", "level"), h("th", "message"))),
    h("tbody", events.map((e) => {
      const detail = h("tr", { hidden: true }, h("td", { colspan: 6 }, h("pre.json", prettyJson({ ...e.record, "@message": e.parsed || e.record["@message"] })),
        h("button.small", { type: "button", on: { click: () => copy(e.record["@message"]) } }, "Copy message")));
      const tr = h("tr", {
        class: isErrorLevel(e.level) ? "err-row" : "", dataset: { group: e.group }, style: "cursor:pointer",
        on: { click: () => select(e) },
      }, h("td.mono", formatTime(e.ts)), h("td.num", String(e.ts - t0)), h("td.lane-cell", e.lane), h("td.muted", e.group),
      h("td", h("span", { class: `lvl lvl-${e.level}` }, e.level)), h("td.mono", e.message));
      rows.set(e, [tr, detail]);
      return [tr, detail];
    })));

  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => h("span", { style: `left:${3 + 94 * f}%` }, `+${Math.round(f * span)} ms`));
  const timeline = h("div.panel#trace-timeline", { style: "overflow:hidden" },
    h("div.trace-grid", h("div.lane-name.muted", "service"), h("div.axis", ticks),
      lanes.map((lane) => [
        h("div.lane-name", lane),
        h("div.lane", { dataset: { lane } }, events.filter((e) => e.lane === lane).map((e) => h("span.dot", {
          class: `dot${isErrorLevel(e.level) ? " err" : /warn/i.test(e.level) ? " warn" : ""}`,
          style: `left:${pos(e.ts)}`, title: `${formatTime(e.ts)} ${e.level} ${e.message}`,
          dataset: { i: e.i }, on: { click: () => select(e) },
        }))),
      ])));

  function select(e) {
    const [tr, detail] = rows.get(e);
    detail.hidden = !detail.hidden;
    for (const dot of container.querySelectorAll(".dot")) dot.classList.toggle("sel", Number(dot.dataset.i) === e.i && !detail.hidden);
    if (!detail.hidden) tr.scrollIntoView({ block: "nearest" });
  }

  container.replaceChildren(h("div.stack",
    h("div.row", h("h1", { style: "margin:0" }, "Trace ", h("code", traceId)), h("span.grow"),
      h("button", { type: "button", on: { click: () => copy(location.href) } }, "Share")),
    h("p.muted#trace-summary", `${events.length} events · ${lanes.length} services · ${groupsSeen.length} log groups · ${span} ms`,
      errors ? h("span.error-text", ` · ${errors} errors`) : null),
    timeline,
    h("div.panel", { style: "overflow:auto" }, table)));
  return null;
}
