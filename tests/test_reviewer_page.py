"""The reviewer page a person can read, checked in headless Chromium against the built site.

Folded, the page is short; a link to a claim or a finding opens its group; a filter opens the groups
with matches and clearing it folds them back; sorting orders every group; summaries work from the
keyboard. Run after `ixathaldex build` (``make test`` builds the site first); no fixed sleeps: every
wait is on a condition, with the load-scaled timeout of ``browser_support``.
"""

from __future__ import annotations

import re

import pytest

from browser_support import (browser_timeout_ms,
                             versions)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

#: the issue's width and the page's height budget with every group folded (it was ~95,000 px as one
#: table): the page without its two open digests (what does not reproduce, the contradictions), and
#: the average height of one of their rows (they grow with the version's data and the paper)
WIDTH = 1280
FOLDED_HEIGHT_MAX = 5000
DIGEST_ROW_MAX = 100
DIGESTS = ("#ixathaldex-not-reproduced", "#ixathaldex-conflicts")
CLAIMS, FINDINGS = "ixathaldex-claims", "ixathaldex-consistency"


@pytest.fixture(scope="module")
def publication(site) -> str:
    return versions(site)[-1]["version"]  # the oldest version: the publication cut


def open_reviewer(browser, url):
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    context.set_default_timeout(browser_timeout_ms())
    context.set_default_navigation_timeout(browser_timeout_ms())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    page.locator(f"#{CLAIMS}[data-ixathaldex-ready='true']").wait_for(state="attached")
    page.locator(f"#{FINDINGS}[data-ixathaldex-ready='true']").wait_for(state="attached")
    return context, page, errors


def open_groups(page, set_id):
    return page.evaluate(f"() => Array.from(document.querySelectorAll('#{set_id} details.ixathaldex-group'))"
                         ".filter(d => d.open).map(d => d.id)")


def test_folded_page_is_short(browser, server, site):
    heights, rows = {}, {}
    for v in versions(site):
        context, page, errors = open_reviewer(browser, f"{server.url}/{v['version']}/reviewer.html")
        try:
            page.wait_for_load_state("networkidle")
            assert open_groups(page, CLAIMS) == [] and open_groups(page, FINDINGS) == []
            # the part read first is open: what does not reproduce, the contradictions
            assert page.locator("#ixathaldex-conflicts tbody tr[data-conflict]").count() > 0
            total = page.evaluate("() => document.documentElement.scrollHeight")
            digests = page.evaluate("sels => sels.map(s => document.querySelector(s))"
                                    ".map(t => t ? [t.getBoundingClientRect().height, t.tBodies.length ? "
                                    "t.querySelectorAll('tbody tr').length : 0] : [0, 0])", list(DIGESTS))
            n = sum(r for _, r in digests)
            # the calibration box of a synthetic version lists the explained misses: read first, open
            box = page.evaluate("() => { const b = document.querySelector('#ixathaldex-calibration');"
                                " return b ? b.getBoundingClientRect().height : 0; }")
            heights[v["version"]] = (total, total - sum(h for h, _ in digests) - box)
            rows[v["version"]] = sum(h for h, _ in digests) / max(n, 1)
            assert not errors, errors
        finally:
            context.close()
    print("reviewer page at 1280 px, folded (total, without the open digests):", heights, rows)
    assert all(rest <= FOLDED_HEIGHT_MAX for _, rest in heights.values()), heights
    assert all(h <= DIGEST_ROW_MAX for h in rows.values()), rows


