"""A small, hand-made, fully valid snapshot for tests (8 patients), plus helpers to break copies.

    from snapshot_factory import write_valid_snapshot, edit_csv
    snap = write_valid_snapshot(tmp_path)            # -> tmp_path / "2019-01-31"
    edit_csv(snap, "adtte.csv", lambda df: df.assign(CNSR="2"))   # re-writes the manifest

``write_valid_snapshot(folder, cut)`` writes into ``folder / cut`` (or into ``folder`` itself when
its name already is ``cut``) and returns the snapshot folder. All dates are offsets from the cut,
so any cut date gives a valid snapshot. The patients cover: completed maintenance, progression and
death, death as a PFS event, on-going induction, on-going maintenance, withdrawal, entered
maintenance but never treated, FISH done and not done, age ≥ 75.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from ixathaldex.data.manifest import write_manifest

S = "IXATHALDEX"
# id, sex, age, iss, fish (T414,T1416,DEL17P,GAIN1Q or None), prlines, indcyc, mntfl, mntsaffl, mntcyc,
# eotstt, dcsreas, trt start offset (days before cut), last-dose day (None: ongoing)
PATIENTS = [
    ("001", "M", 67.3, "I", ("N", "N", "N", "Y"), 1, 8, "Y", "Y", 12, "COMPLETED", None, 880, 560),
    ("002", "F", 78.1, "II", None, 3, 4, "N", "N", 0, "DISCONTINUED", "PROGRESSIVE DISEASE", 800, 112),
    ("003", "M", 59.0, "III", ("Y", "N", "N", "N"), 2, 1, "N", "N", 0, "DISCONTINUED", "ADVERSE EVENT", 700, 20),
    ("004", "F", 72.4, "I", ("N", "N", "Y", "Y"), 1, 5, "N", "N", 0, "ONGOING", None, 150, None),
    ("005", "M", 75.0, "II", None, 1, 8, "Y", "Y", 4, "ONGOING", None, 350, None),
    ("006", "F", 44.9, "I", ("N", "Y", "N", "Y"), 5, 3, "N", "N", 0, "DISCONTINUED", "WITHDRAWAL BY SUBJECT", 600, 80),
    ("007", "M", 81.6, "III", None, 2, 8, "Y", "N", 0, "DISCONTINUED", "PHYSICIAN DECISION", 500, 224),
    ("008", "F", 63.2, "II", ("N", "N", "N", "N"), 1, 6, "N", "N", 0, "DISCONTINUED", "DEATH", 650, 168),
]
# id -> (PFS day, PFS cnsr, PFS desc, OS day, OS cnsr, OS desc)   (days counted from day 1 = TRTSDT)
SURVIVAL = {
    "001": (840, 1, "CENSORED AT LAST ASSESSMENT", 881, 1, "ALIVE AT LAST CONTACT"),
    "002": (110, 0, "PROGRESSIVE DISEASE", 420, 0, "DEATH"),
    "003": (30, 0, "DEATH", 30, 0, "DEATH"),
    "004": (140, 1, "CENSORED AT LAST ASSESSMENT", 151, 1, "ALIVE AT LAST CONTACT"),
    "005": (330, 1, "CENSORED AT LAST ASSESSMENT", 351, 1, "ALIVE AT LAST CONTACT"),
    "006": (85, 1, "CENSORED AT LAST ASSESSMENT", 590, 1, "ALIVE AT LAST CONTACT"),
    "007": (300, 0, "PROGRESSIVE DISEASE", 501, 1, "ALIVE AT LAST CONTACT"),
    "008": (150, 0, "PROGRESSIVE DISEASE", 170, 0, "DEATH"),
}
# id -> BOR, EOIRESP (only INDCMPFL=Y), MNTBOR (only MNTSAFFL=Y)
RESPONSE = {"001": ("CR", "VGPR", "CR"), "002": ("PR", None, None), "003": ("NE", None, None),
            "004": ("VGPR", None, None), "005": ("PR", "PR", "PR"), "006": ("MR", None, None),
            "007": ("SD", "SD", None), "008": ("PD", None, None)}
AES = [  # id, term, category, grade, phase, start day
    ("001", "Anaemia", "HAEMATOLOGICAL", 2, "INDUCTION", 15), ("001", "Polyneuropathy", "NON-HAEMATOLOGICAL", 1, "INDUCTION", 40),
    ("001", "Upper respiratory infection", "NON-HAEMATOLOGICAL", 2, "MAINTENANCE", 300),
    ("001", "Anaemia", "HAEMATOLOGICAL", 3, "MAINTENANCE", 320),
    ("002", "Fatigue", "NON-HAEMATOLOGICAL", 1, "INDUCTION", 10), ("002", "Thrombocytopenia", "HAEMATOLOGICAL", 3, "INDUCTION", 50),
    ("003", "Sepsis", "NON-HAEMATOLOGICAL", 5, "INDUCTION", 18),
    ("004", "Constipation", "NON-HAEMATOLOGICAL", 1, "INDUCTION", 30),
    ("005", "Leukopenia", "HAEMATOLOGICAL", 2, "INDUCTION", 60), ("005", "Oedema", "NON-HAEMATOLOGICAL", 1, "MAINTENANCE", 260),
    ("006", "Nausea", "NON-HAEMATOLOGICAL", 2, "INDUCTION", 5),
    ("007", "Pain", "NON-HAEMATOLOGICAL", 3, "INDUCTION", 100),
    ("008", "Neutropenia", "HAEMATOLOGICAL", 4, "INDUCTION", 70),
]
MNT_START_DAY = 225  # maintenance day 1 (after 8 induction cycles of 28 days)


def _day(start: dt.date, day: int) -> str:
    """ISO date of study day ``day`` (day 1 = start)."""
    return (start + dt.timedelta(days=day - 1)).isoformat()


def build_tables(cut: str = "2019-01-31") -> dict[str, pd.DataFrame]:
    """The four tables of the valid snapshot as all-string DataFrames (empty cell = None)."""
    cutoff = dt.date.fromisoformat(cut)
    adsl, adtte, adrs, adae = [], [], [], []
    start = {}
    for (pid, sex, age, iss, fish, prl, indcyc, mntfl, mntsaf, mntcyc, eot, reas, offset, last) in PATIENTS:
        uid = f"{S}-01-{pid}"
        t0 = cutoff - dt.timedelta(days=offset)
        start[pid] = t0
        adsl.append({
            "STUDYID": S, "USUBJID": uid, "ITTFL": "Y", "PPROTFL": "Y" if indcyc >= 2 else "N",
            "TRTSDT": t0.isoformat(), "TRTEDT": _day(t0, last) if last else None,
            "AGE": f"{age:.1f}", "AGEGR1": ">=75" if age >= 75 else "<75", "SEX": sex, "ISS": iss,
            "ECOG": "2" if pid == "007" else "1", "MMTYPE": ("IgG", "IgA", "Light chain only")[int(pid) % 3],
            "FISHFL": "Y" if fish else "N",
            **dict(zip(("T414", "T1416", "DEL17P", "GAIN1Q"), fish or (None,) * 4)),
            "PRLINES": str(prl), "PIEXPFL": "Y", "IMIDEXFL": "Y" if prl > 1 else "N",
            "LENEXPFL": "Y" if prl > 1 else "N", "LENREFFL": "Y" if prl > 2 else "N",
            "THALEXFL": "N", "THALREFL": "N", "BTZEXPFL": "Y", "BTZREFFL": "Y" if prl > 4 else "N",
            "ASCTFL": "Y" if age < 70 else "N", "FLTSTDT": (t0 - dt.timedelta(days=400 * prl)).isoformat(),
            "HGB": "95.0" if pid in ("002", "008") else "118.0", "ALB": None if pid == "006" else "36.5",
            "GFR": "48.0" if iss == "III" else "75.0", "FRAILTY": ("FIT", "UNFIT", "FRAIL")[int(pid) % 3],
            "INDCYC": str(indcyc), "INDCMPFL": "Y" if indcyc == 8 else "N", "MNTFL": mntfl,
            "MNTSAFFL": mntsaf, "MNTSDT": _day(t0, MNT_START_DAY) if mntsaf == "Y" else None,
            "MNTCYC": str(mntcyc), "MNTCMPFL": "Y" if mntcyc == 12 else "N", "EOTSTT": eot, "DCSREAS": reas,
        })
        pfs_d, pfs_c, pfs_e, os_d, os_c, os_e = SURVIVAL[pid]
        for code, label, d, c, e in (("PFS", "Progression-free survival", pfs_d, pfs_c, pfs_e),
                                     ("OS", "Overall survival", os_d, os_c, os_e)):
            adtte.append({"STUDYID": S, "USUBJID": uid, "PARAMCD": code, "PARAM": label,
                          "STARTDT": t0.isoformat(), "ADT": _day(t0, d), "AVAL": str(d), "CNSR": str(c),
                          "EVNTDESC": e})
        bor, eoi, mbor = RESPONSE[pid]
        for code, label, val, day in (("BOR", "Best overall response", bor, 60),
                                      ("EOIRESP", "Response at end of induction", eoi, 224),
                                      ("MNTBOR", "Best response during maintenance", mbor, 280)):
            if val:
                adrs.append({"STUDYID": S, "USUBJID": uid, "PARAMCD": code, "PARAM": label, "AVALC": val,
                             "ADT": None if val == "NE" else _day(t0, min(day, SURVIVAL[pid][3]))})
    seq = {}
    for pid, term, cat, grade, phase, day in AES:
        seq[pid] = seq.get(pid, 0) + 1
        adae.append({"STUDYID": S, "USUBJID": f"{S}-01-{pid}", "AESEQ": str(seq[pid]), "AEDECOD": term,
                     "AECAT": cat, "AETOXGR": str(grade), "APHASE": phase, "ASTDT": _day(start[pid], day)})
    return {k: pd.DataFrame(v) for k, v in
            (("adsl", adsl), ("adtte", adtte), ("adrs", adrs), ("adae", adae))}


def rewrite_manifest(folder: Path) -> dict:
    """Re-write ``folder``'s manifest for its current files (id and cut-off from the folder name)."""
    folder = Path(folder)
    return write_manifest(folder, folder.name, "Test snapshot (hand-made)", True,
                          {"generator": "tests/snapshot_factory.py", "generator_version": "1", "seed": 0})


