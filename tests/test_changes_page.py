"""The what-changed page in headless Chromium: the at-a-glance figures are on every version that has a
previous one and on no other, no table is cut off at desktop width, and a phone never scrolls the page
sideways.

Run after `ixathaldex build` (``make test`` builds the site first); skips with the reason when the
site or the browser is absent (fails under CI).
"""

from __future__ import annotations


import pytest

from browser_support import (PHONE, browser_timeout_ms,
                             require, versions)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

DESKTOP_1280 = {"width": 1280, "height": 900}
LONG_TABLES = ("ixathaldex-changes", "ixathaldex-ard-changes")

#: every table of the article: its own box, its frame's box and overflow, the article's right edge
TABLE_BOXES = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('article');
  const edge = article.getBoundingClientRect().right;
  return [...article.querySelectorAll('table')].map(t => {
    const frame = t.closest('.ixathaldex-scroll') || t.parentElement;
    const f = frame.getBoundingClientRect();
    const s = getComputedStyle(frame);
    return {id: t.id || t.className, table_width: t.scrollWidth, frame_width: frame.clientWidth,
            frame_height: f.height, frame_right: f.right, frame_left: f.left, article_right: edge,
            overflow_x: s.overflowX, overflow_y: s.overflowY, viewport: window.innerWidth};
  });
}"""


@pytest.fixture(scope="module")
def by_age(site) -> list[str]:
    """The versions, oldest first (the oldest has no previous version to compare with)."""
    found = sorted(v["version"] for v in versions(site))
    if len(found) < 2:
        require(f"the site at {site} has {len(found)} version(s); the what-changed page needs two")
    return found


def open_changes(browser, server, version: str, viewport: dict):
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(browser_timeout_ms())
    page.goto(f"{server.url}/{version}/changes.html", wait_until="load")
    return page


def test_the_figures_are_on_a_newer_version_and_not_on_the_oldest(browser, server, by_age):
    oldest, newest = by_age[0], by_age[-1]
    page = open_changes(browser, server, newest, DESKTOP_1280)
    try:
        for name in ("fig-changes-km", "fig-changes-moved"):
            img = page.locator(f"#{name} img")
            assert img.count() == 1, f"{newest}: no figure #{name}"
            img.scroll_into_view_if_needed()
            assert page.evaluate(f"() => document.querySelector('#{name} img').naturalWidth") > 0
            box = img.bounding_box()
            assert box["width"] > 300 and box["x"] + box["width"] <= DESKTOP_1280["width"]
        caption = page.locator("#fig-changes-km figcaption").inner_text()
        assert newest in caption and by_age[-2] in caption and "n = " in caption
    finally:
        page.close()
    page = open_changes(browser, server, oldest, DESKTOP_1280)
    try:
        assert page.locator("#fig-changes-km, #fig-changes-moved").count() == 0
        assert page.locator("article figure img").count() == 0
        assert "earliest version" in page.locator("article").inner_text()
    finally:
        page.close()


def test_no_table_is_cut_off_at_1280(browser, server, by_age):
    for version in by_age:
        page = open_changes(browser, server, version, DESKTOP_1280)
        try:
            boxes = page.evaluate(TABLE_BOXES)
            for b in boxes:
                # the frame stays inside the article and the window; what it cannot show, it scrolls
                assert b["frame_right"] <= min(b["article_right"], b["viewport"]) + 1, (version, b)
                if b["table_width"] > b["frame_width"] + 1:
                    assert b["overflow_x"] in ("auto", "scroll"), (version, b)
            long = [b for b in boxes if b["id"] in LONG_TABLES]
            assert len(long) == (0 if version == by_age[0] else 2), (version, [b["id"] for b in boxes])
            for b in long:  # a long table scrolls inside a frame shorter than the window
                assert b["overflow_y"] in ("auto", "scroll") and b["frame_height"] <= DESKTOP_1280["height"], b
            if long:
                assert_first_column_stays(page, "ixathaldex-changes")
        finally:
            page.close()


def assert_first_column_stays(page, table_id: str) -> None:
    """Scrolled sideways and down inside its frame, the table keeps its first column and header in view."""
    frame = page.locator(f".ixathaldex-scroll:has(> #{table_id})")
    frame.scroll_into_view_if_needed()
    page.evaluate(f"() => {{ const f = document.querySelector('#{table_id}').parentElement; "
                  "f.scrollLeft = 400; f.scrollTop = 600; }")
    pos = page.evaluate(f"""() => {{
      const t = document.querySelector('#{table_id}'), f = t.parentElement.getBoundingClientRect();
      const cell = t.querySelector('tbody tr:nth-child(12) td'), head = t.querySelector('thead th');
      return {{frame_left: f.left, frame_top: f.top, cell_left: cell.getBoundingClientRect().left,
               head_top: head.getBoundingClientRect().top, scrolled: t.parentElement.scrollLeft}};
    }}""")
    assert pos["scrolled"] > 0, pos
    assert abs(pos["cell_left"] - pos["frame_left"]) <= 2, pos
    assert abs(pos["head_top"] - pos["frame_top"]) <= 2, pos


def test_no_horizontal_scroll_of_the_page_at_375(browser, server, by_age):
    for version in by_age:
        page = open_changes(browser, server, version, PHONE)
        try:
            width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert width[0] <= width[1], (version, width)
            for b in page.evaluate(TABLE_BOXES):
                assert b["frame_left"] >= -1 and b["frame_right"] <= PHONE["width"] + 1, (version, b)
        finally:
            page.close()
