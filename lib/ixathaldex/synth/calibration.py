"""Calibration of the synthetic cohort to the paper's survival results (Fig. 1-3, Cox model).

The latent cohort of ``ixathaldex.synth.cohort`` has every printed count by construction. This module
holds the survival targets, an objective (sum over targets of a score of error / tolerance), hard
constraints (the treatment course must stay what the counts say), and a seeded simulated-annealing
search over times, enrolment dates and count-preserving swaps of covariate blocks. The count
checks of a cut and the calibration report are in ``ixathaldex.synth.calibration_report``. Readings
of the paper are in ``docs/calibration.md``.
"""

from __future__ import annotations

import math

import numpy as np

from ixathaldex.exceptions import CalibrationError
from ixathaldex.log import logger
from ixathaldex.synth import cohort as S
from ixathaldex.synth import fastsurv as fs

MONTH = S.MONTH
DEFAULT_MOVES = 120_000
TOL_MEDIAN, TOL_CI = 0.3, 0.5


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
        ("pfs_iss", "PFS", "PP", "ISS I", "ISS II-III", lambda g: g["iss1"], lambda g: ~g["iss1"], 10.3, 9.4, 0.967),
        ("pfs_lines", "PFS", "PP", "1 prior line", ">1 prior lines", lambda g: g["line1"], lambda g: ~g["line1"], 10.3, 8.3, 0.319),
        ("pfs_age", "PFS", "PP", "age <75", "age >=75", lambda g: ~g["old"], lambda g: g["old"], 10.2, 9.4, 0.339),
        ("pfs_fit", "PFS", "PP", "fit", "unfit/frail", lambda g: g["fit"], lambda g: ~g["fit"], 9.2, 10.9, 0.810),
        ("pfs_gfr", "PFS", "PP", "GFR >=60", "GFR <60", lambda g: ~g["gfrlow"], lambda g: g["gfrlow"], 9.4, 9.3, 0.188),
        ("pfs_hr", "PFS", "PP", "HR", "SR", lambda g: g["hr"], lambda g: g["fish"] & ~g["hr"], 10.3, 9.0, 0.466),
        ("pfs_imid", "PFS", "ITT", "IMiD naive", "IMiD exposed", lambda g: ~g["lenthal"], lambda g: g["lenthal"], 10.2, 6.2, 0.026),
        ("pfs_1q", "PFS", "PP", "gain 1q21", "no gain 1q21", lambda g: g["g1"], lambda g: g["g0"], 7.0, 11.6, 0.111),
        ("pfs_any", "PFS", "PP", "HR and/or gain 1q21", "neither", lambda g: g["any"], lambda g: g["neither"], 7.0, 10.8, 0.159),
        # OS subgroups: ITT
        ("os_iss", "OS", "ITT", "ISS I-II", "ISS III", lambda g: ~g["iss3"], lambda g: g["iss3"], None, 14.8, "<0.0001"),
        ("os_lines", "OS", "ITT", "1 prior line", ">1 prior lines", lambda g: g["line1"], lambda g: ~g["line1"], None, 22.9, 0.064),
        ("os_fit", "OS", "ITT", "fit", "unfit/frail", lambda g: g["fit"], lambda g: ~g["fit"], None, None, 0.880),
        ("os_age", "OS", "ITT", "age >=75", "age <75", lambda g: g["old"], lambda g: ~g["old"], None, None, 0.287),
        ("os_hr", "OS", "ITT", "HR", "SR", lambda g: g["hr"], lambda g: g["fish"] & ~g["hr"], None, None, 0.913),
        ("os_1q", "OS", "ITT", "gain 1q21", "no gain 1q21", lambda g: g["g1"], lambda g: g["g0"], 19.6, None, 0.0009),
        ("os_any", "OS", "ITT", "HR and/or gain 1q21", "neither", lambda g: g["any"], lambda g: g["neither"], 19.6, None, 0.003),
    ]


COX_FACTORS = ("gain1q", "lines>1", "ISS II-III", "Hb<100", "Alb<35", "GFR<60")


