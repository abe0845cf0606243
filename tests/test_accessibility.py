"""Accessibility: axe-core run over every page of every version of the built site.

axe-core comes with the pinned ``axe-playwright-python`` package (its ``axe.min.js``; nothing is
fetched at run time) and runs in Debian's Chromium. Rules: WCAG 2.0–2.2 A/AA, axe's best practices
and its experimental rules (label-content-name-mismatch is one). Every page of every version is
audited at desktop width; the results go to ``_build/accessibility.json`` (page -> violations, each
with rule, impact, help, the number of elements and up to five of their selectors). The test fails
on any serious or critical violation; moderate and minor ones are recorded, not failed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from browser_support import DESKTOP, ROOT, SITE, StaticServer, require, versions
from ixathaldex.site.pdf import CHROMIUM, CHROMIUM_ARGS, browser_unavailable_reason

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

REPORT = ROOT / "_build" / "accessibility.json"
FAILING = ("serious", "critical")
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                          "best-practice", "experimental"]},
}


def site_pages(site: Path) -> list[str]:
    """Every HTML page of every version (relative to the site), sources and static files aside."""
    out = []
    for entry in versions(site):
        root = site / entry["version"]
        out += sorted(str(p.relative_to(site)) for p in root.rglob("*.html")
                      if not p.relative_to(root).parts[0].startswith("_"))
    return out


def audit(page, axe_script: str) -> list[dict]:
    """axe-core's violations on the loaded page, reduced to what a report needs."""
    page.evaluate(axe_script)
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [{"rule": v["id"], "impact": v.get("impact") or "", "help": v["help"], "elements": len(v["nodes"]),
             "targets": [" ".join(map(str, n["target"])) for n in v["nodes"][:5]]}
            for v in result["violations"]]


def test_no_serious_or_critical_violation_on_any_page():
    if not (SITE / "switcher.json").is_file():
        require(f"no built site at {SITE} (run `make site` first)")
    require(browser_unavailable_reason())
    from axe_playwright_python.base import AXE_SCRIPT
    from playwright.sync_api import sync_playwright

    pages = site_pages(SITE)
    assert len(pages) >= 10, pages
    report: dict[str, list[dict]] = {}
    with StaticServer(SITE) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        page.set_default_timeout(180_000)  # generous: the machine may be busy; waits are on events
        for rel in pages:
            page.goto(f"{server.url}/{rel}", wait_until="load")
            page.wait_for_function("document.readyState === 'complete'")
            report[rel] = audit(page, AXE_SCRIPT)
        browser.close()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1, sort_keys=True), encoding="utf-8")
    failing = [f"{rel}: {v['rule']} ({v['impact']}, {v['elements']} element(s)): {v['help']} — {v['targets'][:2]}"
               for rel, found in report.items() for v in found if v["impact"] in FAILING]
    assert not failing, f"see {REPORT}\n" + "\n".join(failing)


def test_the_audit_can_fail():
    """The same audit, on a page made to break two rules, reports them (the check is live)."""
    require(browser_unavailable_reason())
    from axe_playwright_python.base import AXE_SCRIPT
    from playwright.sync_api import sync_playwright

    html = ('<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
            '<p style="color:#f66a0a;background:#fff">low contrast</p>'
            '<div role="list"><a href="#x">not a list item</a></div></main></body></html>')
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content(html)
        rules = {v["rule"]: v["impact"] for v in audit(page, AXE_SCRIPT)}
        browser.close()
    assert rules.get("color-contrast") == "serious"
    assert rules.get("aria-required-children") == "critical"
