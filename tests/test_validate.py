"""Snapshot validation: a good hand-made snapshot passes; one broken copy per rule fails with a
message naming the file, column, subject (and CSV line) of the problem."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ixathaldex import cli
from ixathaldex.exceptions import ValidationError
from ixathaldex.data.schema import coerce_types
from ixathaldex.data.history import cut_consistency_problems
from ixathaldex.data.validate import check_snapshot, validate_snapshot
from snapshot_factory import (S, build_tables, edit_csv, read_csv, rewrite_manifest, set_cell,
                              write_valid_snapshot)

CUT = "2019-01-31"


@pytest.fixture(scope="module")
def good_master(tmp_path_factory) -> Path:
    return write_valid_snapshot(tmp_path_factory.mktemp("good"), CUT)


@pytest.fixture
def snap(good_master, tmp_path) -> Path:
    dest = tmp_path / CUT
    shutil.copytree(good_master, dest)
    return dest


def uid(n: str) -> str:
    return f"{S}-01-{n}"


def find(problems, rule):
    hits = [p for p in problems if p.rule == rule]
    assert hits, f"no problem with rule {rule!r} among:\n" + "\n".join(map(str, problems))
    return hits


def test_good_snapshot_passes(good_master):
    assert validate_snapshot(good_master) == []
    check_snapshot(good_master)  # does not raise


def test_good_snapshot_at_another_cut_passes(tmp_path):
    assert validate_snapshot(write_valid_snapshot(tmp_path, "2020-07-15")) == []


# (file, subject, where, column, new value, rule) — one broken copy per cell-level rule.
CELL_CASES = [
    ("adtte.csv", "007", {"PARAMCD": "PFS"}, "CNSR", "2", "cnsr-domain"),
    ("adtte.csv", "007", {"PARAMCD": "OS"}, "CNSR", "-1", "cnsr-domain"),
    ("adsl.csv", "003", None, "AGE", "abc", "type-number"),
    ("adsl.csv", "003", None, "AGE", "12.0", "age-range"),
    ("adsl.csv", "003", None, "AGE", "130", "age-range"),
    ("adsl.csv", "004", None, "ECOG", "1.5", "type-integer"),
    ("adsl.csv", "004", None, "ECOG", "7", "ecog-range"),
    ("adsl.csv", "002", None, "TRTSDT", "31/01/2017", "type-date"),
    ("adsl.csv", "002", None, "TRTSDT", "2017-02-30", "type-date"),
    ("adsl.csv", "002", None, "TRTSDT", "", "required-value"),
    ("adsl.csv", "004", None, "SEX", "X", "sex-domain"),
    ("adsl.csv", "004", None, "ISS", "IV", "iss-domain"),
    ("adsl.csv", "004", None, "MMTYPE", "IgM", "mmtype-domain"),
    ("adsl.csv", "004", None, "FRAILTY", "VERY FIT", "frailty-domain"),
    ("adsl.csv", "004", None, "PPROTFL", "yes", "pprotfl-domain"),
    ("adsl.csv", "004", None, "ITTFL", "NA", "ittfl-domain"),
    ("adsl.csv", "001", None, "EOTSTT", "FINISHED", "eotstt-domain"),
    ("adsl.csv", "002", None, "DCSREAS", "LOST", "dcsreas-domain"),
    ("adsl.csv", "004", None, "INDCYC", "-1", "indcyc-range"),
    ("adsl.csv", "001", None, "MNTCYC", "13", "mntcyc-range"),
    ("adsl.csv", "004", None, "PRLINES", "0", "prlines-range"),
    ("adsl.csv", "004", None, "STUDYID", "OTHER", "studyid-single"),
    ("adsl.csv", "004", None, "AGEGR1", "75+", "agegr1-domain"),
    ("adtte.csv", "002", {"PARAMCD": "OS"}, "AVAL", "0", "aval-range"),
    ("adtte.csv", "002", {"PARAMCD": "OS"}, "AVAL", "-5", "aval-range"),
    ("adtte.csv", "002", {"PARAMCD": "OS"}, "EVNTDESC", "DIED", "evntdesc-domain"),
    ("adtte.csv", "002", {"PARAMCD": "OS"}, "ADT", "2019-02-01", "after-cutoff"),
    ("adrs.csv", "004", {"PARAMCD": "BOR"}, "AVALC", "sCR", "avalc-domain"),
    ("adrs.csv", "004", {"PARAMCD": "BOR"}, "ADT", "2019-03-01", "after-cutoff"),
    ("adae.csv", "002", {"AESEQ": "2"}, "AETOXGR", "6", "aetoxgr-range"),
    ("adae.csv", "002", {"AESEQ": "2"}, "AETOXGR", "0", "aetoxgr-range"),
    ("adae.csv", "002", {"AESEQ": "2"}, "APHASE", "SCREENING", "aphase-domain"),
    ("adae.csv", "002", {"AESEQ": "2"}, "AECAT", "OTHER", "aecat-domain"),
    ("adae.csv", "002", {"AESEQ": "2"}, "ASTDT", "2019-02-02", "after-cutoff"),
    ("adae.csv", "002", {"AESEQ": "2"}, "AESEQ", "two", "type-integer"),
    ("adsl.csv", "001", None, "TRTEDT", "2019-02-01", "after-cutoff"),
    ("adsl.csv", "001", None, "MNTSDT", "2019-02-01", "after-cutoff"),
]


@pytest.mark.parametrize("file,subject,where,column,value,rule", CELL_CASES,
                         ids=[f"{c[5]}:{c[4]}" for c in CELL_CASES])
def test_broken_cell_is_reported(snap, file, subject, where, column, value, rule):
    line = set_cell(snap, file, subject, column, value, where)
    problems = validate_snapshot(snap)
    hits = [p for p in find(problems, rule) if p.file == file and p.column == column]
    assert hits, "\n".join(map(str, problems))
    hit = [p for p in hits if uid(subject) in p.subjects]
    assert hit, f"subject {uid(subject)} not named in {hits}"
    assert line in hit[0].rows
    text = str(hit[0])
    assert file in text and column in text and uid(subject) in text and f"line {line}" in text
    assert f"[rule: {rule}]" in text


# (mutation of the good snapshot, file, column, subject or None, rule) for rules across rows/tables
def _drop(file, subject, paramcd=None):
    def change(folder):
        def f(df):
            keep = df["USUBJID"] != uid(subject)
            if paramcd:
                keep |= df["PARAMCD"] != paramcd
            return df[keep]
        edit_csv(folder, file, f)
    return change


def _set(file, subject, column, value, where=None):
    return lambda folder: set_cell(folder, file, subject, column, value, where)


def _both(*changes):
    def change(folder):
        for c in changes:
            c(folder)
    return change


def _dup_row(file, subject, paramcd=None):
    def f(df):
        m = df["USUBJID"] == uid(subject)
        if paramcd:
            m &= df["PARAMCD"] == paramcd
        return pd.concat([df, df[m].iloc[[0]]])
    return lambda folder: edit_csv(folder, file, f)


TTE = {"PARAMCD": "PFS"}
CROSS_CASES = [
    ("dup-subject", _dup_row("adsl.csv", "003"), "adsl.csv", "USUBJID", "003", "duplicate-subject"),
    ("dup-pfs", _dup_row("adtte.csv", "005", "PFS"), "adtte.csv", "PARAMCD", "005", "duplicate-parameter"),
    ("dup-bor", _dup_row("adrs.csv", "006", "BOR"), "adrs.csv", "PARAMCD", "006", "duplicate-parameter"),
    ("dup-aeseq", _set("adae.csv", "001", "AESEQ", "1", {"AESEQ": "2"}), "adae.csv", "AESEQ", "001",
     "duplicate-aeseq"),
    ("unknown-subject-adae", _set("adae.csv", "004", "USUBJID", uid("404")), "adae.csv", "USUBJID", "404",
     "subject-not-in-adsl"),
    ("unknown-subject-adtte", _set("adtte.csv", "004", "USUBJID", uid("405"), TTE), "adtte.csv", "USUBJID",
     "405", "subject-not-in-adsl"),
    ("unknown-subject-adrs", _set("adrs.csv", "004", "USUBJID", uid("406")), "adrs.csv", "USUBJID", "406",
     "subject-not-in-adsl"),
    ("no-pfs", _drop("adtte.csv", "006", "PFS"), "adtte.csv", "PARAMCD", "006", "missing-pfs"),
    ("no-os", _drop("adtte.csv", "006", "OS"), "adtte.csv", "PARAMCD", "006", "missing-os"),
    ("no-bor", _drop("adrs.csv", "008", "BOR"), "adrs.csv", "PARAMCD", "008", "missing-bor"),
    ("no-eoiresp", _drop("adrs.csv", "005", "EOIRESP"), "adrs.csv", "PARAMCD", "005", "missing-eoiresp"),
    ("no-mntbor", _drop("adrs.csv", "005", "MNTBOR"), "adrs.csv", "PARAMCD", "005", "missing-mntbor"),
    ("aval-vs-dates", _set("adtte.csv", "002", "AVAL", "111", TTE), "adtte.csv", "AVAL", "002", "aval-dates"),
    ("startdt", _both(_set("adtte.csv", "004", "STARTDT", "2018-09-01", TTE),
                      _set("adtte.csv", "004", "AVAL", "153", TTE)),
     "adtte.csv", "STARTDT", "004", "startdt-trtsdt"),
    ("pfs-after-os", _both(_set("adtte.csv", "008", "AVAL", "171", TTE), _set("adtte.csv", "008", "ADT", None, TTE),
                           lambda f: edit_csv(f, "adtte.csv", _shift_adt)),
     "adtte.csv", "AVAL", "008", "pfs-after-os"),
    ("pfs-death-no-os", _set("adtte.csv", "002", "EVNTDESC", "DEATH", TTE), "adtte.csv", "EVNTDESC", "002",
     "pfs-death-os"),
    ("os-death-before-pfs", _both(_set("adtte.csv", "008", "AVAL", "171", TTE),
                                  lambda f: edit_csv(f, "adtte.csv", _shift_adt)),
     "adtte.csv", "ADT", "008", "os-death-before-pfs"),
    ("event-desc-vs-cnsr", _set("adtte.csv", "001", "EVNTDESC", "PROGRESSIVE DISEASE", TTE), "adtte.csv",
     "EVNTDESC", "001", "evntdesc-cnsr"),
    ("pp-not-itt", _set("adsl.csv", "001", "ITTFL", "N"), "adsl.csv", "PPROTFL", "001", "pp-in-itt"),
    ("mnt-no-induction", _set("adsl.csv", "004", "MNTFL", "Y"), "adsl.csv", "MNTFL", "004",
     "maintenance-after-induction"),
    ("mntsaf-no-mnt", _set("adsl.csv", "006", "MNTSAFFL", "Y"), "adsl.csv", "MNTSAFFL", "006",
     "maintenance-safety-set"),
    ("fish-not-done", _set("adsl.csv", "002", "DEL17P", "N"), "adsl.csv", "DEL17P", "002", "fish-not-done"),
    ("fish-empty", _set("adsl.csv", "003", "DEL17P", None), "adsl.csv", "DEL17P", "003", "fish-missing"),
    ("fish-all-empty", lambda f: edit_csv(f, "adsl.csv", _no_fish("006")), "adsl.csv", "FISHFL", "006",
     "fish-missing"),
    ("agegr1", _set("adsl.csv", "005", "AGEGR1", "<75"), "adsl.csv", "AGEGR1", "005", "agegr1-age"),
    ("dcsreas-missing", _set("adsl.csv", "006", "DCSREAS", None), "adsl.csv", "DCSREAS", "006",
     "dcsreas-status"),
    ("dcsreas-not-discontinued", _set("adsl.csv", "001", "DCSREAS", "ADVERSE EVENT"), "adsl.csv", "DCSREAS",
     "001", "dcsreas-status"),
    ("trtedt-ongoing", _set("adsl.csv", "004", "TRTEDT", "2018-12-01"), "adsl.csv", "TRTEDT", "004",
     "trtedt-status"),
    ("indcmp-cycles", _set("adsl.csv", "001", "INDCYC", "7"), "adsl.csv", "INDCYC", "001", "indcyc-complete"),
    ("pp-cycles", _set("adsl.csv", "003", "PPROTFL", "Y"), "adsl.csv", "INDCYC", "003", "pp-cycles"),
    ("ae-before-start", _set("adae.csv", "004", "ASTDT", "2018-01-01"), "adae.csv", "ASTDT", "004",
     "before-treatment"),
    ("maintenance-ae", _set("adae.csv", "002", "APHASE", "MAINTENANCE", {"AESEQ": "1"}), "adae.csv", "APHASE",
     "002", "maintenance-ae"),
    ("fltstdt-order", _set("adsl.csv", "004", "FLTSTDT", "2018-12-01"), "adsl.csv", "FLTSTDT", "004",
     "fltstdt-order"),
]


def _no_fish(subject):
    def f(df):
        df.loc[df["USUBJID"] == uid(subject), ["T414", "T1416", "DEL17P", "GAIN1Q"]] = None
        return df
    return f


def test_gain1q_may_be_missing_for_a_fish_patient(snap):
    """1q21 not tested in a FISH-evaluable patient is allowed (docs/validation.md)."""
    set_cell(snap, "adsl.csv", "003", "GAIN1Q", None)
    assert validate_snapshot(snap) == []


def _shift_adt(df):
    """Move subject 008's PFS date one day after its OS death (AVAL already set to 171)."""
    m = (df["USUBJID"] == uid("008")) & (df["PARAMCD"] == "PFS")
    start = pd.to_datetime(df.loc[m, "STARTDT"])
    df.loc[m, "ADT"] = (start + pd.Timedelta(days=170)).dt.strftime("%Y-%m-%d")
    return df