def compute(lat, cut=S.CUT_PUBLICATION) -> dict:
    """Every survival quantity the targets need, at ``cut`` (months where a time)."""
    pt, pe, ot, oe, fu = observed(lat, cut)
    g = groups(lat)
    out = {}
    pp = g["pp"]
    out["pfs_itt"] = fs.median_ci(pt, pe)
    out["pfs_pp"] = fs.median_ci(pt[pp], pe[pp])
    out["os_itt"] = fs.median_ci(ot, oe)
    out["os_pp"] = fs.median_ci(ot[pp], oe[pp])
    out["fu"] = fs.followup_median(ot, oe)
    for pid, ep, pop, _la, _lb, fa, fb, _ma, _mb, _p in _pairs():
        a, b = fa(g), fb(g)
        if pop == "PP":
            a, b = a & pp, b & pp
        t, e = (pt, pe) if ep == "PFS" else (ot, oe)
        sel = a | b
        ga = np.where(a[sel], 0, 1)
        stat, p = fs.logrank(t[sel], e[sel], ga)
        out[pid] = (fs.median_ci(t[a], e[a]), fs.median_ci(t[b], e[b]), p)
    # three groups: isolated gain 1q21 / HR / neither (FISH patients)
    for ep, t, e, sel in (("PFS", pt, pe, g["fish"] & pp), ("OS", ot, oe, g["fish"])):
        gr = g["three"][sel]
        res = [fs.median_ci(t[sel][gr == k], e[sel][gr == k]) for k in range(3)]
        out[f"{ep.lower()}_three"] = (res, fs.logrank(t[sel], e[sel], gr)[1])
    # PFS hazard ratio, no gain vs gain (the printed direction), PP FISH with known 1q
    sel = (g["g1"] | g["g0"]) & pp
    b, se, p = fs.cox_breslow(pt[sel], pe[sel], g["g0"][sel][:, None].astype(float))
    out["pfs_1q_hr"] = (math.exp(b[0]), math.exp(b[0] - fs.Z95 * se[0]), math.exp(b[0] + fs.Z95 * se[0]))
    # OS GFR <60 vs >=60 (direction and significance) and the univariate screen (p < 0.2)
    for key, mask in (("os_gfr", g["gfrlow"]), ("os_uni_iss23", ~g["iss1"]), ("os_uni_hb", g["hblow"]),
                      ("os_uni_alb", g["alblow"] & ~g["albna"])):
        sel = ~g["albna"] if key == "os_uni_alb" else np.ones(lat.n, bool)
        t, e, gg = ot[sel], oe[sel], mask[sel]
        stat, p = fs.logrank(t, e, np.where(gg, 0, 1))
        obs = e[gg].sum()
        # expected under H0 via the sign of (observed - expected) of the flagged group
        out[key] = (p, _oe_sign(t, e, gg))
    # Cox, OS, 60 complete cases, six factors
    cc = g["fish"] & ~g["albna"]
    X = np.column_stack([g["g1"], ~g["line1"], ~g["iss1"], g["hblow"], g["alblow"], g["gfrlow"]])[cc]
    b, se, p = fs.cox_breslow(ot[cc], oe[cc], X.astype(float))
    out["cox"] = {"n": int(cc.sum()), "beta": b, "se": se, "p": p}
    return out


def _oe_sign(t, e, flag) -> float:
    """Observed minus expected events of the flagged group (log-rank sense); > 0 = worse."""
    ev_times = np.unique(t[e])
    n_all = len(t) - np.searchsorted(np.sort(t), ev_times, side="left")
    tf = np.sort(t[flag])
    n_f = len(tf) - np.searchsorted(tf, ev_times, side="left")
    d_all = np.bincount(np.searchsorted(ev_times, t[e]), minlength=len(ev_times))
    return float(e[flag].sum() - (d_all * n_f / n_all).sum())


def _m(days):
    return days / MONTH if np.isfinite(days) else math.inf


