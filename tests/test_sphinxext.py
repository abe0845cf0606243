"""The {claim} role: reproduced value, link to the reviewer row, hover title; unknown ids fail under -W.

Every test here but the last runs Sphinx (slow). The verdicts come from claims.json (written by hand
here, as the build would), never from a comparison made by the role.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import yaml

sphinx = pytest.importorskip("sphinx")
from sphinx.application import Sphinx  # noqa: E402
from sphinx.errors import SphinxWarning  # noqa: E402
from sphinx.util.docutils import docutils_namespace  # noqa: E402

REGISTRY = {"claims": [
    {"id": "t2a.itt.orr.pct", "locations": ["Table 2A, ITT column, ORR row"], "quantity": "overall response rate",
     "population": "ITT", "published": 51.1, "unit": "percent", "rule": "percent_printed", "chapter": "response",
     "decimals": 1},
    {"id": "pfs.itt.median", "locations": ["Results, survival paragraph"], "quantity": "median PFS",
     "population": "ITT", "published": 8.5, "unit": "months", "rule": "median", "chapter": "survival",
     "decimals": 1},
    {"id": "os.itt.median", "locations": ["Results, survival paragraph"], "quantity": "median OS",
     "population": "ITT", "published": "NR", "unit": "months", "rule": "not_reached", "chapter": "survival"},
    {"id": "flow.pp.n", "locations": ["Results, paragraph 1"], "quantity": "per-protocol patients",
     "population": "PP", "published": 76, "unit": "count", "rule": "exact", "chapter": "patients"},
]}
# 46/90 = 51.11 (reproduced); 9.44 is more than 0.3 months from 8.5 (differs)
RESULTS = {"t2a.itt.orr.pct": 46 / 90 * 100, "pfs.itt.median": 9.44, "os.itt.median": "NR", "flow.pp.n": 76}
VERDICTS = {"t2a.itt.orr.pct": "reproduced", "pfs.itt.median": "differs", "os.itt.median": "reproduced",
            "flow.pp.n": "reproduced"}


def _claims_json(results: dict, verdicts: dict) -> list[dict]:
    """claims.json records as the build writes them (only the verdict and the value matter here)."""
    return [{"id": c["id"], "location": c["locations"][0], "locations": "; ".join(c["locations"]),
             "quantity": c["quantity"], "population": c["population"], "chapter": c["chapter"],
             "rule": c["rule"], "published": c["published"], "reproduced": results.get(c["id"]),
             "difference": None, "verdict": verdicts.get(c["id"], "not computable"), "reason": "",
             "page": "", "anchor": "claim-" + c["id"]} for c in REGISTRY["claims"]]


def _project(tmp_path: Path, index: str, results: dict | None = RESULTS, conf_extra: str = "",
             verdicts: dict | None = VERDICTS) -> Path:
    src = tmp_path / "src"
    (src / "chapters").mkdir(parents=True)
    (src / "claims.yaml").write_text(yaml.safe_dump(REGISTRY))
    (src / "_static").mkdir()
    if results is not None:  # where the build stages them
        (src / "_static" / "results.json").write_text(json.dumps(results))
    if verdicts is not None:
        (src / "_static" / "claims.json").write_text(json.dumps(_claims_json(results or {}, verdicts)))
    (src / "conf.py").write_text(
        "extensions = ['myst_parser', 'ixathaldex.site.sphinxext']\n"
        "ixathaldex_claims = 'claims.yaml'\n"
        "exclude_patterns = ['_build']\n" + conf_extra)
    (src / "index.md").write_text("# Home\n\n" + index + "\n\n```{toctree}\nreviewer\nchapters/02_response\n```\n")
    (src / "reviewer.md").write_text("# Reviewer\n\nThe claims table.\n")
    (src / "chapters" / "02_response.md").write_text(
        "# Two\n\nResponse {claim}`t2a.itt.orr.pct`%, again {claim}`t2a.itt.orr.pct`%, "
        "PFS {claim}`pfs.itt.median`.\n")
    return src


def _build(src: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    with docutils_namespace():  # each build registers its nodes and roles afresh
        app = Sphinx(str(src), str(src), str(out), str(tmp_path / "doctrees"), "html", status=None,
                     warning=None, freshenv=True, warningiserror=True)
        app.build(force_all=True)
    return out


def _links(page: str) -> list[dict]:
    found = []
    for m in re.finditer(r"<a ([^>]*)>(.*?)</a>", page):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if "ixathaldex-claim" in attrs.get("class", ""):
            found.append({**{k: html.unescape(v) for k, v in attrs.items()}, "text": m.group(2)})
    return found


@pytest.mark.slow
def test_role_renders_reproduced_value_link_and_title(tmp_path):
    src = _project(tmp_path, "ORR {claim}`t2a.itt.orr.pct`, PFS {claim}`pfs.itt.median`, "
                             "OS {claim}`os.itt.median`, PP {claim}`flow.pp.n`.")
    out = _build(src, tmp_path)
    links = _links((out / "index.html").read_text())
    assert [a["text"] for a in links] == ["51.1", "9.4", "not reached", "76"]
    assert [a["href"] for a in links] == ["reviewer.html#claim-" + c for c in
                                          ("t2a.itt.orr.pct", "pfs.itt.median", "os.itt.median", "flow.pp.n")]
    orr, pfs, os_, _ = links
    assert "Published 51.1; this version 51.1; verdict: reproduced" in orr["title"]
    assert "ixathaldex-claim-reproduced" in orr["class"]
    assert "Published 8.5; this version 9.4; verdict: differs" in pfs["title"]
    assert "ixathaldex-claim-differs" in pfs["class"]
    assert "Published not reached" in os_["title"]
    # from a page in a sub-folder, the link climbs back to the reviewer page
    page = (out / "chapters" / "02_response.html").read_text()
    first, again, pfs_link = _links(page)
    assert first["href"] == "../reviewer.html#claim-t2a.itt.orr.pct" and first["text"] == "51.1"
    # a chapter's first showing of its own claim is the claim's anchor there (once); others' are not
    assert first.get("id") == "claim-t2a.itt.orr.pct" and "id" not in again
    assert "id" not in pfs_link and page.count('id="claim-') == 1


@pytest.mark.slow
def test_unknown_claim_id_fails_under_W(tmp_path):
    src = _project(tmp_path, "Typo {claim}`t2a.itt.orr.pc`.")
    with pytest.raises(SphinxWarning, match=r"unknown claim id 't2a.itt.orr.pc'"):
        _build(src, tmp_path)


@pytest.mark.slow
def test_claim_without_value_or_results_fails_under_W(tmp_path):
    src = _project(tmp_path, "PP {claim}`flow.pp.n`.", results={"t2a.itt.orr.pct": 51.1, "pfs.itt.median": 8.5})
    with pytest.raises(SphinxWarning, match=r"'flow.pp.n' has no value"):
        _build(src, tmp_path)
    src2 = _project(tmp_path / "b", "PP {claim}`flow.pp.n`.", results=None)
    with pytest.raises(SphinxWarning, match=r"no results.json"):
        _build(src2, tmp_path / "b")


@pytest.mark.slow
def test_verdict_and_value_are_read_from_claims_json(tmp_path):
    """The role shows claims.json's verdict even where its own comparison would disagree."""
    src = _project(tmp_path, "ORR {claim}`t2a.itt.orr.pct`.",
                   verdicts={**VERDICTS, "t2a.itt.orr.pct": "differs"})
    out = _build(src, tmp_path)
    (link,) = _links((out / "index.html").read_text())
    assert link["text"] == "51.1"
    assert "verdict: differs" in link["title"] and "ixathaldex-claim-differs" in link["class"]


