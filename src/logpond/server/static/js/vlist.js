// A virtualized list: only the rows in view (plus a margin) are in the DOM, so 10,000
// results or a fast live tail scroll smoothly. Collapsed rows have one fixed height;
// expanded rows are measured once rendered.

export class VirtualList {
  constructor(container, { rowHeight = 28, render, overscan = 12, max = Infinity, onScroll } = {}) {
    this.el = container;
    this.el.classList.add("vlist");
    this.el.tabIndex = 0;
    this.inner = document.createElement("div");
    this.inner.className = "vlist-inner";
    this.el.replaceChildren(this.inner);
    this.rowHeight = rowHeight;
    this.renderRow = render;
    this.overscan = overscan;
    this.max = max;
    this.onScroll = onScroll;
    this.items = [];
    this.expanded = new Map(); // item -> measured height
    this.offsets = null;
    this.frame = 0;
    this.el.addEventListener("scroll", () => { this.schedule(); if (this.onScroll) this.onScroll(); }, { passive: true });
    new ResizeObserver(() => this.schedule()).observe(this.el);
  }

  setItems(items) {
    this.items = items;
    this.expanded.clear();
    this.offsets = null;
    this.el.scrollTop = 0;
    this.draw();
  }

  // Add rows at the end; past ``max`` the oldest go. Returns how many were dropped.
  append(items) {
    const stick = this.atBottom();
    this.items.push(...items);
    let dropped = 0;
    if (this.items.length > this.max) {
      dropped = this.items.length - this.max;
      const gone = this.items.splice(0, dropped);
      let removed = 0;
      for (const item of gone) { removed += this.heightOf(item); this.expanded.delete(item); }
      if (!stick) this.el.scrollTop = Math.max(0, this.el.scrollTop - removed);
    }
    this.offsets = null;
    if (stick) this.scrollToBottom(); else this.schedule();
    return dropped;
  }

  clear() { this.setItems([]); }

  atBottom() { return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < this.rowHeight * 2; }

  scrollToBottom() {
    this.draw();
    this.el.scrollTop = this.el.scrollHeight;
    this.schedule();
  }

  toggle(item) {
    if (this.expanded.has(item)) this.expanded.delete(item);
    else this.expanded.set(item, this.rowHeight * 6);
    this.offsets = null;
    this.draw();
  }

  isExpanded(item) { return this.expanded.has(item); }

  heightOf(item) { return this.expanded.get(item) ?? this.rowHeight; }

  computeOffsets() {
    if (this.offsets) return this.offsets;
    const n = this.items.length;
    if (this.expanded.size === 0) {
      this.offsets = null;
      this.total = n * this.rowHeight;
      return null;
    }
    const offsets = new Float64Array(n + 1);
    for (let i = 0; i < n; i += 1) offsets[i + 1] = offsets[i] + this.heightOf(this.items[i]);
    this.offsets = offsets;
    this.total = offsets[n];
    return offsets;
  }

  offsetOf(i) { return this.offsets ? this.offsets[i] : i * this.rowHeight; }

  indexAt(y) {
    if (!this.offsets) return Math.max(0, Math.min(this.items.length - 1, Math.floor(y / this.rowHeight)));
    let lo = 0;
    let hi = this.items.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid] <= y) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
  }

  draw() {
    this.computeOffsets();
    this.inner.style.height = `${this.total}px`;
    if (!this.items.length) { this.inner.replaceChildren(); return; }
    const top = this.el.scrollTop;
    const bottom = top + (this.el.clientHeight || 600);
    const first = Math.max(0, this.indexAt(top) - this.overscan);
    const last = Math.min(this.items.length - 1, this.indexAt(bottom) + this.overscan);
    const rows = [];
    for (let i = first; i <= last; i += 1) {
      const item = this.items[i];
      const row = this.renderRow(item, i, this.expanded.has(item));
      row.style.top = `${this.offsetOf(i)}px`;
      if (!this.expanded.has(item)) row.style.height = `${this.rowHeight}px`;
      rows.push(row);
    }
    this.inner.replaceChildren(...rows);
    // Measure expanded rows; draw again if a height changed.
    let changed = false;
    for (let i = first; i <= last; i += 1) {
      const item = this.items[i];
      if (!this.expanded.has(item)) continue;
      const height = rows[i - first].offsetHeight;
      if (height && Math.abs(height - this.expanded.get(item)) > 1) { this.expanded.set(item, height); changed = true; }
    }
    if (changed) { this.offsets = null; this.schedule(); }
  }
}