def targets_and_values(c: dict) -> list[dict]:
    """Every survival target with its achieved value and tolerance (one dict each)."""
    T = []

    def add(tid, label, kind, target, value, extra=None):
        T.append({"id": tid, "label": label, "kind": kind, "target": target, "value": value,
                  "extra": extra or {}})

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
    for pid, ep, pop, la, lb, _fa, _fb, ma, mb, p in _pairs():
        ra, rb, pv = c[pid]
        for lab, tgt, r in ((la, ma, ra), (lb, mb, rb)):
            kind = "nr" if tgt is None else "med"
            add(f"{pid}_{'a' if r is ra else 'b'}", f"{ep} median, {lab} ({pop})", kind, tgt, _m(r[0]),
                {"last": r[3], "med2": _m(r[4])})
        if isinstance(p, str):
            add(f"{pid}_p", f"{ep} log-rank p, {la} vs {lb} ({pop})", "p_lt", float(p[1:]), pv)
        else:
            add(f"{pid}_p", f"{ep} log-rank p, {la} vs {lb} ({pop})", "p", p, pv)
    hr, lo_, hi_ = c["pfs_1q_hr"]
    add("pfs_1q_hr", "PFS HR no gain vs gain 1q21 (PP)", "hr", 0.61, hr, {"lo": lo_, "hi": hi_, "tlo": 0.33, "thi": 1.13})
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
    for j, tgt, tlo, thi, tp in ((0, 14.29, 1.69, 100.0, 0.014), (3, 5.00, 1.11, 25.0, 0.034)):
        b, se = cox["beta"][j], cox["se"][j]
        name = COX_FACTORS[j]
        add(f"cox_{j}_hr", f"Cox OS HR {name} (n={cox['n']}, 6 factors)", "hr", tgt, math.exp(b),
            {"lo": math.exp(b - fs.Z95 * se), "hi": math.exp(min(b + fs.Z95 * se, 700)), "tlo": tlo, "thi": thi})
        add(f"cox_{j}_p", f"Cox OS p {name}", "p", tp, float(cox["p"][j]))
    return T


def _f(x: float) -> float:
    x = abs(x)
    return 0.05 * x * x if x <= 1 else 1.0 + min((x - 1.0) ** 2, 9.0) + 0.5 * (x - 1.0)


def score(t: dict) -> tuple[float, bool]:
    """(penalty, within tolerance) of one target."""
    k, v, tgt, ex = t["kind"], t["value"], t["target"], t["extra"]
    if k in ("med", "ci"):
        tol = TOL_MEDIAN if k == "med" else TOL_CI
        if not math.isfinite(v):
            last = ex.get("last", 0.6)
            x = 2.0 + max(0.0, (last - 0.5)) / 0.02
        else:
            x = (v - tgt) / tol
            m2 = ex.get("med2", v)
            if k == "med" and m2 != v:  # S = 0.5 on an interval: every median rule must pass
                x2 = (m2 - tgt) / tol if math.isfinite(m2) else 2.0 + abs(x)
                x = max(abs(x), abs(x2))
        return _f(x), abs(x) <= 1.0
    if k == "nr":
        if not math.isfinite(v):
            return 0.0, True
        return _f(1.0 + (0.5 - ex.get("last", 0.5)) / 0.03 + 0.5), False
    if k == "p":
        x = math.log2(max(v, 1e-300) / tgt)
        wrong = (v < 0.05) != (tgt < 0.05)
        return _f(x) + (3.0 if wrong else 0.0), (abs(x) <= 1.0 and not wrong)
    if k == "p_lt":
        x = max(0.0, math.log2(max(v, 1e-300) / tgt))
        pen = _f(x * 2 + (1.0 if x > 0 else 0.0))
        ok = x == 0.0
        if "sign" in ex and ex["sign"] <= 0:
            pen += 2.0 + 0.5 * min(-ex["sign"], 10.0)
            ok = False
        return pen, ok
    if k == "hr":
        x = math.log(max(v, 1e-9) / tgt) / math.log(1.2)
        side_ok = ((ex["lo"] > 1) == (ex["tlo"] > 1)) and ((ex["hi"] > 1) == (ex["thi"] > 1))
        return _f(x) + (0.0 if side_ok else 3.0), abs(x) <= 1.0 and side_ok
    raise ValueError(k)


#: headline results weigh more in the objective (not in the pass/fail count)
WEIGHTS = {"pfs_itt_median": 3.0, "pfs_itt_ci_lo": 2.0, "pfs_itt_ci_hi": 2.0, "pfs_pp_median": 3.0,
           "os_itt_nr": 2.0, "os_itt_ci_lo": 2.0, "followup": 3.0}


