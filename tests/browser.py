"""Headless Debian Chromium through Playwright for the browser tests; every request not to this machine is
aborted, so a page can never reach the network."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextmanager
def loopback_page(default_timeout_ms: float | None = None) -> Iterator:
    """A fresh page (1400x1000) in its own browser, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})

        def only_loopback(route):
            if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                return route.continue_()
            return route.abort()

        context.route("**/*", only_loopback)
        page = context.new_page()
        if default_timeout_ms is not None:
            page.set_default_timeout(default_timeout_ms)
        try:
            yield page
        finally:
            browser.close()
