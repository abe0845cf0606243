"""Snapshot validation: the manifest, the cross-table rules and the entry points of a data cut.

``validate_snapshot(folder)`` returns every problem found (never only the first);
``check_snapshot(folder)`` raises :class:`~ixathaldex.exceptions.ValidationError` with them;
``ixathaldex validate DIR [DIR...]`` prints them. The per-column contract (pandera schema, codes,
types, CSV reading) is :mod:`ixathaldex.data.schema`; the rule
list is ``docs/validation.md``; the contract is ``docs/data-model.md``. Row numbers in messages are
1-based CSV line numbers (the header is line 1, so the first record is line 2).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ixathaldex.data.history import cut_consistency_problems
from ixathaldex.data.manifest import CUT_PATTERN, DATA_FILES, MANIFEST
from ixathaldex.data.notes import snapshot_notes
from ixathaldex.data.schema import (
    CONTEXT,
    EVNTDESC_CENSOR,
    EVNTDESC_EVENT,
    FISH_COLUMNS,
    FISH_REQUIRED,
    TTE_PARAM,
    Problem,
    coerce_types,
    has_columns,
    read_table,
    row_problems,
    schema_problems,
    shown,
    split_params,
)
from ixathaldex.exceptions import ValidationError
from ixathaldex.files import sha256_file
from ixathaldex.log import logger

# ---- manifest ------------------------------------------------------------------------------

def manifest_checks(folder: Path, cut: str | None = None) -> tuple[dict | None, list[Problem]]:
    """The manifest of ``folder`` and its problems (identity, cut-off, files, sha256)."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        return None, [Problem(MANIFEST, "manifest-missing", f"no manifest.json in {folder}")]
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [Problem(MANIFEST, "manifest-unreadable", f"not valid UTF-8 JSON ({exc})")]
    if not isinstance(manifest, dict):
        return None, [Problem(MANIFEST, "manifest-unreadable", "top level is not a JSON object")]
    problems = []
    expected = cut or (folder.name if CUT_PATTERN.match(folder.name) else None)
    for key in ("snapshot", "cutoff_date", "files"):
        if key not in manifest:
            problems.append(Problem(MANIFEST, "manifest-field", f"field {key!r} is missing", key))
    snap, cutoff = manifest.get("snapshot"), manifest.get("cutoff_date")
    if expected and "snapshot" in manifest and snap != expected:
        problems.append(Problem(MANIFEST, "manifest-identity", f"snapshot id {snap!r} differs from the "
                                f"snapshot folder {expected!r}", "snapshot"))
    if "cutoff_date" in manifest:
        try:
            dt.date.fromisoformat(str(cutoff))
            if expected and cutoff != expected:
                problems.append(Problem(MANIFEST, "manifest-cutoff", f"cut-off date {cutoff!r} differs "
                                        f"from the snapshot folder {expected!r}", "cutoff_date"))
        except ValueError:
            problems.append(Problem(MANIFEST, "manifest-cutoff", f"cut-off date {cutoff!r} is not a "
                                    "YYYY-MM-DD date", "cutoff_date"))
    files = manifest.get("files")
    if "files" in manifest and not isinstance(files, dict):
        problems.append(Problem(MANIFEST, "manifest-field", "field 'files' is not an object", "files"))
        files = {}
    for name in DATA_FILES:
        if isinstance(files, dict) and name not in files:
            problems.append(Problem(MANIFEST, "manifest-files", f"{name} is not listed", "files"))
    for name, entry in (files or {}).items():
        fpath = folder / name
        if not fpath.is_file():
            problems.append(Problem(name, "manifest-files", "listed in manifest.json but missing"))
            continue
        want = entry.get("sha256") if isinstance(entry, dict) else None
        got = sha256_file(fpath)
        if got != want:
            problems.append(Problem(
                name, "checksum-mismatch",
                f"sha256 {got[:12]}… differs from manifest.json's {str(want)[:12]}…: the file was "
                "changed after the snapshot was written. Snapshots are immutable: restore the "
                "original file and add the new data as a new cut (`ixathaldex snapshot add`)"))
    return manifest, problems


