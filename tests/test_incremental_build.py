"""``ixathaldex build`` after editing a chapter: Sphinx reads again only what changed, every page
showing the changed value shows the new one (the chapter, the home page's cross-page glue, the
what-changed post page), and the published HTML equals that of a clean full build (apart from the
wall-clock build time kept in the version's stamp file: the banner's code and date come from the
inputs, so the pages are byte-identical). Slow: three builds of the fixture project."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURE_CUTS as CUTS

#: the one volatile part of two builds of the same inputs: the wall-clock build time in the
#: version's stamp file (never on a page: the banner's date is that of the inputs)
BUILT_AT = re.compile(rb'"built_at": "\d{4}-\d\d-\d\d \d\d:\d\d UTC"')


def _build(proj: Path, *args: str, incremental: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "IXATHALDEX_PROJECT"}
    env["IXATHALDEX_INCREMENTAL_SPHINX"] = "1" if incremental else "0"
    proc = subprocess.run([sys.executable, "-m", "ixathaldex.cli", "build", "--jobs", "2", *args], cwd=proj,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _site_files(site: Path) -> dict[str, bytes]:
    """Every published file but the PDFs (printed by Chromium, with its own dates), the stamp's
    build time blanked."""
    return {p.relative_to(site).as_posix(): BUILT_AT.sub(b"<built at>", p.read_bytes())
            for p in sorted(site.rglob("*")) if p.is_file() and p.suffix != ".pdf"}


def _shown(page: Path) -> str:
    return re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_an_edited_chapter_is_rebuilt_incrementally_and_equals_a_clean_build(tmp_path, fixture_project):
    proj = fixture_project(tmp_path)
    _build(proj)
    chapter = proj / "chapters" / "01_smoke.md"
    text = chapter.read_text()
    glued = 'glue("n_itt", int((snap.adsl["ITTFL"] == "Y").sum()), display=False)'
    assert glued in text
    chapter.write_text(text.replace(glued, glued.replace(".sum())", ".sum()) + 1000")))

    proc = _build(proj)
    for cut in CUTS:  # the edited chapter, the page gluing from it and the post page reading results.json
        assert re.search(rf"{cut}\s+Sphinx \(incremental\) read 3 page\(s\): changes, chapters/01_smoke, index",
                         proc.stderr), proc.stderr
    site = proj / "_build" / "site"
    for cut in CUTS:
        n = int(re.search(r"(\d+) patients in the intent-to-treat",
                          _shown(site / cut / "chapters" / "01_smoke.html")).group(1))
        assert n > 1000  # the new value, on every page showing it
        assert f"this version has\n{n} patients" in _shown(site / cut / "index.html").replace(" \n", "\n")
        assert f"This version has {n} patients" in _shown(site / cut / "changes.html").replace("\n", " ")

    clean = tmp_path / "clean-site"
    _build(proj, "--force", "--out", str(clean), incremental=False)
    incremental, full = _site_files(site), _site_files(clean)
    assert sorted(incremental) == sorted(full)
    assert [name for name in incremental if incremental[name] != full[name]] == []
