"""The reader's experience, checked in headless Chromium against the built site on localhost.

Run after `ixathaldex build` (``make test`` builds the site first). Every version in the switcher
is checked. Under CI a missing browser or a missing site is a failure; elsewhere these tests skip
with the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

from browser_support import (DESKTOP, PHONE, SCREENSHOTS, browser_timeout_ms, parse_page, versions)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# The paper's tables: a caption prefix and row labels every reproduction must show.
PAPER_TABLES = {
    "chapters/01_patients.html": {
        "Table 1": ["Age", "ISS", "ECOG", "IgG", "Light chain", "t(4;14)", "1q21", "Prior treatment lines",
                    "Autologous"],
    },
    "chapters/02_response.html": {
        "Table 2A": ["CR", "VGPR", "PR", "MR", "ORR", "CBR"],
        "Table 2B": ["High risk", "Standard risk", "Gain 1q21", "No gain 1q21", "Neither"],
    },
    "chapters/05_safety.html": {
        # every row of the paper's Table 3 (alphabetical here; the page keeps the paper's order)
        "Table 3": sorted(["Anaemia", "Cardiac disorders", "Constipation", "Diarrhoea", "Fatigue",
                           "Infection unspecified", "Leukopenia", "Lower respiratory infection", "Nausea",
                           "Neutropenia", "Oedema", "Pain", "Polyneuropathy", "Renal disorders",
                           "Secondary malignancies", "Sepsis", "Thrombocytopenia",
                           "Upper respiratory infection", "Urinary tract infection", "Varicella zoster",
                           "Viral infection"]),
    },
}
SCREENSHOT_PAGES = {"front": "index.html", "survival": "chapters/03_survival.html", "reviewer": "reviewer.html"}










def toc_pages(site: Path, version: str) -> list[str]:
    """Pages of the table of contents of a version (relative paths), from its front page's sidebar."""
    root = site / version
    pages = ["index.html"]
    for href in parse_page(root / "index.html").links:
        path = urldefrag(href)[0]
        if not path or urlparse(path).scheme or path.startswith(("#", "/", "..", "_")):
            continue
        if path.endswith(".html") and path not in pages and path not in {"genindex.html", "search.html"}:
            pages.append(path)
    return pages


