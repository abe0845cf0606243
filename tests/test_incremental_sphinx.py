"""The incremental Sphinx build (site.incremental, site.sphinxext): a page whose source did not
change but whose shown value did is read again — the ``{claim}`` role (claims.json changed) and
myst-nb's cross-page glue (``{glue:text}`doc.ipynb::key```, the glued page changed) — and the HTML
of an incremental build equals that of a clean full build of the same source; and a page citing the
version (``{version-citation}``) is read again when the version's provenance changed.

Each test runs Sphinx in this process three times (slow): a first build, an incremental one after
the change, and a clean one of the changed source into other folders.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

pytest.importorskip("myst_nb")
from myst_nb.ext.glue.crossref import read_glue_cache  # noqa: E402
from sphinx.application import Sphinx  # noqa: E402
from sphinx.util.docutils import docutils_namespace  # noqa: E402

from ixathaldex.site.incremental import forget_previous_output, prepare_kept, stamp_kept, sync_tree  # noqa: E402

REGISTRY = {"claims": [
    {"id": "flow.pp.n", "locations": ["Results, paragraph 1"], "quantity": "per-protocol patients",
     "population": "PP", "published": 76, "unit": "count", "rule": "exact", "chapter": "patients"},
]}


def _claims_json(value: int) -> list[dict]:
    """claims.json as the build writes it (only the value and the verdict matter to the role)."""
    c = REGISTRY["claims"][0]
    return [{"id": c["id"], "location": c["locations"][0], "locations": c["locations"][0],
             "quantity": c["quantity"], "population": c["population"], "chapter": c["chapter"],
             "rule": c["rule"], "published": c["published"], "reproduced": value, "difference": None,
             "verdict": "exact" if value == 76 else "differs", "reason": "", "page": "", "anchor": "claim-flow.pp.n"}]


def _glue_output(name, value):
    return {"output_type": "display_data", "data": {"application/papermill.record/text/plain": repr(value)},
            "metadata": {"scrapbook": {"mime_prefix": "application/papermill.record/", "name": name}}}


def _notebook(title: str, glued: dict) -> str:
    cells = [{"cell_type": "markdown", "id": "m0", "metadata": {}, "source": f"# {title}"}]
    cells += [{"cell_type": "code", "id": f"c{i}", "execution_count": i + 1, "metadata": {}, "source": f"x{i} = 1",
               "outputs": [_glue_output(name, value)]} for i, (name, value) in enumerate(glued.items())]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": cells, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}})


def _source(folder: Path, claim_value: int, glued_value: int) -> Path:
    """A small book: a chapter notebook gluing ``n`` and showing a claim, a page showing the claim
    and the chapter's ``n`` (cross-page glue), a page showing neither."""
    (folder / "chapters").mkdir(parents=True)
    (folder / "_static").mkdir()
    (folder / "claims.yaml").write_text(yaml.safe_dump(REGISTRY))
    (folder / "_static" / "results.json").write_text(json.dumps({"flow.pp.n": claim_value}))
    (folder / "_static" / "claims.json").write_text(json.dumps(_claims_json(claim_value)))
    (folder / "conf.py").write_text(
        "extensions = ['myst_nb', 'ixathaldex.site.sphinxext']\nixathaldex_claims = 'claims.yaml'\n"
        "nb_execution_mode = 'off'\nsource_suffix = {'.md': 'myst-nb', '.ipynb': 'myst-nb'}\n"
        "myst_enable_extensions = ['colon_fence']\nexclude_patterns = ['_build']\n")
    (folder / "index.md").write_text(
        "# Home\n\nPer protocol: {claim}`flow.pp.n`; glued elsewhere: "
        "{glue:text}`chapters/01_patients.ipynb::n:d`.\n\n"
        "```{toctree}\nchapters/01_patients\nreviewer\nplain\n```\n")
    (folder / "reviewer.md").write_text("# Reviewer\n\nThe claim: {claim}`flow.pp.n`.\n")
    (folder / "plain.md").write_text("# Plain\n\nNo value here.\n")
    (folder / "chapters" / "01_patients.ipynb").write_text(_notebook("Patients", {"n": glued_value}))
    return folder


