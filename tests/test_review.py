"""Reviewer and what-changed tables: verdict counts, pages, anchors, reasons, changed values first, HTML contract."""

from __future__ import annotations

import math
from html.parser import HTMLParser

import pandas as pd
import pytest

from ixathaldex.claims import calibration_summary, review, review_html, review_summary
from ixathaldex.claims.ard import PAGES as ARD_PAGES
from ixathaldex.claims.ard import table_ard, write_ard
from ixathaldex.claims.registry import load_claims
from ixathaldex.data.snapshot import load_snapshot


def _c(id, published, rule, chapter, locations, decimals=None, **extra):
    c = {"id": id, "locations": locations, "quantity": id.replace(".", " "), "population": "ITT",
         "published": published, "unit": "x", "rule": rule, "chapter": chapter}
    if decimals is not None:
        c["decimals"] = decimals
    c.update(extra)
    return c


MINI = [
    _c("t2a.itt.orr.n", 46, "exact", "response", ["Table 2A, ITT column, ORR row", "Results, response paragraph"]),
    _c("t2a.itt.orr.pct", 51.1, "percent_printed", "response", ["Table 2A, ITT column, ORR row"], 1,
       numerator="t2a.itt.orr.n", denominator="flow.itt.n"),
    _c("flow.itt.n", 90, "exact", "patients", ["Results, paragraph 1"]),
    _c("pfs.itt.median", 8.5, "median", "survival", ["Results, survival paragraph", "Abstract, results"], 1),
    _c("os.itt.median", "NR", "not_reached", "survival", ["Results, survival paragraph"]),
    _c("resp.imid.p", "<0.0001", "pvalue", "response", ["Results, response paragraph"],
       note="the printed percentages imply p = 0.034"),
    _c("screen.days", 7, "median", "patients", ["Patients and methods"], 0, expected_computable=False),
]
PAGES = {"patients": "chapters/01_patients.html", "response": "chapters/02_response.html"}
# by hand: orr.n 46 = 46 reproduced; orr.pct 46/90 = 51.11 reproduced; itt.n 90 reproduced;
# pfs 9.2 vs 8.5 (> 0.3) differs; os "NR" reproduced; imid p 0.034 > 0.0001 differs; screen.days missing
RESULTS = {"t2a.itt.orr.n": 46, "t2a.itt.orr.pct": 100 * 46 / 90, "flow.itt.n": 90, "pfs.itt.median": 9.2,
           "os.itt.median": "NR", "resp.imid.p": 0.034, "n_itt": 90}


@pytest.fixture(scope="module")
def reviewer():
    return review.table_reviewer(RESULTS, MINI, pages=PAGES)


def test_verdicts_and_counts(reviewer):
    by = dict(zip(reviewer["id"], reviewer["verdict"]))
    assert by == {"t2a.itt.orr.n": "exact", "t2a.itt.orr.pct": "exact", "flow.itt.n": "exact",
                  "pfs.itt.median": "differs", "os.itt.median": "exact", "resp.imid.p": "differs",
                  "screen.days": "not computable"}
    counts = review.table_verdict_counts(reviewer).iloc[0].to_dict()
    assert counts == {"claims": 7, "exact": 4, "within tolerance": 0, "differs": 2, "not computable": 1}
    per = review.table_verdict_counts(reviewer, "chapter").set_index("chapter")
    assert list(per.index) == ["patients", "response", "survival"]  # the book's chapter order
    assert per.loc["response"].to_dict() == {"claims": 3, "exact": 2, "within tolerance": 0, "differs": 1,
                                            "not computable": 0}
    assert per.loc["patients", "not computable"] == 1
    assert review.format_summary_sentence(reviewer).startswith("4 of 7 claims reproduced (57.1%): 4 exact, 0 within")


def test_pages_anchors_and_sections(reviewer):
    r = reviewer.set_index("id")
    assert r.loc["t2a.itt.orr.pct", "anchor"] == "claim-t2a.itt.orr.pct"
    assert r.loc["t2a.itt.orr.pct", "page"] == "chapters/02_response.html"
    assert r.loc["pfs.itt.median", "page"] == ""  # survival chapter not in this book
    assert r.loc["t2a.itt.orr.n", "section"] == "Table 2A"
    assert r.loc["t2a.itt.orr.n", "sections"] == "Table 2A; Results"
    assert list(reviewer["id"]) == [c["id"] for c in MINI]  # registry order


