"""The no-op answer of `ixathaldex build` (site.uptodate): up to date only when nothing changed.

A "previous build" is simulated: outputs written by hand, then the record a successful build leaves.
Every real input change, a touched output, other options or ``--force`` must send the build to work.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ixathaldex
from ixathaldex.paths import Project
from ixathaldex.site import uptodate

ROOT = Path(__file__).resolve().parents[1]


def _args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"snapshot": None, "jobs": 2, "out": None, "force": False, **kw})


def _built(proj: Path, args=None) -> Project:
    """A project whose last build succeeded: a site, a runs folder, a notebook in the cache, its record."""
    project = Project(proj)
    for path, text in ((project.out / "2019-01-31" / "index.html", "<p>site</p>"),
                       (project.out / "switcher.json", "[]"),
                       (project.build_dir / "runs" / "2019-01-31" / "results.json", "{}"),
                       (project.cache / "notebooks" / "abc.ipynb", "{}")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    uptodate.record(project, uptodate.input_digest(project, args or _args()), 2, 18)
    return project


@pytest.fixture
def proj(tmp_path, fixture_project, monkeypatch):
    proj = fixture_project(tmp_path)
    monkeypatch.delenv("IXATHALDEX_PROJECT", raising=False)
    monkeypatch.chdir(proj)
    return proj


def test_an_unchanged_project_is_up_to_date_and_says_so(proj, caplog):
    _built(proj)
    with caplog.at_level("INFO", logger="ixathaldex"):
        assert uptodate.run_if_unchanged(_args()) == 0
    assert "0 version(s) built, 2 unchanged; notebooks 0 executed, 18 cached" in caplog.text
    os.utime(proj / "chapters" / "01_smoke.md")  # touched, same bytes: still up to date
    assert uptodate.run_if_unchanged(_args()) == 0


@pytest.mark.parametrize("change", [
    "chapters/01_smoke.md", "book/index.md", "data/snapshots/2019-01-31/manifest.json",
    "data/snapshots/2019-01-31/adsl.csv", "data/published/claims.yaml", "requirements.lock", "_config.yml",
    "_toc.yml"])
def test_a_changed_input_makes_the_next_build_work(proj, change):
    _built(proj)
    with open(proj / change, "a", encoding="utf-8") as fh:
        fh.write("\n")
    assert uptodate.run_if_unchanged(_args()) is None


def test_a_new_file_a_withdrawal_or_a_new_snapshot_makes_the_next_build_work(proj):
    _built(proj)
    (proj / "data" / "withdrawn.yaml").write_text("[]\n")
    assert uptodate.run_if_unchanged(_args()) is None
    _built(proj)
    shutil.copytree(proj / "data" / "snapshots" / "2019-01-31", proj / "data" / "snapshots" / "2021-01-31")
    assert uptodate.run_if_unchanged(_args()) is None


def test_a_changed_package_file_makes_the_next_build_work(proj, tmp_path, monkeypatch):
    package = tmp_path / "pkg" / "ixathaldex"
    shutil.copytree(Path(ixathaldex.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(ixathaldex, "__file__", str(package / "__init__.py"))
    _built(proj)
    assert uptodate.run_if_unchanged(_args()) == 0
    with open(package / "report" / "tables.py", "a", encoding="utf-8") as fh:
        fh.write("\n# edited\n")
    assert uptodate.run_if_unchanged(_args()) is None


@pytest.mark.parametrize("damage", ["edit site", "remove site page", "remove cached notebook", "add run file"])
def test_a_touched_output_makes_the_next_build_work(proj, damage):
    project = _built(proj)
    if damage == "edit site":
        (project.out / "switcher.json").write_text("[ ]")
    elif damage == "remove site page":
        (project.out / "2019-01-31" / "index.html").unlink()
    elif damage == "remove cached notebook":
        (project.cache / "notebooks" / "abc.ipynb").unlink()
    else:
        (project.build_dir / "runs" / "2019-01-31" / "claims.json").write_text("{}")
    assert uptodate.run_if_unchanged(_args()) is None


def test_other_options_force_or_no_record_make_the_build_work(proj, tmp_path):
    project = _built(proj)
    assert uptodate.run_if_unchanged(_args(force=True)) is None
    assert uptodate.run_if_unchanged(_args(snapshot=["2019-01-31"])) is None
    assert uptodate.run_if_unchanged(_args(out=tmp_path / "elsewhere")) is None
    assert uptodate.run_if_unchanged(_args(jobs=0)) is None  # the full build reports the error
    _built(proj, _args(snapshot=["2019-01-31"]))
    assert uptodate.run_if_unchanged(_args(snapshot=["2019-01-31"])) == 0
    assert uptodate.run_if_unchanged(_args()) is None
    uptodate.forget(project)
    assert uptodate.run_if_unchanged(_args(snapshot=["2019-01-31"])) is None
    uptodate.record_path(project).write_text("not json")
    assert uptodate.run_if_unchanged(_args(snapshot=["2019-01-31"])) is None


def test_an_up_to_date_build_imports_none_of_the_builds_steps(proj):
    """The point of the shortcut: `ixathaldex build` on an unchanged project loads no heavy library."""
    _built(proj)
    heavy = ("pandas", "scipy", "matplotlib", "seaborn", "sphinx", "bs4", "pypdf", "ixathaldex.site.build")
    code = ("import sys; from ixathaldex import cli; rc = cli.main(['build', '--jobs', '2']); "
            f"print(rc, [m for m in {heavy!r} if m in sys.modules])")
    env = {**os.environ, "PYTHONPATH": str(Path(ixathaldex.__file__).parents[1])}
    env.pop("IXATHALDEX_PROJECT", None)
    proc = subprocess.run([sys.executable, "-c", code], cwd=proj, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split("\n")[0] == "0 []", proc.stdout + proc.stderr
    assert "0 version(s) built, 2 unchanged" in proc.stderr


def test_the_record_is_what_a_build_wrote(proj):
    project = _built(proj)
    entry = json.loads(uptodate.record_path(project).read_text())
    assert set(entry) == {"inputs", "outputs", "versions", "notebooks"}
    assert entry["inputs"] == uptodate.input_digest(project, _args())
    assert entry["inputs"] != uptodate.input_digest(project, _args(snapshot=["2019-01-31"]))