def objective(lat, cut=S.CUT_PUBLICATION) -> tuple[float, list]:
    T = targets_and_values(compute(lat, cut))
    return sum(WEIGHTS.get(t["id"], 1.0) * score(t)[0] for t in T), T


# ---- hard constraints -------------------------------------------------------------------------

def valid(lat, cut=S.CUT_PUBLICATION) -> bool:
    """True when the treatment course at the publication cut is the one the counts require."""
    fu = (cut - S.ACCRUAL_START).days - lat.enrol + 1
    c, pfs, os_, k, stop = lat.cls, lat.pfs, lat.os, lat.indcyc, lat.stop
    if lat.enrol.min() < 0 or lat.enrol.max() > S.ACCRUAL_DAYS:
        return False
    if np.any(os_ < pfs) or np.any(pfs < 1) or np.any(lat.dnp & (os_ != pfs)):
        return False
    ok = np.select(
        [c == S.IND_PD, c == S.IND_OTHER, c == S.NODOSE_PD, c == S.NODOSE_OTHER, c == S.MNT_PD,
         c == S.MNT_OTHER, c == S.MNT_COMPLETE, c == S.MNT_ONGOING],
        [(pfs > S.CYCLE * k) & (pfs <= S.CYCLE * (k + 1)) & (pfs <= fu) & ~lat.dnp,
         (stop <= fu) & (pfs > stop),
         (pfs > S.MNT_START) & (pfs < S.MNT_START + S.CYCLE) & (pfs <= fu) & ~lat.dnp,
         (pfs > S.MNT_START) & (fu >= S.MNT_START),
         (pfs > S.MNT_START) & (pfs <= S.MNT_END) & (pfs <= fu) & ~lat.dnp,
         (pfs > stop) & (stop <= fu),
         (pfs > S.MNT_END) & (fu >= S.MNT_END),
         (pfs > fu) & (fu > S.MNT_START) & (fu < S.MNT_END)], False)
    if not ok.all():
        return False
    if np.any((lat.upg_day > 0) & (pfs <= lat.upg_day)):
        return False
    if np.any((lat.bor <= S.SD) & (lat.resp_day >= pfs)):
        return False
    # maintenance duration (41 dosed): median rounds to 7 months
    dosed = c >= S.MNT_PD
    end = np.select([c == S.MNT_PD, c == S.MNT_COMPLETE, c == S.MNT_ONGOING], [pfs, np.full_like(pfs, S.MNT_END), fu], stop)
    dur = (end[dosed] - S.IND_END) / MONTH
    if not 6.5 <= np.median(dur) < 7.5:
        return False
    return covariates_valid(lat)


def covariates_valid(lat) -> bool:
    """Plausibility rules tying covariates together (and the 60 complete cases of the Cox model)."""
    albna = np.isnan(lat.alb)
    if np.any((lat.iss == 1) & (albna | (np.nan_to_num(lat.alb) < 35))):
        return False
    if np.any(albna & (lat.iss != 3)):
        return False
    if np.any((lat.age > 80) & (lat.frail != 2)) or np.any((lat.age >= 75) & (lat.frail == 0)):
        return False
    if np.any((lat.ecog == 2) & (lat.frail == 0)):
        return False
    return int((lat.fishfl & ~albna).sum()) == 60


# ---- moves ------------------------------------------------------------------------------------

BLOCKS = {  # covariate blocks swapped between two patients, with the stratum that keeps counts
    "fish": (("fishfl", "t414", "t1416", "del17p", "gain1q"), ("resp",)),
    "imid": (("imid", "len_", "lenref", "thal", "thalref"), ("resp", "pi")),
    "iss": (("iss",), ()),
    "lines": (("prlines", "mfl"), ()),
    "age": (("age", "asct"), ()),
    "frail": (("frail",), ()),
    "gfr": (("gfr",), ()),
    "hgb": (("hgb",), ()),
    "alb": (("alb",), ()),
}
FREE = (S.IND_OTHER, S.NODOSE_OTHER, S.MNT_OTHER, S.MNT_COMPLETE)