def test_every_claim_not_reproduced_has_a_written_reason(reviewer):
    r = reviewer.set_index("id")
    assert (r.loc[r["verdict"] == "exact", "reason"] == "").all()
    assert (r.loc[r["verdict"] != "exact", "reason"].str.len() > 10).all()
    assert "0.034" in r.loc["resp.imid.p", "reason"]  # the registry's note
    assert "data model" in r.loc["screen.days", "reason"]  # expected_computable: false
    assert "0.3 months" in r.loc["pfs.itt.median", "reason"]  # no note: the rule is the reason
    missing = review.table_reviewer({}, MINI[:1], pages={}).iloc[0]
    assert missing["verdict"] == "not computable" and "no computed value" in missing["reason"]


def test_consistency_findings_become_reasons():
    findings = pd.DataFrame([
        {"id": "pct.t2a.itt.orr.pct", "family": "percentage", "section": "Table 2A", "verdict": "inconsistent",
         "claims": ["t2a.itt.orr.pct", "t2a.itt.orr.n", "flow.itt.n"], "published": "52.0%",
         "recomputed": "46/90 = 51.11%", "explanation": "e", "reading": "46/90"},
        {"id": "sum.x", "family": "sum", "section": "Results", "verdict": "consistent", "claims": ["flow.itt.n"],
         "published": "90", "recomputed": "90", "explanation": "e", "reading": ""}])
    t = review.table_reviewer({"t2a.itt.orr.pct": 40.0, "flow.itt.n": 91}, MINI, pages={}, consistency=findings)
    r = t.set_index("id")
    assert "46/90 = 51.11%" in r.loc["t2a.itt.orr.pct", "reason"]
    assert "reading used: 46/90" in r.loc["t2a.itt.orr.pct", "reason"]
    assert "paper's arithmetic" in r.loc["flow.itt.n", "reason"]  # named by an inconsistent finding
    assert "sum" not in r.loc["flow.itt.n", "reason"]  # consistent findings are not reasons


def test_chapter_pages_from_toc():
    toc = {"format": "jb-book", "root": "index", "parts": [
        {"caption": "R", "chapters": [{"file": "chapters/01_patients"}, {"file": "chapters/03_survival.md"},
                                      {"file": "chapters/04_prognostic_factors"}, {"file": "reviewer"}]}]}
    assert review.chapter_pages(toc) == {"patients": "chapters/01_patients.html",
                                         "survival": "chapters/03_survival.html",
                                         "prognostic": "chapters/04_prognostic_factors.html"}


@pytest.mark.parametrize("value, claim, shown", [
    (100 * 46 / 90, MINI[1], "51.1"),
    (46, MINI[0], "46"),
    (46.0, MINI[0], "46"),
    (8.449, MINI[3], "8.4"),
    ("NR", MINI[3], "not reached"),
    (math.inf, MINI[3], "not reached"),
    (None, MINI[3], "not computed"),
    (float("nan"), MINI[3], "not computed"),
    (0.00003, MINI[5], "<0.0001"),
    (0.0342, MINI[5], "0.0342"),
    (0.61234, _c("x.hr", 0.61, "hr", "survival", ["Discussion"], 2), "0.61"),
    (0.1201, _c("x.p", 0.111, "pvalue", "survival", ["Results"], 3), "0.120"),
])
def test_format_value_uses_printed_precision(value, claim, shown):
    assert review.format_value(value, claim) == shown


def test_changes_put_changed_values_first():
    prev = {"t2a.itt.orr.n": 46, "t2a.itt.orr.pct": 100 * 46 / 90, "flow.itt.n": 90, "pfs.itt.median": 8.0,
            "os.itt.median": 30.1, "screen.days": 7}
    cur = {"t2a.itt.orr.n": 47, "t2a.itt.orr.pct": 100 * 47 / 90, "flow.itt.n": 90, "pfs.itt.median": 8.0,
           "os.itt.median": "NR", "resp.imid.p": 0.03}
    ch = review.table_changes(cur, prev, MINI, pages=PAGES)
    status = dict(zip(ch["id"], ch["status"]))
    assert status == {"t2a.itt.orr.n": "changed", "t2a.itt.orr.pct": "changed", "os.itt.median": "changed",
                      "flow.itt.n": "unchanged", "pfs.itt.median": "unchanged",
                      "resp.imid.p": "newly computed", "screen.days": "no longer computed"}
    # changed first: NR <-> reached (infinite relative change), then 1/46 relative for both ORR rows
    assert list(ch["id"][:3]) == ["os.itt.median", "t2a.itt.orr.n", "t2a.itt.orr.pct"]
    order = [review.CHANGE_STATUSES.index(s) for s in ch["status"]]
    assert order == sorted(order)
    row = ch.set_index("id").loc["t2a.itt.orr.n"]
    assert row["change"] == pytest.approx(1.0) and row["previous"] == 46 and row["reproduced"] == 47
    assert row["previous_verdict"] == "exact" and row["verdict"] == "differs"
    assert ch.set_index("id").loc["os.itt.median", "verdict"] == "exact"
    counts = dict(zip(*review.table_change_counts(ch).T.values))
    assert counts == {"changed": 3, "newly computed": 1, "no longer computed": 1, "unchanged": 2,
                      "not computed": 0}