def manifest_problems(folder: Path, cut: str | None = None) -> list[str]:
    """Checksum and identity mismatches between a folder's files and its manifest, one line each.

    A file whose sha256 differs from the manifest means published data was edited: the message
    says snapshots are immutable and to add a new cut instead (see :func:`manifest_checks`).
    """
    return [str(p) for p in manifest_checks(Path(folder), cut)[1]]


# ---- helpers for cross-table rules -----------------------------------------------------------

def _mask(table, df, mask, column, rule, message):
    return row_problems(table, df, np.flatnonzero(np.asarray(mask, dtype=bool)), column, rule, message)


# ---- cross-table rules (plain pandas, on typed frames; unparseable cells are already reported) --

def _first(adsl: pd.DataFrame, column: str) -> pd.Series:
    return adsl.drop_duplicates("USUBJID").set_index("USUBJID")[column]


def _yes(a: pd.DataFrame, column: str) -> pd.Series:
    """Rows whose flag ``column`` is Y (none when the column is absent)."""
    return a[column] == "Y" if column in a else pd.Series(False, index=a.index)


def _adsl_flag_rules(a: pd.DataFrame) -> list[Problem]:
    """One row per subject; a population flag only within the population it narrows."""
    dup = a["USUBJID"].duplicated(keep=False) & a["USUBJID"].notna()
    P = _mask("adsl", a, dup, "USUBJID", "duplicate-subject", "subject appears more than once in ADSL")
    pairs = [("PPROTFL", "ITTFL", "pp-in-itt", "PPROTFL=Y but ITTFL is not Y (per-protocol must be in ITT)"),
             ("MNTFL", "INDCMPFL", "maintenance-after-induction", "MNTFL=Y but INDCMPFL is not Y"),
             ("MNTSAFFL", "MNTFL", "maintenance-safety-set", "MNTSAFFL=Y but MNTFL is not Y")]
    for c, need, rule, msg in pairs:
        if c in a and need in a:
            P += _mask("adsl", a, _yes(a, c) & ~_yes(a, need), c, rule, msg)
    return P


def _adsl_fish_rules(a: pd.DataFrame) -> list[Problem]:
    """FISH results given exactly when FISH was evaluable (FISHFL)."""
    P = []
    if not {"FISHFL", *FISH_COLUMNS} <= set(a.columns):
        return P
    for c in FISH_COLUMNS:
        P += _mask("adsl", a, (a["FISHFL"] == "N") & a[c].notna(), c, "fish-not-done",
                   lambda r, c=c: f"value {r[c]!r} given but FISHFL=N (leave empty when FISH not done)")
        if c in FISH_REQUIRED:
            P += _mask("adsl", a, (a["FISHFL"] == "Y") & a[c].isna(), c, "fish-missing",
                       "empty but FISHFL=Y (FISH-evaluable patients need t(4;14), t(14;16) and del(17p))")
    P += _mask("adsl", a, (a["FISHFL"] == "Y") & a[list(FISH_COLUMNS)].isna().all(axis=1), "FISHFL",
               "fish-missing", "FISHFL=Y but every FISH result is empty")
    return P


