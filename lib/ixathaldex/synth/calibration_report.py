"""Calibration report: every printed count of a cut, recomputed from its tables, and the report.

``count_checks`` recounts each count the paper prints (Tables 1, 2A, 2B, 3, FISH, IMiD exposure,
patient flow) from the four CSV tables of one cut; ``evaluate_cut`` adds the survival targets of
``ixathaldex.synth.calibration`` at that cut; ``render_report`` writes ``calibration.md`` /
``calibration.json`` of a snapshot. The search itself is in ``ixathaldex.synth.calibration``; readings of
the paper are in ``docs/calibration.md``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact

from ixathaldex.synth import cohort as S
from ixathaldex.claims.precision import printed_number
from ixathaldex.synth import conflicts, logrank_finish, pairs, reproduction, targets
from ixathaldex.synth.calibration import exact, score
from ixathaldex.synth.cohort import MONTH
from ixathaldex.synth.cuts import cut_tables

# ---- counts of a cut, recomputed from its tables ----------------------------------------------

def _check(cid: str, label: str, target, value) -> dict:
    return {"id": cid, "label": label, "target": target, "value": value, "ok": bool(value == target)}


def _yes(a: pd.DataFrame, col: str) -> pd.Series:
    return a[col] == "Y"


def _fish_groups(a: pd.DataFrame) -> dict:
    """The FISH groups of Tables 1 and 2B as boolean masks over ADSL."""
    fish = _yes(a, "FISHFL")
    hr = fish & (_yes(a, "T414") | _yes(a, "DEL17P") | _yes(a, "T1416"))
    g1 = fish & _yes(a, "GAIN1Q")
    return {"fish": fish, "hr": hr, "g1": g1, "g0": fish & (a["GAIN1Q"] == "N"), "any": hr | g1}


def _table1_counts(a: pd.DataFrame) -> list[dict]:
    """Table 1: population, sex, ISS, type, ECOG and age."""
    out = [_check("n_itt", "ITT patients", 90, int(_yes(a, "ITTFL").sum()))]
    for col, vals in (("SEX", {"M": 46, "F": 44}), ("ISS", {"I": 37, "II": 30, "III": 23}),
                      ("MMTYPE", {"IgG": 47, "IgA": 20, "Light chain only": 23})):
        for v, t in vals.items():
            out.append(_check(f"t1_{col}_{v}", f"Table 1 {col} {v}", t, int((a[col].astype(str) == v).sum())))
    ecog = pd.to_numeric(a["ECOG"])
    out.append(_check("t1_ecog01", "Table 1 ECOG 0-1", 86, int((ecog <= 1).sum())))
    out.append(_check("t1_ecog2", "Table 1 ECOG 2", 4, int((ecog == 2).sum())))
    age = pd.to_numeric(a["AGE"])
    out.append(_check("t1_age_median", "Table 1 age median (1 decimal)", 67.3, round(float(age.median()), 1)))
    out.append(_check("t1_age_min", "Table 1 age minimum (rounded)", 44, int(round(age.min()))))
    out.append(_check("t1_age_max", "Table 1 age maximum (rounded)", 84, int(round(age.max()))))
    return out


def _fish_counts(a: pd.DataFrame, g: dict) -> list[dict]:
    """Table 1 cytogenetics and the FISH paragraph."""
    fish = g["fish"]
    return [
        _check("fish_n", "FISH evaluable", 61, int(fish.sum())),
        _check("fish_t414", "t(4;14)", 13, int(_yes(a, "T414").sum())),
        _check("fish_del17p", "del(17p)", 6, int(_yes(a, "DEL17P").sum())),
        _check("fish_t1416_g1", "t(14;16) with gain 1q21", 1, int((_yes(a, "T1416") & _yes(a, "GAIN1Q")).sum())),
        _check("fish_t1416", "t(14;16)", 1, int(_yes(a, "T1416").sum())),
        _check("t1_hr", "Table 1 t(4;14) and/or del(17p)", 18,
               int((fish & (_yes(a, "T414") | _yes(a, "DEL17P"))).sum())),
        _check("t1_hr_imwg", "high risk incl. t(14;16)", 18, int(g["hr"].sum())),
        _check("t1_gain1q", "Table 1 gain 1q21", 32, int(g["g1"].sum())),
        _check("t1_none", "Table 1 none", 22, int((fish & ~g["any"]).sum())),
        _check("fish_any", "HR and/or gain 1q21", 39, int(g["any"].sum())),
    ]


def _prior_therapy_counts(a: pd.DataFrame) -> list[dict]:
    """Table 1 prior lines, drug exposure and refractoriness, months since the first line."""
    lines = pd.to_numeric(a["PRLINES"])
    out = [_check("t1_lines12", "prior lines 1-2", 66, int((lines <= 2).sum())),
           _check("t1_lines34", "prior lines 3-4", 15, int(lines.between(3, 4).sum())),
           _check("t1_lines5", "prior lines >=5", 9, int((lines >= 5).sum())),
           _check("t1_lines4p", "prior lines >=4", 18, int((lines >= 4).sum())),
           _check("t1_lines_median", "prior lines median", 1, float(lines.median())),
           _check("t1_lines_max", "prior lines max", 8, int(lines.max()))]
    for col, t in (("PIEXPFL", 85), ("IMIDEXFL", 54), ("LENEXPFL", 42), ("LENREFFL", 14),
                   ("THALEXFL", 12), ("THALREFL", 0), ("BTZEXPFL", 79), ("BTZREFFL", 9), ("ASCTFL", 61)):
        out.append(_check(f"t1_{col}", f"Table 1 {col}", t, int(_yes(a, col).sum())))
    out.append(_check("t1_pi_imid", "PI and IMiD", 50, int((_yes(a, "PIEXPFL") & _yes(a, "IMIDEXFL")).sum())))
    mfl = (pd.to_datetime(a["TRTSDT"]) - pd.to_datetime(a["FLTSTDT"])).dt.days / MONTH
    for q, t in ((0.25, 31), (0.5, 49), (0.75, 87)):
        out.append(_check(f"t1_mfl_q{int(q * 100)}", f"months since first line, quantile {q}", t,
                          int(round(mfl.quantile(q)))))
    return out


def _table2a_counts(bor: np.ndarray, pp: np.ndarray) -> list[dict]:
    """Table 2A: best responses, ORR and CBR in ITT and per-protocol; the per-protocol size."""
    out = []
    for pop, mask, tv in (("ITT", np.ones(len(bor), bool), (8, 13, 25, 9, 46, 55)),
                          ("PP", pp, (8, 13, 25, 6, 46, 52))):
        b = bor[mask]
        vals = [(b == r).sum() for r in ("CR", "VGPR", "PR", "MR")]
        vals += [np.isin(b, ["CR", "VGPR", "PR"]).sum(), np.isin(b, ["CR", "VGPR", "PR", "MR"]).sum()]
        for lab, t, v in zip(("CR", "VGPR", "PR", "MR", "ORR", "CBR"), tv, vals):
            out.append(_check(f"t2a_{pop}_{lab}", f"Table 2A {pop} {lab}", t, int(v)))
    out.append(_check("pp_n", "per-protocol patients", 76, int(pp.sum())))
    return out


def _table2b_counts(a: pd.DataFrame, g: dict, resp: np.ndarray) -> list[dict]:
    """Table 2B: responders by FISH group with Fisher p; the IMiD-naive/exposed split."""
    out = []
    for cid, pos, neg, tp in (("hr", g["hr"], g["fish"] & ~g["hr"], (18, 11, 43, 22, 0.5778)),
                              ("1q", g["g1"], g["g0"], (32, 15, 26, 18, 0.1133)),
                              ("any", g["any"], g["fish"] & ~g["any"], (39, 18, 22, 15, 0.1158))):
        pos, neg = pos.to_numpy(), neg.to_numpy()
        v = (int(pos.sum()), int(resp[pos].sum()), int(neg.sum()), int(resp[neg].sum()))
        for lab, t, x in zip(("n+", "resp+", "n-", "resp-"), tp[:4], v):
            out.append(_check(f"t2b_{cid}_{lab}", f"Table 2B {cid} {lab}", t, x))
        p = fisher_exact([[v[1], v[0] - v[1]], [v[3], v[2] - v[3]]])[1]
        out.append(_check(f"t2b_{cid}_p", f"Table 2B {cid} Fisher p (4 decimals)", tp[4], round(float(p), 4)))
    lt = (_yes(a, "LENEXPFL") | _yes(a, "THALEXFL")).to_numpy()
    return out + [_check("imid_naive_n", "len/thal-naive patients", 37, int((~lt).sum())),
                  _check("imid_naive_resp", "len/thal-naive responders", 24, int(resp[~lt].sum())),
                  _check("imid_exp_n", "len/thal-exposed patients", 53, int(lt.sum())),
                  _check("imid_exp_resp", "len/thal-exposed responders", 22, int(resp[lt].sum()))]


def _flow_counts(a: pd.DataFrame, pp: np.ndarray, cut: str) -> list[dict]:
    """Patient flow: early discontinuations, maintenance flags, status at the cut, durations."""
    nonpp = a[~pp]
    out = []
    for r, t in (("PROGRESSIVE DISEASE", 9), ("ADVERSE EVENT", 2), ("WITHDRAWAL BY SUBJECT", 1),
                 ("PHYSICIAN DECISION", 2)):
        out.append(_check(f"flow_nonpp_{r[:4]}", f"non-PP discontinued: {r}", t, int((nonpp["DCSREAS"] == r).sum())))
    for col, t in (("INDCMPFL", 43), ("MNTFL", 43), ("MNTSAFFL", 41), ("MNTCMPFL", 13)):
        out.append(_check(f"flow_{col}", f"flow {col}", t, int(_yes(a, col).sum())))
    out.append(_check("flow_ongoing", "on therapy at the cut", 10, int((a["EOTSTT"] == "ONGOING").sum())))
    out.append(_check("flow_indcyc_median", "median induction cycles", 6,
                      float(pd.to_numeric(a["INDCYC"]).median())))
    end = pd.to_datetime(a["TRTEDT"]).fillna(pd.Timestamp(cut))
    dur = ((end - pd.to_datetime(a["MNTSDT"])).dt.days + 1)[_yes(a, "MNTSAFFL")] / MONTH
    out.append(_check("flow_mnt_duration", "median maintenance duration, months (rounded)", 7,
                      int(round(dur.median()))))
    return out


def _upgrade_counts(a: pd.DataFrame, rs: pd.DataFrame) -> list[dict]:
    """Responses deepened during maintenance: how many, of which kind, and when."""
    eoi = rs[rs.PARAMCD == "EOIRESP"].set_index("USUBJID")
    mb = rs[rs.PARAMCD == "MNTBOR"].set_index("USUBJID")
    j = mb.join(eoi, lsuffix="_m", rsuffix="_e", how="inner")
    rank = {"CR": 0, "VGPR": 1, "PR": 2, "MR": 3, "SD": 4, "PD": 5, "NE": 6}
    up = j[j.AVALC_m.map(rank) < j.AVALC_e.map(rank)]
    out = [_check("upg_n", "maintenance upgrades", 5, len(up))]
    for e_, m_, t in (("VGPR", "CR", 3), ("PR", "VGPR", 1), ("PR", "CR", 1)):
        out.append(_check(f"upg_{e_}_{m_}", f"upgrades {e_} to {m_}", t,
                          int(((up.AVALC_e == e_) & (up.AVALC_m == m_)).sum())))
    msd = a.set_index("USUBJID")["MNTSDT"]
    mo = (pd.to_datetime(up.ADT_m) - pd.to_datetime(msd.reindex(up.index))).dt.days / MONTH
    out.append(_check("upg_min", "upgrade earliest month (rounded)", 1, int(round(mo.min())) if len(mo) else -1))
    out.append(_check("upg_max", "upgrade latest month (rounded)", 9, int(round(mo.max())) if len(mo) else -1))
    return out


def _table3_counts(a: pd.DataFrame, ae: pd.DataFrame) -> list[dict]:
    """Table 3: patients by worst grade of each term, whole study and maintenance; any infection."""
    ae = ae.copy()
    ae["sev"] = pd.to_numeric(ae["AETOXGR"]) >= 3
    ids_m = set(a.loc[_yes(a, "MNTSAFFL"), "USUBJID"])
    worst_all = ae.groupby(["AEDECOD", "USUBJID"])["sev"].max()
    aem = ae[(ae.APHASE == "MAINTENANCE") & ae.USUBJID.isin(ids_m)]
    worst_m = aem.groupby(["AEDECOD", "USUBJID"])["sev"].max()
    out = []
    for term, _h, c12, c3, m12, m3 in S.AE_TABLE:
        wa = worst_all.get(term, pd.Series(dtype=bool))
        wm = worst_m.get(term, pd.Series(dtype=bool))
        out += [_check(f"t3_{term}_all12", f"Table 3 {term} all, grade 1-2", c12, int((~wa).sum())),
                _check(f"t3_{term}_all3", f"Table 3 {term} all, grade >=3", c3, int(wa.sum())),
                _check(f"t3_{term}_m12", f"Table 3 {term} maintenance, grade 1-2", m12, int((~wm).sum())),
                _check(f"t3_{term}_m3", f"Table 3 {term} maintenance, grade >=3", m3, int(wm.sum()))]
    inf = ae[ae.AEDECOD.isin([t[0] for t in S.AE_TABLE[:S.INFECTION_TERMS]])]
    wi = inf.groupby("USUBJID")["sev"].max()
    return out + [_check("t3_infection12", "any infection, worst grade 1-2", 55, int((~wi).sum())),
                  _check("t3_infection3", "any infection, grade >=3", 18, int(wi.sum()))]


def count_checks(tables: dict) -> list[dict]:
    """Every printed count (Table 1, 2A, 2B, FISH, IMiD, flow, Table 3) from a cut's tables."""
    a, rs = tables["adsl"].copy(), tables["adrs"]
    groups = _fish_groups(a)
    bor = rs[rs.PARAMCD == "BOR"].set_index("USUBJID")["AVALC"].reindex(a["USUBJID"]).to_numpy()
    pp = _yes(a, "PPROTFL").to_numpy()
    resp = np.isin(bor, ["CR", "VGPR", "PR"])
    return (_table1_counts(a) + _fish_counts(a, groups) + _prior_therapy_counts(a) + _table2a_counts(bor, pp)
            + _table2b_counts(a, groups, resp) + _flow_counts(a, pp, tables["_cut"]) + _upgrade_counts(a, rs)
            + _table3_counts(a, tables["adae"]))


