"""Reviewer and what-changed tables: verdict counts, pages, anchors, reasons, changed values first, HTML contract."""

from __future__ import annotations

import math
from html.parser import HTMLParser

import pandas as pd
import pytest

from ixathaldex.claims import review, review_html
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
    p.feed(review_html.format_reviewer_html(reviewer, MINI))
    assert p.tables[0]["id"] == "ixathaldex-claims" and "ixathaldex-interactive" in p.tables[0]["class"]
    assert [r["id"] for r in p.rows] == ["claim-" + c["id"] for c in MINI]
    assert p.rows[0]["data-section"] == "Table 2A; Results" and p.rows[0]["data-chapter"] == "response"
    for control in ("section", "chapter", "verdict", "text", "reset"):
        assert f"ixathaldex-claims-filter-{control}" in p.ids
    assert "ixathaldex-claims-count" in p.ids
    html_text = review_html.format_reviewer_html(reviewer, MINI)
    assert 'href="chapters/02_response.html#claim-t2a.itt.orr.pct"' in html_text  # the cell that glued it
    assert "<script" not in html_text and "http" not in html_text  # nothing fetched


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
