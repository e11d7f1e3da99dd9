"""Debian's Chromium driven by Playwright, shared by the web chat's browser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
WAIT_MS = 30_000
PHONE_WIDTH, PHONE_HEIGHT = 390, 844

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium not installed: apt-get install chromium"
)


@asynccontextmanager
async def chromium_page(profile: Path, base_url: str, last_screenshot: str) -> AsyncIterator[Any]:
    """A phone-sized page in a fresh profile (Chromium creates the directory).

    On exit: a screenshot of the last state, then the page must have had no JavaScript error, no
    console error (CSP violations are console errors) and no request outside `base_url`."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
            device_scale_factor=2,
            locale="vi-VN",
        )
        page = context.pages[0] if context.pages else await context.new_page()
        page.set_default_timeout(WAIT_MS)
        errors: list[str] = []
        external: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

        def check_request(request: Any) -> None:
            if not request.url.startswith((base_url, "data:", "blob:")):
                external.append(request.url)

        page.on("request", check_request)
        try:
            yield page
        finally:
            with suppress(Exception):
                OUTPUT.mkdir(exist_ok=True)
                await page.screenshot(path=str(OUTPUT / last_screenshot))
            await context.close()
        assert not errors, f"errors on the page: {errors}"
        assert not external, f"the page fetched something from outside: {external}"