@pytest.mark.parametrize("name,change,file,column,subject,rule", CROSS_CASES, ids=[c[0] for c in CROSS_CASES])
def test_broken_cross_rule_is_reported(snap, name, change, file, column, subject, rule):
    change(snap)
    problems = validate_snapshot(snap)
    hits = [p for p in find(problems, rule) if p.file == file and p.column == column]
    assert hits, "\n".join(map(str, problems))
    assert any(uid(subject) in p.subjects and uid(subject) in str(p) for p in hits), hits
    assert all(file in str(p) and column in str(p) for p in hits)


def test_all_problems_are_collected_not_only_the_first(snap):
    set_cell(snap, "adtte.csv", "007", "CNSR", "2", {"PARAMCD": "PFS"})
    set_cell(snap, "adsl.csv", "004", "SEX", "X")
    set_cell(snap, "adae.csv", "002", "AETOXGR", "9", {"AESEQ": "1"})
    set_cell(snap, "adsl.csv", "001", "ITTFL", "N")
    rules = {p.rule for p in validate_snapshot(snap)}
    assert {"cnsr-domain", "sex-domain", "aetoxgr-range", "pp-in-itt"} <= rules
    with pytest.raises(ValidationError) as exc:
        check_snapshot(snap)
    assert len(exc.value.problems) >= 4 and "cnsr-domain" in str(exc.value)


