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
    govern, so the page runs with its own CSP unchanged; the <style> elements axe injects for some
    rules are refused by that CSP, and the browser_errors fixture ignores those refusals while axe
    runs (they are axe's, not the portal's)."""
    assert AXE.exists(), f"{AXE} is missing: run `make browser` (npm ci installs axe-core)"
    errors = getattr(page, "browser_errors", None)
    if errors is not None:
        errors.axe_running = True
    try:
        return _axe_run(page, selector)
    finally:
        if errors is not None:
            errors.axe_running = False


def _axe_run(page: Page, selector: str) -> list[str]:
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


WIDER_THAN_THE_SCREEN = """() => {
    // The outermost elements that stick out past the right edge of the window (a page that
    // scrolls sideways), described by tag, id and class; a box that scrolls on its own is fine.
    const width = document.documentElement.clientWidth;
    const found = [];
    for (const el of document.body.querySelectorAll("*")) {
        const box = el.getBoundingClientRect();
        if (box.right <= width + 1 || box.width === 0) continue;
        // Inside a box that clips it: an ancestor that scrolls or clips and, for an absolutely
        // positioned element, is positioned itself (else the element escapes the box).
        const absolute = ["absolute", "fixed"].includes(getComputedStyle(el).position);
        let inner = false;
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
            if (found.includes(p)) { inner = true; break; }
            const style = getComputedStyle(p);
            const clips = ["auto", "scroll", "hidden", "clip"].includes(style.overflowX);
            if (clips && (!absolute || style.position !== "static")) { inner = true; break; }
        }
        if (!inner) found.push(el);
    }
    return found.slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "")
        + " (" + Math.round(el.getBoundingClientRect().right) + "px)");
}"""


def sideways(page: Page) -> list[str]:
    """What makes the page scroll sideways ([] when nothing does)."""
    if page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"):
        return []
    return page.evaluate(WIDER_THAN_THE_SCREEN) or ["the page scrolls sideways"]


def look(page: Page, name: str, scope: str = "body") -> None:
    """One step of a browser test, looked at: its screenshot (with E2E_SCREENSHOTS), no serious or
    critical axe-core finding in `scope`, and nothing wider than the window."""
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
    shot(page, name)
    found = axe_violations(page, scope)
    assert found == [], f"{name}: " + "\n".join(found)
    assert sideways(page) == [], f"{name}: the page scrolls sideways at {page.viewport_size}"


def dialog(page: Page) -> Locator:
    return page.locator("dialog#modal")


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