def test_float_noise_is_not_a_change():
    prev = {"t2a.itt.orr.pct": 51.111111111111114}
    ch = review.table_changes({"t2a.itt.orr.pct": 46 / 90 * 100}, prev, MINI[1:2], pages={})
    assert ch["status"].tolist() == ["unchanged"]


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.ids, self.tables = [], set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "tr" and "data-verdict" in a:
            self.rows.append(a)
        if tag == "table":
            self.tables.append(a)


def test_reviewer_html_follows_the_dom_contract(reviewer):
    p = _Rows()
    html_text = review_html.format_reviewer_html(reviewer, MINI)
    p.feed(html_text)
    assert 'class="ixathaldex-groups" id="ixathaldex-claims"' in html_text  # the set of groups
    assert all("ixathaldex-interactive" in t["class"] and t["data-set"] == "ixathaldex-claims" for t in p.tables)
    # one folded group per section of first printing, in the paper's order; registry order within
    assert [t["id"] for t in p.tables] == ["ixathaldex-claims-patients-and-methods-table",
                                           "ixathaldex-claims-results-table", "ixathaldex-claims-table-2a-table"]
    assert [r["id"] for r in p.rows] == ["claim-screen.days", "claim-flow.itt.n", "claim-pfs.itt.median",
                                         "claim-os.itt.median", "claim-resp.imid.p", "claim-t2a.itt.orr.n",
                                         "claim-t2a.itt.orr.pct"]
    assert html_text.count("<details class=\"ixathaldex-group\"") == 3 and " open" not in html_text  # folded
    # by hand: Results holds flow.itt.n, os (exact), pfs, imid p (differ)
    assert "4 claims: 2 exact, 2 differs" in html_text and "2 claims: 2 exact" in html_text
    row = next(r for r in p.rows if r["id"] == "claim-t2a.itt.orr.n")
    assert row["data-section"] == "Table 2A; Results" and row["data-chapter"] == "response"
    for control in ("section", "chapter", "verdict", "text", "reset"):
        assert f"ixathaldex-claims-filter-{control}" in p.ids
    assert "ixathaldex-claims-count" in p.ids
    assert 'href="chapters/02_response.html#claim-t2a.itt.orr.pct"' in html_text  # the cell that glued it
    assert "<script" not in html_text and "http" not in html_text  # nothing fetched


def test_claim_rows_link_to_the_findings_that_name_them(reviewer):
    findings = pd.DataFrame([
        {"id": "sum.itt", "family": "sum", "section": "Results", "verdict": "consistent",
         "claims": ["flow.itt.n", "t2a.itt.orr.n"], "published": "", "recomputed": "", "explanation": "",
         "reading": ""},
        {"id": "pct.orr", "family": "percentage", "section": "Table 2A", "verdict": "rounding",
         "claims": ["t2a.itt.orr.pct", "t2a.itt.orr.n", "flow.itt.n"], "published": "", "recomputed": "",
         "explanation": "", "reading": ""}])
    html_text = review_html.format_reviewer_html(reviewer, MINI, findings=findings)
    row = html_text[html_text.index('id="claim-flow.itt.n"'):]
    row = row[:row.index("</tr>")]
    # the finding whose subject it is first, then the others by verdict (rounding before consistent)
    assert row.index('href="#finding-sum.itt"') < row.index('href="#finding-pct.orr"')
    orr = html_text[html_text.index('id="claim-t2a.itt.orr.n"'):]
    orr = orr[:orr.index("</tr>")]
    assert orr.index('href="#finding-pct.orr"') < orr.index('href="#finding-sum.itt"')
    assert "finding-" not in html_text[html_text.index('id="claim-pfs.itt.median"'):].split("</tr>")[0]