def test_message_reads_plainly(snap):
    line = set_cell(snap, "adtte.csv", "007", "CNSR", "2", {"PARAMCD": "PFS"})
    (p,) = [p for p in validate_snapshot(snap) if p.rule == "cnsr-domain"]
    assert str(p) == (f"adtte.csv line {line} (USUBJID {uid('007')}, PARAMCD PFS), column CNSR: "
                      "value 2 not in {0, 1} [rule: cnsr-domain]")


# ---- files that cannot be read, missing columns, the manifest ---------------------------------

def test_missing_file(snap):
    (snap / "adrs.csv").unlink()
    rules = {(p.file, p.rule) for p in validate_snapshot(snap)}
    assert ("adrs.csv", "missing-file") in rules


def test_missing_column(snap):
    edit_csv(snap, "adsl.csv", lambda df: df.drop(columns=["ISS"]))
    (p,) = [p for p in validate_snapshot(snap) if p.rule == "missing-column"]
    assert p.file == "adsl.csv" and p.column == "ISS" and "ISS" in str(p)


@pytest.mark.parametrize("content", [b"", b"\n", "STUDYID,USUBJID,AESEQ\n".encode()])
def test_empty_file(snap, content):
    (snap / "adae.csv").write_bytes(content)
    rewrite_manifest(snap)
    hits = [p for p in validate_snapshot(snap) if p.rule == "empty-file"]
    assert hits and hits[0].file == "adae.csv"


