"""The search page in a real browser: sign-in, the story's saved queries, the histogram,
the field sidebar, parse errors and the trace view."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Browser, Page, expect

from ..conftest import LiveServer
from .conftest import new_page, screenshot, sign_in
from .seed import API, TRACE_ID, WORKER, Seeded


def run_and_wait(page: Page, action: object = None) -> None:
    """Do something that runs the query (default: click Run) and wait for it to finish."""
    runs = int(page.get_attribute("#search", "data-runs") or "0")
    if action is None:
        page.click("#run")
    else:
        assert callable(action)
        action()
    page.wait_for_selector(f"#search[data-runs='{runs + 1}']")


def open_search(page: Page, url: str, groups: list[str], query: str | None = None) -> None:
    params = "&".join(f"g={g}" for g in groups)
    if query is not None:
        from urllib.parse import quote  # noqa: PLC0415

        params += f"&q={quote(query)}"
    # Only the fragment changes, so the document stays: mark the old page to tell them apart.
    page.evaluate("document.getElementById('search')?.setAttribute('data-stale', '')")
    page.goto(f"{url}/#/search?{params}")
    page.wait_for_selector("#search:not([data-stale])[data-runs='1']")


def rows(page: Page) -> int:
    text = page.inner_text("#result-count")
    match = re.match(r"([\d,]+) rows?", text)
    assert match, text
    return int(match.group(1).replace(",", ""))


def test_wrong_key_is_refused(
    browser: Browser, ui_server: tuple[LiveServer, Seeded], artifacts: Path
) -> None:
    """A wrong secret keeps the sign-in form, says so, and opens no page."""
    server, _ = ui_server
    page = new_page(browser)
    page.goto(f"{server.url}/")
    expect(page.locator("form.login")).to_be_visible()
    screenshot(page, artifacts, "sign-in")
    sign_in(page, server.url, secret="not-the-secret")
    expect(page.locator("form.login [role=alert]")).to_have_text("Wrong access key id or secret.")
    assert page.locator("#nav").is_hidden()
    cookies = page.context.cookies()
    assert not [c for c in cookies if c["name"] == "logpond_session"]
    page.context.close()


def test_sign_in_sets_a_session_cookie_and_opens_search(
    page: Page, ui_server: tuple[LiveServer, Seeded]
) -> None:
    """Signing in stores only an HttpOnly, SameSite=Strict session cookie, then shows search."""
    page.wait_for_selector("#search")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "logpond_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
    assert page.evaluate("document.cookie") == ""  # invisible to scripts
    assert page.evaluate("Object.values(localStorage).join(' ')").find(ui_server[0].secret_access_key) == -1


def test_saved_queries_give_the_story_rows(
    page: Page, ui_server: tuple[LiveServer, Seeded], artifacts: Path
) -> None:
    """Each of the source story's five saved queries, picked from the list, shows its rows."""
    server, seeded = ui_server
    open_search(page, server.url, [API])

    def pick(name: str) -> None:
        run_and_wait(page, lambda: page.select_option("#saved", label=name))

    pick("Errors in the last hour")
    assert rows(page) == len(seeded.errors())
    assert "trace_id=" in page.inner_text("#results-list .vrow >> nth=0")
    screenshot(page, artifacts, "search-errors")

    pick("Requests of one trace")
    assert rows(page) == len(seeded.trace()) == 2
    assert parse_qs(urlsplit(page.url).fragment.split("?", 1)[1])["g"] == [API, WORKER]

    pick("Slow requests")
    assert rows(page) == len(seeded.slow())
    first = page.inner_text("#results-list .vrow >> nth=0")
    assert f"duration_ms={seeded.slow()[0]['duration_ms']}" in first

    pick("Errors by tenant")
    cells = page.locator("#stats-table tbody tr").all_inner_texts()
    shown = {line.split("\t")[0]: int(line.split("\t")[1]) for line in cells}
    assert shown == seeded.errors_by_tenant()
    expect(page.locator("#stats-chart canvas")).to_have_count(1)
    screenshot(page, artifacts, "search-stats")

    pick("5xx responses")
    assert rows(page) == len(seeded.server_errors())
    assert "status=5" in page.inner_text("#results-list .vrow >> nth=0")