def test_changes_and_consistency_html():
    ch = review.table_changes({"flow.itt.n": 91}, {"flow.itt.n": 90}, MINI, pages={})
    p = _Rows()
    p.feed(review_html.format_changes_html(ch, MINI))
    assert p.tables[0]["id"] == "ixathaldex-changes"
    assert p.rows[0]["data-claim"] == "flow.itt.n" and p.rows[0]["data-status"] == "changed"
    assert "ixathaldex-changes-filter-status" in p.ids
    findings = pd.DataFrame([{"id": "sum.c", "family": "sum", "section": "Results", "verdict": "rounding",
                              "claims": ["flow.itt.n"], "published": "1", "recomputed": "2", "explanation": "e",
                              "reading": "r"}])
    text = review_html.format_consistency_html(findings)
    assert 'href="#claim-flow.itt.n"' in text and 'id="ixathaldex-consistency"' in text
    assert "ixathaldex-verdict-rounding" in text and 'id="finding-sum.c"' in text


def test_real_registry_with_no_results_explains_every_claim():
    claims = load_claims()
    t = review.table_reviewer({}, claims, pages={})
    assert len(t) == len(claims) and t["anchor"].is_unique
    assert (t["verdict"] == "not computable").all()
    assert (t["reason"].str.len() > 0).all()
    marked = [c["id"] for c in claims if c.get("expected_computable") is False]
    assert marked  # the registry marks what the data model cannot give
    for cid in marked:
        assert "data model" in t.set_index("id").loc[cid, "reason"]


def test_claims_json_has_page_anchor_and_reason(tmp_path):
    import json

    toc = {"format": "jb-book", "root": "index", "chapters": [{"file": "chapters/02_response"}]}
    path = review.write_claims_json(tmp_path / "claims.json", RESULTS, toc=toc, claims=MINI)
    records = json.loads(path.read_text())
    assert [r["id"] for r in records] == [c["id"] for c in MINI]
    orr = records[1]
    assert orr["url"] == "chapters/02_response.html#claim-t2a.itt.orr.pct"
    assert orr["reviewer_url"] == "reviewer.html#claim-t2a.itt.orr.pct"
    assert orr["verdict"] == "exact" and orr["reproduced"] == pytest.approx(51.111, abs=1e-3)
    screen = records[-1]
    assert screen["reproduced"] is None and screen["difference"] is None and screen["url"] == ""
    assert screen["verdict"] == "not computable" and screen["reason"]
    assert records[4]["reproduced"] == "NR" and records[4]["published"] == "NR"


