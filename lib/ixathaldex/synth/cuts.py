"""Synthetic cohort, the cut: the ADaM tables of the latent cohort at a date, and their files.

``cut_tables`` turns the latent cohort of ``ixathaldex.synth.cohort`` into the four ADaM tables seen
at a cut (whatever happens after the cut is censored at it); ``stage_cut`` writes and validates
one cut in a temporary folder and ``publish_cuts`` moves staged cuts into place (snapshots are
immutable).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ixathaldex.data.manifest import write_manifest
from ixathaldex.data.validate import check_snapshot
from ixathaldex.exceptions import SnapshotError
from ixathaldex.log import logger
from ixathaldex.synth.cohort import (
    ACCRUAL_START,
    AE_TABLE,
    CUT_PUBLICATION,
    CYCLE,
    IND_END,
    IND_PD,
    MNT_COMPLETE,
    MNT_END,
    MNT_ONGOING,
    MNT_PD,
    MNT_START,
    MONTH,
    NE,
    NODOSE_OTHER,
    NODOSE_PD,
    PD,
    R_NONE,
    R_PD,
    REASONS,
    RESP,
    STUDYID,
    Latent,
)

# ---- the cut ---------------------------------------------------------------------------------

def _dates(base: dt.date, days: np.ndarray) -> np.ndarray:
    """ISO strings of ``base + days`` (vectorised)."""
    d = np.datetime64(base) + days.astype("timedelta64[D]")
    return np.datetime_as_string(d, unit="D")


def course_at(lat: Latent, fu: np.ndarray) -> dict:
    """Treatment course seen at a cut where each patient has ``fu`` days of follow-up."""
    cls, pfs = lat.cls, lat.pfs
    main = (cls == MNT_PD) | (cls == MNT_COMPLETE) | (cls == MNT_ONGOING)
    pd_main = main & (pfs <= np.minimum(fu, MNT_END))
    comp_main = main & ~pd_main & (fu >= MNT_END)
    ong_main = main & ~pd_main & ~comp_main
    stop = np.select([cls == IND_PD, cls == NODOSE_PD, pd_main, comp_main],
                     [pfs, np.full_like(pfs, IND_END), pfs, np.full_like(pfs, MNT_END)], lat.stop)
    fixed_ong = ~main & (stop > fu)
    ongoing = ong_main | fixed_ong
    status = np.where(ongoing, "ONGOING", np.where(comp_main, "COMPLETED", "DISCONTINUED"))
    reason = np.where(pd_main, R_PD, lat.reason)
    reason = np.where(ongoing | comp_main, R_NONE, reason)
    mntcyc = np.select(
        [cls <= NODOSE_OTHER, pd_main, comp_main, ong_main],
        [np.zeros_like(pfs), (pfs - 1 - IND_END) // CYCLE, np.full_like(pfs, 12),
         np.minimum((fu - IND_END) // CYCLE, 11)],
        np.clip((lat.stop - IND_END) // CYCLE, 0, 12))
    mntcyc = np.maximum(mntcyc, 0)
    return {"stop": stop, "status": status, "reason": reason, "mntcyc": mntcyc,
            "ongoing": ongoing, "completed": comp_main}


def usubjids(lat: Latent) -> np.ndarray:
    """Subject ids IXATHALDEX-<site>-<nnn>, numbered in enrolment order within each site."""
    order = np.lexsort((np.arange(lat.n), lat.enrol, lat.site))
    site_sorted = lat.site[order]
    start = np.r_[0, np.flatnonzero(site_sorted[1:] != site_sorted[:-1]) + 1]
    seq = np.arange(lat.n) - np.repeat(start, np.diff(np.r_[start, lat.n]))
    width = max(3, len(str(lat.n)))
    ids = np.empty(lat.n, dtype=object)
    ids[order] = [f"{STUDYID}-{s}-{q + 1:0{width}d}" for s, q in zip(site_sorted, seq)]
    return ids


def _flag(x) -> np.ndarray:
    return np.where(np.asarray(x, bool), "Y", "N")


def _tri(x) -> np.ndarray:
    return np.select([x == 1, x == 0], ["Y", "N"], "")


def _adsl(lat: Latent, ids: np.ndarray, start: np.ndarray, c: dict) -> pd.DataFrame:
    """ADSL at the cut: one row per patient, in enrolment order (sorted by the caller)."""
    trted = np.where(c["ongoing"], "", _dates(ACCRUAL_START, lat.enrol + c["stop"] - 1))
    mntfl = lat.cls >= NODOSE_PD
    fltsdt = np.datetime_as_string(start - np.round(lat.mfl * MONTH).astype("timedelta64[D]"), unit="D")
    return pd.DataFrame({
        "STUDYID": STUDYID, "USUBJID": ids, "ITTFL": "Y", "PPROTFL": _flag(lat.pp),
        "TRTSDT": np.datetime_as_string(start, unit="D"), "TRTEDT": trted,
        "AGE": np.char.mod("%.1f", lat.age), "AGEGR1": np.where(lat.age >= 75, ">=75", "<75"),
        "SEX": lat.sex, "ISS": np.array(["", "I", "II", "III"])[lat.iss], "ECOG": lat.ecog,
        "MMTYPE": lat.mmtype, "FISHFL": _flag(lat.fishfl), "T414": _tri(lat.t414),
        "T1416": _tri(lat.t1416), "DEL17P": _tri(lat.del17p), "GAIN1Q": _tri(lat.gain1q),
        "PRLINES": lat.prlines, "PIEXPFL": _flag(lat.pi), "IMIDEXFL": _flag(lat.imid),
        "LENEXPFL": _flag(lat.len_), "LENREFFL": _flag(lat.lenref), "THALEXFL": _flag(lat.thal),
        "THALREFL": _flag(lat.thalref), "BTZEXPFL": _flag(lat.btz), "BTZREFFL": _flag(lat.btzref),
        "ASCTFL": _flag(lat.asct), "FLTSTDT": fltsdt,
        "HGB": np.char.mod("%.0f", lat.hgb),
        "ALB": np.where(np.isnan(lat.alb), "", np.char.mod("%.1f", np.nan_to_num(lat.alb))),
        "GFR": np.char.mod("%.1f", lat.gfr),
        "FRAILTY": np.array(["FIT", "UNFIT", "FRAIL"])[lat.frail],
        "INDCYC": lat.indcyc, "INDCMPFL": _flag(lat.indcyc == 8), "MNTFL": _flag(mntfl),
        "MNTSAFFL": _flag(lat.cls >= MNT_PD),
        "MNTSDT": np.where(mntfl, _dates(ACCRUAL_START, lat.enrol + MNT_START - 1), ""),
        "MNTCYC": c["mntcyc"], "MNTCMPFL": _flag(c["completed"]), "EOTSTT": c["status"],
        "DCSREAS": REASONS[c["reason"]],
    })


def _adtte(lat: Latent, ids: np.ndarray, start: np.ndarray, fu: np.ndarray) -> pd.DataFrame:
    """ADTTE at the cut: PFS and OS per patient, censored at the cut."""
    n = lat.n
    trtsdt = np.datetime_as_string(start, unit="D")
    pfs_ev = lat.pfs <= fu
    os_ev = lat.os <= fu
    pfs_aval = np.where(pfs_ev, lat.pfs, fu)
    os_aval = np.where(os_ev, lat.os, fu)
    pfs_desc = np.where(pfs_ev, np.where(lat.dnp, "DEATH", "PROGRESSIVE DISEASE"),
                        "CENSORED AT LAST ASSESSMENT")
    os_desc = np.where(os_ev, "DEATH", "ALIVE AT LAST CONTACT")
    adtte = pd.DataFrame({
        "STUDYID": STUDYID, "USUBJID": np.concatenate([ids, ids]),
        "PARAMCD": np.repeat(["PFS", "OS"], n),
        "PARAM": np.repeat(["Progression-free survival", "Overall survival"], n),
        "STARTDT": np.concatenate([trtsdt, trtsdt]),
        "ADT": _dates(ACCRUAL_START, np.concatenate([lat.enrol + pfs_aval - 1, lat.enrol + os_aval - 1])),
        "AVAL": np.concatenate([pfs_aval, os_aval]),
        "CNSR": np.concatenate([(~pfs_ev).astype(int), (~os_ev).astype(int)]),
        "EVNTDESC": np.concatenate([pfs_desc, os_desc]),
    })
    return adtte.iloc[np.lexsort((np.r_[np.zeros(n), np.ones(n)], adtte["USUBJID"].to_numpy()))]


def _adrs(lat: Latent, ids: np.ndarray, fu: np.ndarray, c: dict) -> pd.DataFrame:
    """ADRS at the cut: best response, response at the end of induction, best maintenance response."""
    n = lat.n
    bor_day = np.select([lat.upg_day > 0, lat.bor == PD, lat.bor == NE],
                        [lat.upg_day, lat.pfs, np.minimum(c["stop"], fu)], lat.resp_day)
    comp = lat.indcyc == 8
    mntsaf = lat.cls >= MNT_PD
    recs = [
        (np.arange(n), "BOR", "Best overall response", lat.bor, bor_day),
        (np.flatnonzero(comp), "EOIRESP", "Response at end of induction", lat.eoi[comp],
         np.full(comp.sum(), IND_END)),
        (np.flatnonzero(mntsaf), "MNTBOR", "Best response during maintenance", lat.mnt[mntsaf],
         np.where(lat.upg_day[mntsaf] > 0, lat.upg_day[mntsaf], MNT_START)),
    ]
    parts = []
    for idx, code, label, val, day in recs:
        parts.append(pd.DataFrame({
            "STUDYID": STUDYID, "USUBJID": ids[idx], "PARAMCD": code, "PARAM": label,
            "AVALC": RESP[val], "ADT": _dates(ACCRUAL_START, lat.enrol[idx] + day - 1),
            "_o": {"BOR": 0, "EOIRESP": 1, "MNTBOR": 2}[code]}))
    adrs = pd.concat(parts, ignore_index=True)
    return adrs.sort_values(["USUBJID", "_o"], kind="stable").drop(columns="_o")


def _adae(lat: Latent, ids: np.ndarray, start: np.ndarray, fu: np.ndarray) -> pd.DataFrame:
    """ADAE at the cut: the latent events that started on or before it."""
    ae = lat.ae
    p = ae["pat"]
    # event dates are latent: placed within the treatment course seen at the publication cut, so
    # that a later cut shows the same events on the same dates
    fu0 = (np.datetime64(CUT_PUBLICATION) - start).astype(int) + 1
    c0 = course_at(lat, fu0)
    ind_last = np.where(lat.indcyc == 8, IND_END, np.minimum(c0["stop"], fu0))[p]
    mnt_last = np.minimum(np.where(c0["ongoing"], fu0, c0["stop"]), fu0)[p]
    lo = np.where(ae["phase"] == 1, MNT_START, 1)
    hi = np.where(ae["phase"] == 1, mnt_last, ind_last)
    hi = np.maximum(hi, lo)
    day = lo + np.floor(ae["frac"] * (hi - lo + 1)).astype(int)
    day = np.minimum(day, hi)
    terms = np.array([t[0] for t in AE_TABLE])
    haem = np.array([t[1] for t in AE_TABLE])
    adae = pd.DataFrame({
        "STUDYID": STUDYID, "USUBJID": ids[p], "_day": day, "_t": ae["term"],
        "AEDECOD": terms[ae["term"]],
        "AECAT": np.where(haem[ae["term"]], "HAEMATOLOGICAL", "NON-HAEMATOLOGICAL"),
        "AETOXGR": ae["grade"], "APHASE": np.where(ae["phase"] == 1, "MAINTENANCE", "INDUCTION"),
        "ASTDT": _dates(ACCRUAL_START, lat.enrol[p] + day - 1),
    })
    adae = adae[adae["_day"] <= fu[p]]
    adae = adae.sort_values(["USUBJID", "_day", "_t", "AETOXGR"], kind="stable")
    adae.insert(2, "AESEQ", adae.groupby("USUBJID").cumcount() + 1)
    return adae.drop(columns=["_day", "_t"])


def cut_tables(lat: Latent, cut: dt.date) -> dict:
    """The four ADaM tables of the latent cohort cut at ``cut`` (vectorised over patients)."""
    ids = usubjids(lat)
    start = np.datetime64(ACCRUAL_START) + lat.enrol.astype("timedelta64[D]")
    fu = (np.datetime64(cut) - start).astype(int) + 1
    c = course_at(lat, fu)
    adsl = _adsl(lat, ids, start, c).sort_values("USUBJID", kind="stable")
    return {"adsl": adsl.reset_index(drop=True),
            "adtte": _adtte(lat, ids, start, fu).reset_index(drop=True),
            "adrs": _adrs(lat, ids, fu, c).reset_index(drop=True),
            "adae": _adae(lat, ids, start, fu).reset_index(drop=True)}


# ---- writing ---------------------------------------------------------------------------------

def write_tables(tables: dict, folder: Path) -> None:
    """Write the four CSVs (UTF-8, LF, no index) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")