def _adsl_status_rules(a: pd.DataFrame) -> list[Problem]:
    """Age group against age; end-of-treatment status against its reason and last dose date."""
    P = []
    if {"AGE", "AGEGR1"} <= set(a.columns):
        want = pd.Series(np.where(a["AGE"] >= 75, ">=75", "<75"), index=a.index)
        bad = a["AGE"].notna() & a["AGEGR1"].isin(["<75", ">=75"]) & (a["AGEGR1"] != want)
        P += _mask("adsl", a, bad, "AGEGR1", "agegr1-age",
                   lambda r: f"AGEGR1 {r['AGEGR1']!r} does not match AGE {r['AGE']:g}")
    if {"EOTSTT", "DCSREAS"} <= set(a.columns):
        disc = a["EOTSTT"] == "DISCONTINUED"
        P += _mask("adsl", a, disc & a["DCSREAS"].isna(), "DCSREAS", "dcsreas-status",
                   "empty but EOTSTT=DISCONTINUED (give the reason)")
        P += _mask("adsl", a, ~disc & a["EOTSTT"].notna() & a["DCSREAS"].notna(), "DCSREAS", "dcsreas-status",
                   lambda r: f"reason {r['DCSREAS']!r} given but EOTSTT={r['EOTSTT']} (only when DISCONTINUED)")
    if {"EOTSTT", "TRTEDT"} <= set(a.columns):
        P += _mask("adsl", a, (a["EOTSTT"] == "ONGOING") & a["TRTEDT"].notna(), "TRTEDT", "trtedt-status",
                   "last dose date given but EOTSTT=ONGOING (leave empty while on therapy)")
        P += _mask("adsl", a, a["EOTSTT"].isin(["COMPLETED", "DISCONTINUED"]) & a["TRTEDT"].isna(),
                   "TRTEDT", "trtedt-status", lambda r: f"empty but EOTSTT={r['EOTSTT']} (give the last dose date)")
    return P


def _adsl_date_order_rules(a: pd.DataFrame) -> list[Problem]:
    """Last dose and maintenance start not before the first dose; the first line before it."""
    P = []
    if "TRTSDT" not in a:
        return P
    for c, rule in (("TRTEDT", "trtedt-order"), ("MNTSDT", "mntsdt-order")):
        if c in a:
            P += _mask("adsl", a, a[c] < a["TRTSDT"], c, rule,
                       lambda r, c=c: f"{c} {shown(r[c])} is before TRTSDT {shown(r['TRTSDT'])}")
    if "FLTSTDT" in a:
        P += _mask("adsl", a, a["FLTSTDT"] >= a["TRTSDT"], "FLTSTDT", "fltstdt-order",
                   lambda r: f"first-line start {shown(r['FLTSTDT'])} is not before TRTSDT {shown(r['TRTSDT'])}")
    return P


def _adsl_cycle_rules(a: pd.DataFrame) -> list[Problem]:
    """Maintenance start and cycles only with MNTFL; completion flags against cycle counts; PP cycles."""
    P = []
    if {"MNTSDT", "MNTFL"} <= set(a.columns):
        P += _mask("adsl", a, a["MNTSDT"].notna() & ~_yes(a, "MNTFL"), "MNTSDT", "mntsdt-flag",
                   "maintenance start given but MNTFL is not Y")
    if {"MNTSDT", "MNTSAFFL"} <= set(a.columns):
        P += _mask("adsl", a, a["MNTSDT"].isna() & _yes(a, "MNTSAFFL"), "MNTSDT", "mntsdt-flag",
                   "empty but MNTSAFFL=Y (a treated maintenance patient needs a start date)")
    if {"MNTCYC", "MNTFL"} <= set(a.columns):
        P += _mask("adsl", a, (a["MNTCYC"] > 0).fillna(False) & ~_yes(a, "MNTFL"), "MNTCYC", "mntcyc-flag",
                   lambda r: f"{r['MNTCYC']} maintenance cycles but MNTFL is not Y")
    for flag, c, n in (("INDCMPFL", "INDCYC", 8), ("MNTCMPFL", "MNTCYC", 12)):
        if flag in a and c in a:
            P += _mask("adsl", a, _yes(a, flag) & (a[c] != n).fillna(False), c, f"{c.lower()}-complete",
                       lambda r, c=c, flag=flag, n=n: f"{flag}=Y but {c} is {r[c]}, not {n}")
    if {"PPROTFL", "INDCYC"} <= set(a.columns):
        P += _mask("adsl", a, _yes(a, "PPROTFL") & (a["INDCYC"] < 2).fillna(False), "INDCYC", "pp-cycles",
                   lambda r: f"PPROTFL=Y but only {r['INDCYC']} induction cycle(s) (at least 2 needed)")
    return P


