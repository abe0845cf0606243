"""An incremental Sphinx build never leaves a citation behind the banner: the ``{version-citation}``
directive is rendered when its page is read, from the version's provenance in ``html_context`` (an
html-level config value, which Sphinx does not count as a reason to read a page again). A new commit
or ``+modified`` between two builds must make the citing page read again, and show what a clean
build of the same source shows (slow: Sphinx runs three times in this process)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("myst_parser")
from sphinx.application import Sphinx  # noqa: E402
from sphinx.util.docutils import docutils_namespace  # noqa: E402

PROV = {"snapshot": "2019-12-31", "cutoff_date": "2019-12-31", "commit": "aaaaaaa", "code_date": "2026-11-30 10:00 UTC",
        "data": "synthetic", "checksum": "abc"}


def source(folder: Path, commit: str, date: str) -> Path:
    folder.mkdir(parents=True)
    prov = dict(PROV, commit=commit, code_date=date)
    (folder / "conf.py").write_text(
        "extensions = ['myst_parser', 'ixathaldex.site.citation']\nproject = 'IxaThalDex'\nauthor = 'A. Author'\n"
        f"html_context = {{'ixathaldex_provenance': {prov!r}}}\nexclude_patterns = ['_build']\n")
    (folder / "index.md").write_text("# Home\n\n```{version-citation}\n```\n\n```{toctree}\nplain\n```\n")
    (folder / "plain.md").write_text("# Plain\n\nNo citation here.\n")
    return folder


def build(src: Path, out: Path, fresh: bool) -> list[str]:
    read = []
    with docutils_namespace():
        app = Sphinx(str(src), str(src), str(out / "html"), str(out / "doctrees"), "html", status=None,
                     warning=None, freshenv=fresh, warningiserror=True)
        app.connect("env-before-read-docs", lambda app, env, docnames: read.extend(docnames))
        app.build(force_all=fresh)
    return read


@pytest.mark.slow
def test_a_new_commit_makes_the_citing_page_read_again_and_equal_a_clean_build(tmp_path):
    kept, out = tmp_path / "kept", tmp_path / "out"
    source(tmp_path / "first", "aaaaaaa", "2026-11-30 10:00 UTC")
    shutil.copytree(tmp_path / "first", kept)
    assert set(build(kept, out, fresh=True)) == {"index", "plain"}
    assert "aaaaaaa" in (out / "html" / "index.html").read_text()

    source(tmp_path / "second", "bbbbbbb+modified", "2026-11-30 11:00 UTC")
    shutil.copy2(tmp_path / "second" / "conf.py", kept / "conf.py")  # the pages' sources are unchanged
    read = build(kept, out, fresh=False)
    assert read == ["index"]                                           # the citing page only
    page = (out / "html" / "index.html").read_text()
    assert "bbbbbbb+modified of 2026-11-30 11:00 UTC" in page and "aaaaaaa" not in page

    clean = tmp_path / "clean"
    build(tmp_path / "second", clean, fresh=True)
    assert (clean / "html" / "index.html").read_text() == page