@pytest.mark.slow
def test_missing_claims_json_fails_under_W(tmp_path):
    src = _project(tmp_path, "PP {claim}`flow.pp.n`.", verdicts=None)
    with pytest.raises(SphinxWarning, match=r"no claims.json"):
        _build(src, tmp_path)
    src2 = _project(tmp_path / "b", "PP {claim}`flow.pp.n`.")
    records = [r for r in _claims_json(RESULTS, VERDICTS) if r["id"] != "flow.pp.n"]
    (src2 / "_static" / "claims.json").write_text(json.dumps(records))
    with pytest.raises(SphinxWarning, match=r"'flow.pp.n' has no verdict"):
        _build(src2, tmp_path / "b")


@pytest.mark.slow
def test_results_and_claims_paths_from_config(tmp_path):
    src = _project(tmp_path, "PP {claim}`flow.pp.n`.",
                   conf_extra="ixathaldex_results_json = 'elsewhere/r.json'\n"
                              "ixathaldex_claims_json = 'elsewhere/c.json'\n")
    (src / "elsewhere").mkdir()
    changed = {**RESULTS, "flow.pp.n": 75}
    (src / "elsewhere" / "r.json").write_text(json.dumps(changed))
    (src / "elsewhere" / "c.json").write_text(json.dumps(_claims_json(changed, {"flow.pp.n": "differs"})))
    out = _build(src, tmp_path)
    (link,) = _links((out / "index.html").read_text())
    assert link["text"] == "75" and "differs" in link["title"]