def _adsl_rules(a: pd.DataFrame) -> list[Problem]:
    """Every ADSL rule, in the order docs/validation.md lists them."""
    return (_adsl_flag_rules(a) + _adsl_fish_rules(a) + _adsl_status_rules(a) + _adsl_date_order_rules(a)
            + _adsl_cycle_rules(a))


def _subject_rules(typed: dict, adsl_ids: pd.Series) -> list[Problem]:
    P = []
    known = adsl_ids.dropna().unique()  # an array: isin would turn a set into a list first
    for table in ("adtte", "adrs", "adae"):
        if not has_columns(typed, table, "USUBJID"):
            continue
        df = typed[table]
        P += _mask(table, df, df["USUBJID"].notna() & ~df["USUBJID"].isin(known), "USUBJID",
                   "subject-not-in-adsl", "subject is not in adsl.csv")
    for table in ("adtte", "adrs"):
        if has_columns(typed, table, "USUBJID", "PARAMCD"):
            df = typed[table]
            dup = df.duplicated(["USUBJID", "PARAMCD"], keep=False) & df["USUBJID"].notna() & df["PARAMCD"].notna()
            P += _mask(table, df, dup, "PARAMCD", "duplicate-parameter",
                       "more than one row for this subject and parameter")
    if has_columns(typed, "adae", "USUBJID", "AESEQ"):
        ae = typed["adae"]
        dup = ae.duplicated(["USUBJID", "AESEQ"], keep=False) & ae["AESEQ"].notna()
        P += _mask("adae", ae, dup, "AESEQ", "duplicate-aeseq", "AESEQ repeated within the subject")
    adsl = typed["adsl"]
    needs = [("adtte", "PFS", None), ("adtte", "OS", None), ("adrs", "BOR", None),
             ("adrs", "EOIRESP", "INDCMPFL"), ("adrs", "MNTBOR", "MNTSAFFL")]
    for table, param, flag in needs:
        if not has_columns(typed, table, "USUBJID", "PARAMCD") or (flag and flag not in adsl):
            continue
        df = typed[table]
        have = df.loc[df["PARAMCD"] == param, "USUBJID"].unique()
        who = adsl["USUBJID"].notna() & ~adsl["USUBJID"].isin(have)
        if flag:
            who &= adsl[flag] == "Y"
        why = f" ({flag}=Y)" if flag else ""
        for p in _mask("adsl", adsl, who, "PARAMCD", f"missing-{param.lower()}",
                       f"subject{why} has no {param} row in {table}.csv"):
            P.append(Problem(f"{table}.csv", p.rule, p.message + (f" (adsl.csv line {p.rows[0]})" if p.rows else ""),
                             "PARAMCD", (), p.subjects, f"PARAMCD {param}" if p.subjects else ""))
    return P


