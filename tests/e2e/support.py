"""Page helpers shared by the browser tests."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Locator, Page


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of the step when E2E_SCREENSHOTS names a folder."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def dialog(page: Page) -> Locator:
    return page.locator("dialog#modal")


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