@pytest.mark.slow
def test_post_pages_execute_with_two_versions(tmp_path):
    """book/reviewer.md and book/changes.md run as the build runs them (papermill, parameters)."""
    import json
    from pathlib import Path

    import jupytext
    import papermill

    book = Path(__file__).resolve().parents[1] / "book"
    runs = {}
    for cut, value in (("2018-06-30", 46), ("2019-12-31", 47)):
        folder = tmp_path / "runs" / cut
        folder.mkdir(parents=True)
        results = {"t2a.itt.orr.n": value, "flow.itt.n": 90}
        (folder / "results.json").write_text(json.dumps(results))
        review.write_claims_json(folder / "claims.json", results)  # as the build's collect step does
        write_ard(table_ard(load_snapshot(cut, validate=False), load_claims(), list(ARD_PAGES)), folder)
        runs[cut] = folder / "results.json"

    def run(page, cut, previous):
        nb = jupytext.read(book / f"{page}.md", fmt="md:myst")
        out = tmp_path / f"{page}-{cut}.ipynb"
        papermill.execute_notebook(nb, str(out), kernel_name="python3", cwd=str(book), progress_bar=False,
                                   parameters={"snapshot": cut, "results_json": str(runs[cut]),
                                               "previous_results_json": str(runs[previous]) if previous else "",
                                               "claims_json": str(runs[cut].with_name("claims.json")),
                                               "previous_claims_json":
                                                   str(runs[previous].with_name("claims.json")) if previous else "",
                                               "ard_json": str(runs[cut].with_name("ard.json")),
                                               "previous_ard_json":
                                                   str(runs[previous].with_name("ard.json")) if previous else ""})
        cells = json.loads(out.read_text())["cells"]
        texts = []
        for c in cells:
            for o in c.get("outputs", []):
                assert o.get("output_type") != "error" and o.get("name") != "stderr", o
                data = o.get("data", {})
                texts.append("".join(data.get("text/html", "")) + "".join(data.get("text/markdown", "")))
        return "\n".join(texts)

    n = len(load_claims())
    reviewer = run("reviewer", "2019-12-31", "2018-06-30")
    # by hand: 90 patients reproduced exactly; 47 responders differ from the printed 46; the rest not glued
    assert (f"1 of {n} claims reproduced ({100 / n:.1f}%): 1 exact, 0 within tolerance; 1 differ; "
            f"{n - 2} not computable") in reviewer
    assert 'id="ixathaldex-claims"' in reviewer and 'id="claim-t2a.itt.orr.n"' in reviewer
    assert 'id="ixathaldex-consistency"' in reviewer and 'href="claims.json"' in reviewer
    assert f"{n - 1} of {n} claims do not reproduce in this version: 1 differs, {n - 2} are not computable" \
        in reviewer and 'data-not-reproduced="t2a.itt.orr.n"' in reviewer
    assert 'id="ixathaldex-conflicts"' in reviewer and "Calibration of the synthetic cohort" in reviewer
    first = run("changes", "2018-06-30", None)
    assert "no earlier" in first and "ixathaldex-changes" not in first
    later = run("changes", "2019-12-31", "2018-06-30")
    assert f"1 of {n} claims changed value" in later and 'id="ixathaldex-changes"' in later
    assert later.index('data-claim="t2a.itt.orr.n"') < later.index('data-claim="flow.itt.n"')  # changed first


def test_export_links_to_the_chapter_anchor_only_where_a_value_was_computed():
    from ixathaldex.claims.review import table_claims_export

    export = table_claims_export({"flow.itt.n": 90}).set_index("id")
    assert export.loc["flow.itt.n", "url"].endswith("#claim-flow.itt.n")
    missing = export.loc["flow.pp.n", "url"]
    assert missing and "#" not in missing  # the page, not an anchor that does not exist there


def test_chapter_counts_follow_the_toc_not_the_registry(reviewer):
    toc = {"format": "jb-book", "root": "index", "chapters": [
        {"file": "chapters/01_survival"}, {"file": "chapters/02_response"}, {"file": "chapters/03_patients"}]}
    per = review.table_verdict_counts(reviewer, "chapter", toc=toc)
    assert list(per["chapter"]) == ["survival", "response", "patients"]
    only_response = {"format": "jb-book", "root": "index", "chapters": [{"file": "chapters/02_response"}]}
    per = review.table_verdict_counts(reviewer, "chapter", toc=only_response)
    assert list(per["chapter"]) == ["response", "patients", "survival"]  # no page: registry order after


# ---- the part read first: summary per chapter / section, what does not reproduce, conflicts ---------

def _finding(fid, family, section, verdict, claims):
    return {"id": fid, "family": family, "section": section, "verdict": verdict, "claims": claims,
            "published": f"printed {fid}", "recomputed": f"recomputed {fid}", "explanation": "e",
            "reading": f"reading {fid}"}


FINDINGS = pd.DataFrame([
    _finding("pct.orr", "percentage", "Table 2A", "rounding", ["t2a.itt.orr.pct", "t2a.itt.orr.n", "flow.itt.n"]),
    _finding("sum.itt", "sum", "Results", "consistent", ["flow.itt.n"]),
    _finding("pct.imid", "percentage", "Results", "inconsistent", ["resp.imid.p"]),
    _finding("hr.pfs", "hazard ratio", "Results", "not checkable", ["pfs.itt.median"]),
    _finding("wording.x", "wording", "Discussion", "inconsistent", []),
    _finding("sum.orr", "sum", "Table 2A", "inconsistent", ["t2a.itt.orr.n"]),
])


