"""The build's snapshot steps (site.snapshots.run_snapshot_step): validation and the typed cache run
in a child forked by the kernels' fork server, so that the build's own process does not keep the
memory of a parsed cut. The child must do exactly what the step does in-process: the same error,
word for word, for a snapshot that breaks a rule, the same stamps and cache files."""

from __future__ import annotations

import os

import pytest

from ixathaldex.data.typed_cache import typed_cache_file
from ixathaldex.exceptions import BuildError
from ixathaldex.paths import ENV_VAR, Project
from ixathaldex.site import snapshots as S
from ixathaldex.site.zygote import Zygote
from snapshot_factory import set_cell, write_valid_snapshot

CUT = "2019-01-31"


@pytest.fixture(scope="module")
def zygote():
    with Zygote() as z:
        yield z.address


def project(tmp_path, broken: bool = False) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "_config.yml").write_text("title: test\n")
    (root / "_toc.yml").write_text("root: index\n")
    snap = write_valid_snapshot(root / "data" / "snapshots", CUT)
    if broken:
        line = set_cell(snap, "adsl.csv", "003", "AGE", "-4")
        assert line > 1
    (root / "_build").mkdir()
    return Project(root)


def test_a_broken_snapshot_gives_the_same_error_from_the_child_and_in_process(tmp_path, zygote, monkeypatch):
    proj = project(tmp_path, broken=True)
    monkeypatch.setenv(ENV_VAR, str(proj.root))
    with pytest.raises(BuildError) as here:
        S.run_snapshot_step("validate", proj, [CUT], "p" * 64, None)
    with pytest.raises(BuildError) as child:
        S.run_snapshot_step("validate", proj, [CUT], "p" * 64, zygote)
    assert f"snapshot {CUT} is not valid" in str(here.value) and "AGE" in str(here.value)
    assert str(child.value) == str(here.value)
    assert not (proj.cache / "validated").is_dir() or not list((proj.cache / "validated").iterdir())


def test_the_child_validates_stamps_and_fills_the_cache_the_build_then_reads(tmp_path, zygote, monkeypatch):
    proj = project(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(proj.root))
    S.run_snapshot_step("validate", proj, [CUT], "p" * 64, zygote)
    assert [p.name.split("-")[-1] for p in (proj.cache / "validated").iterdir()] == ["p" * 16]
    S.run_snapshot_step("preload", proj, [CUT], "p" * 64, zygote)
    cached = list(proj.typed_snapshots.glob(f"{CUT}-*.pickle"))
    assert len(cached) == 1
    assert typed_cache_file(proj.snapshot_root / CUT, proj) == cached[0]


def test_the_step_runs_in_another_process(tmp_path, zygote, monkeypatch):
    proj = project(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(proj.root))
    ran_here = []
    monkeypatch.setitem(S.STEPS, "validate", lambda *a: ran_here.append(os.getpid()))
    S.run_snapshot_step("validate", proj, [CUT], "p" * 64, zygote)
    assert ran_here == []  # the child ran the real step (it wrote its stamp), not this process
    assert list((proj.cache / "validated").iterdir())
    S.run_snapshot_step("validate", proj, [CUT], "p" * 64, None)
    assert ran_here == [os.getpid()]


def test_the_command_line_refuses_an_unknown_step(capsys):
    with pytest.raises(SystemExit) as exc:
        S.main(["check", "--root", ".", "--snapshot-root", ".", "--package", "x", CUT])
    assert exc.value.code == 2 and "invalid choice: 'check'" in capsys.readouterr().err
