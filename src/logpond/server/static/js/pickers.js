// The log-group picker (multi-select with prefix search) and the time-range picker
// (relative presets, absolute start and end, UTC or local time).

import { formatTime, fromInputValue, h, resolveTime, setTimeZone, toInputValue } from "./util.js";

function popover(button, menu) {
  const wrap = h("div.picker", button, menu);
  menu.hidden = true;
  button.addEventListener("click", () => { menu.hidden = !menu.hidden; if (!menu.hidden) menu.querySelector("input")?.focus(); });
  const outside = (e) => { if (!wrap.contains(e.target)) menu.hidden = true; };
  const escape = (e) => { if (e.key === "Escape") menu.hidden = true; };
  document.addEventListener("mousedown", outside);
  document.addEventListener("keydown", escape);
  return { wrap, destroy() { document.removeEventListener("mousedown", outside); document.removeEventListener("keydown", escape); } };
}

export function groupPicker(names, chosen, onChange) {
  let selected = new Set(chosen);
  const button = h("button#groups-button", { type: "button", "aria-haspopup": "listbox" });
  const filter = h("input", { type: "search", placeholder: "Filter by prefix, e.g. /qualisys/prod", "aria-label": "Filter groups" });
  const list = h("div");
  const menu = h("div.picker-menu#groups-menu", filter,
    h("div.row", { style: "margin-bottom:4px" },
      h("button.small", { type: "button", on: { click: () => setAll(true) } }, "All shown"),
      h("button.small", { type: "button", on: { click: () => setAll(false) } }, "None")),
    list);
  const { wrap, destroy } = popover(button, menu);

  function shown() { return names.filter((n) => n.startsWith(filter.value.trim()) || n.includes(filter.value.trim())); }
  function label() {
    const list_ = [...selected];
    button.textContent = list_.length === 0 ? "Choose log groups" : list_.length === 1 ? list_[0] : `${list_.length} log groups`;
    button.title = list_.join("\n");
  }
  function draw() {
    list.replaceChildren(...shown().slice(0, 500).map((n) => h("label", h("input", {
      type: "checkbox", checked: selected.has(n), value: n,
      on: { change: (e) => { if (e.target.checked) selected.add(n); else selected.delete(n); changed(); } },
    }), n)));
  }
  function setAll(on) {
    for (const n of shown()) if (on) selected.add(n); else selected.delete(n);
    draw();
    changed();
  }
  function changed() {
    if (selected.size > 50) { [...selected].slice(50).forEach((n) => selected.delete(n)); draw(); }
    label();
    onChange([...selected]);
  }
  filter.addEventListener("input", draw);
  draw();
  label();
  return { el: wrap, destroy, set(values) { selected = new Set(values); draw(); label(); } };
}

const PRESETS = [["5m", "now-5m"], ["15m", "now-15m"], ["1h", "now-1h"], ["3h", "now-3h"], ["12h", "now-12h"], ["1d", "now-1d"], ["3d", "now-3d"], ["1w", "now-1w"], ["30d", "now-30d"]];

export function timeRangePicker(state, onChange) {
  const button = h("button#range-button", { type: "button" });
  const start = h("input#range-start", { type: "datetime-local", step: "0.001" });
  const end = h("input#range-end", { type: "datetime-local", step: "0.001" });
  const zone = h("select#tz", { "aria-label": "Time zone", on: { change: () => { state.tz = zone.value; setTimeZone(zone.value); fill(); onChange(); } } },
    h("option", { value: "local" }, "Local time"), h("option", { value: "utc" }, "UTC"));
  const menu = h("div.picker-menu.time-menu#range-menu",
    h("div.presets", PRESETS.map(([text, value]) => h("button.small", {
      type: "button", on: { click: () => { state.from = value; state.to = "now"; menu.hidden = true; refresh(); onChange(); } },
    }, `Last ${text}`))),
    h("label.muted", "Start"), start, h("label.muted", "End"), end, zone,
    h("div.row", { style: "margin-top:8px" }, h("span.grow"), h("button.primary.small", {
      type: "button", on: { click: () => apply() },
    }, "Apply")));
  const { wrap, destroy } = popover(button, menu);

  function apply() {
    const a = fromInputValue(start.value, state.tz);
    const b = fromInputValue(end.value, state.tz);
    if (a == null || b == null || a >= b) { start.setCustomValidity("start must be before end"); start.reportValidity(); return; }
    start.setCustomValidity("");
    state.from = String(a);
    state.to = String(b);
    menu.hidden = true;
    refresh();
    onChange();
  }
  function fill() {
    start.value = toInputValue(resolveTime(state.from), state.tz);
    end.value = toInputValue(resolveTime(state.to), state.tz);
    zone.value = state.tz;
    refresh();
  }
  function refresh() {
    const rel = /^now-(\d+[smhdw])$/.exec(state.from);
    button.textContent = rel && state.to === "now"
      ? `Last ${rel[1]}`
      : `${formatTime(resolveTime(state.from), { tz: state.tz })} → ${formatTime(resolveTime(state.to), { tz: state.tz })}${state.tz === "utc" ? " UTC" : ""}`;
    start.value = toInputValue(resolveTime(state.from), state.tz);
    end.value = toInputValue(resolveTime(state.to), state.tz);
  }
  fill();
  return { el: wrap, destroy, refresh };
}