# ---- report -----------------------------------------------------------------------------------

def evaluate_cut(lat, cut) -> dict:
    """Counts (from the cut's tables) and survival targets (from the latent cohort) at ``cut``."""
    tables = cut_tables(lat, cut)
    tables["_cut"] = cut.isoformat()
    counts = count_checks(tables)
    T = targets.targets_and_values(targets.compute(lat, cut))
    for t in T:
        t["penalty"], t["ok"] = score(t)
        t["exact"] = exact(t)
    return {"counts": counts, "survival": T}


#: what blocks a number the search did not reach, where it is known (beyond the Wald sets)
BLOCKERS = {
    "pfs.gain1q.pos.median": (
        "7.0 months is day 212-214, inside the last induction cycle (days 197-224): a progression there "
        "must come from the one per-protocol patient stopped after 7 full cycles or from one of the five "
        "per-protocol patients who stopped induction for another reason (the 43 completers are "
        "progression-free past day 224), while the isolated-gain group keeps its median of 6.2 (day "
        "188-190) and the high-risk group 10.3"),
}
BLOCKERS["pfs.hr_or_gain1q.pos.median"] = BLOCKERS["pfs.gain1q.pos.median"]
BLOCKERS.update({
    "pfs.itt.median.ci_low": (
        "the log-log lower limit is an ITT progression day; 6.4 needs it on days 194-196. The targeted "
        "finish (synth.refine) tried every patient's progression on those days and near them: the only "
        "moves that print 6.4 take away the progression on day 190 that is also the IMiD-exposed and "
        "the isolated-gain median (6.2, days 188-190), and the two progressions just before (days "
        "162 and 166) are induction stoppers held in their cycle (days 141-168)"),
    "pfs.gfr.lt60.median": (
        "9.3 is days 282-284; the GFR < 60 median is a progression on day 285, where the per-protocol, "
        "ISS II-III and age >= 75 medians (9.4, days 285-287) also sit; no progression moved onto or "
        "within 40 days of days 282-284 and no covariate swap tried by the targeted finish "
        "(synth.refine) prints 9.3 without losing one of the exact medians"),
    "pfs.frailty.unfit_frail.median": (
        "given up by the targeted finish for two medians: the 'neither' patient whose progression "
        "makes both 'neither' medians 10.8 (days 328-330) is 75 or older, hence unfit or frail (a "
        "plausibility rule), so that progression also falls before the unfit/frail median and moves "
        "it from 10.9 (days 331-333) to 10.8; no single progression moved onto or near days 331-333 "
        "and no covariate swap restores it"),
})


