"""The issue's performance targets, measured in the browser with the performance API:
the search page renders within 1 s on localhost, and a 10,000-row result renders and
scrolls without a long task over 200 ms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from ..conftest import LiveServer
from .conftest import new_page, record_performance, screenshot, sign_in
from .seed import BULK, Seeded
from .test_search import rows, run_and_wait

# Every long task (main thread busy over 50 ms) from the first moment of each page.
_OBSERVE_LONG_TASKS = """
window.__longtasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, duration: e.duration });
}).observe({ type: "longtask", buffered: true });
"""


def _mark(page: Any, name: str) -> float:
    value = page.evaluate(f"performance.getEntriesByName('{name}').at(-1)?.startTime ?? -1")
    assert isinstance(value, int | float) and value >= 0, name
    return float(value)


def test_first_render_and_a_10000_row_result(
    browser: Browser,
    ui_server: tuple[LiveServer, Seeded],
    artifacts: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """First render of search <= 1 s; 10,000 rows render and scroll with no long task > 200 ms."""
    server, _ = ui_server
    page = new_page(browser)
    sign_in(page, server.url)
    page.wait_for_selector("#nav:not([hidden])")
    # A fresh load of the search page, signed in (the session cookie), as a user opening a link.
    fresh = page.context.new_page()
    fresh.add_init_script(_OBSERVE_LONG_TASKS)
    fresh.goto(f"{server.url}/#/search?g={BULK}")
    fresh.wait_for_selector("#search[data-runs='1']")
    assert fresh.evaluate("PerformanceObserver.supportedEntryTypes.includes('longtask')")
    first_render = _mark(fresh, "logpond:search-ready")
    paint = fresh.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
    assert first_render <= 1000, first_render

    query = "fields @timestamp, @message | sort @timestamp desc | limit 10000"
    fresh.fill("#query", query)
    before = fresh.evaluate("performance.now()")
    run_and_wait(fresh)
    assert rows(fresh) == 10_000
    received = _mark(fresh, "logpond:results-received")
    rendered = _mark(fresh, "logpond:results-rendered")
    # Scroll the whole list in steps, as a user flinging through it.
    list_box = fresh.locator("#results-list").bounding_box()
    assert list_box is not None
    fresh.mouse.move(list_box["x"] + 200, list_box["y"] + 100)
    for _ in range(40):
        fresh.mouse.wheel(0, 6000)
        fresh.wait_for_timeout(16)
    fresh.wait_for_timeout(300)
    assert fresh.evaluate("document.getElementById('results-list').scrollTop") > 100_000
    assert fresh.locator("#results-list .vrow").count() < 100  # virtualized
    tasks = fresh.evaluate(f"window.__longtasks.filter(t => t.start >= {before})")
    longest = max((t["duration"] for t in tasks), default=0.0)
    screenshot(fresh, artifacts, "search-10000-rows")
    figures = {
        "first_render_ms": round(first_render),
        "first_contentful_paint_ms": round(paint) if paint is not None else None,
        "rows_10000_render_ms": round(rendered - received),
        "rows_10000_query_to_render_ms": round(rendered - before),
        "rows_10000_longest_task_ms": round(longest),
        "rows_10000_long_tasks": len(tasks),
    }
    record_performance(tmp_path_factory.getbasetemp(), **figures)
    print(f"UI performance: {figures}")
    assert longest <= 200, tasks
    page.context.close()
