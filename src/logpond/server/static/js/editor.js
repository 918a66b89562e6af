// The Insights query editor: a textarea over a highlighted copy of its text, with
// autocomplete of commands, functions, keywords and the field names seen in results,
// and the position of a parse error underlined.

import { h } from "./util.js";

export const COMMANDS = ["fields", "display", "filter", "filterIndex", "stats", "sort", "limit", "parse", "dedup", "pattern", "head", "tail", "SOURCE"];
export const FUNCTIONS = [
  "abs", "ceil", "floor", "greatest", "least", "log", "sqrt", "ispresent", "coalesce", "unmask",
  "isempty", "isblank", "concat", "ltrim", "rtrim", "trim", "strlen", "toupper", "tolower", "substr",
  "replace", "strcontains", "bin", "datefloor", "dateceil", "fromMillis", "toMillis", "now",
  "isValidIp", "isValidIpV4", "isValidIpV6", "isIpInSubnet", "isIpv4InSubnet", "isIpv6InSubnet",
  "avg", "count", "count_distinct", "max", "min", "pct", "percentile", "stddev", "sum",
  "earliest", "latest", "sortsFirst", "sortsLast",
];
const KEYWORDS = ["and", "or", "not", "like", "in", "by", "as", "asc", "desc", "any"];
const SYSTEM_FIELDS = ["@timestamp", "@message", "@logStream", "@log", "@ingestionTime", "@ptr"];
const COMMAND_SET = new Set(COMMANDS.map((c) => c.toLowerCase()));
const FUNCTION_SET = new Set(FUNCTIONS.map((f) => f.toLowerCase()));
const KEYWORD_SET = new Set(KEYWORDS);