def _tte_rules(typed: dict) -> list[Problem]:
    P = []
    t = typed["adtte"]
    if has_columns(typed, "adtte", "PARAMCD", "PARAM"):
        want = t["PARAMCD"].map(TTE_PARAM)
        P += _mask("adtte", t, want.notna() & t["PARAM"].notna() & (t["PARAM"] != want), "PARAM", "param-label",
                   lambda r: f"label {r['PARAM']!r} does not match PARAMCD {r['PARAMCD']} ({TTE_PARAM[r['PARAMCD']]!r})")
    if has_columns(typed, "adtte", "STARTDT", "ADT", "AVAL"):
        want = (t["ADT"] - t["STARTDT"]).dt.days + 1
        P += _mask("adtte", t, (t["AVAL"] != want).fillna(False), "AVAL", "aval-dates",
                   lambda r: f"AVAL {r['AVAL']} ≠ ADT − STARTDT + 1 = {(r['ADT'] - r['STARTDT']).days + 1}")
    if has_columns(typed, "adtte", "USUBJID", "STARTDT") and has_columns(typed, "adsl", "USUBJID", "TRTSDT"):
        trt = t["USUBJID"].map(_first(typed["adsl"], "TRTSDT"))
        t = t.assign(_TRTSDT=trt)
        P += _mask("adtte", t, t["STARTDT"].notna() & trt.notna() & (t["STARTDT"] != trt), "STARTDT",
                   "startdt-trtsdt", lambda r: f"STARTDT {shown(r['STARTDT'])} ≠ ADSL TRTSDT {shown(r['_TRTSDT'])}")
        t = typed["adtte"]
    if has_columns(typed, "adtte", "CNSR", "EVNTDESC", "PARAMCD"):
        ev, desc = t["CNSR"] == 0, t["EVNTDESC"]
        bad = (ev & desc.isin(EVNTDESC_CENSOR)) | ((t["CNSR"] == 1) & desc.isin(EVNTDESC_EVENT))
        bad |= ev & (t["PARAMCD"] == "OS") & (desc == "PROGRESSIVE DISEASE")
        P += _mask("adtte", t, bad.fillna(False), "EVNTDESC", "evntdesc-cnsr",
                   lambda r: f"EVNTDESC {r['EVNTDESC']!r} contradicts CNSR {r['CNSR']} for {r['PARAMCD']}")
    if has_columns(typed, "adtte", "USUBJID", "PARAMCD", "AVAL", "ADT", "CNSR", "EVNTDESC"):
        one = t.reset_index().drop_duplicates(["USUBJID", "PARAMCD"], keep=False)
        pfs = one[one["PARAMCD"] == "PFS"].set_index("USUBJID")
        os_ = one[one["PARAMCD"] == "OS"].set_index("USUBJID")
        pfs = pfs.join(os_[["AVAL", "ADT", "CNSR"]], rsuffix="_OS", how="inner")
        pfs = pfs.reset_index().set_index("index").sort_index()
        pfs.index.name = None
        pos = t.index.get_indexer(pfs.index)
        def at(mask):
            return pos[np.asarray(mask.fillna(False), dtype=bool)]
        P += row_problems("adtte", t, at(pfs["AVAL"] > pfs["AVAL_OS"]), "AVAL", "pfs-after-os",
                           lambda r: f"PFS AVAL {r['AVAL']} is later than the OS AVAL of the same subject")
        death = (pfs["CNSR"] == 0) & (pfs["EVNTDESC"] == "DEATH")
        P += row_problems("adtte", t, at(death & ~((pfs["CNSR_OS"] == 0) & (pfs["ADT_OS"] == pfs["ADT"]))),
                           "EVNTDESC", "pfs-death-os",
                           lambda r: f"PFS event is DEATH on {shown(r['ADT'])} but OS has no death on that date")
        P += row_problems("adtte", t, at((pfs["CNSR_OS"] == 0) & (pfs["ADT_OS"] < pfs["ADT"])), "ADT",
                           "os-death-before-pfs",
                           lambda r: f"PFS date {shown(r['ADT'])} is after the subject's OS death date")
    return P