def write_valid_snapshot(folder: Path, cut: str = "2019-01-31") -> Path:
    """Write the valid 8-patient snapshot with its manifest; return the snapshot folder."""
    folder = Path(folder)
    snap = folder if folder.name == cut else folder / cut
    snap.mkdir(parents=True, exist_ok=True)
    for name, df in build_tables(cut).items():
        df.to_csv(snap / f"{name}.csv", index=False, lineterminator="\n")
    write_manifest(snap, cut, "Test snapshot (hand-made)", True,
                   {"generator": "tests/snapshot_factory.py", "generator_version": "1", "seed": 0})
    return snap


def read_csv(folder: Path, name: str) -> pd.DataFrame:
    """A snapshot file as all-string columns (empty cell = NaN), as the validator reads it."""
    return pd.read_csv(Path(folder) / name, dtype=str, keep_default_na=False, na_values=[""])


def edit_csv(folder: Path, name: str, change, manifest: bool = True) -> None:
    """Apply ``change(df) -> df`` (or in-place, returning None) to a file; re-write the manifest."""
    df = read_csv(folder, name)
    out = change(df)
    (df if out is None else out).to_csv(Path(folder) / name, index=False, lineterminator="\n")
    if manifest:
        rewrite_manifest(folder)


def set_cell(folder: Path, name: str, subject: str, column: str, value, where: dict | None = None) -> int:
    """Set ``column`` for the rows of ``subject`` (and ``where`` column=value); return the CSV line."""
    df = read_csv(folder, name)
    mask = df["USUBJID"] == f"{S}-01-{subject}"
    for k, v in (where or {}).items():
        mask &= df[k] == v
    assert mask.any(), (name, subject, where)
    df.loc[mask, column] = value
    df.to_csv(Path(folder) / name, index=False, lineterminator="\n")
    rewrite_manifest(folder)
    return int(mask.to_numpy().nonzero()[0][0]) + 2
