"""Adding real data: any study, notes beside problems, mapping errors by line, git never gets it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ixathaldex import cli
from ixathaldex.data.manifest import read_manifest
from ixathaldex.data.mapping import load_mapping
from ixathaldex.data.notes import snapshot_notes
from ixathaldex.data.snapshot import add_snapshot
from ixathaldex.data.validate import validate_snapshot
from ixathaldex.exceptions import ProjectError, SnapshotError
from ixathaldex.paths import Project
from snapshot_factory import S, build_tables, edit_csv, write_valid_snapshot

CUT = "2020-06-30"


@pytest.fixture
def source(tmp_path) -> Path:
    folder = tmp_path / "incoming"
    folder.mkdir()
    for name, df in build_tables(CUT).items():
        df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return folder


def _other_study(df):
    df["STUDYID"] = "ABC-123"
    df["USUBJID"] = df["USUBJID"].str.replace(f"{S}-01-", "patient/", regex=False)
    return df


# ---- the contract for any study --------------------------------------------------------------

def test_another_study_id_and_subject_id_format_are_valid(tmp_path):
    snap = write_valid_snapshot(tmp_path, "2019-01-31")
    for name in ("adsl.csv", "adtte.csv", "adrs.csv", "adae.csv"):
        edit_csv(snap, name, _other_study)
    assert validate_snapshot(snap) == []


def test_one_study_per_snapshot(tmp_path):
    snap = write_valid_snapshot(tmp_path, "2019-01-31")
    edit_csv(snap, "adae.csv", lambda df: df.assign(STUDYID="ABC-123"))
    hits = [p for p in validate_snapshot(snap) if p.rule == "studyid-single"]
    assert hits and all(p.file == "adae.csv" and p.column == "STUDYID" for p in hits)
    assert "'ABC-123' differs from the snapshot's 'IXATHALDEX'" in str(hits[0])


def test_extra_columns_and_parameters_are_notes_not_problems(tmp_path, capsys):
    snap = write_valid_snapshot(tmp_path, "2019-01-31")
    edit_csv(snap, "adsl.csv", lambda df: df.assign(RACE="ASIAN", SITEID="01"))

    def add_ttp(df):
        ttp = df[df["PARAMCD"] == "PFS"].assign(PARAMCD="TTP", PARAM="Time to progression", EVNTDESC="x")
        return __import__("pandas").concat([df, ttp])
    edit_csv(snap, "adtte.csv", add_ttp)
    assert validate_snapshot(snap) == []
    notes = [str(n) for n in snapshot_notes(snap)]
    assert any("RACE, SITEID" in n and "[note: extra-column]" in n for n in notes)
    assert any("8 row(s) with PARAMCD 'TTP'" in n for n in notes)
    assert cli.main(["validate", str(snap)]) == 0
    assert "[note: extra-parameter]" in capsys.readouterr().out


def test_an_unknown_parameter_instead_of_a_required_one(tmp_path):
    """PARAMCD EFS instead of OS: EFS is kept (a note), but the subject's OS row is missing."""
    snap = write_valid_snapshot(tmp_path, "2019-01-31")
    edit_csv(snap, "adtte.csv", lambda df: df.assign(
        PARAMCD=df["PARAMCD"].where(~((df["USUBJID"] == f"{S}-01-002") & (df["PARAMCD"] == "OS")), "EFS")))
    problems = validate_snapshot(snap)
    assert [p.rule for p in problems] == ["missing-os"] and problems[0].subjects == (f"{S}-01-002",)
    assert any(n.rule == "extra-parameter" and "'EFS'" in n.message for n in snapshot_notes(snap))


def test_subject_of_an_ignored_parameter_must_be_in_adsl(tmp_path):
    snap = write_valid_snapshot(tmp_path, "2019-01-31")
    edit_csv(snap, "adrs.csv", lambda df: __import__("pandas").concat(
        [df, df.iloc[:1].assign(PARAMCD="OVR", USUBJID="NOBODY")]))
    hits = [p for p in validate_snapshot(snap) if p.rule == "subject-not-in-adsl"]
    assert len(hits) == 1 and hits[0].subjects == ("NOBODY",) and hits[0].file == "adrs.csv"


def test_an_optional_column_empty_everywhere_is_a_note(tmp_path):
    snap = write_valid_snapshot(tmp_path, "2019-01-31")
    edit_csv(snap, "adsl.csv", lambda df: df.assign(FRAILTY=None))
    assert validate_snapshot(snap) == []
    assert [n.column for n in snapshot_notes(snap) if n.rule == "empty-optional-column"] == ["FRAILTY"]


# ---- adding without a mapping: names, never paths; canonical storage -------------------------

def test_the_manifest_names_sources_and_holds_no_path(source, tmp_path):
    dest = add_snapshot(source, CUT, "Plain", root=tmp_path / "real")
    text = (dest / "manifest.json").read_text()
    assert str(tmp_path) not in text and str(source) not in text and '"/' not in text
    man = read_manifest(dest)
    assert set(man["sources"]) == {"adsl.csv", "adtte.csv", "adrs.csv", "adae.csv"}
    assert man["sources"]["adsl.csv"]["format"] == "csv" and "mapping" not in man


