"""Two cuts of one trial: a later cut never rewrites the past of an earlier one.

``cut_consistency_problems(earlier, later)`` is run by ``ixathaldex validate --across-cuts`` (and by
the tests of the synthetic cuts); the rules are listed in ``docs/validation.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ixathaldex.data.manifest import DATA_FILES
from ixathaldex.data.schema import FISH_COLUMNS, Problem, coerce_types, has_columns, read_table, row_problems, shown

BASELINE = ("ITTFL", "TRTSDT", "AGE", "AGEGR1", "SEX", "ISS", "ECOG", "MMTYPE", "FISHFL", *FISH_COLUMNS,
            "PRLINES", "PIEXPFL", "IMIDEXFL", "LENEXPFL", "LENREFFL", "THALEXFL", "THALREFL", "BTZEXPFL",
            "BTZREFFL", "ASCTFL", "FLTSTDT", "HGB", "ALB", "GFR", "FRAILTY")


def _load_typed(folder: Path) -> dict:
    out = {}
    for name in DATA_FILES:
        df, _ = read_table(Path(folder) / name)
        if df is not None:
            out[name[:-4]] = coerce_types(name[:-4], df, errors="coerce")
    return out


def _differs(a: pd.Series, b: pd.Series) -> pd.Series:
    return ~((a == b).fillna(False) | (a.isna() & b.isna()))


def cut_consistency_problems(earlier: Path, later: Path) -> list[Problem]:
    """What a later cut changed in the past of an earlier one (files named are the later cut's).

    Kept: every earlier subject, baseline values, every event (PFS/OS date, CNSR=0, EVNTDESC), the
    end-of-treatment record once treatment ended, every adverse event (term, phase, start date; the
    grade may only rise). Censoring dates may only move later.
    """
    E, L = _load_typed(earlier), _load_typed(later)
    P: list[Problem] = []
    if not (has_columns(E, "adsl", "USUBJID") and has_columns(L, "adsl", "USUBJID")):
        return [Problem("adsl.csv", "cut-unreadable", "cannot compare cuts: ADSL unreadable in one of them")]
    ea, la = E["adsl"].drop_duplicates("USUBJID"), L["adsl"]
    P += row_problems("adsl", ea, np.flatnonzero(~ea["USUBJID"].isin(la["USUBJID"])), "USUBJID",
                       "cut-subject-dropped", f"subject of the earlier cut {Path(earlier).name} (line number of that cut's file) is missing from the later cut")
    m = la.reset_index().merge(ea, on="USUBJID", suffixes=("", "_E")).set_index("index")
    done = m["EOTSTT_E"].isin(["COMPLETED", "DISCONTINUED"]) if "EOTSTT_E" in m else False
    for col in BASELINE + ("EOTSTT", "TRTEDT", "DCSREAS"):
        if col in m and f"{col}_E" in m:
            bad = _differs(m[col], m[f"{col}_E"]) & (done if col in ("EOTSTT", "TRTEDT", "DCSREAS") else True)
            P += row_problems("adsl", la, la.index.get_indexer(m.index[bad.to_numpy()]), col, "cut-changed-past",
                               lambda r, c=col, m=m: f"{c} {shown(r[c])} differs from the earlier cut "
                               f"({shown(m.loc[m['USUBJID'] == r['USUBJID'], c + '_E'].iloc[0])})")
    for table, keys, fixed, rule in (("adtte", ["USUBJID", "PARAMCD"], ("ADT", "CNSR", "EVNTDESC"), "cut-moved-event"),
                                     ("adae", ["USUBJID", "AESEQ"], ("AEDECOD", "APHASE", "ASTDT"), "cut-moved-ae")):
        if not (has_columns(E, table, *keys, *fixed) and has_columns(L, table, *keys, *fixed)):
            continue
        e, l = E[table].drop_duplicates(keys), L[table]
        j = e.merge(l.reset_index(), on=keys, how="left", suffixes=("_E", ""), indicator=True)
        gone = j["_merge"] == "left_only"
        P += row_problems(table, e, np.flatnonzero(gone.to_numpy()), keys[-1], rule,
                           f"record of the earlier cut {Path(earlier).name} (line number of that cut's file) is missing from the later cut")
        j = j[~gone].set_index("index")
        scope = (j["CNSR_E"] == 0) if table == "adtte" else True
        for col in fixed:
            bad = (_differs(j[col], j[f"{col}_E"]) & scope).to_numpy()
            lx = l.assign(_E=j[f"{col}_E"].groupby(level=0).first())
            P += row_problems(table, lx, l.index.get_indexer(j.index[bad]), col, rule,
                               lambda r, c=col: f"{c} {shown(r[c])} differs from the earlier cut's {shown(r['_E'])}")
        later_col = "ADT" if table == "adtte" else "AETOXGR"
        bad = (j[later_col] < j[f"{later_col}_E"]).fillna(False).to_numpy()
        P += row_problems(table, l, l.index.get_indexer(j.index[bad]), later_col, rule,
                           lambda r, c=later_col: f"{c} {shown(r[c])} is earlier/lower than in the earlier cut")
    return P