def _date_rules(typed: dict) -> list[Problem]:
    P = []
    if not has_columns(typed, "adsl", "USUBJID", "TRTSDT"):
        return P
    trt = _first(typed["adsl"], "TRTSDT")
    for table, col in (("adtte", "ADT"), ("adrs", "ADT"), ("adae", "ASTDT")):
        if has_columns(typed, table, "USUBJID", col):
            df = typed[table]
            start = df["USUBJID"].map(trt)
            P += _mask(table, df, (df[col] < start).fillna(False), col, "before-treatment",
                       lambda r, c=col: f"date {shown(r[c])} is before the subject's TRTSDT")
    if has_columns(typed, "adrs", "ADT", "AVALC"):
        rs = typed["adrs"]
        P += _mask("adrs", rs, rs["ADT"].isna() & rs["AVALC"].notna() & (rs["AVALC"] != "NE"), "ADT",
                   "response-date", lambda r: f"empty, but response {r['AVALC']} needs the date it was documented")
    if has_columns(typed, "adae", "USUBJID", "APHASE", "ASTDT") and has_columns(typed, "adsl", "MNTSAFFL", "MNTSDT"):
        ae = typed["adae"]
        saf = ae["USUBJID"].map(_first(typed["adsl"], "MNTSAFFL"))
        mnt = ae["USUBJID"].map(_first(typed["adsl"], "MNTSDT"))
        is_m = ae["APHASE"] == "MAINTENANCE"
        P += _mask("adae", ae, is_m & saf.notna() & (saf != "Y"), "APHASE", "maintenance-ae",
                   "APHASE=MAINTENANCE but the subject is not in the maintenance safety set (MNTSAFFL)")
        P += _mask("adae", ae, (is_m & (ae["ASTDT"] < mnt)).fillna(False), "ASTDT", "ae-phase-date",
                   lambda r: f"maintenance AE starts {shown(r['ASTDT'])}, before maintenance start")
        P += _mask("adae", ae, ((ae["APHASE"] == "INDUCTION") & (ae["ASTDT"] >= mnt)).fillna(False), "ASTDT",
                   "ae-phase-date", lambda r: f"induction AE starts {shown(r['ASTDT'])}, on or after maintenance start")
    return P


def cross_table_problems(typed: dict) -> list[Problem]:
    """Rules that span rows or tables, on the typed frames of the readable files."""
    P = []
    if has_columns(typed, "adsl", "USUBJID"):
        P += _adsl_rules(typed["adsl"])
        P += _subject_rules(typed, typed["adsl"]["USUBJID"])
    if "adtte" in typed:
        P += _tte_rules(typed)
    P += _date_rules(typed)
    return P


#: the text columns study_problems reads and shows (with the table's CONTEXT column); only these are
#: kept to the end of a validation, not the whole text tables
STUDY_COLUMNS = ("STUDYID", "USUBJID", "PARAMCD")


def study_problems(raw: dict) -> list[Problem]:
    """One study per snapshot: every STUDYID equals the snapshot's (its most frequent value); every
    subject of a row the analyses do not read (another PARAMCD) is in ADSL too."""
    P: list[Problem] = []
    ids = pd.concat([df["STUDYID"] for df in raw.values() if "STUDYID" in df]) if raw else pd.Series()
    study = ids.dropna().mode()
    for table, df in raw.items():
        if len(study) and "STUDYID" in df:
            P += _mask(table, df, df["STUDYID"].notna() & (df["STUDYID"] != study.iloc[0]), "STUDYID",
                       "studyid-single", lambda r: f"study {r['STUDYID']!r} differs from the snapshot's "
                       f"{study.iloc[0]!r} (one study per snapshot, the same in every table)")
        other = split_params(table, df)[1]
        if len(other) and "adsl" in raw and "USUBJID" in raw["adsl"]:
            P += _mask(table, other, ~other["USUBJID"].isin(raw["adsl"]["USUBJID"].dropna().unique())
                       & other["USUBJID"].notna(), "USUBJID", "subject-not-in-adsl", "subject is not in adsl.csv")
    return P


# ---- the entry points ----------------------------------------------------------------------

