"""Survival targets of the synthetic cohort: the paper's Fig. 1-3 and Cox numbers, each tied to its claim.

``compute`` evaluates every survival quantity of the latent cohort at a cut (Kaplan-Meier medians and
CIs, log-rank p-values, Cox hazard ratios); ``targets_and_values`` lists each target with its printed
value, the achieved value and the id of the claim of the registry (``data/published/claims.yaml``) it
reproduces, so that the search and its report judge "exact" with ``claims.precision.is_exact``.
Readings of the paper are in ``docs/calibration.md``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ixathaldex.claims.registry import load_claims
from ixathaldex.synth import cohort as S
from ixathaldex.synth import fastsurv as fs

MONTH = S.MONTH
#: the kinds of target printed as plain values (medians, CI limits, p-values, hazard ratios); the others
#: are "not reached" (nr) and bounds (p_lt)
PLAIN = ("med", "ci", "p", "hr", "hrci")

# ---- derived groups ---------------------------------------------------------------------------

def groups(lat) -> dict:
    """Boolean masks of the analysis populations and subgroups (ITT-length arrays)."""
    fish = lat.fishfl
    hr = fish & ((lat.t414 == 1) | (lat.del17p == 1) | (lat.t1416 == 1))
    g1 = fish & (lat.gain1q == 1)
    g0 = fish & (lat.gain1q == 0)
    anyr = hr | g1
    neither = fish & ~anyr
    iso = g1 & ~hr
    three = np.where(iso, 0, np.where(hr, 1, 2))
    return {
        "pp": lat.pp, "fish": fish, "hr": hr, "g1": g1, "g0": g0, "any": anyr, "neither": neither,
        "three": three, "iss1": lat.iss == 1, "iss3": lat.iss == 3, "line1": lat.prlines == 1,
        "old": lat.age >= 75, "fit": lat.frail == 0, "gfrlow": lat.gfr < 60,
        "hblow": lat.hgb < 100, "alblow": lat.alb < 35, "albna": np.isnan(lat.alb),
        "lenthal": lat.len_ | lat.thal,
    }


def observed(lat, cut):
    """(PFS time, event, OS time, event, follow-up) in days at ``cut``."""
    fu = (cut - S.ACCRUAL_START).days - lat.enrol + 1
    pe = lat.pfs <= fu
    oe = lat.os <= fu
    return np.where(pe, lat.pfs, fu), pe, np.where(oe, lat.os, fu), oe, fu


# ---- targets ----------------------------------------------------------------------------------
# kind: med (months), ci_lo/ci_hi (months), nr (median not reached), p (two-sided p), p_lt (p
# below a bound), hr (hazard ratio with CI sides), fu (median follow-up). pop: ITT / PP.
# Each target: (id, label, kind, value, extra)

def _pairs():
    """The two-group comparisons of the results text: (id, endpoint, pop, mask_a, mask_b, ...)."""
    return [
        # PFS subgroups: per-protocol population (see docs/calibration.md), IMiD: ITT
        ("pfs_iss", "PFS", "PP", "ISS I", "ISS II-III", lambda g: g["iss1"], lambda g: ~g["iss1"], 10.3, 9.4, 0.967, "pfs.iss", "i", "ii_iii"),
        ("pfs_lines", "PFS", "PP", "1 prior line", ">1 prior lines", lambda g: g["line1"], lambda g: ~g["line1"], 10.3, 8.3, 0.319, "pfs.lines", "one", "more"),
        ("pfs_age", "PFS", "PP", "age <75", "age >=75", lambda g: ~g["old"], lambda g: g["old"], 10.2, 9.4, 0.339, "pfs.age", "lt75", "ge75"),
        ("pfs_fit", "PFS", "PP", "fit", "unfit/frail", lambda g: g["fit"], lambda g: ~g["fit"], 9.2, 10.9, 0.810, "pfs.frailty", "fit", "unfit_frail"),
        ("pfs_gfr", "PFS", "PP", "GFR >=60", "GFR <60", lambda g: ~g["gfrlow"], lambda g: g["gfrlow"], 9.4, 9.3, 0.188, "pfs.gfr", "ge60", "lt60"),
        ("pfs_hr", "PFS", "PP", "HR", "SR", lambda g: g["hr"], lambda g: g["fish"] & ~g["hr"], 10.3, 9.0, 0.466, "pfs.hrcyto", "hr", "sr"),
        ("pfs_imid", "PFS", "ITT", "IMiD naive", "IMiD exposed", lambda g: ~g["lenthal"], lambda g: g["lenthal"], 10.2, 6.2, 0.026, "pfs.imid", "naive", "exposed"),
        ("pfs_1q", "PFS", "PP", "gain 1q21", "no gain 1q21", lambda g: g["g1"], lambda g: g["g0"], 7.0, 11.6, 0.111, "pfs.gain1q", "pos", "neg"),
        ("pfs_any", "PFS", "PP", "HR and/or gain 1q21", "neither", lambda g: g["any"], lambda g: g["neither"], 7.0, 10.8, 0.159, "pfs.hr_or_gain1q", "pos", "neg"),
        # OS subgroups: ITT
        ("os_iss", "OS", "ITT", "ISS I-II", "ISS III", lambda g: ~g["iss3"], lambda g: g["iss3"], None, 14.8, "<0.0001", "os.iss", "i_ii", "iii"),
        ("os_lines", "OS", "ITT", "1 prior line", ">1 prior lines", lambda g: g["line1"], lambda g: ~g["line1"], None, 22.9, 0.064, "os.lines", "one", "more"),
        ("os_fit", "OS", "ITT", "fit", "unfit/frail", lambda g: g["fit"], lambda g: ~g["fit"], None, None, 0.880, "os.frailty", "fit", "unfit_frail"),
        ("os_age", "OS", "ITT", "age >=75", "age <75", lambda g: g["old"], lambda g: ~g["old"], None, None, 0.287, "os.age", "ge75", "lt75"),
        ("os_hr", "OS", "ITT", "HR", "SR", lambda g: g["hr"], lambda g: g["fish"] & ~g["hr"], None, None, 0.913, "os.hrcyto", "hr", "sr"),
        ("os_1q", "OS", "ITT", "gain 1q21", "no gain 1q21", lambda g: g["g1"], lambda g: g["g0"], 19.6, None, 0.0009, "os.gain1q", "pos", "neg"),
        ("os_any", "OS", "ITT", "HR and/or gain 1q21", "neither", lambda g: g["any"], lambda g: g["neither"], 19.6, None, 0.003, "os.hr_or_gain1q", "pos", "neg"),
    ]


COX_FACTORS = ("gain1q", "lines>1", "ISS II-III", "Hb<100", "Alb<35", "GFR<60")


def curve_masks(lat, g: dict) -> tuple[list, list]:
    """The PFS and OS groups of every target as (name, mask) rows."""
    pp, ones = g["pp"], np.ones(lat.n, bool)
    pfs, os_ = [("itt", ones), ("pp", pp)], [("itt", ones), ("pp", pp)]
    for pid, ep, pop, _la, _lb, fa, fb, *_rest in _pairs():
        a, b = fa(g), fb(g)
        if pop == "PP":
            a, b = a & pp, b & pp
        (pfs if ep == "PFS" else os_).extend([(f"{pid}_a", a), (f"{pid}_b", b)])
    for rows, sel in ((pfs, g["fish"] & pp), (os_, g["fish"])):
        rows.extend((f"three_{k}", sel & (g["three"] == k)) for k in range(3))
    for key, mask in (("os_gfr", g["gfrlow"]), ("os_uni_iss23", ~g["iss1"]), ("os_uni_hb", g["hblow"]),
                      ("os_uni_alb", g["alblow"] & ~g["albna"])):
        sel = ~g["albna"] if key == "os_uni_alb" else ones
        os_.extend([(f"{key}_flag", mask & sel), (f"{key}_rest", ~mask & sel)])
    return pfs, os_


def compute(lat, cut=S.CUT_PUBLICATION) -> dict:
    """Every survival quantity the targets need, at ``cut`` (months where a time).

    Every Kaplan-Meier curve and log-rank test of one endpoint comes from one ``fastsurv.Batch``
    (one sort of the times for all groups).
    """
    pt, pe, ot, oe, fu = observed(lat, cut)
    g = groups(lat)
    pfs_rows, os_rows = curve_masks(lat, g)
    bp = fs.Batch(pt, pe, np.array([m for _, m in pfs_rows]))
    bo = fs.Batch(ot, oe, np.array([m for _, m in os_rows]))
    ip = {name: i for i, (name, _) in enumerate(pfs_rows)}
    io = {name: i for i, (name, _) in enumerate(os_rows)}
    mp, mo = bp.median_ci(), bo.median_ci()
    out = {"pfs_itt": mp[ip["itt"]], "pfs_pp": mp[ip["pp"]], "os_itt": mo[io["itt"]], "os_pp": mo[io["pp"]],
           "fu": fs.followup_median(ot, oe)}
    keys = ("os_gfr", "os_uni_iss23", "os_uni_hb", "os_uni_alb")
    pfs_pairs = [pid for pid, ep, *_rest in _pairs() if ep == "PFS"]
    os_pairs = [pid for pid, ep, *_rest in _pairs() if ep == "OS"]
    lp = bp.logrank_pairs([(ip[f"{pid}_a"], ip[f"{pid}_b"]) for pid in pfs_pairs])
    lo = bo.logrank_pairs([(io[f"{pid}_a"], io[f"{pid}_b"]) for pid in os_pairs]
                          + [(io[f"{key}_flag"], io[f"{key}_rest"]) for key in keys])
    for pids, idx, med, ps in ((pfs_pairs, ip, mp, lp), (os_pairs, io, mo, lo)):
        for pid, p in zip(pids, ps):
            out[pid] = (med[idx[f"{pid}_a"]], med[idx[f"{pid}_b"]], float(p))
    # three groups: isolated gain 1q21 / HR / neither (FISH patients)
    for ep, b, idx, med in (("pfs", bp, ip, mp), ("os", bo, io, mo)):
        rows = [idx[f"three_{k}"] for k in range(3)]
        out[f"{ep}_three"] = ([med[r] for r in rows], b.logrank(rows))
    # PFS hazard ratio, no gain vs gain (the printed direction), PP FISH with known 1q
    pp = g["pp"]
    sel = (g["g1"] | g["g0"]) & pp
    b, se, p = fs.cox_breslow(pt[sel], pe[sel], g["g0"][sel][:, None].astype(float))
    out["pfs_1q_hr"] = (math.exp(b[0]), math.exp(b[0] - fs.Z95 * se[0]), math.exp(b[0] + fs.Z95 * se[0]), float(p[0]))
    # OS GFR <60 vs >=60 (direction and significance) and the univariate screen (p < 0.2); the sign
    # of observed - expected events of the flagged group (> 0 = worse)
    for key, p in zip(keys, lo[len(os_pairs):]):
        out[key] = (float(p), bo.observed_minus_expected(io[f"{key}_flag"], io[f"{key}_rest"]))
    # Cox, OS, 60 complete cases, six factors
    cc = g["fish"] & ~g["albna"]
    X = np.column_stack([g["g1"], ~g["line1"], ~g["iss1"], g["hblow"], g["alblow"], g["gfrlow"]])[cc]
    b, se, p = fs.cox_breslow(ot[cc], oe[cc], X.astype(float))
    out["cox"] = {"n": int(cc.sum()), "beta": b, "se": se, "p": p}
    return out


def _m(days):
    return days / MONTH if np.isfinite(days) else math.inf


#: claim ids of the targets that are not pairs (the pairs carry theirs in ``_pairs``)
CLAIMS = {
    "pfs_itt_median": "pfs.itt.median", "pfs_itt_ci_lo": "pfs.itt.median.ci_low",
    "pfs_itt_ci_hi": "pfs.itt.median.ci_high", "pfs_pp_median": "pfs.pp.median", "os_itt_nr": "os.itt.median",
    "os_itt_ci_lo": "os.itt.median.ci_low", "os_pp_nr": "os.pp.median", "followup": "followup.median",
    "pfs_1q_hr": "pfs.cox.gain1q.hr", "pfs_1q_hr_lo": "pfs.cox.gain1q.hr.ci_low",
    "pfs_1q_hr_hi": "pfs.cox.gain1q.hr.ci_high", "pfs_1q_hr_p": "pfs.cox.gain1q.p",
    "pfs_three_0": "pfs.risk3.gain1q.median", "pfs_three_1": "pfs.risk3.hr.median",
    "pfs_three_2": "pfs.risk3.neither.median", "pfs_three_p": "pfs.risk3.p",
    "os_three_0": "os.risk3.gain1q.median", "os_three_1": "os.risk3.hr.median",
    "os_three_2": "os.risk3.neither.median", "os_three_p": "os.risk3.p", "os_gfr_p": "os.gfr.p",
    "os_uni_iss23": "os.univ.iss.p", "os_uni_hb": "os.univ.hb100.p", "os_uni_alb": "os.univ.alb35.p",
    "cox_0_hr": "os.cox.gain1q.hr", "cox_0_lo": "os.cox.gain1q.hr.ci_low", "cox_0_hi": "os.cox.gain1q.hr.ci_high",
    "cox_0_p": "os.cox.gain1q.p", "cox_3_hr": "os.cox.hb100.hr", "cox_3_lo": "os.cox.hb100.hr.ci_low",
    "cox_3_hi": "os.cox.hb100.hr.ci_high", "cox_3_p": "os.cox.hb100.p",
}


@functools.lru_cache(maxsize=1)
def registry() -> dict:
    """The claims of the registry by id (read once)."""
    return {c["id"]: c for c in load_claims()}


def claim_value(t: dict):
    """A target's achieved value as the chapters glue it ("NR" for a median not reached)."""
    v = t["value"]
    if t["kind"] in ("med", "ci", "nr"):
        return v if math.isfinite(v) else "NR"
    return v