def printed_as(t: dict) -> str:
    """The achieved value printed as the paper prints that number."""
    claim = targets.registry().get(t["claim"]) if t.get("claim") else None
    v = targets.claim_value(t)
    if claim is None or isinstance(v, str):
        return str(v)
    shown = printed_number(claim, v)
    return "" if shown is None else str(shown)


def _target_by_claim(res: dict) -> dict:
    return {t["claim"]: t for t in res["survival"] if t.get("claim")}


def misses(res: dict, moves: int | None = None, seed: int | None = None) -> list[dict]:
    """Every survival and inferential claim (and count) not exact on the cut, read through the claims
    layer (``res["claims"]``, :mod:`ixathaldex.synth.reproduction`), with the reason: the computed
    conflict with other printed numbers, or the search's evidence (best value, and what blocks it)."""
    proofs = conflicts.conflict_reasons()
    searched = {ev["claim"]: ev for ev in res.get("pairs", {}).values()}
    ranked = {ev["claim"]: ev for ev in res.get("logrank", {}).values()}
    by_claim = _target_by_claim(res)
    frame = res["claims"]
    out = []
    for r in frame[(frame["group"] != "") & (frame["verdict"] != "exact")].to_dict("records"):
        cid = r["id"]
        if r["verdict"] == "not computable":
            kind, reason = "not computable", NOT_COMPUTABLE.get(cid, "the data model has no value for it")
        elif cid in proofs:
            kind, reason = "conflict", proofs[cid]
        else:
            kind = "search"
            reason = (f"not reached by the search ({moves} moves, seed {seed}); best value {_fmt(r['reproduced'])} "
                      f"prints as {_printed(cid, r['reproduced'])}")
            if cid in searched:
                reason += "; " + pairs.describe(searched[cid])
            elif cid in ranked:
                reason += "; " + logrank_finish.describe(ranked[cid])
            elif cid in BLOCKERS:
                reason += "; " + BLOCKERS[cid]
        t = by_claim.get(cid)
        out.append({"claim": cid, "target": t["id"] if t else "", "published": r["published"],
                    "best": r["reproduced"], "printed_as": _printed(cid, r["reproduced"]), "verdict": r["verdict"],
                    "within_tolerance": r["verdict"] == "within tolerance", "kind": kind, "reason": reason})
    return out


