// Small DOM and formatting helpers shared by the pages.

// h("div.cls#id", {attrs, on: {click}}, ...children): build an element.
export function h(tag, attrs = {}, ...children) {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const el = document.createElement(name || "div");
  for (const part of rest) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs === null || typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "class") el.className = value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else if (value === true) el.setAttribute(key, "");
    else if (value !== false && value != null) el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export function toast(text) {
  const el = document.getElementById("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 2200);
}

export async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h("textarea", { style: "position:fixed;opacity:0" }, text);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  toast("Copied");
}

// Time zone: "utc" or "local", kept in the URL by the search page and remembered here.
let zone = localStorage.getItem("logpond.tz") || "local";
export const timeZone = () => zone;
export function setTimeZone(value) { zone = value; localStorage.setItem("logpond.tz", value); }

const pad = (n, w = 2) => String(n).padStart(w, "0");
export function formatTime(ms, { withDate = true, tz = zone } = {}) {
  if (ms == null || Number.isNaN(ms)) return "";
  const d = new Date(ms);
  const utc = tz === "utc";
  const Y = utc ? d.getUTCFullYear() : d.getFullYear();
  const M = (utc ? d.getUTCMonth() : d.getMonth()) + 1;
  const D = utc ? d.getUTCDate() : d.getDate();
  const hh = utc ? d.getUTCHours() : d.getHours();
  const mm = utc ? d.getUTCMinutes() : d.getMinutes();
  const ss = utc ? d.getUTCSeconds() : d.getSeconds();
  const time = `${pad(hh)}:${pad(mm)}:${pad(ss)}.${pad(d.getUTCMilliseconds(), 3)}`;
  return withDate ? `${Y}-${pad(M)}-${pad(D)} ${time}` : time;
}

// "2026-01-24 10:15:30.123" (how Insights results show times, UTC) to ms.
export function parseResultTime(text) {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?$/.exec(text || "");
  if (!m) return null;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +(m[7] || "0").padEnd(3, "0"));
}

// A datetime-local input value for ms, and back, in the chosen zone.
export function toInputValue(ms, tz = zone) {
  return formatTime(ms, { tz }).replace(" ", "T").slice(0, 23);
}
export function fromInputValue(value, tz = zone) {
  if (!value) return null;
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?$/.exec(value);
  if (!m) return null;
  const parts = [+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0), +(m[7] || "0").padEnd(3, "0")];
  return tz === "utc" ? Date.UTC(...parts) : new Date(...parts).getTime();
}

export function formatBytes(n) {
  if (n == null) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function formatAgo(ms) {
  if (ms == null) return "never";
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

// Relative ranges: "now-15m" ... "now"; durations in ms.
const UNITS = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 };
export function resolveTime(value, now = Date.now()) {
  if (value == null || value === "" || value === "now") return now;
  const rel = /^now-(\d+)([smhdw])$/.exec(value);
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]];
  const n = Number(value);
  return Number.isFinite(n) ? n : now;
}

// Pretty JSON with keys in order; a message that is JSON text is parsed first.
export function prettyJson(value) {
  try { return JSON.stringify(typeof value === "string" ? JSON.parse(value) : value, null, 2); } catch { return String(value); }
}

export function tryJson(text) {
  if (typeof text !== "string" || text[0] !== "{") return null;
  try { return JSON.parse(text); } catch { return null; }
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

export const levelClass = (level) => (level ? `lvl lvl-${String(level).toLowerCase()}` : "lvl");
export const isErrorLevel = (level) => /^(error|fatal|critical|crit|alert|emerg)/i.test(level || "");
