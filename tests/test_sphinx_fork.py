"""jupyter-book in a child forked from the build's zygote (site.zygote.run_command, stage.run_jupyter_book):
the same pages as the plain subprocess, a failure still a readable error, and a failing build in
the fork leaves the published site as it was."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ixathaldex.exceptions import BuildError
from ixathaldex.files import tree_digest
from ixathaldex.site import stage as st
from ixathaldex.site import zygote as zg

CONFIG = {"title": "Fork test", "author": "Tests", "execute": {"execute_notebooks": "off"},
          "only_build_toc_files": True, "sphinx": {"config": {"html_theme_options": {"check_switcher": False}}}}
TOC = {"format": "jb-book", "root": "index", "chapters": [{"file": "chapters/01_one"}, {"file": "plain"}]}


def _notebook(value: int) -> str:
    glued = {"output_type": "display_data", "data": {"application/papermill.record/text/plain": repr(value)},
             "metadata": {"scrapbook": {"mime_prefix": "application/papermill.record/", "name": "n"}}}
    cells = [{"cell_type": "markdown", "id": "m0", "metadata": {}, "source": "# One\n\nA chapter."},
             {"cell_type": "code", "id": "c0", "execution_count": 1, "metadata": {}, "source": "n = 1",
              "outputs": [glued, {"output_type": "stream", "name": "stdout", "text": "printed\n"}]}]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": cells, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}})


def _book(folder: Path, index: str = "") -> Path:
    (folder / "chapters").mkdir(parents=True)
    (folder / "_config.yml").write_text(yaml.safe_dump(CONFIG))
    (folder / "_toc.yml").write_text(yaml.safe_dump(TOC))
    (folder / "index.md").write_text(index or "# Home\n\nThe chapter's n: {glue:text}`chapters/01_one.ipynb::n:d`.\n")
    (folder / "plain.md").write_text("# Plain\n\nNo value here; see [the chapter](chapters/01_one).\n")
    (folder / "chapters" / "01_one.ipynb").write_text(_notebook(7))
    return folder


def _build(src: Path, out: Path, zygote: str | None) -> Path:
    return st.run_jupyter_book(src, src / "_config.yml", src / "_toc.yml", out, "2019-12-31", fresh=True,
                               zygote=zygote)


def _pages(html: Path) -> dict[str, bytes]:
    return {p.relative_to(html).as_posix(): p.read_bytes() for p in sorted(html.rglob("*"))
            if p.is_file() and p.suffix in (".html", ".js", ".css", ".txt")}


def test_the_fork_server_runs_no_command_it_does_not_know(tmp_path):
    with zg.Zygote() as zygote:
        with pytest.raises(OSError, match="not a command the fork server runs"):
            zg.run_command(zygote.address, "rm", ["-rf", str(tmp_path)], str(tmp_path), {}, tmp_path / "out")
    assert tmp_path.exists()


@pytest.mark.parametrize("value,forked", [("", True), ("subprocess", False), ("0", False)])
def test_sphinx_can_be_sent_back_to_a_subprocess(monkeypatch, value, forked):
    monkeypatch.delenv(zg.ENV_VAR, raising=False)
    monkeypatch.setenv(zg.SPHINX_ENV_VAR, value)
    assert zg.sphinx_fork_enabled() is forked
    monkeypatch.setenv(zg.ENV_VAR, "fresh")  # no fork server: no forked Sphinx either
    assert not zg.sphinx_fork_enabled()


@pytest.mark.slow
def test_the_forked_jupyter_book_writes_the_pages_of_the_subprocess(tmp_path):
    src = _book(tmp_path / "src")
    with zg.Zygote() as zygote:
        html = _build(src, tmp_path / "out", zygote.address)
        forked = _pages(html)
        assert '<span class="pasted-text">7</span>' in forked["index.html"].decode()
        shutil.move(tmp_path / "out", tmp_path / "out-forked")  # the same output path for both
        plain = _pages(_build(src, tmp_path / "out", None))
    assert sorted(forked) == sorted(plain)
    assert [name for name in plain if forked[name] != plain[name]] == []


@pytest.mark.slow
def test_a_failing_build_in_the_fork_is_a_readable_error(tmp_path):
    src = _book(tmp_path / "src", index="# Home\n\nA broken link: {ref}`no-such-label`.\n")
    with zg.Zygote() as zygote:
        with pytest.raises(BuildError, match=r"(?s)version 2019-12-31: jupyter-book build failed.*no-such-label"):
            _build(src, tmp_path / "out", zygote.address)
        # the zygote is still there for the next version or notebook
        code, out, err = zg.run_command(zygote.address, "jupyter-book", ["--version"], str(tmp_path), {},
                                        tmp_path / "again")
    assert code == 0 and "Jupyter Book" in out, err


@pytest.mark.slow
def test_a_failing_forked_sphinx_fails_the_build_and_leaves_the_site(tmp_path, fixture_project):
    proj = fixture_project(tmp_path, cuts=("2019-01-31",))
    index = proj / "book" / "index.md"
    index.write_text(index.read_text() + "\n\nA broken link: {ref}`no-such-label`.\n")
    site = proj / "_build" / "site"
    (site / "2019-01-31").mkdir(parents=True)
    (site / "2019-01-31" / "index.html").write_text("<p>published</p>")
    (site / "switcher.json").write_text("[]")
    before = tree_digest(site)
    env = {k: v for k, v in __import__("os").environ.items() if k not in (zg.ENV_VAR, zg.SPHINX_ENV_VAR)}
    proc = subprocess.run([sys.executable, "-m", "ixathaldex.cli", "build"], cwd=proj, capture_output=True,
                          text=True, timeout=600, env={**env, "IXATHALDEX_NO_PDF": "1"})
    assert proc.returncode != 0
    assert "jupyter-book build failed" in proc.stderr and "no-such-label" in proc.stderr, proc.stderr
    assert "running it as a subprocess" not in proc.stderr  # it was the forked one that failed
    assert tree_digest(site) == before