def test_summary_per_chapter_counts_claims_and_findings(reviewer):
    toc = {"format": "jb-book", "root": "index", "chapters": [
        {"file": "chapters/01_patients"}, {"file": "chapters/02_response"}, {"file": "chapters/03_survival"}]}
    s = review_summary.table_review_summary(reviewer, FINDINGS, "chapter", toc=toc).set_index("chapter")
    # by hand: a finding belongs to the chapter of its first claim; wording.x names none
    assert list(s.index) == ["patients", "response", "survival", "(no claim)"]
    assert s.loc["response"].to_dict() == {"claims": 3, "exact": 2, "within tolerance": 0, "differs": 1,
                                           "not computable": 0, "findings": 3, "consistent": 0, "rounding": 1,
                                           "inconsistent": 2, "not checkable": 0}
    assert s.loc["patients", "claims"] == 2 and s.loc["patients", "consistent"] == 1
    assert s.loc["survival", "not checkable"] == 1 and s.loc["survival", "differs"] == 1
    assert s.loc["(no claim)"].to_dict()["claims"] == 0 and s.loc["(no claim)", "inconsistent"] == 1
    assert s["claims"].sum() == len(MINI) and s["findings"].sum() == len(FINDINGS)


def test_summary_per_section_follows_the_paper(reviewer):
    s = review_summary.table_review_summary(reviewer, FINDINGS, "section")
    assert list(s["section"]) == ["Patients and methods", "Results", "Table 2A", "Discussion"]
    t = s.set_index("section")
    assert t.loc["Table 2A", "claims"] == 2 and t.loc["Table 2A", "findings"] == 2
    assert t.loc["Results", "differs"] == 2 and t.loc["Results", "inconsistent"] == 1
    assert t.loc["Discussion", "claims"] == 0 and t.loc["Discussion", "inconsistent"] == 1
    with pytest.raises(ValueError, match="by must be"):
        review_summary.table_review_summary(reviewer, FINDINGS, "population")


def test_what_does_not_reproduce_and_the_conflicts(reviewer):
    rows = review_summary.table_not_reproduced(reviewer)
    # by hand: screen.days (Patients and methods) before pfs and imid p (Results)
    assert list(rows["id"]) == ["screen.days", "pfs.itt.median", "resp.imid.p"]
    assert (rows["reason"].str.len() > 0).all()
    conflicts = review_summary.table_conflicts(FINDINGS)
    # families in the order of the checks; inconsistent before rounding within one
    assert list(conflicts["id"]) == ["pct.imid", "pct.orr", "sum.orr", "wording.x"]
    assert review_summary.format_not_reproduced_sentence(reviewer) == \
        "3 of 7 claims do not reproduce in this version: 2 differ, 1 is not computable."
    assert review_summary.format_conflicts_sentence(FINDINGS) == \
        "4 of 6 findings: 3 inconsistent, 1 rounding, in 3 kinds of check."
    assert review_summary.format_recheck_sentence(FINDINGS).endswith(
        "1 consistent, 1 rounding, 3 inconsistent, 1 not checkable.")
    links = review_summary.table_claim_findings(FINDINGS)
    assert list(links.loc[links["claim"] == "flow.itt.n", "finding"]) == ["sum.itt", "pct.orr"]
    assert list(links.loc[links["claim"] == "t2a.itt.orr.n", "finding"]) == ["sum.orr", "pct.orr"]


def test_digest_html_links_to_the_rows_below(reviewer):
    from ixathaldex.claims import review_digest_html as digest

    text = digest.format_not_reproduced_html(review_summary.table_not_reproduced(reviewer), MINI)
    assert text.count("<tr data-not-reproduced") == 3 and 'href="#claim-pfs.itt.median"' in text
    assert 'id="claim-' not in text  # the anchors stay in the full list
    text = digest.format_conflicts_html(review_summary.table_conflicts(FINDINGS))
    assert text.count('scope="rowgroup"') == 3 and 'href="#finding-pct.imid"' in text
    assert "reading pct.orr" in text and "recomputed sum.orr" in text and "<caption>" in text
    summary = review_summary.table_review_summary(reviewer, FINDINGS, "section")
    text = digest.format_summary_html(summary, "c", "Printed in", link_groups=True)
    assert 'href="#ixathaldex-claims-table-2a"' in text and "Discussion</th>" in text  # no claims: no link
    assert "<tfoot><tr><th scope=\"row\">all</th><td class=\"ixathaldex-num\">7</td>" in text


# ---- calibration of the synthetic cohort -------------------------------------------------------------