def _sphinx(src: Path, out: Path, fresh: bool) -> list[str]:
    """Build ``src`` into ``out`` (html and doctrees); returns the documents Sphinx read."""
    read = []
    read_glue_cache.cache_clear()  # myst-nb remembers glue caches per process (jupyter-book runs one per build)
    with docutils_namespace():
        app = Sphinx(str(src), str(src), str(out / "html"), str(out / "doctrees"), "html", status=None,
                     warning=None, freshenv=fresh, warningiserror=True)
        app.connect("env-before-read-docs", lambda app, env, docnames: read.extend(docnames))
        app.build(force_all=fresh)
    return read


def _pages(out: Path) -> dict[str, bytes]:
    html = out / "html"
    return {p.relative_to(html).as_posix(): p.read_bytes() for p in sorted(html.rglob("*"))
            if p.is_file() and p.suffix in (".html", ".js") and ".doctrees" not in p.parts}


def _incremental_then_clean(tmp_path: Path, first: tuple, changed: tuple, keep_mtime: bool = False):
    """First build of ``first`` (claim value, glued value), then the source changed to ``changed``
    staged through sync_tree into the kept source and built incrementally; and a clean build of the
    changed source. Returns (documents read incrementally, incremental pages, clean pages)."""
    kept_src, kept_out = tmp_path / "stage", tmp_path / "sphinx"
    sync_tree(_source(tmp_path / "fresh1", *first), kept_src)
    assert not prepare_kept(kept_out, "k")
    _sphinx(kept_src, kept_out, fresh=True)
    stamp_kept(kept_out, "k")
    before = {p: p.stat().st_mtime_ns for p in kept_src.rglob("*") if p.is_file()}
    changed_files = sync_tree(_source(tmp_path / "fresh2", *changed), kept_src)
    if keep_mtime:  # the content changed but the clock did not move (only the digest can tell)
        for p, ns in before.items():
            if p.is_file():
                os.utime(p, ns=(ns, ns))
    assert prepare_kept(kept_out, "k")
    forget_previous_output(kept_out / "html")
    read = _sphinx(kept_src, kept_out, fresh=False)
    clean_src = tmp_path / "clean"
    shutil.copytree(tmp_path / "fresh2", clean_src)
    # the same folder names as the incremental build's: move the kept ones away, build clean there
    shutil.move(kept_src, tmp_path / "stage-incremental")
    shutil.move(kept_out, tmp_path / "sphinx-incremental")
    shutil.copytree(clean_src, kept_src)
    _sphinx(kept_src, kept_out, fresh=True)
    return changed_files, read, _pages(tmp_path / "sphinx-incremental"), _pages(kept_out)


def _text(pages: dict, name: str) -> str:
    return pages[name].decode("utf-8")


@pytest.mark.slow
def test_a_changed_claim_is_shown_new_on_every_page_and_equals_a_clean_build(tmp_path):
    changed, read, incremental, clean = _incremental_then_clean(tmp_path, (76, 5), (75, 5))
    assert changed == ["_static/claims.json", "_static/results.json"]  # nothing else rewritten
    assert set(read) == {"index", "reviewer"}  # the pages using the role; not the others
    for page in ("index.html", "reviewer.html"):
        assert ">75<" in _text(incremental, page) and ">76<" not in _text(incremental, page), page
    assert incremental == clean


@pytest.mark.slow
def test_a_claim_changed_within_the_same_clock_tick_is_still_read_again(tmp_path):
    """Sphinx alone compares modification times; the role's digest of claims.json catches the rest."""
    _, read, incremental, clean = _incremental_then_clean(tmp_path, (76, 5), (75, 5), keep_mtime=True)
    assert set(read) == {"index", "reviewer"}
    assert ">75<" in _text(incremental, "reviewer.html")
    assert incremental == clean


@pytest.mark.slow
def test_a_changed_glued_value_is_shown_new_on_the_page_that_glues_it_from_another(tmp_path):
    changed, read, incremental, clean = _incremental_then_clean(tmp_path, (76, 5), (76, 7))
    assert changed == ["chapters/01_patients.ipynb"]
    assert set(read) == {"chapters/01_patients", "index"}  # the chapter, and the page showing its glue
    assert 'glued elsewhere: <span class="pasted-text">7</span>' in _text(incremental, "index.html")
    assert incremental == clean