def test_not_utf8(snap):
    data = (snap / "adsl.csv").read_bytes().replace(b"Light chain only", b"L\xe9ger", 1)
    (snap / "adsl.csv").write_bytes(data)
    rewrite_manifest(snap)
    (p,) = [p for p in validate_snapshot(snap) if p.rule == "not-utf8"]
    assert p.file == "adsl.csv" and p.rows and p.rows[0] > 1


@pytest.mark.parametrize("text", ["STUDYID,USUBJID\n\"unclosed,quote\nx,y,z,w\n", "a,b,c\n1,2\n3,4,5\n",
                                  "just one line of prose; no header\nmore prose\n"])
def test_not_a_csv(snap, text):
    (snap / "adrs.csv").write_text(text, encoding="utf-8")
    rewrite_manifest(snap)
    problems = [p for p in validate_snapshot(snap) if p.file == "adrs.csv"]
    assert problems and {p.rule for p in problems} & {"not-csv", "missing-column", "bad-header"}


def test_blank_line_inside_is_refused(snap):
    text = (snap / "adtte.csv").read_text().split("\n")
    (snap / "adtte.csv").write_text("\n".join(text[:4] + [""] + text[4:]))
    rewrite_manifest(snap)
    (p,) = [p for p in validate_snapshot(snap) if p.file == "adtte.csv"]
    assert p.rule == "not-csv" and p.rows == (5,)