def test_a_bom_crlf_csv_is_stored_canonical(source, tmp_path):
    raw = (source / "adsl.csv").read_bytes()
    (source / "adsl.csv").write_bytes(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"))
    dest = add_snapshot(source, CUT, "Excel", root=tmp_path / "real")
    assert (dest / "adsl.csv").read_bytes() == raw


# ---- mapping errors name the mapping line, the source file and the column ---------------------

MAPPING = """study: {study}
datasets:
  adsl:
    file: adsl.csv
    recode:
      SEX: {{MALE: M, FEMALE: F}}
    derive:
      ASCTFL: {{flag: "NASCT >= 1"}}
  adtte: {{file: adtte.csv}}
  adrs: {{file: adrs.csv}}
  adae: {{file: adae.csv}}
"""


def test_a_mapping_error_names_line_file_and_column(source, tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(MAPPING.format(study=S))
    with pytest.raises(SnapshotError, match=r"map.yaml line 8: adsl \(adsl.csv\), column NASCT"):
        add_snapshot(source, CUT, "x", root=tmp_path / "real", mapping=path)
    path.write_text(MAPPING.format(study=S).replace("    recode:", "    recodes:"))
    with pytest.raises(SnapshotError, match=r"map.yaml line 5: adsl: unknown key 'recodes'"):
        load_mapping(path)
    path.write_text(MAPPING.format(study=S).replace("file: adrs.csv}", "file: adrs.csv"))
    with pytest.raises(SnapshotError, match=r"map.yaml line \d+: not valid YAML"):
        load_mapping(path)
    assert not (tmp_path / "real").exists()


def test_a_mapping_derives_a_flag_and_recodes(source, tmp_path):
    import pandas as pd
    adsl = pd.read_csv(source / "adsl.csv", dtype=str, keep_default_na=False, na_values=[""])
    adsl["NASCT"] = adsl.pop("ASCTFL").map({"Y": "2", "N": "0"})
    adsl["SEX"] = adsl["SEX"].map({"M": "MALE", "F": "FEMALE"})
    adsl.to_csv(source / "adsl.csv", index=False)
    path = tmp_path / "map.yaml"
    path.write_text(MAPPING.format(study=S))
    dest = add_snapshot(source, CUT, "Mapped", root=tmp_path / "real", mapping=path)
    want = build_tables(CUT)["adsl"]
    got = pd.read_csv(dest / "adsl.csv", dtype=str)
    assert got["ASCTFL"].tolist() == want["ASCTFL"].tolist() and got["SEX"].tolist() == want["SEX"].tolist()
    assert list(got.columns)[-1] == "NASCT"  # the source column is kept after the contract's
    assert (dest / "mapping.yaml").read_text() == path.read_text()


# ---- real data never lands in git -------------------------------------------------------------

def _git_project(tmp_path) -> Path:
    proj = tmp_path / "proj"
    (proj / "data" / "snapshots").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(proj)], check=True)
    (proj / "data" / "snapshots" / "README.md").write_text("x\n")
    subprocess.run(["git", "-C", str(proj), "add", "."], check=True)
    return proj


def test_real_data_is_refused_in_a_folder_git_would_take(source, tmp_path):
    proj = _git_project(tmp_path)
    root = proj / "data" / "snapshots"
    with pytest.raises(SnapshotError, match="refusing to write real .* not ignored"):
        add_snapshot(source, CUT, "Real", root=root)
    assert sorted(p.name for p in root.iterdir()) == ["README.md"]
    add_snapshot(source, CUT, "Synthetic", root=root, synthetic=True)  # synthetic data may go to git
    (proj / ".gitignore").write_text("/data/real/\n")
    assert add_snapshot(source, CUT, "Real", root=proj / "data" / "real").is_dir()


def test_the_snapshot_root_comes_from_the_config(tmp_path):
    proj = tmp_path / "p"
    proj.mkdir()
    (proj / "_toc.yml").write_text("root: index\n")
    (proj / "_config.yml").write_text("ixathaldex:\n  snapshot_root: data/real\n")
    assert Project(proj).snapshot_root == proj.resolve() / "data" / "real"
    (proj / "_config.yml").write_text("ixathaldex:\n  snapshot_root: ../secure/cuts\n")
    assert Project(proj).snapshot_root == (tmp_path / "secure" / "cuts").resolve()
    (proj / "_config.yml").write_text("title: t\n")
    assert Project(proj).snapshot_root == proj.resolve() / "data" / "snapshots"
    assert Project(proj, snapshot_root=tmp_path / "x").snapshot_root == tmp_path / "x"
    (proj / "_config.yml").write_text("ixathaldex:\n  snapshot_root: [a]\n")
    with pytest.raises(ProjectError, match="snapshot_root"):
        Project(proj)
