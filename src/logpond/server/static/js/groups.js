// The groups page: each group's retention, stored bytes, streams, last event and PII
// policy; retention changes after a confirmation.

import { api, get } from "./api.js";
import { emptyState } from "./empty.js";
import { formatAgo, formatBytes, formatTime, h, toast } from "./util.js";

const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export async function render(container) {
  container.replaceChildren(h("div.stack", h("h1", "Log groups"), h("div.panel", { style: "padding:12px" },
    [1, 2, 3, 4].map(() => h("div.skeleton.line")))));
  const groups = [];
  let token = null;
  do {
    const page = await get(`/api/v1/group-summaries?limit=1000${token ? `&next_token=${encodeURIComponent(token)}` : ""}`);
    groups.push(...page.groups);
    token = page.next_token;
  } while (token);
  if (!groups.length) { container.replaceChildren(emptyState()); return null; }

  const filter = h("input", { type: "search", placeholder: "Filter groups", "aria-label": "Filter groups", "data-focus": true });
  const tbody = h("tbody");
  const dialog = h("dialog#retention-dialog");
  document.body.append(dialog);

  function draw() {
    const needle = filter.value.trim();
    tbody.replaceChildren(...groups.filter((g) => g.name.includes(needle)).map((g) => {
      const select = h("select", { "aria-label": `Retention of ${g.name}`, dataset: { group: g.name } },
        h("option", { value: "never", selected: g.retention_days == null }, "Never expire"),
        RETENTION_DAYS.map((d) => h("option", { value: String(d), selected: g.retention_days === d }, `${d} days`)));
      select.addEventListener("change", () => confirmRetention(g, select));
      const dp = g.data_protection;
      return h("tr", { dataset: { group: g.name } },
        h("td", h("a", { href: `#/search?g=${encodeURIComponent(g.name)}` }, g.name)),
        h("td", select),
        h("td.num", formatBytes(g.stored_bytes)),
        h("td.num", String(g.stream_count)),
        h("td", { title: g.last_event ? formatTime(g.last_event) : "" }, formatAgo(g.last_event)),
        h("td", dp.rules.length
          ? h("span", { title: dp.rules.join(", ") }, `${dp.mode === "mask" ? "Masking" : dp.mode} ${dp.rules.length} identifier types`, h("span.muted", dp.source === "group" ? " (own policy)" : " (default)"))
          : h("span.muted", "Off")),
        h("td", h("a", { href: `#/tail?g=${encodeURIComponent(g.name)}` }, "Tail")));
    }));
  }

  function confirmRetention(group, select) {
    const value = select.value;
    const label = value === "never" ? "never expire" : `keep ${value} days`;
    const shorter = value !== "never" && (group.retention_days == null || Number(value) < group.retention_days);
    const ok = h("button.primary#retention-confirm", { type: "button" }, "Change retention");
    const cancel = h("button", { type: "button" }, "Cancel");
    dialog.replaceChildren(h("h2", { style: "margin-top:0;font-size:16px" }, "Change retention?"),
      h("p", `${group.name} will ${label}.`),
      shorter ? h("p.error-text", "Events older than that are hidden at once and deleted by the next sweep. This cannot be undone.") : null,
      h("div.row", h("span.grow"), cancel, ok));
    const close = () => { dialog.close(); draw(); };
    cancel.addEventListener("click", close);
    dialog.addEventListener("cancel", close, { once: true });
    ok.addEventListener("click", async () => {
      ok.disabled = true;
      try {
        const updated = await api("PATCH", `/api/v1/groups/${encodeURIComponent(group.name)}`, {
          retention_days: value === "never" ? "never" : Number(value),
        });
        group.retention_days = updated.retention_days;
        toast(`Retention of ${group.name}: ${label}`);
      } catch (err) {
        toast(`Not changed: ${err.message}`);
      }
      dialog.close();
      draw();
    });
    dialog.showModal();
  }

  filter.addEventListener("input", draw);
  container.replaceChildren(h("div.stack",
    h("div.row", h("h1", { style: "margin:0" }, "Log groups"), h("span.muted", `${groups.length}`), h("span.grow"), filter),
    h("div.panel", { style: "overflow:auto" }, h("table.grid#groups-table",
      h("thead", h("tr", ["Name", "Retention", "Stored", "Streams", "Last event", "Data protection", ""].map((t) => h("th", t)))),
      tbody))));
  draw();
  return () => dialog.remove();
}