class PageLog:
    """Console errors and failed requests of one page load."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url} ({r.failure})"))
        page.on("response", lambda r: self.errors.append(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 else None)


def open_page(browser, url, viewport=DESKTOP):
    """A page loaded in a fresh context; every wait on it uses the load-scaled timeout."""
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(browser_timeout_ms())
    context.set_default_navigation_timeout(browser_timeout_ms())
    page = context.new_page()
    log = PageLog(page)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")  # the switcher's JSON and the fonts: waited on, not timed
    return context, page, log


# ---- the site as a whole -------------------------------------------------------------------------

def test_root_lands_on_newest_version(browser, server, all_versions):
    newest = all_versions[0]
    context, page, log = open_page(browser, server.url + "/")
    try:
        page.wait_for_url(re.compile(rf"/{re.escape(newest)}/"))
        assert f"/{newest}/" in page.url
        # the redirect itself aborts the first document request: that is the redirect working
        errors = [e for e in log.errors if not (e.startswith(f"request failed: {server.url}/ ")
                                                and "ERR_ABORTED" in e)]
        assert not errors, errors
    finally:
        context.close()


def test_switcher_has_every_version_and_newest_preferred(site):
    entries = versions(site)
    built = sorted(p.name for p in site.iterdir() if p.is_dir() and re.match(r"\d{4}-\d\d-\d\d$", p.name))
    assert sorted(e["version"] for e in entries) == built
    preferred = [e["version"] for e in entries if e.get("preferred")]
    assert preferred == [max(built)]


# ---- every page of every version -----------------------------------------------------------------

def test_every_toc_page_loads_cleanly(browser, server, site, all_versions):
    problems = []
    for version in all_versions:
        pages = toc_pages(site, version)
        assert len(pages) >= 6, f"{version}: table of contents lists only {pages}"
        for rel in pages:
            context, page, log = open_page(browser, f"{server.url}/{version}/{rel}")
            try:
                problems += [f"{version}/{rel}: {e}" for e in log.errors]
                # every image renders and has a meaningful alt text
                for img in page.query_selector_all("article img"):
                    width = img.evaluate("i => i.naturalWidth")
                    alt = (img.get_attribute("alt") or "").strip()
                    src = img.get_attribute("src")
                    if not width:
                        problems.append(f"{version}/{rel}: image {src} does not render")
                    if not alt or re.fullmatch(r"[\w./-]+\.(png|svg|jpe?g|gif)", alt):
                        problems.append(f"{version}/{rel}: image {src} has no alt text (alt={alt!r})")
                # the provenance banner names this snapshot
                banner = page.locator(".bd-header-announcement").inner_text()
                if version not in banner or "ynthetic" not in banner:
                    problems.append(f"{version}/{rel}: provenance banner {banner!r}")
            finally:
                context.close()
    assert not problems, "\n".join(problems)


def test_no_broken_internal_links_or_anchors(site, all_versions):
    broken = []
    for version in all_versions:
        root = site / version
        for html in sorted(root.rglob("*.html")):
            if html.name in {"genindex.html", "search.html"} or "_static" in html.parts:
                continue
            for href in parse_page(html).links:
                url = urlparse(href)
                if url.scheme or href.startswith(("mailto:", "javascript:")):
                    continue
                path, frag = urldefrag(href)
                target = html if not path else (html.parent / unquote(path)).resolve()
                if path.startswith("/"):
                    target = (site / unquote(path).lstrip("/")).resolve()
                if target.is_dir():
                    target = target / "index.html"
                if not target.exists():
                    broken.append(f"{html.relative_to(site)}: link {href} -> missing {target}")
                elif frag and target.suffix == ".html" and unquote(frag) not in parse_page(target).ids:
                    broken.append(f"{html.relative_to(site)}: anchor {href} not in {target.name}")
    assert not broken, "\n".join(broken[:50])


def test_paper_tables_present_with_their_rows(browser, server, all_versions):
    problems = []
    for version in all_versions:
        for rel, tables in PAPER_TABLES.items():
            context, page, _ = open_page(browser, f"{server.url}/{version}/{rel}")
            try:
                for prefix, labels in tables.items():
                    table = page.locator("table", has=page.locator("caption", has_text=prefix)).first
                    if table.count() == 0:
                        problems.append(f"{version}/{rel}: no table captioned {prefix!r}")
                        continue
                    if table.locator("thead th, tr th").count() == 0:
                        problems.append(f"{version}/{rel}: {prefix} has no header cells")
                    rows = table.locator("tbody tr").all_inner_texts()
                    for label in labels:
                        if not any(label.lower() in r.lower() for r in rows):
                            problems.append(f"{version}/{rel}: {prefix} lacks a row for {label!r}")
            finally:
                context.close()
    assert not problems, "\n".join(problems)


def test_switching_version_keeps_the_page(browser, server, all_versions):
    if len(all_versions) < 2:
        pytest.skip("only one version")
    newest, older = all_versions[0], all_versions[1]
    rel = "chapters/03_survival.html"
    context, page, _ = open_page(browser, f"{server.url}/{older}/{rel}")
    try:
        # the theme fills the menu from switcher.json after the page loads
        page.wait_for_selector(".version-switcher__menu a", state="attached")
        page.locator(".version-switcher__button").first.click()
        names = page.locator(".version-switcher__menu").first.locator("a").all_inner_texts()
        assert all(any(v in n for n in names) for v in all_versions), names
        page.locator(".version-switcher__menu").first.get_by_text(newest).first.click()
        page.wait_for_url(re.compile(rf"/{re.escape(newest)}/"))
        assert page.url.endswith(f"/{newest}/{rel}"), page.url
    finally:
        context.close()


def test_downloads_have_the_right_content_type(browser, server, site, all_versions):
    context = browser.new_context()
    context.set_default_timeout(browser_timeout_ms())
    try:
        for version in all_versions:
            base = f"{server.url}/{version}/"
            checks = {f"_sources/chapters/{p.stem}.ipynb": "ipynb"
                      for p in (site / version / "chapters").glob("*.html")}
            checks["claims.json"] = "json"
            for pdf in (site / version).glob("*.pdf"):
                checks[pdf.name] = "pdf"
            for csv in (site / version).rglob("*.csv"):
                checks[str(csv.relative_to(site / version))] = "csv"
            assert any(kind == "csv" for kind in checks.values()), f"{version}: no table CSV downloads"
            for rel, kind in checks.items():
                resp = context.request.get(base + rel)
                assert resp.status == 200, f"{version}/{rel}: HTTP {resp.status}"
                ctype = resp.headers.get("content-type", "")
                body = resp.body()
                if kind == "ipynb":
                    nb = json.loads(body)
                    assert "cells" in nb and any(c.get("outputs") for c in nb["cells"]), rel
                    assert "json" in ctype, (rel, ctype)
                elif kind == "json":
                    assert "json" in ctype, (rel, ctype)
                    assert json.loads(body), rel
                elif kind == "pdf":
                    assert ctype == "application/pdf" and body.startswith(b"%PDF-"), (rel, ctype)
                else:
                    assert ctype.startswith("text/csv"), (rel, ctype)
                    assert body.count(b"\n") >= 2, rel
    finally:
        context.close()


# ---- accessibility and publication look ------------------------------------------------------------

def test_headings_in_order_and_tables_have_captions(site, all_versions):
    problems = []
    for version in all_versions:
        for rel in toc_pages(site, version):
            path = site / version / rel
            text = path.read_text(encoding="utf-8")
            article = text[text.find("<article"):text.rfind("</article>")]
            levels = [int(h) for h in re.findall(r"<h([1-6])[\s>]", article)]
            if levels and levels[0] != 1:
                problems.append(f"{version}/{rel}: first heading is h{levels[0]}")
            for a, b in zip(levels, levels[1:]):
                if b > a + 1:
                    problems.append(f"{version}/{rel}: heading jumps from h{a} to h{b}")
            for table in re.findall(r"<table.*?</table>", article, flags=re.S):
                if "<th" not in table:
                    problems.append(f"{version}/{rel}: a table without header cells")
                if "<caption" not in table:
                    problems.append(f"{version}/{rel}: a table without caption")
    assert not problems, "\n".join(problems)


def test_no_notebook_noise(browser, server, site, all_versions):
    problems = []
    for version in all_versions:
        for rel in toc_pages(site, version):
            context, page, _ = open_page(browser, f"{server.url}/{version}/{rel}")
            try:
                body = page.locator("article").inner_text()
                for noise in ("In [", "Out[", "Warning:", "Traceback", "snapshot = ", "<Axes", "<Figure",
                              "DeprecationWarning", "FutureWarning"):
                    if noise in body:
                        problems.append(f"{version}/{rel}: shows {noise!r}")
                if page.locator(".cell_input:visible").count():
                    problems.append(f"{version}/{rel}: code is shown by default")
                if page.locator(".output.stderr:visible, .stderr:visible").count():
                    problems.append(f"{version}/{rel}: stderr output shown")
            finally:
                context.close()
    assert not problems, "\n".join(problems)


def test_phone_width_has_no_horizontal_scroll(browser, server, site, all_versions):
    problems = []
    version = all_versions[0]
    for rel in toc_pages(site, version):
        context, page, _ = open_page(browser, f"{server.url}/{version}/{rel}", viewport=PHONE)
        try:
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems.append(f"{version}/{rel}: page body scrolls horizontally by {overflow}px at 375px")
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def test_screenshots_for_people(browser, server, all_versions):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    version = all_versions[0]
    written = []
    for name, rel in SCREENSHOT_PAGES.items():
        for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            context, page, _ = open_page(browser, f"{server.url}/{version}/{rel}", viewport=viewport)
            try:
                # the viewport, not the full page: the reviewer page is tens of thousands of px tall,
                # and a full-page capture of it is what timed out on a busy machine
                out = SCREENSHOTS / f"{name}-{width_name}.png"
                page.screenshot(path=str(out))
                written.append(out)
                first_table = page.locator("article table").first
                if first_table.count():
                    out = SCREENSHOTS / f"{name}-{width_name}-first-table.png"
                    first_table.screenshot(path=str(out))
                    written.append(out)
            finally:
                context.close()
    assert all(p.stat().st_size > 10_000 for p in written), [(p.name, p.stat().st_size) for p in written]


# ---- the reviewer page: filter, sort, claim links ---------------------------------------------------

def test_claim_links_in_prose_reach_their_reviewer_row(browser, server, all_versions):
    version = all_versions[-1]
    context, page, _ = open_page(browser, f"{server.url}/{version}/index.html")
    try:
        links = page.locator("article a.ixathaldex-claim")
        assert links.count() >= 6, "the front page shows its key numbers as claim links"
        first = links.first
        href, title = first.get_attribute("href"), first.get_attribute("title") or ""
        assert "reviewer.html#claim-" in href and "published" in title.lower()
        claim_id = href.split("#claim-", 1)[1]
        first.click()
        page.wait_for_url(re.compile(r"reviewer\.html#claim-"))
        row = page.locator(f"tr[data-claim='{claim_id}']")
        row.wait_for()
        assert "ixathaldex-target" in (row.get_attribute("class") or "")
    finally:
        context.close()
