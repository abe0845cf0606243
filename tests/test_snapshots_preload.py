"""The build fills the typed-snapshot cache once per snapshot before the chapters start
(site.snapshots.preload_snapshots): every chapter's load is then a cache hit."""

from __future__ import annotations

from ixathaldex.data import snapshot as snapshot_module
from ixathaldex.data.snapshot import load_snapshot
from ixathaldex.paths import ENV_VAR, Project
from ixathaldex.site.snapshots import preload_snapshots
from snapshot_factory import write_valid_snapshot

CUTS = ("2019-01-31", "2020-06-30")


def test_preload_fills_the_cache_once_and_chapters_then_hit_it(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "_config.yml").write_text("title: test\n")
    (root / "_toc.yml").write_text("root: index\n")
    for cut in CUTS:
        write_valid_snapshot(root / "data" / "snapshots", cut)
    (root / "_build").mkdir()
    monkeypatch.setenv(ENV_VAR, str(root))
    project = Project(root)
    parsed = []
    real = snapshot_module._read_typed
    monkeypatch.setattr(snapshot_module, "_read_typed", lambda folder, table: parsed.append(table) or real(folder, table))

    preload_snapshots(project, list(CUTS))
    assert len(sorted(project.typed_snapshots.glob("*.pickle"))) == 2
    assert len(parsed) == 8  # four tables of each snapshot, parsed once
    preload_snapshots(project, list(CUTS))  # already cached: not loaded again
    for cut in CUTS:  # a chapter's load
        load_snapshot(cut, validate=False)
    assert len(parsed) == 8


def test_preload_leaves_a_broken_snapshot_to_validation(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    write_valid_snapshot(root / "data" / "snapshots", CUTS[0])
    (root / "data" / "snapshots" / CUTS[0] / "adsl.csv").write_text("edited\n")
    (root / "_build").mkdir()
    monkeypatch.setenv(ENV_VAR, str(root))
    preload_snapshots(Project(root), [CUTS[0]])  # no exception: the build's checks name the problem
    assert not list(Project(root).typed_snapshots.glob("*.pickle")) if Project(root).typed_snapshots.is_dir() else True
