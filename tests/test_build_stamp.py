"""The banner's code and date (stage.code_stamp): taken from the site's inputs, never the clock, so a
rebuild of unchanged inputs writes the same pages and reuses the PDF; any change to an input moves it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ixathaldex.site import stage as st

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]


def _git(repo: Path, *args: str, when: int | None = None) -> str:
    env = dict(os.environ)
    if when is not None:
        env.update(GIT_AUTHOR_DATE=f"{when} +0000", GIT_COMMITTER_DATE=f"{when} +0000")
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def _commit(repo: Path, when: int) -> str:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "c", when=when)
    return _git(repo, "rev-parse", "--short", "HEAD").strip()


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01_a.md").write_text("# A\n")
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.md").write_text("notes\n")
    _git(tmp_path, "init", "-q")
    return tmp_path


def test_the_stamp_is_the_last_commit_of_an_input_and_its_date(repo):
    first = _commit(repo, 1_700_000_000)
    assert st.code_stamp(repo) == (first, "2023-11-14 22:13 UTC")
    assert st.code_stamp(repo) == st.code_stamp(repo)  # nothing changed: the same stamp, whatever the clock


def test_a_commit_that_changes_no_input_leaves_the_stamp(repo):
    first = _commit(repo, 1_700_000_000)
    (repo / "docs" / "notes.md").write_text("more notes\n")
    _commit(repo, 1_700_100_000)
    (repo / "README.md").write_text("untracked, not an input\n")
    assert st.code_stamp(repo) == (first, "2023-11-14 22:13 UTC")


def test_an_input_changed_uncommitted_then_committed_moves_the_stamp(repo):
    first = _commit(repo, 1_700_000_000)
    chapter = repo / "chapters" / "01_a.md"
    chapter.write_text("# A\n\nA new sentence.\n")
    os.utime(chapter, (1_700_200_000, 1_700_200_000))
    assert st.code_stamp(repo) == (first + "+modified", "2023-11-17 05:46 UTC")
    (repo / "chapters" / "02_b.md").write_text("# B\n")  # a new, untracked input file counts too
    os.utime(repo / "chapters" / "02_b.md", (1_700_300_000, 1_700_300_000))
    assert st.code_stamp(repo)[1] == "2023-11-18 09:33 UTC"
    second = _commit(repo, 1_700_400_000)
    assert second != first
    assert st.code_stamp(repo) == (second, "2023-11-19 13:20 UTC")


def test_outside_git_the_stamp_is_the_newest_input_file(tmp_path):
    (tmp_path / "book").mkdir()
    for name, when in (("book/index.md", 1_700_000_000), ("_toc.yml", 1_700_000_600), ("notes.txt", 1_800_000_000)):
        (tmp_path / name).write_text("x\n")
        os.utime(tmp_path / name, (when, when))
    assert st.code_stamp(tmp_path) == ("unknown", "2023-11-14 22:23 UTC")  # notes.txt is not an input


def test_the_banner_shows_the_stamp_and_no_clock():
    prov = st.provenance("2019-12-31", {"cutoff_date": "2019-12-31"}, "abc", "1234abc", "2023-11-14 22:13 UTC")
    banner = st.provenance_html({**prov, "url": "/2019-12-31/"})
    assert "code <code>1234abc</code> of 2023-11-14 22:13 UTC" in banner
    assert st.now_utc()[:10] not in banner
