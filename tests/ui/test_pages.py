"""Live tail, the groups and alarms pages, the empty state and dark mode, in a real browser."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from ..alerts.conftest import Receiver
from ..conftest import LiveServer, ndjson
from .conftest import new_page, screenshot, sign_in
from .seed import API, STAGING, WORKER, Seeded


def test_live_tail_shows_a_new_event_within_two_seconds(
    page: Page, ui_server: tuple[LiveServer, Seeded], artifacts: Path
) -> None:
    """An event ingested while the tail is open appears, highlighted, within 2 s."""
    server, _ = ui_server
    page.goto(f"{server.url}/#/tail?g={API}&g={WORKER}&p=checkout")
    page.wait_for_selector("#tail-status[data-state='live']")
    marker = f"checkout-{time.time_ns()}"
    with server.client() as http:
        sent = time.monotonic()
        http.post(
            f"/api/v1/ingest?group={WORKER}&stream=pod-2",
            content=ndjson(
                {"level": "info", "message": "no match here"},
                {"level": "error", "message": f"{marker} failed"},
            ),
        ).raise_for_status()
    row = page.locator("#tail-list .vrow", has_text=marker)
    expect(row).to_be_visible(timeout=2000)
    waited = time.monotonic() - sent
    assert waited < 2.0, waited
    expect(page.locator("#tail-list .vrow")).to_have_count(1)  # the filter pattern kept one
    expect(row.locator("mark")).to_have_text("checkout")
    page.click("#tail-pause")
    expect(page.locator("#tail-status")).to_have_text("paused")
    screenshot(page, artifacts, "live-tail")


def test_live_tail_keeps_up_with_a_thousand_events_a_second(
    page: Page, ui_server: tuple[LiveServer, Seeded]
) -> None:
    """Three seconds at 1,000 events/s: every event shown, the page never blocked for 200 ms."""
    server, _ = ui_server
    group = "/perf/tail"
    with server.client() as http:
        http.post("/api/v1/groups", json={"name": group})
    page.goto(f"{server.url}/#/tail?g={group}")
    page.wait_for_selector("#tail-status[data-state='live']")
    page.evaluate("""() => {
        window.__longest = 0;
        new PerformanceObserver((list) => {
            for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
        }).observe({ type: "longtask" });
    }""")
    with server.client() as http:
        for second in range(3):
            started = time.monotonic()
            for tick in range(10):  # 100 events every 100 ms
                batch = [{"message": f"load {second}-{tick}-{i}", "level": "info"} for i in range(100)]
                http.post(f"/api/v1/ingest?group={group}&stream=s", content=ndjson(*batch)).raise_for_status()
                time.sleep(max(0.0, started + (tick + 1) * 0.1 - time.monotonic()))
    expect(page.locator("#tail-counts")).to_contain_text("3,000 events", timeout=5000)
    longest = page.evaluate("window.__longest")
    assert longest < 200, longest
    # Virtualized: only the rows in view are in the document.
    assert page.locator("#tail-list .vrow").count() < 100


def test_change_a_groups_retention(page: Page, ui_server: tuple[LiveServer, Seeded], artifacts: Path) -> None:
    """The groups page changes retention after a confirmation, and the server has it."""
    server, _ = ui_server
    page.goto(f"{server.url}/#/groups")
    row = page.locator(f"#groups-table tr[data-group='{STAGING}']")
    expect(row).to_contain_text("1")  # one stream
    screenshot(page, artifacts, "groups")
    row.locator("select").select_option("14")
    dialog = page.locator("#retention-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("hidden at once")
    screenshot(page, artifacts, "groups-confirm")
    page.click("#retention-confirm")
    expect(dialog).to_be_hidden()
    with server.client() as http:
        assert http.get(f"/api/v1/groups/{STAGING.replace('/', '%2F')}").json()["retention_days"] == 14
    expect(row.locator("select")).to_have_value("14")


def test_alarms_page_state_history_chart_and_test_notification(
    page: Page, ui_server: tuple[LiveServer, Seeded], artifacts: Path
) -> None:
    """An alarm on errors counted by a metric filter: listed with its state, its detail shows
    the metric's chart, its history, a search of the events it counts, and a test
    notification reaches the channel (a local receiver standing in for the webhook)."""
    server, _ = ui_server
    group = "/ui/alarms"  # a group of its own: the search tests count the seeded groups' errors
    receiver = Receiver()
    try:
        with server.client() as http:
            http.post("/api/v1/groups", json={"name": group}).raise_for_status()
            http.put(
                "/api/v1/metric-filters",
                json={"group": group, "name": "ui-errors", "pattern": '{ $.level = "error" }',
                      "metric_name": "UiErrors", "namespace": "UI/Test"},
            ).raise_for_status()  # fmt: skip
            http.put(
                "/api/v1/channels/ui-hook", json={"type": "webhook", "url": receiver.url("/hook")}
            ).raise_for_status()
            http.put(
                "/api/v1/alarms/ui-error-spike",
                json={"description": "More than 10 errors a minute", "namespace": "UI/Test",
                      "metric_name": "UiErrors", "statistic": "Sum", "period": 60, "evaluation_periods": 1,
                      "comparison": ">", "threshold": 10, "alarm_actions": ["ui-hook"]},
            ).raise_for_status()  # fmt: skip
            now = int(time.time() * 1000)
            errors = [{"timestamp": now - i, "level": "error", "message": "payment failed"} for i in range(3)]
            http.post(
                f"/api/v1/ingest?group={group}&stream=pod-ui", content=ndjson(*errors)
            ).raise_for_status()
        page.goto(f"{server.url}/#/alarms")
        row = page.locator('#alarms-table tr[data-alarm="ui-error-spike"]')
        expect(row).to_contain_text("Sum(UiErrors) > 10")
        expect(row).to_contain_text("1 of 1 x 60 s")
        expect(row.locator(".state")).to_have_text(re.compile("INSUFFICIENT_DATA|OK"))
        row.click()
        detail = page.locator("#alarm-detail")
        expect(detail.locator("#alarm-history")).to_contain_text('Alarm "ui-error-spike" created')
        expect(detail.locator("#alarm-chart canvas")).to_be_visible()
        expect(detail.locator("#alarm-search")).to_have_attribute("href", re.compile("^#/search\\?g=.*level"))
        detail.locator("#alarm-test").click()
        expect(detail.locator("#alarm-test-result")).to_contain_text("ui-hook: delivered")
        (received,) = receiver.wait_for(1, "/hook")
        assert received.json()["test"] is True and received.json()["alarm"] == "ui-error-spike"
        expect(detail.locator("#alarm-notifications")).to_contain_text("delivered")
        expect(row).to_contain_text("delivered (test)")
        screenshot(page, artifacts, "alarms")
        detail.locator("#alarm-search").click()
        expect(page.locator("#query")).to_have_value(re.compile('filter level = "error"'))
    finally:
        receiver.close()
        with server.client() as http:
            http.delete("/api/v1/alarms/ui-error-spike")
            http.delete("/api/v1/metric-filters", params={"group": group, "name": "ui-errors"})


def test_alarms_page_without_alarms_says_how_to_make_one(
    browser: Browser, fresh_server: LiveServer, artifacts: Path
) -> None:
    page = new_page(browser)
    sign_in(page, fresh_server.url)
    page.goto(f"{fresh_server.url}/#/alarms")
    expect(page.locator("#alarms-empty")).to_contain_text("No alarms yet")
    expect(page.locator("#alarms-empty")).to_contain_text("logpond alarms list")
    page.context.close()


def test_empty_server_tells_how_to_send_the_first_log(
    browser: Browser, fresh_server: LiveServer, artifacts: Path
) -> None:
    """With no groups, search shows how to send a first event, with this server's address."""
    page = new_page(browser)
    sign_in(page, fresh_server.url)
    empty = page.locator("#empty-state")
    expect(empty).to_contain_text("No logs yet")
    expect(empty).to_contain_text(f"{fresh_server.url}/api/v1/ingest")
    screenshot(page, artifacts, "empty-state")
    page.context.close()


def test_dark_mode_and_a_narrow_screen(
    browser: Browser, ui_server: tuple[LiveServer, Seeded], artifacts: Path
) -> None:
    """The theme follows the system (dark here) and the layout fits a phone's width."""
    server, _ = ui_server
    page = new_page(browser, color_scheme="dark", viewport={"width": 390, "height": 844})
    sign_in(page, server.url)
    page.wait_for_selector("#search[data-runs='1']")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 20, 27)", background
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    screenshot(page, artifacts, "search-dark-narrow")
    page.click("#theme")  # auto -> light
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(247, 248, 250)"
    page.context.close()


def test_signing_out_ends_the_session(browser: Browser, ui_server: tuple[LiveServer, Seeded]) -> None:
    """After sign-out the old cookie no longer reads anything."""
    server, _ = ui_server
    page = new_page(browser)
    sign_in(page, server.url)
    page.wait_for_selector("#search")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "logpond_session"]
    page.click("#signout")
    expect(page.locator("form.login")).to_be_visible()
    with server.anonymous(cookies={"logpond_session": cookie["value"]}) as http:
        assert http.get("/api/v1/groups").status_code == 401
    page.context.close()