def test_histogram_drag_zooms_the_time_range(
    page: Page, ui_server: tuple[LiveServer, Seeded], artifacts: Path
) -> None:
    """Dragging across the histogram sets an absolute range in the URL and runs again."""
    server, _ = ui_server
    open_search(page, server.url, [API])
    page.wait_for_selector("#search[data-histograms='1']")
    expect(page.locator("#range-button")).to_have_text("Last 1h")
    before = (int(page.get_attribute("#histogram", "data-start") or 0),
              int(page.get_attribute("#histogram", "data-end") or 0))  # fmt: skip
    box = page.locator("#histogram .u-over").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, y, steps=8)
    run_and_wait(page, page.mouse.up)
    page.wait_for_selector("#search[data-histograms='2']")
    params = parse_qs(urlsplit(page.url).fragment.split("?", 1)[1])
    start, end = int(params["from"][0]), int(params["to"][0])
    assert before[0] < start < end < before[1]
    assert (end - start) < (before[1] - before[0]) / 3
    assert int(page.get_attribute("#histogram", "data-start") or 0) == start
    expect(page.locator("#range-button")).not_to_have_text("Last 1h")
    screenshot(page, artifacts, "search-zoomed")


def test_field_sidebar_filters_by_a_top_value(page: Page, ui_server: tuple[LiveServer, Seeded]) -> None:
    """A field's top values come from the server; "+" adds a filter and runs again."""
    server, seeded = ui_server
    open_search(page, server.url, [API], "fields @timestamp, @message | sort @timestamp desc | limit 500")
    page.click("#fields button[data-field='tenant_id']")
    values = page.locator("#fields .topval")
    expect(values).to_have_count(4)
    assert "tenant_acme" in values.first.inner_text()
    run_and_wait(
        page, lambda: page.click("#fields .topval:has-text('tenant_acme') button[title='Only this value']")
    )
    assert 'filter tenant_id = "tenant_acme"' in page.input_value("#query")
    assert rows(page) == sum(1 for r in seeded.api if r["tenant_id"] == "tenant_acme")


def test_parse_error_is_shown_at_its_position(page: Page, ui_server: tuple[LiveServer, Seeded]) -> None:
    """A query that does not parse is underlined where it fails, with line and column."""
    server, _ = ui_server
    open_search(page, server.url, [API])
    page.keyboard.press("/")  # the shortcut that focuses the query
    assert page.evaluate("document.activeElement.id") == "query"
    page.fill("#query", "fields @message | filter status >")
    run_and_wait(page, lambda: page.keyboard.press("Control+Enter"))
    error = page.locator("#query-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("line 1, column")
    expect(page.locator(".editor .tok-err")).to_have_count(1)


def test_trace_view_follows_a_trace_across_groups(
    page: Page, ui_server: tuple[LiveServer, Seeded], artifacts: Path
) -> None:
    """From a result's trace_id, the trace view shows the api and worker events on one timeline."""
    server, seeded = ui_server
    open_search(page, server.url, [API], f'fields @timestamp, @message | filter trace_id = "{TRACE_ID}"')
    # The histogram arrives after the rows and moves them down: click once the layout is still.
    page.wait_for_selector("#search[data-histograms='1']")
    page.click("#results-list .vrow >> nth=0")
    page.click(f"#results-list a.trace-link:has-text('{TRACE_ID}')")
    page.wait_for_selector("#trace-timeline")
    expect(page.locator("#trace-events tbody tr[data-group]")).to_have_count(len(seeded.trace()))
    groups = set(
        page.eval_on_selector_all("#trace-events tr[data-group]", "rows => rows.map(r => r.dataset.group)")
    )
    assert groups == {API, WORKER}
    lanes = page.eval_on_selector_all("#trace-timeline .lane", "els => els.map(e => e.dataset.lane)")
    assert lanes == ["qualisys-api", "qualisys-worker"]
    expect(page.locator("#trace-timeline .dot.err")).to_have_count(1)
    page.click("#trace-timeline .dot.err")
    expect(page.locator("#trace-events tr:not([hidden]) pre.json")).to_contain_text("report render timeout")
    screenshot(page, artifacts, "trace")
