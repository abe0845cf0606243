"""One source of paths: the project is the folder the command runs in (or the one named), never
the place the package is installed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ixathaldex.exceptions import ProjectError
from ixathaldex.paths import ENV_VAR, Project, find_project_root
from snapshot_factory import write_valid_snapshot


def _project(folder):
    (folder / "chapters").mkdir(parents=True)
    (folder / "_config.yml").write_text("title: t\n")
    (folder / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    return folder


def test_the_project_is_found_from_a_subfolder(tmp_path, monkeypatch):
    proj = _project(tmp_path / "p")
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert find_project_root(proj / "chapters") == proj.resolve()
    assert Project(find_project_root(proj)).snapshot_root == proj.resolve() / "data" / "snapshots"


def test_outside_a_project_the_error_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ProjectError, match="--project"):
        find_project_root(tmp_path)


def test_the_environment_names_the_project_and_must_name_one(tmp_path, monkeypatch):
    proj = _project(tmp_path / "p")
    monkeypatch.setenv(ENV_VAR, str(proj))
    assert find_project_root(tmp_path) == proj.resolve()
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(ProjectError, match="not a project folder"):
        find_project_root()


@pytest.mark.parametrize("how", ["cwd", "option"])
def test_the_command_lists_the_snapshots_of_the_project_it_is_given(tmp_path, how):
    proj = _project(tmp_path / "p")
    write_valid_snapshot(proj / "data" / "snapshots", "2031-01-31")
    env = {k: v for k, v in __import__("os").environ.items() if k != ENV_VAR}
    args = ["--project", str(proj)] if how == "option" else []
    proc = subprocess.run([sys.executable, "-m", "ixathaldex.cli", *args, "snapshot", "list"],
                          cwd=proj if how == "cwd" else tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["2031-01-31"]