def test_calibration_summary_counts_exact_counts_and_plain_inferential_numbers():
    frame = pd.DataFrame([
        {"rule": "exact", "published": 46, "verdict": "exact"},
        {"rule": "exact", "published": 90, "verdict": "exact"},
        {"rule": "exact", "published": 7, "verdict": "differs"},
        {"rule": "median", "published": 8.5, "verdict": "within tolerance"},
        {"rule": "median", "published": "NR", "verdict": "exact"},  # not a plain value
        {"rule": "ci_limit", "published": 6.1, "verdict": "exact"},
        {"rule": "pvalue", "published": "<0.0001", "verdict": "exact"},  # a bound, not a number
        {"rule": "pvalue", "published": 0.034, "verdict": "exact"},
        {"rule": "hr", "published": 0.61, "verdict": "differs"},
        {"rule": "percent_printed", "published": 51.1, "verdict": "exact"},  # neither group
    ])
    s = calibration_summary.table_calibration_summary(frame).set_index("group")
    assert s.loc["counts"].to_dict() == {"claims": 3, "exact": 2, "within tolerance": 0, "differs": 1,
                                         "not computable": 0}
    assert s.loc["survival and inferential"].to_dict() == {"claims": 4, "exact": 2, "within tolerance": 1,
                                                           "differs": 1, "not computable": 0}
    from ixathaldex.claims import review_digest_html as digest

    text = digest.format_calibration_html(calibration_summary.table_calibration_summary(frame),
                                          pd.DataFrame(columns=["claim", "reason"]))
    assert "Counts: 2 of 3 exact" in text and "2 of 4 exact at the printed precision, 1 more within" in text
    assert "<ul>" not in text


def test_calibration_misses_are_read_when_listed(tmp_path):
    import json

    from ixathaldex.exceptions import ClaimsError

    assert calibration_summary.load_calibration_misses(tmp_path).empty  # no calibration.json
    (tmp_path / "calibration.json").write_text(json.dumps({"counts": []}))
    assert calibration_summary.load_calibration_misses(tmp_path).empty  # no misses list
    (tmp_path / "calibration.json").write_text(json.dumps({"misses": []}))
    empty = calibration_summary.load_calibration_misses(tmp_path)  # a cut with nothing missed
    assert empty.empty and list(empty.columns) == ["claim", "reason"]
    (tmp_path / "calibration.json").write_text(json.dumps({"misses": [
        {"claim": "resp.imid.p", "reason": "the printed percentages imply 0.03", "target": 0.0001}]}))
    misses = calibration_summary.load_calibration_misses(tmp_path)
    assert misses.to_dict("records") == [{"claim": "resp.imid.p", "reason": "the printed percentages imply 0.03",
                                           "target": 0.0001}]
    from ixathaldex.claims import review_digest_html as digest

    summary = calibration_summary.table_calibration_summary(
        pd.DataFrame([{"rule": "exact", "published": 1, "verdict": "exact"}]))
    text = digest.format_calibration_html(summary, misses)
    assert 'href="#claim-resp.imid.p"' in text and "imply 0.03" in text
    (tmp_path / "calibration.json").write_text(json.dumps({"misses": [{"claim": "x.y"}]}))
    with pytest.raises(ClaimsError, match=r"misses\[0\].*reason"):
        calibration_summary.load_calibration_misses(tmp_path)
    (tmp_path / "calibration.json").write_text("{not json")
    with pytest.raises(ClaimsError, match="calibration.json"):
        calibration_summary.load_calibration_misses(tmp_path)


def test_what_does_not_reproduce_links_the_findings_its_reason_quotes():
    from ixathaldex.claims import review_digest_html as digest

    findings = pd.DataFrame([_finding("pct.imid", "percentage", "Results", "inconsistent", ["resp.imid.p"]),
                             _finding("sum.imid", "sum", "Results", "consistent", ["resp.imid.p"])])
    t = review.table_reviewer(RESULTS, MINI, pages=PAGES, consistency=findings)
    reason = t.set_index("id").loc["resp.imid.p", "reason"]
    assert "paper's arithmetic: percentage (inconsistent)" in reason  # the full reason quotes it
    assert review.derive_own_reason(reason) == "the printed percentages imply p = 0.034"  # the registry's note
    text = digest.format_not_reproduced_html(review_summary.table_not_reproduced(t), MINI, findings)
    row = text[text.index('data-not-reproduced="resp.imid.p"'):].split("</tr>")[0]
    assert "imply p = 0.034" in row and 'href="#finding-pct.imid"' in row
    assert "printed pct.imid" not in row and "finding-sum.imid" not in row  # linked, not quoted; no consistent