def _glue_output(name, value):
    return {"output_type": "display_data", "data": {"application/papermill.record/text/plain": repr(value)},
            "metadata": {"scrapbook": {"mime_prefix": "application/papermill.record/", "name": name}}}


@pytest.mark.slow
def test_cell_that_glued_a_claim_gets_its_anchor(tmp_path):
    src = _project(tmp_path, "Home.")
    (src / "conf.py").write_text("extensions = ['myst_nb', 'ixathaldex.site.sphinxext']\n"
                                 "ixathaldex_claims = 'claims.yaml'\nnb_execution_mode = 'off'\n"
                                 "source_suffix = {'.md': 'myst-nb', '.ipynb': 'myst-nb'}\n"
                                 "exclude_patterns = ['_build']\n")
    (src / "chapters" / "02_response.md").unlink()
    cell = {"cell_type": "code", "id": "c2", "execution_count": 1, "metadata": {}, "source": "gluing_cell_marker",
            "outputs": [_glue_output("t2a.itt.orr.pct", 51.11), _glue_output("not_a_claim", 3)]}
    other = {"cell_type": "code", "id": "c1", "execution_count": 2, "metadata": {}, "source": "earlier_cell_marker", "outputs": []}
    nb = {"nbformat": 4, "nbformat_minor": 5, "cells": [
        {"cell_type": "markdown", "id": "c0", "metadata": {}, "source": "# Two"}, other, cell],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
    (src / "chapters" / "02_response.ipynb").write_text(json.dumps(nb))
    out = _build(src, tmp_path)
    page = (out / "chapters" / "02_response.html").read_text()
    assert 'id="claim-t2a.itt.orr.pct"' in page
    assert "claim-not_a_claim" not in page  # only registered claims are anchored
    # the anchor sits on the gluing cell, not on the cell before it
    after = page.split('id="claim-t2a.itt.orr.pct"', 1)[1]
    assert "earlier_cell_marker" in page
    assert "gluing_cell_marker" in after and "earlier_cell_marker" not in after


def test_thebe_assets_are_dropped_from_pages():
    from sphinx.builders.html._assets import _JavaScript

    from ixathaldex.site.sphinxext import drop_thebe_assets

    keep = _JavaScript("_static/reviewer.js")
    context = {
        "script_files": [_JavaScript(None, body='const THEBE_JS_URL = "x"'), _JavaScript("_static/sphinx-thebe.js"),
                         keep],
        "css_files": ["_static/sphinx-thebe.css", "_static/ixathaldex.css"],
    }
    shared = context["script_files"]
    drop_thebe_assets(None, "index", "page.html", context, None)
    assert context["script_files"] is shared  # the theme appends to the builder's list later
    assert context["script_files"] == [keep]
    assert context["css_files"] == ["_static/ixathaldex.css"]