def propose(lat, rng, cut=S.CUT_PUBLICATION):
    """One random move, applied in place; returns an undo list [(attr, index, old values)]."""
    n = lat.n
    u = rng.random()
    undo = []

    def save(attr, idx):
        arr = getattr(lat, attr)
        undo.append((attr, idx, arr[idx].copy()))

    if u < 0.35:  # progression time of one patient
        i = np.array([rng.integers(n)])
        save("pfs", i); save("os", i)
        c, k = lat.cls[i[0]], lat.indcyc[i[0]]
        gap = lat.os[i] - lat.pfs[i]
        if c == S.IND_PD:
            new = S.CYCLE * k + rng.integers(1, S.CYCLE + 1)
        elif c == S.NODOSE_PD:
            new = S.MNT_START + rng.integers(1, S.CYCLE)
        elif rng.random() < 0.5:
            new = int(lat.pfs[i[0]] + rng.normal(0, 25))
        else:
            new = int(lat.pfs[i[0]] * math.exp(rng.normal(0, 0.3)))
        lat.pfs[i] = max(new, 1)
        lat.os[i] = lat.pfs[i] + (0 if lat.dnp[i[0]] else (gap if rng.random() < 0.7 else max(gap, 1)))
    elif u < 0.62:  # death time of one patient
        i = np.array([rng.integers(n)])
        save("os", i); save("dnp", i)
        if lat.cls[i[0]] in FREE and rng.random() < 0.05:
            lat.dnp[i] = ~lat.dnp[i]
            if lat.dnp[i[0]]:
                save("pfs", i)
                lat.pfs[i] = lat.os[i]
                return undo
        if lat.dnp[i[0]]:
            save("pfs", i)
            new = int(lat.os[i[0]] * math.exp(rng.normal(0, 0.25)))
            lat.os[i] = new
            lat.pfs[i] = new
        else:
            gap = max(int(lat.os[i[0]] - lat.pfs[i[0]]), 1)
            r = rng.random()
            if r < 0.4:
                gap = int(gap * math.exp(rng.normal(0, 0.5)))
            elif r < 0.8:
                gap = int(gap + rng.normal(0, 40))
            else:
                gap = int(rng.exponential(500))
            lat.os[i] = lat.pfs[i] + max(gap, 1)
    elif u < 0.72:  # enrolment: swap two dates or move one
        if rng.random() < 0.6:
            i = rng.choice(n, 2, replace=False)
            save("enrol", i)
            lat.enrol[i] = lat.enrol[i[::-1]]
        else:
            i = np.array([rng.integers(n)])
            save("enrol", i)
            lat.enrol[i] = int(lat.enrol[i[0]] + rng.normal(0, 40))
    elif u < 0.75:  # induction cycles of two progressing per-protocol patients
        cand = np.flatnonzero((lat.cls == S.IND_PD) & lat.pp)
        i = rng.choice(cand, 2, replace=False)
        if lat.indcyc[i[0]] == lat.indcyc[i[1]]:
            return undo
        for a in ("indcyc", "pfs", "os"):
            save(a, i)
        ki, kj = lat.indcyc[i].copy()
        off = lat.pfs[i] - S.CYCLE * np.array([ki, kj])
        gap = lat.os[i] - lat.pfs[i]
        lat.indcyc[i] = [kj, ki]
        lat.pfs[i] = S.CYCLE * np.array([kj, ki]) + off
        lat.os[i] = lat.pfs[i] + gap
    else:  # count-preserving swap of a covariate block
        name = list(BLOCKS)[rng.integers(len(BLOCKS))]
        attrs, strat = BLOCKS[name]
        i = rng.integers(n)
        same = np.ones(n, bool)
        for s in strat:
            v = (lat.bor <= S.PR) if s == "resp" else getattr(lat, s)
            same &= v == v[i]
        same[i] = False
        cand = np.flatnonzero(same)
        if len(cand) == 0:
            return undo
        j = cand[rng.integers(len(cand))]
        idx = np.array([i, j])
        for a in attrs:
            save(a, idx)
            arr = getattr(lat, a)
            arr[idx] = arr[idx[::-1]]
    return undo