def test_sync_tree_rewrites_only_changed_files_and_removes_the_others(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    (src / "a").mkdir(parents=True)
    (src / "a" / "same.txt").write_text("same")
    (src / "new.txt").write_text("new")
    (dest / "a").mkdir(parents=True)
    (dest / "a" / "same.txt").write_text("same")
    (dest / "gone").mkdir()
    (dest / "gone" / "old.txt").write_text("old")
    os.utime(dest / "a" / "same.txt", ns=(1_000_000_000, 1_000_000_000))
    assert sync_tree(src, dest) == ["gone/old.txt", "new.txt"]
    assert (dest / "a" / "same.txt").stat().st_mtime_ns == 1_000_000_000  # untouched: Sphinx will not read it
    assert not (dest / "gone").exists() and (dest / "new.txt").read_text() == "new"
    (src / "a" / "same.txt").write_text("changed")
    assert sync_tree(src, dest) == ["a/same.txt"] and (dest / "a" / "same.txt").read_text() == "changed"


def test_a_kept_folder_with_another_key_or_no_stamp_is_emptied(tmp_path):
    kept = tmp_path / "kept"
    assert not prepare_kept(kept, "k1")  # nothing kept: a full build
    (kept / "doctree").write_text("x")
    stamp_kept(kept, "k1")
    assert prepare_kept(kept, "k1") and (kept / "doctree").is_file()
    # the stamp is removed during the build: a build that fails leaves the next one full
    assert not prepare_kept(kept, "k1") and not (kept / "doctree").exists()
    stamp_kept(kept, "k1")
    assert not prepare_kept(kept, "k2")
    stamp_kept(kept, "k1")
    assert not prepare_kept(kept, "k1", incremental=False)


def test_the_id_check_remembers_clean_files_only_and_for_the_same_ids(tmp_path):
    from ixathaldex.site import leaks
    from ixathaldex.site.incremental import find_ids_remembered
    from ixathaldex.site.stage import SUBJECT_ID

    site, memo = tmp_path / "site", tmp_path / "kept" / "checked.json"
    site.mkdir()
    (site / "clean.html").write_text("<p>no one here</p>")
    (site / "leak.html").write_text("<p>patient P-017 responded</p>")
    ids = frozenset({"P-017", "P-018"})
    first = find_ids_remembered(site, ids, SUBJECT_ID, memo)
    assert first == ["leak.html: P-017"]
    assert find_ids_remembered(site, ids, SUBJECT_ID, memo) == first  # a hit is never remembered as clean
    calls = []
    real = leaks.IdMatcher.find
    try:  # the clean file is not searched again; a changed one is
        leaks.IdMatcher.find = lambda self, text: calls.append(text) or real(self, text)
        (site / "leak.html").write_text("<p>no one</p>")
        (site / "new.html").write_text("<p>P-018 and IXATHALDEX-01-001</p>")
        found = find_ids_remembered(site, ids, SUBJECT_ID, memo)
        assert calls == ["<p>no one</p>", "<p>P-018 and IXATHALDEX-01-001</p>"]
        assert found == ["new.html: IXATHALDEX-01-001", "new.html: P-018"]
        calls.clear()  # other ids: nothing remembered applies
        assert find_ids_remembered(site, frozenset({"no one"} | ids), SUBJECT_ID, memo)
        assert len(calls) == 3
    finally:
        leaks.IdMatcher.find = real


def test_a_text_found_clean_in_one_version_is_not_searched_again_in_the_next(tmp_path, monkeypatch):
    from ixathaldex.site import leaks
    from ixathaldex.site.incremental import find_ids_remembered
    from ixathaldex.site.stage import SUBJECT_ID

    ids, seen = frozenset({"P-017"}), set()
    for v in ("a", "b"):
        (tmp_path / v).mkdir()
        (tmp_path / v / "theme.js").write_text("var theme = 1;")  # the same in both versions
        (tmp_path / v / "page.html").write_text(f"<p>version {v}</p>")
    (tmp_path / "b" / "leak.html").write_text("<p>P-017</p>")
    calls, real = [], leaks.IdMatcher.find
    monkeypatch.setattr(leaks.IdMatcher, "find", lambda self, text: calls.append(text) or real(self, text))
    assert find_ids_remembered(tmp_path / "a", ids, SUBJECT_ID, tmp_path / "ma.json", seen) == []
    assert sorted(calls) == ["<p>version a</p>", "var theme = 1;"]
    calls.clear()
    assert find_ids_remembered(tmp_path / "b", ids, SUBJECT_ID, tmp_path / "mb.json", seen) == ["leak.html: P-017"]
    assert sorted(calls) == ["<p>P-017</p>", "<p>version b</p>"]  # theme.js: found clean in version a
    calls.clear()  # other ids: what another check found clean does not apply
    assert find_ids_remembered(tmp_path / "b", frozenset({"Q-1"}), SUBJECT_ID, tmp_path / "mc.json", seen) == []
    assert len(calls) == 3


def test_a_pdf_is_kept_only_for_the_same_print_document(tmp_path, monkeypatch):
    from ixathaldex.site import pdf

    html = tmp_path / "html"
    (html / "_images").mkdir(parents=True)
    (html / "index.html").write_text('<html><body><article class="bd-article"><section id="s"><h1>Front</h1>'
                                     '<p>value 5</p></section></article></body></html>')
    printed = []

    def fake_write(document, out, title, printer=None):
        printed.append(document.read_text())
        out.write_bytes(b"%PDF " + str(len(printed)).encode())
        return out

    monkeypatch.setattr(pdf, "write_pdf", fake_write)
    monkeypatch.setattr(pdf, "repair_outline", lambda out, headings: None)
    prov = {"snapshot": "2019-12-31", "cutoff_date": "2019-12-31", "checksum": "c", "commit": "x",
            "code_date": "d", "data": "synthetic"}
    kept = tmp_path / "kept"

    def make():
        out = pdf.make_pdf(html, ["index.html"], prov, "notice", "T", kept=kept)
        return out.read_bytes()

    assert make() == b"%PDF 1" and make() == b"%PDF 1" and len(printed) == 1  # unchanged: kept
    (html / "_images" / "k.svg").write_text("<svg/>")
    assert make() == b"%PDF 2"  # an image changed
    (html / "index.html").write_text((html / "index.html").read_text().replace("value 5", "value 6"))
    assert make() == b"%PDF 3" and "value 6" in printed[-1]  # a page changed
    prov["code_date"] = "e"
    assert make() == b"%PDF 4"  # the banner changed


# ---- the citation (site.citation): made when the page is read, from the version's provenance in
# html_context, an html-level config value Sphinx does not count as a reason to read a page again. A
# new commit or +modified between two builds must make the citing page read again, and show what a
# clean build of the same source shows.

CITED = {"snapshot": "2019-12-31", "cutoff_date": "2019-12-31", "commit": "aaaaaaa", "code_date": "2026-11-30 10:00 UTC",
         "data": "synthetic", "checksum": "abc"}


def _citing_source(folder: Path, commit: str, date: str) -> Path:
    folder.mkdir(parents=True)
    prov = dict(CITED, commit=commit, code_date=date)
    (folder / "conf.py").write_text(
        "extensions = ['myst_parser', 'ixathaldex.site.citation']\nproject = 'IxaThalDex'\nauthor = 'A. Author'\n"
        f"html_context = {{'ixathaldex_provenance': {prov!r}}}\nexclude_patterns = ['_build']\n")
    (folder / "index.md").write_text("# Home\n\n```{version-citation}\n```\n\n```{toctree}\nplain\n```\n")
    (folder / "plain.md").write_text("# Plain\n\nNo citation here.\n")
    return folder


@pytest.mark.slow
def test_a_new_commit_makes_the_citing_page_read_again_and_equal_a_clean_build(tmp_path):
    kept, out = tmp_path / "kept", tmp_path / "out"
    _citing_source(tmp_path / "first", "aaaaaaa", "2026-11-30 10:00 UTC")
    shutil.copytree(tmp_path / "first", kept)
    assert set(_sphinx(kept, out, fresh=True)) == {"index", "plain"}
    assert "aaaaaaa" in (out / "html" / "index.html").read_text()

    _citing_source(tmp_path / "second", "bbbbbbb+modified", "2026-11-30 11:00 UTC")
    shutil.copy2(tmp_path / "second" / "conf.py", kept / "conf.py")  # the pages' sources are unchanged
    read = _sphinx(kept, out, fresh=False)
    assert read == ["index"]                                           # the citing page only
    page = (out / "html" / "index.html").read_text()
    assert "bbbbbbb+modified of 2026-11-30 11:00 UTC" in page and "aaaaaaa" not in page

    clean = tmp_path / "clean"
    _sphinx(tmp_path / "second", clean, fresh=True)
    assert (clean / "html" / "index.html").read_text() == page
