"""Snapshots: loading with analysis types, the manifest, and adding a new cut the author's way."""

from __future__ import annotations

from pathlib import Path

import pytest

from ixathaldex import cli
from ixathaldex.exceptions import SnapshotError, ValidationError
from ixathaldex.files import sha256_file
from ixathaldex.data.manifest import check_cut_id, list_snapshots, read_manifest, snapshot_dir
from ixathaldex.data.snapshot import add_snapshot, load_snapshot
from ixathaldex.data.validate import manifest_problems
from snapshot_factory import S, build_tables, set_cell, write_valid_snapshot

CUT = "2019-01-31"


@pytest.fixture
def root(tmp_path) -> Path:
    write_valid_snapshot(tmp_path / "snapshots", CUT)
    return tmp_path / "snapshots"


@pytest.fixture
def source(tmp_path) -> Path:
    """A folder of four CSVs (no manifest) as an author would bring them, valid for a 2020 cut."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    for name, df in build_tables("2020-06-30").items():
        df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return folder


def test_load_snapshot_types_and_manifest(root):
    snap = load_snapshot(CUT, root)
    assert snap.cut == CUT and snap.synthetic and len(snap.checksum) == 12
    assert len(snap.adsl) == 8 and len(snap.adtte) == 16
    assert snap.adtte["ADT"].dtype == "datetime64[ns]"
    assert str(snap.adtte["AVAL"].dtype) == "Int64"
    assert snap.adsl["AGE"].dtype == "float64"
    assert snap.cutoff.isoformat() == CUT


def test_load_refuses_an_edited_snapshot(root):
    path = root / CUT / "adsl.csv"
    path.write_text(path.read_text().replace("67.3", "67.4"))
    with pytest.raises(ValidationError, match="immutable"):
        load_snapshot(CUT, root)
    with pytest.raises(ValidationError, match="immutable"):
        load_snapshot(CUT, root, validate=False)
    assert any("checksum-mismatch" in p for p in manifest_problems(root / CUT))


def test_cut_ids_are_dates_never_paths(root):
    for bad in ("../2019-01-31", "2019-13-01", "latest", "/etc"):
        with pytest.raises(SnapshotError):
            check_cut_id(bad)
    with pytest.raises(SnapshotError, match="unknown snapshot"):
        snapshot_dir("2018-01-01", root)
    assert list_snapshots(root) == [CUT]


def test_add_snapshot_registers_a_valid_folder(root, source):
    dest = add_snapshot(source, "2020-06-30", "Second cut", root=root)
    assert dest == root / "2020-06-30" and list_snapshots(root) == [CUT, "2020-06-30"]
    man = read_manifest(dest)
    assert man["snapshot"] == man["cutoff_date"] == "2020-06-30" and man["label"] == "Second cut"
    assert man["synthetic"] is False
    for name in ("adsl.csv", "adtte.csv", "adrs.csv", "adae.csv"):
        assert man["files"][name]["sha256"] == sha256_file(source / name)
        assert (dest / name).read_bytes() == (source / name).read_bytes()
    assert man["files"]["adsl.csv"]["rows"] == 8
    assert load_snapshot("2020-06-30", root).adsl.shape[0] == 8
    assert sorted(p.name for p in root.iterdir()) == [CUT, "2020-06-30"]


def test_add_snapshot_refuses_an_existing_cut(root, source):
    before = sorted((root / CUT).iterdir())
    digest = [sha256_file(p) for p in before]
    with pytest.raises(SnapshotError, match="already exists"):
        add_snapshot(source, CUT, "again", root=root)
    assert [sha256_file(p) for p in sorted((root / CUT).iterdir())] == digest


def test_add_snapshot_bad_folder_leaves_nothing(root, source):
    set_cell(source, "adtte.csv", "007", "CNSR", "2", {"PARAMCD": "PFS"})
    (source / "manifest.json").unlink()  # set_cell wrote one; an author's folder has none
    with pytest.raises(ValidationError) as exc:
        add_snapshot(source, "2020-06-30", "Broken", root=root)
    assert "cnsr-domain" in str(exc.value) and f"{S}-01-007" in str(exc.value)
    assert sorted(p.name for p in root.iterdir()) == [CUT]


def test_add_snapshot_data_after_the_cut_is_refused(root, source):
    """Files valid for 2020-06-30 cannot be registered as an earlier cut: dates pass the cut-off."""
    with pytest.raises(ValidationError, match="after-cutoff"):
        add_snapshot(source, "2020-01-31", "Too early", root=root)
    assert sorted(p.name for p in root.iterdir()) == [CUT]


def test_add_snapshot_missing_file(root, source):
    (source / "adae.csv").unlink()
    with pytest.raises(SnapshotError, match="adae.csv"):
        add_snapshot(source, "2020-06-30", "Incomplete", root=root)
    assert sorted(p.name for p in root.iterdir()) == [CUT]


def test_cli_snapshot_add(root, source, capsys):
    code = cli.main(["snapshot", "add", str(source), "--cut", "2020-06-30", "--label", "From the CLI",
                     "--root", str(root)])
    assert code == 0 and (root / "2020-06-30" / "manifest.json").is_file()
    code = cli.main(["snapshot", "add", str(source), "--cut", "2020-06-30", "--label", "Again",
                     "--root", str(root)])
    assert code == 1
    assert cli.main(["snapshot", "add", str(source), "--cut", "../x", "--label", "Bad", "--root", str(root)]) == 1
    assert sorted(p.name for p in root.iterdir()) == [CUT, "2020-06-30"]


# ---- snapshots held ahead of need (the fork server loads them once for every kernel it forks) -----

def test_a_held_snapshot_is_taken_once_then_read_again(tmp_path):
    from ixathaldex.data import snapshot as sn

    root = tmp_path / "snapshots"
    write_valid_snapshot(root, "2019-01-31")
    sn.HELD.clear()
    try:
        assert sn.hold_snapshots(["2019-01-31", "2020-01-31"], root) == ["2019-01-31"]  # no such cut: not held
        held = next(iter(sn.HELD.values()))
        first = load_snapshot("2019-01-31", root=root, validate=False)
        assert first is held and not sn.HELD  # taken: a second caller must not share (and change) it
        second = load_snapshot("2019-01-31", root=root, validate=False)
        assert second is not first and second.adsl.equals(first.adsl)
    finally:
        sn.HELD.clear()


def test_a_held_snapshot_is_not_given_for_changed_files(tmp_path):
    from ixathaldex.data import snapshot as sn
    from snapshot_factory import edit_csv

    root = tmp_path / "snapshots"
    folder = write_valid_snapshot(root, "2019-01-31")
    sn.HELD.clear()
    try:
        sn.hold_snapshots(["2019-01-31"], root)
        edit_csv(folder, "adsl.csv", lambda df: df.assign(AGE=df["AGE"].where(df.index != 0, "99")))  # manifest rewritten
        fresh = load_snapshot("2019-01-31", root=root, validate=False)
        assert fresh.adsl["AGE"].iloc[0] == 99 and len(sn.HELD) == 1  # the held one (old bytes) stays unused
    finally:
        sn.HELD.clear()
