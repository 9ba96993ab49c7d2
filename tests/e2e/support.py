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


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def axe_violations(page: Page, selector: str) -> list[str]:
    """axe-core's serious and critical findings inside `selector` (WCAG 2.1 A and AA rules), one
    line each. axe is evaluated through the DevTools protocol, which the page's CSP does not
    govern, so the page runs with its own CSP unchanged."""
    assert AXE.exists(), f"{AXE} is missing: run `make browser` (npm ci installs axe-core)"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async (selector) => {
            const r = await axe.run(selector, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 3)}));
        }""",
        selector,
    )
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in result if v["impact"] in SERIOUS]


def dialog(page: Page) -> Locator:
    return page.locator("dialog#modal")


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
