// The alarms page: every alarm with its state (ALARM first), what it watches, its last
// transition and the result of its last notification; one alarm's detail below: its
// metrics over the last three hours with the threshold, its history, every notification
// attempt, a test notification and a search of the events it counts. Refreshes every 30 s
// while the page is visible.

import { get, post } from "./api.js";
import { metricChart } from "./charts.js";
import { formatAgo, formatTime, h, toast } from "./util.js";

const ORDER = { ALARM: 0, INSUFFICIENT_DATA: 1, OK: 2 };
const SYMBOLS = {
  GreaterThanThreshold: ">", GreaterThanOrEqualToThreshold: ">=",
  LessThanThreshold: "<", LessThanOrEqualToThreshold: "<=",
};
const REFRESH_MS = 30_000;
const CHART_MS = 3 * 3600_000;

const stateBadge = (state) => h(`span.state.state-${(state || "none").toLowerCase()}`, state || "unknown");

function condition(d) {
  const symbol = SYMBOLS[d.comparison] || d.comparison;
  if (d.metric_name) return `${d.statistic || d.extended_statistic}(${d.metric_name}) ${symbol} ${d.threshold}`;
  const shown = (d.metrics || []).find((m) => m.return_data);
  return `${shown ? shown.expression || `${shown.statistic}(${shown.metric_name})` : "?"} ${symbol} ${d.threshold}`;
}

function periods(d) {
  const period = d.period || (d.metrics || []).find((m) => m.period)?.period || 60;
  return `${d.datapoints_to_alarm || d.evaluation_periods} of ${d.evaluation_periods} x ${period} s`;
}

function outcome(notification) {
  if (!notification) return h("span.muted", "none yet");
  const last = notification.attempts[notification.attempts.length - 1];
  const text = `${notification.status}${notification.test ? " (test)" : ""}`;
  return h(`span.${notification.status === "failed" ? "error-text" : "muted"}`,
    { title: last ? `${last.detail || ""} · attempt ${last.attempt}` : "" }, `${text} · ${formatAgo(notification.created)}`);
}

// The metric queries an alarm reads, as /api/v1/metrics/series parameters.
function metricQueries(d) {
  if (d.metric_name) {
    return [{ label: d.metric_name, namespace: d.namespace, name: d.metric_name, dimensions: d.dimensions || {},
      stat: d.statistic || d.extended_statistic, period: d.period }];
  }
  return (d.metrics || []).filter((m) => m.metric_name).map((m) => ({
    label: m.id, namespace: m.namespace, name: m.metric_name, dimensions: m.dimensions || {}, stat: m.statistic, period: m.period,
  }));
}

async function seriesOf(query, start, end) {
  const q = new URLSearchParams({ namespace: query.namespace, name: query.name, stat: query.stat, period: String(query.period), start: String(start), end: String(end) });
  for (const [k, v] of Object.entries(query.dimensions)) q.append("dimension", `${k}=${v}`);
  const body = await get(`/api/v1/metrics/series?${q}`);
  return body.points.map((p) => [p.time, p.value]);
}

