// The alarms page. Alarms (metric filters, the evaluator, notifications) are not in this
// server yet; until they are, the page says so and shows what is coming.

import { h } from "./util.js";

export async function render(container) {
  container.replaceChildren(h("div.panel.empty#alarms-placeholder",
    h("h2", "Alarms are not available yet"),
    h("p", "This server has no alarms API yet. When alerting lands, this page lists each alarm with its state (OK, ALARM, INSUFFICIENT_DATA), its last transition, its history and the result of its last notification."),
    h("p.muted", "Until then, search for errors with a saved query, or watch them arrive in ", h("a", { href: "#/tail" }, "Live tail"), ".")));
  return null;
}