def test_lowercase_column_gets_a_hint(snap):
    edit_csv(snap, "adsl.csv", lambda df: df.rename(columns={"SEX": "sex"}))
    (p,) = [p for p in validate_snapshot(snap) if p.rule == "missing-column"]
    assert p.column == "SEX" and "'sex'" in p.message and "case" in p.message


def test_semicolon_separated_file_is_named(snap):
    read_csv(snap, "adrs.csv").to_csv(snap / "adrs.csv", index=False, sep=";")
    rewrite_manifest(snap)
    (p,) = [p for p in validate_snapshot(snap) if p.file == "adrs.csv"]
    assert p.rule == "not-csv" and "';'" in p.message


def test_index_column_is_refused(snap):
    df = read_csv(snap, "adae.csv")
    df.to_csv(snap / "adae.csv")  # pandas default: writes the index as an unnamed first column
    rewrite_manifest(snap)
    assert [p for p in validate_snapshot(snap) if p.file == "adae.csv" and p.rule == "bad-header"]


def test_checksum_mismatch_says_immutable(snap):
    path = snap / "adae.csv"
    path.write_text(path.read_text().replace("Fatigue", "Tiredness"))
    (p,) = [p for p in validate_snapshot(snap) if p.rule == "checksum-mismatch"]
    assert p.file == "adae.csv"
    assert "immutable" in str(p) and "new cut" in str(p)


