"""The typed-snapshot cache: keys, staleness, fall-backs (data.typed_cache, used by load_snapshot)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from ixathaldex.data import snapshot as snapshot_module
from ixathaldex.data.manifest import write_manifest
from ixathaldex.data.snapshot import load_snapshot
from ixathaldex.data.typed_cache import load_typed_tables, typed_cache_file, typed_cache_key
from ixathaldex.exceptions import ValidationError
from ixathaldex.paths import ENV_VAR, Project
from snapshot_factory import S, rewrite_manifest, set_cell, write_valid_snapshot

CUT = "2019-01-31"
TABLES = ("adsl", "adtte", "adrs", "adae")


@pytest.fixture
def project(tmp_path, monkeypatch) -> Project:
    """A project with one valid snapshot and a build folder, made the current project."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "_config.yml").write_text("title: test\n")
    (root / "_toc.yml").write_text("root: index\n")
    write_valid_snapshot(root / "data" / "snapshots", CUT)
    (root / "_build").mkdir()
    monkeypatch.setenv(ENV_VAR, str(root))
    return Project(root)


def parsing_forbidden(monkeypatch):
    """Make every CSV parse of load_snapshot fail: a load that succeeds came from the cache."""
    def refuse(folder, table):
        raise AssertionError(f"parsed {table}.csv although the cache holds it")
    monkeypatch.setattr(snapshot_module, "_read_typed", refuse)


def cache_files(project: Project) -> list[Path]:
    return sorted(project.typed_snapshots.glob("*.pickle")) if project.typed_snapshots.is_dir() else []


def test_second_load_is_served_from_the_cache_with_equal_tables(project, monkeypatch):
    first = load_snapshot(CUT)
    assert [p.name for p in cache_files(project)] == [typed_cache_file(project.snapshot_root / CUT).name]
    parsing_forbidden(monkeypatch)
    second = load_snapshot(CUT, validate=False)
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(second, t), getattr(first, t), check_exact=True)
    assert second.adtte["ADT"].dtype == "datetime64[ns]" and str(second.adae["AETOXGR"].dtype) == "Int64"


def test_key_follows_the_manifest_bytes(project):
    folder = project.snapshot_root / CUT
    key = typed_cache_key(folder)
    assert typed_cache_key(folder) == key
    (folder / "manifest.json").write_bytes((folder / "manifest.json").read_bytes() + b" ")
    assert typed_cache_key(folder) != key


def test_an_edited_cell_with_its_manifest_is_recomputed_never_stale(project, monkeypatch):
    before = load_snapshot(CUT, validate=False)
    old_file = typed_cache_file(project.snapshot_root / CUT)
    assert old_file.is_file()
    set_cell(project.snapshot_root / CUT, "adsl.csv", "001", "HGB", "101.5")  # re-writes the manifest
    after = load_snapshot(CUT, validate=False)
    subject = f"{S}-01-001"
    assert before.adsl.set_index("USUBJID").at[subject, "HGB"] != 101.5
    assert after.adsl.set_index("USUBJID").at[subject, "HGB"] == 101.5
    new_file = typed_cache_file(project.snapshot_root / CUT)
    assert new_file != old_file and cache_files(project) == [new_file]  # the old entry is dropped


def test_an_edited_cell_without_its_manifest_is_refused_not_served(project):
    load_snapshot(CUT, validate=False)
    path = project.snapshot_root / CUT / "adsl.csv"
    path.write_text(path.read_text().replace("67.3", "67.4"))
    with pytest.raises(ValidationError, match="immutable"):
        load_snapshot(CUT, validate=False)


def test_no_build_folder_no_cache(project):
    (project.root / "_build").rmdir()
    snap = load_snapshot(CUT, validate=False)
    assert len(snap.adsl) == 8
    assert typed_cache_file(project.snapshot_root / CUT) is None
    assert not (project.root / "_build").exists()


def test_a_snapshot_outside_the_project_is_not_cached(project, tmp_path):
    other = write_valid_snapshot(tmp_path / "elsewhere", CUT)
    assert typed_cache_file(other) is None
    load_snapshot(CUT, root=tmp_path / "elsewhere", validate=False)
    assert cache_files(project) == []


@pytest.mark.parametrize("damage", [b"", b"not a pickle", None])
def test_a_damaged_entry_falls_back_to_parsing(project, damage):
    good = load_snapshot(CUT, validate=False)
    path = typed_cache_file(project.snapshot_root / CUT)
    path.write_bytes(path.read_bytes()[:100] if damage is None else damage)
    assert load_typed_tables(path) is None
    again = load_snapshot(CUT, validate=False)
    pd.testing.assert_frame_equal(again.adae, good.adae)
    assert load_typed_tables(path) is not None  # re-written whole


def test_written_atomically_no_temporary_left(project):
    load_snapshot(CUT, validate=False)
    assert [p.name for p in project.typed_snapshots.iterdir()] == [typed_cache_file(project.snapshot_root / CUT).name]


def test_loaded_tables_are_private_copies(project):
    a = load_snapshot(CUT, validate=False)
    a.adsl.loc[:, "AGE"] = 0.0
    assert (load_snapshot(CUT, validate=False).adsl["AGE"] > 18).all()


def test_real_data_is_not_cached_where_git_would_see_it(project):
    folder = project.snapshot_root / CUT
    write_manifest(folder, CUT, "real", False, {"added": "2019-02-01"})
    subprocess.run(["git", "init", "-q", str(project.root)], check=True)
    load_snapshot(CUT, validate=False)
    assert cache_files(project) == []
    (project.root / ".gitignore").write_text("_build/\n")
    load_snapshot(CUT, validate=False)
    assert len(cache_files(project)) == 1


def test_a_ragged_line_behind_a_rewritten_manifest_is_a_validation_error_naming_file_and_line(project):
    """Without validation, a CSV that is not clean (here one line with an extra field) fails with the
    reading rules' problem (file, line, rule), not with the CSV parser's traceback."""
    folder = project.snapshot_root / CUT
    path = folder / "adsl.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3] + ",extra"
    path.write_text("\n".join(lines), encoding="utf-8")
    rewrite_manifest(folder)
    with pytest.raises(ValidationError) as err:
        load_snapshot(CUT, validate=False)
    message = str(err.value)
    assert "adsl.csv" in message and "not-csv" in message and "4" in message
    assert not cache_files(project)