// Tokens with their kind and span; good enough to colour, not to parse.
export function tokenize(text) {
  const out = [];
  const re = /(#[^\n]*)|("(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?)|(`[^`]*`?)|(\/(?:[^/\\\n]|\\.)+\/)|(\d+(?:\.\d+)?(?:ms|s|m|h|d|w|mo|q|y)?\b)|(@?[A-Za-z_][\w.@-]*)|(\s+)|(.)/g;
  let m;
  let prev = null;
  while ((m = re.exec(text))) {
    let kind = "plain";
    if (m[1]) kind = "cmt";
    else if (m[2]) kind = "str";
    else if (m[3]) kind = "field";
    else if (m[4]) {
      // "/" is a regex after like, =~, "(", ",", or a parse field; else division.
      const p = prev ? prev.text.toLowerCase() : "";
      if (prev && (p === "like" || p === "~" || p === "(" || p === "," || prev.kind === "field")) kind = "str";
      else { re.lastIndex = m.index + 1; kind = "plain"; m[0] = "/"; }
    } else if (m[5]) kind = "num";
    else if (m[6]) {
      const word = m[6].toLowerCase();
      const next = text.slice(re.lastIndex).match(/^\s*\(/);
      if (next && FUNCTION_SET.has(word)) kind = "fn";
      else if ((COMMAND_SET.has(word) && (!prev || prev.text === "|")) || KEYWORD_SET.has(word) || word === "source") kind = "kw";
      else kind = "field";
    } else if (m[7]) kind = "space";
    const token = { kind, text: m[0], start: m.index, end: m.index + m[0].length };
    out.push(token);
    if (kind !== "space" && kind !== "cmt") prev = token;
  }
  return out;
}

export class QueryEditor {
  constructor({ value = "", onRun, fields = () => [] }) {
    this.onRun = onRun;
    this.fields = fields;
    this.error = null;
    this.pre = h("pre", { "aria-hidden": "true" });
    this.area = h("textarea", {
      spellcheck: false, autocapitalize: "off", autocomplete: "off", "aria-label": "Logs Insights query",
      id: "query", rows: 3,
    });
    this.menu = h("div.complete", { role: "listbox", hidden: true });
    this.el = h("div.editor", this.pre, this.area, this.menu);
    this.area.value = value;
    this.area.addEventListener("input", () => { this.error = null; this.paint(); this.suggest(); });
    this.area.addEventListener("keydown", (e) => this.key(e));
    this.area.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    this.area.addEventListener("scroll", () => { this.pre.scrollTop = this.area.scrollTop; });
    this.paint();
  }

  get value() { return this.area.value; }
  set value(text) { this.area.value = text; this.error = null; this.paint(); }
  focus() { this.area.focus(); }

  // Underline [offset, end) of a parse error.
  setError(offset, end) {
    this.error = offset == null ? null : [offset, Math.max(end ?? offset, offset + 1)];
    this.paint();
  }

  paint() {
    const text = this.area.value;
    const nodes = [];
    const [es, ee] = this.error || [-1, -1];
    for (const t of tokenize(text)) {
      const cls = t.kind === "plain" || t.kind === "space" ? "" : `tok-${t.kind}`;
      if (es >= 0 && t.end > es && t.start < ee) {
        // Split the token around the error span.
        const a = Math.max(es, t.start) - t.start;
        const b = Math.min(ee, t.end) - t.start;
        if (a > 0) nodes.push(h("span", { class: cls }, t.text.slice(0, a)));
        nodes.push(h("span", { class: `${cls} tok-err` }, t.text.slice(a, b)));
        if (b < t.text.length) nodes.push(h("span", { class: cls }, t.text.slice(b)));
      } else nodes.push(cls ? h("span", { class: cls }, t.text) : t.text);
    }
    if (es >= text.length) nodes.push(h("span.tok-err", "\u00a0"));
    nodes.push("\n");
    this.pre.replaceChildren(...nodes);
    this.area.style.height = "";
    this.el.style.height = `${Math.max(68, this.pre.offsetHeight)}px`;
  }

  context() {
    const pos = this.area.selectionStart;
    const before = this.area.value.slice(0, pos);
    const word = /[@\w.]*$/.exec(before)[0];
    const head = before.slice(0, pos - word.length);
    const atCommand = /(^|\|)\s*$/.test(head);
    return { pos, word, atCommand };
  }

  candidates() {
    const { word, atCommand } = this.context();
    if (!word && !atCommand) return [];
    const lower = word.toLowerCase();
    const pool = atCommand
      ? COMMANDS.map((c) => [c, "command"])
      : [
        ...SYSTEM_FIELDS.map((f) => [f, "field"]),
        ...this.fields().map((f) => [f, "field"]),
        ...FUNCTIONS.map((f) => [`${f}(`, "function"]),
        ...KEYWORDS.map((k) => [k, "keyword"]),
      ];
    const seen = new Set();
    return pool.filter(([v]) => {
      const key = v.toLowerCase();
      if (seen.has(key) || !key.startsWith(lower) || key === lower) return false;
      seen.add(key);
      return true;
    }).slice(0, 12);
  }

  suggest() {
    const items = this.candidates();
    if (!items.length) { this.close(); return; }
    this.items = items;
    this.selected = 0;
    this.menu.replaceChildren(...items.map(([v, kind], i) => h("div", {
      role: "option", class: i === 0 ? "sel" : "",
      on: { mousedown: (e) => { e.preventDefault(); this.accept(i); } },
    }, v, h("small", kind))));
    // Under the caret's line, roughly.
    const line = this.area.value.slice(0, this.area.selectionStart).split("\n").length;
    this.menu.style.top = `${Math.min(line * 20 + 12, this.el.offsetHeight)}px`;
    this.menu.style.left = "10px";
    this.menu.hidden = false;
  }

  close() { this.menu.hidden = true; this.items = null; }

  accept(i) {
    const [value] = this.items[i];
    const { pos, word } = this.context();
    const text = this.area.value;
    const insert = this.items[i][1] === "command" ? `${value} ` : value;
    this.area.value = text.slice(0, pos - word.length) + insert + text.slice(pos);
    const caret = pos - word.length + insert.length;
    this.area.setSelectionRange(caret, caret);
    this.close();
    this.paint();
    this.area.focus();
  }

  key(e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); this.close(); this.onRun(); return; }
    if ((e.ctrlKey || e.metaKey) && e.key === " ") { e.preventDefault(); this.suggest(); return; }
    if (!this.items || this.menu.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = this.items.length;
      this.selected = (this.selected + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      [...this.menu.children].forEach((c, i) => c.classList.toggle("sel", i === this.selected));
    } else if (e.key === "Tab" || e.key === "Enter") {
      e.preventDefault();
      this.accept(this.selected);
    } else if (e.key === "Escape") {
      e.preventDefault();
      this.close();
    }
  }
}