def test_manifest_missing_or_unparseable(snap):
    (snap / "manifest.json").write_text("{not json")
    assert [p for p in validate_snapshot(snap) if p.rule == "manifest-unreadable"]
    (snap / "manifest.json").unlink()
    assert [p for p in validate_snapshot(snap) if p.rule == "manifest-missing"]


def test_manifest_identity_and_cutoff(snap):
    man = json.loads((snap / "manifest.json").read_text())
    man["snapshot"], man["cutoff_date"] = "2019-02-28", "2019-02-28"
    (snap / "manifest.json").write_text(json.dumps(man))
    rules = {p.rule for p in validate_snapshot(snap)}
    assert {"manifest-identity", "manifest-cutoff"} <= rules


def test_folder_renamed_is_caught(snap):
    moved = snap.parent / "2019-06-30"
    snap.rename(moved)
    rules = {p.rule for p in validate_snapshot(moved)}
    assert {"manifest-identity", "manifest-cutoff"} <= rules


def test_cap_on_listed_rows(snap):
    big = pd.concat([read_csv(snap, "adae.csv")] * 5, ignore_index=True)
    big["AETOXGR"] = "9"
    big["AESEQ"] = (big.groupby("USUBJID").cumcount() + 1).astype(str)
    big.to_csv(snap / "adae.csv", index=False)
    rewrite_manifest(snap)
    hits = [p for p in validate_snapshot(snap) if p.rule == "aetoxgr-range"]
    assert len(hits) == 21 and "and 45 more" in str(hits[-1])


# ---- types for the analysis ------------------------------------------------------------------

def test_coerce_types(good_master):
    adsl = coerce_types("adsl", read_csv(good_master, "adsl.csv"))
    assert adsl["TRTSDT"].dtype == "datetime64[ns]"
    assert str(adsl["INDCYC"].dtype) == "Int64" and adsl["AGE"].dtype == "float64"
    assert set(adsl["ITTFL"]) == {"Y"}
    assert adsl["TRTEDT"].isna().sum() == 2 and adsl["DCSREAS"].isna().sum() == 3
    assert pd.isna(adsl.loc[adsl["FISHFL"] == "N", "T414"]).all()
    tte = coerce_types("adtte", read_csv(good_master, "adtte.csv"))
    assert str(tte["CNSR"].dtype) == "Int64" and tte["ADT"].dtype == "datetime64[ns]"
    with pytest.raises(ValidationError):
        coerce_types("adtte", read_csv(good_master, "adtte.csv").assign(AVAL="x"))


# ---- command line ----------------------------------------------------------------------------

def _tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def test_cli_ok_and_failure_exit_codes_and_writes_nothing(good_master, snap, capsys):
    set_cell(snap, "adsl.csv", "004", "SEX", "X")
    before = _tree_digest(snap.parent), _tree_digest(good_master.parent)
    assert cli.main(["validate", str(good_master)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and out.count("\n") == 1
    assert cli.main(["validate", str(good_master), str(snap)]) == 1
    out = capsys.readouterr().out
    assert "sex-domain" in out and uid("004") in out and "FAILED" in out
    assert (_tree_digest(snap.parent), _tree_digest(good_master.parent)) == before


def test_cli_missing_folder(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path / "2019-01-31")]) == 1


def test_cli_no_manifest_mode(snap, capsys):
    (snap / "manifest.json").unlink()
    assert cli.main(["validate", str(snap)]) == 1
    assert cli.main(["validate", "--no-manifest", "--cut", CUT, str(snap)]) == 0


# ---- two cuts of the same trial ---------------------------------------------------------------