#: why a claim has no value on a synthetic cut
NOT_COMPUTABLE = {"flow.screening.median": "screening is not in the data model (ADSL starts at the first dose)"}


def _printed(cid: str, value) -> str:
    claim = targets.registry().get(cid)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if claim is None or isinstance(value, str):
        return str(value)
    shown = printed_number(claim, float(value))
    return "" if shown is None else str(shown)


def headline(res) -> str:
    """The three figures: counts exact; survival and inferential numbers exact; within tolerance."""
    return reproduction.derive_headline(figures(res))


def _fmt(v):
    if v is None:
        return "–"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "NR"
        return f"{v:.4g}"
    return str(v)


def _tol(t) -> str:
    k = t["kind"]
    return {"med": "±0.3 months", "ci": "±0.5 months", "nr": "not reached",
            "p": "same side of 0.05, within ×2", "p_lt": f"below {t['target']}",
            "hr": "±20%, CI same side of 1", "hrci": "±20%, same side of 1"}[k]


def figures(res: dict) -> dict:
    """The three headline figures of a cut, [achieved, of] each, counted over the registry's claims
    read through the claims layer (:func:`ixathaldex.synth.reproduction.derive_figures`)."""
    return reproduction.derive_figures(res["claims"])


def _target_row(t: dict) -> str:
    tg = "NR" if t["kind"] == "nr" else (f"<{t['target']}" if t["kind"] == "p_lt" else _fmt(t["target"]))
    val = _fmt(t["value"])
    m2 = t["extra"].get("med2")
    if t["kind"] == "med" and m2 is not None and m2 != t["value"]:
        val += f" (S = 0.5 until {_fmt(m2)})"
    if t["kind"] == "hr":
        val += f" ({_fmt(t['extra']['lo'])}–{_fmt(t['extra']['hi'])})"
        tg += f" ({_fmt(t['extra']['tlo'])}–{_fmt(t['extra']['thi'])})"
    ex = {True: "exact", False: "no", None: "–"}[t.get("exact")]
    return (f"| {t['id']} | {t['label']} | {t.get('claim') or '–'} | {tg} | {val} | {printed_as(t)} | {ex} | "
            f"{_tol(t)} | {'pass' if t['ok'] else 'FAIL'} |")


