"""Figures a reader can read (issue 12), checked in headless Chromium against the built site.

Each panel of Figures 1–3 and S1 is its own image at the content column's width: at 1280 px its
smallest text (font sizes read from the SVG × the rendered scale) is no smaller than the page's
small print; every panel has its label as text ("Figure 3e") and its anchor (``#figure-3e``);
each panel's SVG, PNG and data CSV download with the right content type; at 375 px the panels
stack one per row and a tap opens the image full size. The tests wait on conditions, never on
time, with generous timeouts (a busy 2-core machine).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from browser_support import (PHONE)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SURVIVAL = "chapters/03_survival.html"
PANELS = (["figure-1-pfs", "figure-1-os"] + [f"figure-2{c}" for c in "abcd"]
          + [f"figure-3{c}" for c in "abcdef"] + ["figure-s1"])
WIDE = {"width": 1280, "height": 900}
TIMEOUT = 60_000  # ms; conditions, not sleeps
#: the page's small print: table footnotes and download links (the smallest text of the prose)
SMALL_PRINT = ".ixd-table-footnote, .ixd-csv-link"










def open_page(browser, url, viewport):
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(url, wait_until="load", timeout=TIMEOUT)
    return context, page


MEASURE = """async () => {
  const small = Math.min(...[...document.querySelectorAll(arguments_small)]
                              .map(e => parseFloat(getComputedStyle(e).fontSize)));
  const out = [];
  for (const img of document.querySelectorAll('.ixd-panel img')) {
    const svg = await (await fetch(img.src)).text();
    const vb = svg.match(/viewBox="0 0 ([0-9.]+) /);
    const sizes = [...svg.matchAll(/font-size: ?([0-9.]+)px/g)].map(m => parseFloat(m[1]));
    out.push({panel: img.closest('.ixd-panel').id, width: img.getBoundingClientRect().width,
              viewbox: vb ? parseFloat(vb[1]) : null, smallest: Math.min(...sizes), count: sizes.length});
  }
  return {small, panels: out};
}"""


def test_figure_text_is_no_smaller_than_the_pages_small_print(browser, server, all_versions):
    problems = []
    for version in all_versions:
        context, page = open_page(browser, f"{server.url}/{version}/{SURVIVAL}", WIDE)
        try:
            found = page.evaluate(MEASURE.replace("arguments_small", repr(SMALL_PRINT)))
            small = found["small"]
            assert 10 <= small <= 16, f"{version}: small print {small}px (selector {SMALL_PRINT})"
            column = page.evaluate("() => document.querySelector('article section').getBoundingClientRect().width")
            assert sorted(p["panel"] for p in found["panels"]) == sorted(PANELS)
            for p in found["panels"]:
                assert p["count"] > 10 and p["viewbox"], f"{version}/{p['panel']}: text not kept as text"
                shown = p["smallest"] * p["width"] / p["viewbox"]
                if shown < small - 0.05:
                    problems.append(f"{version}/{p['panel']}: smallest text {shown:.1f}px < small print {small}px")
                if p["width"] < column - 2:
                    problems.append(f"{version}/{p['panel']}: {p['width']:.0f}px wide, column {column:.0f}px")
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def test_every_panel_is_named_and_addressable(browser, server, all_versions):
    version = all_versions[0]
    context, page = open_page(browser, f"{server.url}/{version}/{SURVIVAL}#figure-3e", WIDE)
    try:
        text = page.locator("article").inner_text()
        for label in ["Figure 1, PFS", "Figure 1, OS", "Figure S1"] + [f"Figure 2{c}" for c in "abcd"] + \
                [f"Figure 3{c}" for c in "abcdef"]:
            assert label in text, f"no text {label!r} on the survival page"
        for anchor in PANELS + ["figure-1", "figure-2", "figure-3"]:
            assert page.locator(f"#{anchor}").count() == 1, f"anchor #{anchor} missing or repeated"
            if anchor in PANELS:
                assert page.locator(f"#{anchor} a.ixd-panel-anchor").get_attribute("href") == f"#{anchor}"
        # the linked panel is scrolled into view
        page.wait_for_function("""() => { const r = document.getElementById('figure-3e').getBoundingClientRect();
                                          return r.top >= 0 && r.top < window.innerHeight; }""", timeout=TIMEOUT)
    finally:
        context.close()


def test_each_panel_downloads_as_svg_png_and_csv(browser, server, site, all_versions):
    context = browser.new_context()
    kinds = {".svg": "image/svg+xml", ".png": "image/png", ".csv": "text/csv"}
    try:
        for version in all_versions:
            page_html = (site / version / SURVIVAL).read_text(encoding="utf-8")
            links = sorted(set(re.findall(r'href="(figures/[^"#]+)"', page_html)))
            for panel in PANELS:
                assert {f"figures/{panel}{x}" for x in (".svg", ".png", ".csv")} <= set(links), panel
            for rel in links:
                resp = context.request.get(f"{server.url}/{version}/chapters/{rel}")
                assert resp.status == 200, f"{version}/{rel}: HTTP {resp.status}"
                ext = Path(rel).suffix
                assert resp.headers.get("content-type", "").startswith(kinds[ext]), (rel, resp.headers)
                body = resp.body()
                if ext == ".svg":
                    assert b"<svg" in body[:600] and b"<dc:date>" not in body
                elif ext == ".png":
                    assert body[:8] == b"\x89PNG\r\n\x1a\n"
                elif rel.endswith("-at-risk.csv"):
                    assert body.startswith(b"endpoint,population,group,label,time,at_risk\n")
                elif "figure-s1" in rel:
                    assert body.startswith(b"factor,level,reference,population,hr,ci_low,ci_high,p,")
                else:
                    assert body.startswith(b"endpoint,population,group,label,time,survival,ci_lower,"
                                           b"ci_upper,at_risk,events,censored\n"), rel
    finally:
        context.close()


def test_phone_stacks_panels_and_a_tap_opens_the_image(browser, server, all_versions):
    version = all_versions[0]
    context, page = open_page(browser, f"{server.url}/{version}/{SURVIVAL}", PHONE)
    try:
        boxes = page.locator("#figure-3 .ixd-panel").evaluate_all(
            "ps => ps.map(p => { const r = p.getBoundingClientRect(); return [r.left, r.top, r.bottom, r.right]; })")
        assert len(boxes) == 6
        for (l0, t0, b0, r0), (l1, t1, b1, r1) in zip(boxes, boxes[1:]):
            assert abs(l0 - l1) < 1 and t1 >= b0 - 1, "panels must stack one per row at 375 px"
        assert max(b[3] for b in boxes) <= PHONE["width"]
        link = page.locator("#figure-3e a.ixd-enlarge")
        link.focus()
        page.keyboard.press("Enter")  # keyboard operable; a tap is the same link
        page.wait_for_url(re.compile(r"/figures/figure-3e\.svg$"), timeout=TIMEOUT)
    finally:
        context.close()


#: the supplementary figures drawn as one image each (page, figure id): their smallest text is 9 pt
#: (report.theme.SMALL_PT; the flow chart's boxes are 9 pt too), drawn at 96 px per inch
WHOLE_FIGURES = [("chapters/01_patients.html", "fig-flow"), ("chapters/05_safety.html", "fig-ae-profile")]


@pytest.mark.parametrize("page_path, figure_id", WHOLE_FIGURES)
def test_supplementary_figures_read_as_small_print(browser, server, all_versions, page_path, figure_id):
    from ixathaldex.report.theme import SMALL_PT

    version = all_versions[0]
    context, page = open_page(browser, f"{server.url}/{version}/{page_path}", WIDE)
    try:
        small = page.evaluate(f"() => Math.min(...[...document.querySelectorAll({SMALL_PRINT!r})]"
                              ".map(e => parseFloat(getComputedStyle(e).fontSize)))")
        img = page.locator(f"#{figure_id} img")
        img.wait_for()
        page.wait_for_function(f"() => document.querySelector('#{figure_id} img').complete")
        shown, natural = img.evaluate("i => [i.getBoundingClientRect().width, i.naturalWidth]")
        column = page.evaluate("() => document.querySelector('article section').getBoundingClientRect().width")
        smallest = SMALL_PT * 96 / 72 * shown / natural
        assert smallest >= small - 0.05, f"{figure_id}: smallest text {smallest:.1f}px < small print {small}px"
        assert shown >= column - 40, f"{figure_id}: {shown:.0f}px wide in a {column:.0f}px column"
    finally:
        context.close()