export async function render(container) {
  container.replaceChildren(h("div.stack", h("h1", "Alarms"), h("div.panel", { style: "padding:12px" },
    [1, 2, 3].map(() => h("div.skeleton.line")))));
  let alarms;
  try {
    alarms = (await get("/api/v1/alarms")).alarms;
  } catch (err) {
    container.replaceChildren(h("div.panel.empty#alarms-error", h("h2", "Alarms cannot be shown"),
      h("p.error-text", err.status === 403 ? "This key may not describe alarms (cloudwatch:DescribeAlarms)." : err.message)));
    return null;
  }
  if (!alarms.length) {
    container.replaceChildren(h("div.panel.empty#alarms-empty",
      h("h2", "No alarms yet"),
      h("p", "An alarm watches a metric that a metric filter counts from your logs, for example more than 10 errors a minute, and tells Slack, a webhook or an e-mail address when it fires."),
      h("p", "Declare metric filters, channels and alarms in the config file (", h("code", "alerts:"), " in ", h("code", "examples/qualisys.yaml"),
        "), or create them with ", h("code", "PUT /api/v1/alarms/{name}"), ", boto3's cloudwatch client or Terraform. ",
        h("code", "logpond alarms list"), " shows them from a terminal."),
      h("p.muted", "See docs/alerts.md.")));
    return null;
  }

  let selected = null;
  let chart = null;
  let timer = null;
  const tbody = h("tbody");
  const detail = h("div.stack#alarm-detail");
  const latest = new Map();

  function drawTable() {
    const sorted = [...alarms].sort((a, b) => (ORDER[a.state] ?? 3) - (ORDER[b.state] ?? 3) || a.name.localeCompare(b.name));
    tbody.replaceChildren(...sorted.map((a) => {
      const row = h("tr.clickable", { tabindex: "0", dataset: { alarm: a.name }, "aria-selected": String(a.name === selected) },
        h("td", h("strong", a.name), a.definition.description ? h("div.muted", a.definition.description) : null),
        h("td", stateBadge(a.state)),
        h("td", h("code", condition(a.definition))),
        h("td", periods(a.definition)),
        h("td", { title: a.reason || "" }, a.state_updated ? formatAgo(a.state_updated) : "-"),
        h("td", outcome(latest.get(a.name))));
      const open = () => { selected = a.name; drawTable(); drawDetail(a); };
      row.addEventListener("click", open);
      row.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
      return row;
    }));
  }

  async function loadOutcomes() {
    await Promise.all(alarms.map(async (a) => {
      try {
        const body = await get(`/api/v1/alarms/${encodeURIComponent(a.name)}/notifications?limit=1`);
        latest.set(a.name, body.notifications[0]);
      } catch { latest.delete(a.name); }
    }));
  }

  async function drawDetail(alarm, testOutcome = "") {
    if (chart) { chart.destroy(); chart = null; }
    const name = encodeURIComponent(alarm.name);
    // Through the end of the current minute, so its datapoints so far are shown too.
    const end = Math.ceil(Date.now() / 60_000) * 60_000;
    const start = end - CHART_MS;
    const [full, history, notifications] = await Promise.all([
      get(`/api/v1/alarms/${name}`),
      get(`/api/v1/alarms/${name}/history?limit=50`),
      get(`/api/v1/alarms/${name}/notifications?limit=20`),
    ]);
    const queries = metricQueries(full.definition);
    const series = await Promise.all(queries.map(async (q) => ({ label: q.label, points: await seriesOf(q, start, end) })));
    const testButton = h("button#alarm-test", { type: "button" }, "Send test notification");
    const testResult = h("span.muted#alarm-test-result", testOutcome);
    testButton.addEventListener("click", async () => {
      testButton.disabled = true;
      testResult.textContent = "sending ...";
      try {
        const sent = await post(`/api/v1/alarms/${name}/test`, {});
        const text = sent.notifications.length
          ? sent.notifications.map((n) => `${n.channel}: ${n.status}${n.attempts.length ? ` (${n.attempts[n.attempts.length - 1].detail || ""})` : ""}`).join("; ")
          : "no channel";
        await loadOutcomes();
        drawTable();
        await drawDetail(alarm, text);
      } catch (err) {
        testResult.textContent = err.message;
      } finally {
        testButton.disabled = false;
      }
    });
    const chartBox = h("div.chart#alarm-chart", { style: "height:220px" });
    detail.replaceChildren(
      h("div.row", h("h2", { style: "margin:0" }, alarm.name), stateBadge(full.state), h("span.grow"),
        full.search ? h("a#alarm-search", { href: full.search }, "Search logs") : null, testButton),
      h("p", full.reason || ""), testResult,
      h("div.panel", { style: "padding:8px" },
        h("div.muted", queries.length > 1 ? "The alarm's metrics (its expression combines them)" : `${condition(full.definition)}, last 3 hours`),
        series.some((s) => s.points.length) ? chartBox : h("p.muted#alarm-no-data", "No datapoints in the last 3 hours.")),
      h("h3", "History"),
      h("div.panel", { style: "overflow:auto" }, h("table.grid#alarm-history",
        h("thead", h("tr", ["Time", "Type", "Summary"].map((t) => h("th", t)))),
        h("tbody", history.history.map((i) => h("tr", h("td", formatTime(i.time)), h("td", i.type), h("td", i.summary)))))),
      h("h3", "Notifications"),
      notifications.notifications.length
        ? h("div.panel", { style: "overflow:auto" }, h("table.grid#alarm-notifications",
          h("thead", h("tr", ["Created", "Channel", "State", "Status", "Attempts"].map((t) => h("th", t)))),
          h("tbody", notifications.notifications.map((n) => h("tr",
            h("td", formatTime(n.created)), h("td", n.channel), h("td", `${n.state}${n.test ? " (test)" : ""}`),
            h("td", outcome(n)),
            h("td", n.attempts.map((a) => `#${a.attempt} ${a.ok ? "ok" : "failed"}${a.detail ? `: ${a.detail}` : ""}`).join(" · ") || "-"))))))
        : h("p.muted", "No notification sent yet."));
    if (series.some((s) => s.points.length)) {
      chart = metricChart(chartBox, { series, start, end, threshold: queries.length === 1 ? full.definition.threshold : null });
    }
  }

  async function refresh() {
    if (document.hidden) return;
    try {
      alarms = (await get("/api/v1/alarms")).alarms;
      await loadOutcomes();
      drawTable();
      const current = alarms.find((a) => a.name === selected);
      if (current) await drawDetail(current);
    } catch (err) {
      toast(`Alarms not refreshed: ${err.message}`);
    }
  }

  await loadOutcomes();
  container.replaceChildren(h("div.stack",
    h("div.row", h("h1", { style: "margin:0" }, "Alarms"), h("span.muted", `${alarms.length}`)),
    h("div.panel", { style: "overflow:auto" }, h("table.grid#alarms-table",
      h("thead", h("tr", ["Alarm", "State", "Condition", "Periods", "Since", "Last notification"].map((t) => h("th", t)))),
      tbody)),
    detail));
  drawTable();
  timer = setInterval(refresh, REFRESH_MS);
  return () => { clearInterval(timer); if (chart) chart.destroy(); };
}