def render_report(res: dict, cut, publication: bool, moves: int | None = None,
                  seed: int | None = None) -> tuple[str, dict]:
    """The calibration report of one cut as Markdown and as a JSON-ready dict."""
    head = headline(res)
    fig = figures(res)
    miss = misses(res, moves, seed)
    lines = [f"# Calibration report, cut {cut.isoformat()}", "",
             "Synthetic data: generated by `ixathaldex synth` (see data/snapshots/README.md).", "",
             "The three figures are counted over the claims of the registry (`data/published/claims.yaml`), "
             "each value read from this cut the way the build reads it (the analysis-results dataset) and "
             "judged by the registry (`claims.precision.is_exact`); the reviewer page's calibration box "
             "shows the same numbers.", "",
             f"- **counts exact: {fig['counts_exact'][0]}/{fig['counts_exact'][1]}**",
             "- **survival and inferential numbers exact at the printed precision: "
             f"{fig['survival_exact_printed_precision'][0]}/{fig['survival_exact_printed_precision'][1]}**"
             " (medians, CI limits, p-values and hazard ratios printed as plain values)",
             f"- **survival and inferential numbers within tolerance: {fig['survival_within_tolerance'][0]}/"
             f"{fig['survival_within_tolerance'][1]}** (exact included)", ""]
    if not publication:
        lines += ["This is the later cut of the same latent cohort: the survival targets are the paper's "
                  "(publication-cut) values, listed to show the drift with longer follow-up; they are "
                  "not expected to hold here. Baseline and response counts still hold; the counts that depend on "
                  "the cut (completed maintenance, on therapy, maintenance duration) change by design.", ""]
    else:
        lines += ["## Numbers not exact at the printed precision, and why", "",
                  "| claim | published | achieved | printed as | verdict | kind | reason |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {m['claim']} | {m['published']} | {_fmt(m['best'])} | {m['printed_as']} | "
                  f"{m['verdict']} | {m['kind']} | {m['reason']} |" for m in miss]
        lines.append("")
    lines += ["## Survival targets of the search", "",
              "The search's own fast reading of each number (numpy, on the latent cohort); the figures above "
              "are the build's reading of the written tables.", "",
              "| id | target | claim | published | achieved | printed as | exact | tolerance | pass |",
              "|---|---|---|---|---|---|---|---|---|"]
    lines += [_target_row(t) for t in res["survival"]]
    lines += ["", "## Counts (recomputed from the cut's CSV tables)", "",
              "| id | count | published | achieved | pass |", "|---|---|---|---|---|"]
    for c in res["counts"]:
        lines.append(f"| {c['id']} | {c['label']} | {_fmt(c['target'])} | {_fmt(c['value'])} | "
                     f"{'pass' if c['ok'] else 'FAIL'} |")
    md = "\n".join(lines) + "\n"

    def clean(v):
        if isinstance(v, (float, np.floating)):
            v = float(v)
            return None if not math.isfinite(v) else round(v, 6)
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        return v

    js = {"cut": cut.isoformat(), "publication_cut": publication, "headline": head, "figures": fig,
          "misses": [{k: clean(v) for k, v in m.items()} for m in miss] if publication else [],
          "counts": [{k: clean(v) for k, v in c.items()} for c in res["counts"]],
          "survival": [{k: clean(v) for k, v in t.items()} for t in res["survival"]]}
    return md, js