def _add_hr(add, ids, label, hr, lo, hi, p, printed):
    """A hazard ratio, its two CI limits and its Wald p: four targets (``ids`` in that order)."""
    thr, tlo, thi, tp = printed
    add(ids[0], label, "hr", thr, hr, {"lo": lo, "hi": hi, "tlo": tlo, "thi": thi})
    add(ids[1], f"{label}, 95% CI lower", "hrci", tlo, lo)
    add(ids[2], f"{label}, 95% CI upper", "hrci", thi, hi)
    add(ids[3], f"{label}, Wald p", "p", tp, p)


def targets_and_values(c: dict) -> list[dict]:
    """Every survival target with its achieved value, tolerance kind and claim id (one dict each)."""
    T = []

    def add(tid, label, kind, target, value, extra=None, claim=None):
        T.append({"id": tid, "label": label, "kind": kind, "target": target, "value": value,
                  "extra": extra or {}, "claim": claim or CLAIMS.get(tid)})

    m, lo, hi, last, half = c["pfs_itt"]
    add("pfs_itt_median", "PFS median, ITT (Fig. 1)", "med", 8.5, _m(m), {"last": last, "med2": _m(half)})
    add("pfs_itt_ci_lo", "PFS median 95% CI lower, ITT", "ci", 6.4, _m(lo))
    add("pfs_itt_ci_hi", "PFS median 95% CI upper, ITT", "ci", 10.3, _m(hi))
    m, lo, hi, last, half = c["pfs_pp"]
    add("pfs_pp_median", "PFS median, PP", "med", 9.4, _m(m), {"last": last, "med2": _m(half)})
    m, lo, hi, last, _ = c["os_itt"]
    add("os_itt_nr", "OS median not reached, ITT", "nr", None, _m(m), {"last": last})
    add("os_itt_ci_lo", "OS median 95% CI lower, ITT", "ci", 22.9, _m(lo))
    m, lo, hi, last, _ = c["os_pp"]
    add("os_pp_nr", "OS median not reached, PP", "nr", None, _m(m), {"last": last})
    add("followup", "Median follow-up (reverse KM, OS)", "med", 19.1, _m(c["fu"]))
    for pid, ep, pop, la, lb, _fa, _fb, ma, mb, p, prefix, sa, sb in _pairs():
        ra, rb, pv = c[pid]
        for lab, tgt, r, ab, suffix in ((la, ma, ra, "a", sa), (lb, mb, rb, "b", sb)):
            kind = "nr" if tgt is None else "med"
            add(f"{pid}_{ab}", f"{ep} median, {lab} ({pop})", kind, tgt, _m(r[0]),
                {"last": r[3], "med2": _m(r[4])}, claim=f"{prefix}.{suffix}.median")
        kind, tgt = ("p_lt", float(p[1:])) if isinstance(p, str) else ("p", p)
        add(f"{pid}_p", f"{ep} log-rank p, {la} vs {lb} ({pop})", kind, tgt, pv, claim=f"{prefix}.p")
    _add_hr(add, ("pfs_1q_hr", "pfs_1q_hr_lo", "pfs_1q_hr_hi", "pfs_1q_hr_p"), "PFS HR no gain vs gain 1q21 (PP)", *c["pfs_1q_hr"], (0.61, 0.33, 1.13, 0.111))
    for ep, labels, meds, p in (("pfs", "PP", (6.2, 10.3, 10.8), 0.044), ("os", "ITT", (15.6, None, None), 0.001)):
        res, pv = c[f"{ep}_three"]
        for k, (lab, tgt) in enumerate(zip(("isolated gain 1q21", "HR", "neither"), meds)):
            add(f"{ep}_three_{k}", f"{ep.upper()} median, {lab} ({labels}, three groups)",
                "nr" if tgt is None else "med", tgt, _m(res[k][0]), {"last": res[k][3], "med2": _m(res[k][4])})
        add(f"{ep}_three_p", f"{ep.upper()} log-rank p, three groups ({labels})", "p", p, pv)
    p, sign = c["os_gfr"]
    add("os_gfr_p", "OS GFR <60 shorter, log-rank p < 0.05 (ITT)", "p_lt", 0.05, p, {"sign": sign})
    for key, lab in (("os_uni_iss23", "ISS II-III"), ("os_uni_hb", "Hb <100 g/L"), ("os_uni_alb", "albumin <35 g/L")):
        p, sign = c[key]
        add(key, f"OS univariate screen {lab}: p < 0.2, worse (ITT)", "p_lt", 0.2, p, {"sign": sign})
    cox = c["cox"]
    for j, printed in ((0, (14.29, 1.69, 100.0, 0.014)), (3, (5.00, 1.11, 25.0, 0.034))):
        b, se = cox["beta"][j], cox["se"][j]
        lo, hi = math.exp(b - fs.Z95 * se), math.exp(min(b + fs.Z95 * se, 700))
        _add_hr(add, tuple(f"cox_{j}_{s}" for s in ("hr", "lo", "hi", "p")), f"Cox OS HR {COX_FACTORS[j]} (n={cox['n']}, 6 factors)", math.exp(b), lo, hi,
                float(cox["p"][j]), printed)
    return T