def stage_cut(lat: Latent, cut: dt.date, label: str, out: Path, provenance: dict,
              report: str | None = None, report_json: dict | None = None) -> Path:
    """Write one cut into a temporary folder under ``out`` and validate it; returns the folder."""
    cut_id = cut.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"_tmp-{cut_id}-", dir=out))
    try:
        write_tables(cut_tables(lat, cut), tmp)
        write_manifest(tmp, cut_id, label, synthetic=True, provenance=provenance)
        check_snapshot(tmp, cut=cut_id)  # never publish a cut that breaks a data rule
        write_report(tmp, report, report_json)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def write_report(folder: Path, report: str | None = None, report_json: dict | None = None) -> None:
    """``calibration.md`` and ``calibration.json`` of a cut (outside its manifest: the data's checksums
    do not depend on the report)."""
    if report is not None:
        (folder / "calibration.md").write_text(report, encoding="utf-8")
    if report_json is not None:
        (folder / "calibration.json").write_text(
            json.dumps(report_json, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _same_tree(a: Path, b: Path) -> bool:
    fa = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    return fa == fb and all((a / f).read_bytes() == (b / f).read_bytes() for f in fa)


def publish_cuts(staged: list[tuple[Path, Path]], force: bool = False) -> None:
    """Move staged cuts into place. An existing cut with different content is refused unless
    ``force`` (snapshots are immutable once published); identical content is left as it is."""
    try:
        differ = [dest for tmp, dest in staged if dest.exists() and not _same_tree(tmp, dest)]
        if differ and not force:
            raise SnapshotError(
                "existing snapshot(s) would change: " + ", ".join(str(d) for d in differ)
                + " (snapshots are immutable; write elsewhere with --out, or pass --force while the "
                  "cuts are not yet published); nothing was written")
        for tmp, dest in staged:
            if dest.exists() and _same_tree(tmp, dest):
                logger.info("unchanged %s", dest)
                continue
            if dest.exists():
                shutil.rmtree(dest)
            tmp.rename(dest)
            logger.info("wrote %s", dest)
    finally:
        for tmp, _ in staged:
            if tmp.exists():
                shutil.rmtree(tmp)
