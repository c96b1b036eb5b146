"""Headless Chromium (Debian's) driven by Playwright against the real app, offline.

Every request the page makes goes through ``Guard``: requests to the app are let through,
anything else is aborted and recorded, so a test can assert the page never talked to another
host.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Screenshots go to a temporary folder, unless GPTB_SCREENSHOTS names one: `make screenshots`
# points it at docs/screenshots to refresh the README's pictures.
SHOTS = Path(
    os.environ.get("GPTB_SCREENSHOTS") or Path(tempfile.gettempdir()) / "gptbuilder-screenshots"
)


def need_chromium() -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    pytest.importorskip("playwright.sync_api")


class Guard:
    """Routes every request: the app's own origin passes, everything else is aborted."""

    def __init__(self, app_url: str) -> None:
        self.origin = urlparse(app_url).netloc
        self.blocked: list[str] = []

    def __call__(self, route, request) -> None:  # type: ignore[no-untyped-def]
        url = urlparse(request.url)
        if url.scheme in ("data", "blob") or url.netloc == self.origin:
            route.continue_()
        else:
            self.blocked.append(request.url)
            route.abort()


@contextmanager
def browser_page(app_url: str) -> Iterator[tuple[object, Guard]]:
    from playwright.sync_api import sync_playwright

    guard = Guard(app_url)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", guard)
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page, guard
        finally:
            browser.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def open_assistant(page, url: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """Load the app and pick an assistant by name."""
    page.goto(url + "/")
    page.locator("#picker").get_by_text(name).click()


def ask(page, question: str):  # type: ignore[no-untyped-def]
    """Ask in the Chat tab; returns the answer's message once its sources are shown."""
    page.get_by_role("tab", name="Chat").click()
    page.fill("#question textarea", question)
    page.click("#send")
    last = page.locator("#chatbot .message").last
    last.get_by_text("Sources", exact=True).wait_for(timeout=180_000)
    return last