def revert(lat, undo) -> None:
    for attr, idx, old in reversed(undo):
        getattr(lat, attr)[idx] = old


#: annealing schedule: (share of the moves, start temperature, end temperature, restart from best)
SCHEDULE = ((0.5, 2.0, 0.02, False), (0.25, 0.5, 0.01, True), (0.25, 0.5, 0.01, True))


def calibrate(lat, moves: int = DEFAULT_MOVES, seed: int = 0):
    """Simulated annealing (geometric cooling, reheats from the best state); (best latent, targets)."""
    lat = lat.copy()
    repair(lat)
    rng = np.random.default_rng(seed + 1)
    cur, T = objective(lat)
    best, best_lat, best_T = cur, lat.copy(), T
    step = 0
    for share, t0, t1, restart in SCHEDULE:
        n_phase = int(round(moves * share))
        if restart:
            lat, cur = best_lat.copy(), best
        for j in range(n_phase):
            temp = t0 * (t1 / t0) ** (j / max(n_phase - 1, 1))
            step += 1
            if step % 10000 == 0:
                logger.info("move %d: objective %.2f (best %.2f), T=%.3f, within tolerance %d/%d",
                            step, cur, best, temp, sum(score(t)[1] for t in best_T), len(best_T))
            undo = propose(lat, rng)
            if not undo:
                continue
            if not valid(lat):
                revert(lat, undo)
                continue
            new, T_new = objective(lat)
            if new <= cur or rng.random() < math.exp((cur - new) / temp):
                cur = new
                if new < best:
                    best, best_lat, best_T = new, lat.copy(), T_new
            else:
                revert(lat, undo)
    return best_lat, best_T


def repair(lat) -> None:
    """Make the initial latent cohort satisfy the hard constraints (deterministic)."""
    rng = np.random.default_rng(7)
    fu0 = (S.CUT_PUBLICATION - S.ACCRUAL_START).days + 1
    for _ in range(200):
        if valid(lat):
            return
        fu = fu0 - lat.enrol
        c = lat.cls
        # follow-up long enough for every resolved course; ongoing ones short enough
        need = np.select([c == S.MNT_COMPLETE, c == S.MNT_ONGOING], [S.MNT_END, 0],
                         np.maximum(np.where(np.isin(c, FREE) | (c == S.NODOSE_OTHER), lat.stop, lat.pfs), S.MNT_START * (c >= S.NODOSE_PD)))
        bad = (fu < need) & (c != S.MNT_ONGOING)
        lat.enrol[bad] = np.maximum(0, fu0 - need[bad] - rng.integers(1, 60, bad.sum()))
        ong = c == S.MNT_ONGOING
        fu = fu0 - lat.enrol
        badong = ong & ((fu >= S.MNT_END) | (fu <= S.MNT_START) | (lat.pfs <= fu))
        lat.enrol[badong] = fu0 - rng.integers(S.MNT_START + 10, S.MNT_END - 10, badong.sum())
        fu = fu0 - lat.enrol
        lat.pfs[ong] = np.maximum(lat.pfs[ong], fu[ong] + 1)
        lat.os = np.maximum(lat.os, lat.pfs)
        lat.enrol = np.clip(lat.enrol, 0, S.ACCRUAL_DAYS)
        # maintenance duration median
        dosed = c >= S.MNT_PD
        end = np.select([c == S.MNT_PD, c == S.MNT_COMPLETE, c == S.MNT_ONGOING],
                        [lat.pfs, np.full_like(lat.pfs, S.MNT_END), fu], lat.stop)
        med = np.median((end[dosed] - S.IND_END) / MONTH)
        if med < 6.5 or med >= 7.5:
            ipd = np.flatnonzero(c == S.MNT_PD)
            target = int(S.IND_END + 7 * MONTH)
            order = ipd[np.argsort(lat.pfs[ipd])]
            # move the longest PD times around seven months
            for j in order[-6:]:
                lat.pfs[j] = min(target + int(rng.integers(-10, 10)), fu[j])
                lat.os[j] = max(lat.os[j], lat.pfs[j])
    if not valid(lat):
        raise CalibrationError("could not build a valid initial latent cohort")
