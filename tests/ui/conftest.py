"""Browser tests: Playwright driving Debian's headless ``chromium`` against a real server.

They skip, saying why, only when ``/usr/bin/chromium`` is missing (``.ci/apt-packages.txt``
installs it). Screenshots of every page go to ``<pytest tmp>/ui-screenshots`` and the
measured performance figures to ``<pytest tmp>/ui-performance.json``; both are printed at
the end of the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from ..conftest import ROOT_KEY_ID, ROOT_SECRET, LiveServer, start_server
from .seed import Seeded, seed

CHROMIUM = Path("/usr/bin/chromium")
# The flags the issue asks for: no sandbox (root in a container), nothing phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}

_performance: dict[str, Any] = {}
_artifacts: list[Path] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(
        reason="browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
    )
    for item in items:
        if "tests/ui/" in str(item.path).replace("\\", "/"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _artifacts:
        terminalreporter.write_line(f"UI screenshots: {_artifacts[0].parent}")
    if _performance:
        figures = ", ".join(f"{k}={v}" for k, v in sorted(_performance.items()))
        terminalreporter.write_line(f"UI performance: {figures}")


def record_performance(tmp_root: Path, **figures: Any) -> None:
    """Keep measured figures for the summary and ``ui-performance.json``."""
    _performance.update(figures)
    (tmp_root / "ui-performance.json").write_text(json.dumps(_performance, indent=2))


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui-screenshots", numbered=False)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    # Package scope: the sync driver keeps an event loop running on the main thread,
    # so it must stop before the tests after this package call asyncio.run().
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Seeded]]:
    """A server with the story's data and saved queries, shared by the browser tests."""
    server = start_server(tmp_path_factory.mktemp("ui") / "data")
    with server.client() as http:
        seeded = seed(http, int(time.time() * 1000))
    yield server, seeded
    if server.process and server.process.poll() is None:
        server.terminate()


def new_page(browser: Browser, **context: Any) -> Page:
    page = browser.new_context(**{"viewport": VIEWPORT, **context}).new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


def sign_in(page: Page, url: str, key_id: str = ROOT_KEY_ID, secret: str = ROOT_SECRET) -> None:
    page.goto(f"{url}/")
    page.fill("#key-id", key_id)
    page.fill("#key-secret", secret)
    page.click("form.login button[type=submit]")


def screenshot(page: Page, artifacts: Path, name: str) -> Path:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path))
    _artifacts.append(path)
    return path


@pytest.fixture
def page(browser: Browser, ui_server: tuple[LiveServer, Seeded]) -> Iterator[Page]:
    """A signed-in page on the seeded server, in a context of its own."""
    server, _ = ui_server
    signed_in = new_page(browser)
    sign_in(signed_in, server.url)
    signed_in.wait_for_selector("#nav:not([hidden])")
    yield signed_in
    errors = signed_in.errors  # type: ignore[attr-defined]
    signed_in.context.close()
    assert errors == [], errors