@pytest.fixture
def two_cuts(good_master, tmp_path):
    earlier = tmp_path / CUT
    shutil.copytree(good_master, earlier)
    later = tmp_path / "2019-06-30"
    shutil.copytree(good_master, later)
    rewrite_manifest(later)
    return earlier, later


def test_same_data_at_a_later_cut_is_consistent(two_cuts, capsys):
    earlier, later = two_cuts
    assert validate_snapshot(later) == []
    assert cut_consistency_problems(earlier, later) == []
    assert cli.main(["validate", "--across-cuts", str(later), str(earlier)]) == 0


def test_later_cut_that_rewrites_the_past_is_caught(two_cuts, capsys):
    earlier, later = two_cuts
    set_cell(later, "adtte.csv", "002", "CNSR", "1", {"PARAMCD": "PFS"})  # event un-happens
    set_cell(later, "adtte.csv", "002", "EVNTDESC", "CENSORED AT LAST ASSESSMENT", {"PARAMCD": "PFS"})
    set_cell(later, "adae.csv", "007", "ASTDT", "2018-05-01")  # AE moved
    set_cell(later, "adsl.csv", "004", "SEX", "M")  # baseline changed
    edit_csv(later, "adrs.csv", lambda df: df)  # untouched
    edit_csv(later, "adae.csv", lambda df: df[~((df["USUBJID"] == uid("001")) & (df["AESEQ"] == "4"))])
    problems = cut_consistency_problems(earlier, later)
    got = {(p.rule, p.file, p.column, p.subjects) for p in problems}
    assert ("cut-moved-event", "adtte.csv", "CNSR", (uid("002"),)) in got
    assert ("cut-moved-ae", "adae.csv", "ASTDT", (uid("007"),)) in got
    assert ("cut-changed-past", "adsl.csv", "SEX", (uid("004"),)) in got
    assert ("cut-moved-ae", "adae.csv", "AESEQ", (uid("001"),)) in got
    assert cli.main(["validate", "--across-cuts", str(earlier), str(later)]) == 1
    assert "cut-moved-event" in capsys.readouterr().out


# ---- speed on a large snapshot -----------------------------------------------------------------

@pytest.mark.slow
def test_large_snapshot_is_validated_quickly(tmp_path):
    """100,000 patients (the 8 hand-made ones repeated with new ids) validate in well under a minute."""
    reps = 12_500
    tables = build_tables(CUT)
    snap = tmp_path / CUT
    snap.mkdir()
    for name, df in tables.items():
        n = len(df)
        big = pd.concat([df] * reps, ignore_index=True)
        if name == "adsl":
            ids = [f"{S}-{i // 1000:02d}-{i:06d}" for i in range(reps * 8)]
            big["USUBJID"] = ids
        else:
            base = df["USUBJID"].str[-3:].astype(int).to_numpy() - 1
            block = np.repeat(np.arange(reps), n)
            idx = block * 8 + np.tile(base, reps)
            big["USUBJID"] = [f"{S}-{i // 1000:02d}-{i:06d}" for i in idx]
        big.to_csv(snap / f"{name}.csv", index=False, lineterminator="\n")
    rewrite_manifest(snap)
    t0 = time.perf_counter()
    problems = validate_snapshot(snap)
    elapsed = time.perf_counter() - t0
    assert problems == []
    assert elapsed < 60


# ---- the committed snapshots ----------------------------------------------------------------

def test_committed_snapshots_pass():
    from ixathaldex.data.manifest import list_snapshots

    SNAPSHOT_ROOT = Path(__file__).resolve().parents[1] / 'data' / 'snapshots'

    cuts = list_snapshots(SNAPSHOT_ROOT)
    if not cuts:
        pytest.skip("no committed snapshots yet")
    for cut in cuts:
        problems = validate_snapshot(SNAPSHOT_ROOT / cut)
        assert problems == [], f"{cut}:\n" + "\n".join(map(str, problems))