def validate_snapshot(folder: Path, cut: str | None = None, manifest: bool = True) -> list[Problem]:
    """Every problem of the snapshot in ``folder`` (empty list: the snapshot is valid).

    ``cut`` is the expected snapshot id / cut-off date; by default the folder's name when it is a
    date, else the manifest's ``cutoff_date``. ``manifest=False`` skips the manifest (a folder of
    CSVs not yet registered; then ``cut`` should be given for the cut-off checks).
    """
    folder = Path(folder)
    problems: list[Problem] = []
    if not folder.is_dir():
        return [Problem(str(folder), "missing-folder", "snapshot folder does not exist")]
    man = None
    if manifest:
        man, problems = manifest_checks(folder, cut)
    cut_text = cut or (folder.name if CUT_PATTERN.match(folder.name) else None) or (man or {}).get("cutoff_date")
    try:
        cutoff = pd.Timestamp(dt.date.fromisoformat(str(cut_text))) if cut_text else None
    except ValueError:
        cutoff = None
    raw, typed = {}, {}
    for name in DATA_FILES:
        table = name[:-4]
        df, read_problems = read_table(folder / name)
        if df is None:
            problems += [Problem(p.file, p.rule, p.message + "; checks that need this file were skipped",
                                 p.column, p.rows, p.subjects, p.context) for p in read_problems]
            continue
        problems += read_problems
        raw[table] = df[[c for c in dict.fromkeys(STUDY_COLUMNS + (CONTEXT.get(table),)) if c in df]]
        read, other = split_params(table, df)  # another PARAMCD: kept, only its ids are checked
        problems += schema_problems(table, read, cutoff)
        if len(other):
            problems += schema_problems(table, other, cutoff, only=("STUDYID", "USUBJID"))
        typed[table] = coerce_types(table, read, errors="coerce")
    problems += cross_table_problems(typed)
    problems += study_problems(raw)
    logger.debug("validated %s: %d problem(s)", folder, len(problems))
    return problems


def check_snapshot(folder: Path, cut: str | None = None) -> None:
    """Raise ValidationError listing every problem of the snapshot in ``folder``; None if valid."""
    problems = validate_snapshot(folder, cut)
    if problems:
        raise ValidationError(problems)


# ---- command line: `ixathaldex validate DIR [DIR...]` -----------------------------------------

def configure_parser(parser) -> None:
    parser.add_argument("folders", nargs="+", type=Path, metavar="DIR", help="snapshot folder(s)")
    parser.add_argument("--cut", default=None, help="expected cut-off date (default: the folder name)")
    parser.add_argument("--no-manifest", action="store_true",
                        help="check a folder of CSVs that has no manifest yet (give --cut)")
    parser.add_argument("--across-cuts", action="store_true",
                        help="also check that each later folder keeps the past of the earlier one "
                             "(events, censoring, adverse events, baseline); folders sorted by name")


def run(args) -> int:
    """Print every problem of each folder and a summary; 1 if any problem, else 0. Writes nothing."""
    total = 0
    for folder in args.folders:
        problems = validate_snapshot(folder, args.cut, manifest=not args.no_manifest)
        for p in problems:
            print(f"{folder}: {p}")
        for note in snapshot_notes(folder):
            print(f"{folder}: {note}")
        if problems:
            rules = len({p.rule for p in problems})
            print(f"{folder}: FAILED — {len(problems)} problem(s), {rules} rule(s) broken")
        else:
            print(f"{folder}: OK — all data rules pass")
        total += len(problems)
    if getattr(args, "across_cuts", False):
        folders = sorted(args.folders, key=lambda f: Path(f).name)
        for earlier, later in zip(folders, folders[1:]):
            problems = cut_consistency_problems(earlier, later)
            for p in problems:
                print(f"{later} vs {Path(earlier).name}: {p}")
            verdict = f"{len(problems)} problem(s)" if problems else "OK — the later cut keeps the past"
            print(f"{later} vs {Path(earlier).name}: {verdict}")
            total += len(problems)
    if len(args.folders) > 1:
        bad = "all snapshots valid" if not total else f"{total} problem(s) in total"
        print(f"{len(args.folders)} snapshot(s) checked: {bad}")
    return 1 if total else 0