def test_a_claim_link_opens_its_group(browser, server, publication):
    # a claim of Table 3 (the largest group) and, through a hash change, a finding and another claim
    context, page, errors = open_reviewer(browser, f"{server.url}/{publication}/reviewer.html")
    try:
        row = page.locator(f"#{CLAIMS}-table-3 tbody tr").first
        claim_id = row.get_attribute("data-claim")
        finding_id = page.locator(f"#{FINDINGS} tbody tr").last.get_attribute("data-finding")
    finally:
        context.close()

    context, page, errors = open_reviewer(browser, f"{server.url}/{publication}/reviewer.html#claim-{claim_id}")
    try:
        target = page.locator(f"tr[id='claim-{claim_id}']")
        page.wait_for_function(f"() => document.getElementById('{CLAIMS}-table-3').open")
        target.wait_for(state="visible")
        assert "ixathaldex-target" in (target.get_attribute("class") or "")
        assert open_groups(page, CLAIMS) == [f"{CLAIMS}-table-3"]
        assert page.evaluate(f"() => {{ const r = document.getElementById('claim-{claim_id}')"
                             ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")

        # a hash change to a finding opens its family's group and marks the row
        page.evaluate(f"() => {{ location.hash = 'finding-{finding_id}'; }}")
        finding = page.locator(f"tr[id='finding-{finding_id}']")
        finding.wait_for(state="visible")
        page.wait_for_function(f"() => document.getElementById('finding-{finding_id}')"
                               ".classList.contains('ixathaldex-target')")

        # a link in "What does not reproduce" (or, without one, in the contradictions) opens its group
        link = page.locator("#ixathaldex-not-reproduced a[href^='#claim-'], #ixathaldex-conflicts a[href^='#claim-']").first
        linked = link.get_attribute("href")[1:]
        link.click()
        page.wait_for_url(re.compile(re.escape("#" + linked) + "$"))
        page.locator(f"tr[id='{linked}']").wait_for(state="visible")
        assert not errors, errors
    finally:
        context.close()


def test_filter_opens_matching_groups_and_clearing_folds_them(browser, server, publication):
    context, page, errors = open_reviewer(browser, f"{server.url}/{publication}/reviewer.html")
    try:
        rows = page.locator(f"#{CLAIMS} tbody tr")
        total = rows.count()
        verdicts = rows.evaluate_all("rs => rs.map(r => r.dataset.verdict)")
        sections = rows.evaluate_all("rs => rs.map(r => r.closest('details').id)")
        wanted = "within tolerance" if "within tolerance" in verdicts else "differs"
        expected = sorted({s for s, v in zip(sections, verdicts) if v == wanted})
        n = verdicts.count(wanted)
        assert n > 0

        page.select_option(f"#{CLAIMS}-filter-verdict", wanted)
        assert sorted(open_groups(page, CLAIMS)) == expected
        visible = page.locator(f"#{CLAIMS} tbody tr:not([hidden])")
        assert visible.count() == n
        assert set(visible.evaluate_all("rs => rs.map(r => r.dataset.verdict)")) == {wanted}
        assert page.locator(f"#{CLAIMS}-count").inner_text() == f"{n} of {total} claims shown"
        hidden_groups = page.locator(f"#{CLAIMS} details.ixathaldex-group[hidden]").count()
        assert hidden_groups == len(set(sections)) - len(expected)
        match = page.locator(f"#{expected[0]} .ixathaldex-group-match")
        in_group = sum(1 for s, v in zip(sections, verdicts) if s == expected[0] and v == wanted)
        assert match.inner_text() == f"{in_group} of {sections.count(expected[0])} match"

        # the text box combines with the select (AND); "Show all" restores the folded page
        page.fill(f"#{CLAIMS}-filter-text", "zzz-no-such-claim")
        assert page.locator(f"#{CLAIMS} tbody tr:not([hidden])").count() == 0
        page.click(f"#{CLAIMS}-filter-reset")
        assert open_groups(page, CLAIMS) == []
        assert page.locator(f"#{CLAIMS} tbody tr[hidden]").count() == 0
        assert page.locator(f"#{CLAIMS} details.ixathaldex-group[hidden]").count() == 0
        assert not page.locator(f"#{expected[0]} .ixathaldex-group-match").is_visible()

        # a group's summary works from the keyboard
        summary = page.locator(f"#{expected[0]} > summary")
        summary.focus()
        page.keyboard.press("Enter")
        page.wait_for_function(f"() => document.getElementById('{expected[0]}').open")
        assert not errors, errors
    finally:
        context.close()


def test_sort_orders_every_group(browser, server, publication):
    context, page, errors = open_reviewer(browser, f"{server.url}/{publication}/reviewer.html")
    try:
        natural = "ids => ids.slice().sort((a, b) => a.localeCompare(b, undefined, {numeric: true}))"
        ids_per_group = ("() => Array.from(document.querySelectorAll('#" + CLAIMS + " table'))"
                         ".map(t => Array.from(t.tBodies[0].rows).map(r => r.dataset.claim))")
        page.locator(f"#{CLAIMS}-table-3 > summary").click()  # sort from inside an open group
        header = page.locator(f"#{CLAIMS}-table-3 thead th[data-column='id'] button")
        header.click()
        groups = page.evaluate(ids_per_group)
        assert len(groups) > 1 and all(ids == page.evaluate(natural, ids) for ids in groups)
        sorts = page.locator(f"#{CLAIMS} thead th[data-column='id']").evaluate_all(
            "ths => ths.map(th => th.getAttribute('aria-sort'))")
        assert set(sorts) == {"ascending"}
        header.click()
        assert page.evaluate(ids_per_group) == [ids[::-1] for ids in groups]
        # numbers sort as numbers within each group, missing values last
        page.locator(f"#{CLAIMS}-table-3 thead th[data-column='published'] button").click()
        keys = page.evaluate("() => Array.from(document.querySelectorAll('#" + CLAIMS + "-table-3 tbody tr'))"
                             ".map(r => r.cells[4].dataset.sort).filter(x => x !== '').map(Number)")
        assert keys == sorted(keys)
        assert not errors, errors
    finally:
        context.close()
