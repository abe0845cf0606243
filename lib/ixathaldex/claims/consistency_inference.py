"""Reviewer page, arithmetic recheck: the paper's p-values and hazard ratios from its printed numbers.

Two families, every number read from ``data/published/claims.yaml``:

- ``fisher``: each printed Fisher p-value against the 2x2 table its printed percentages imply
  (two-sided); when the stated group sizes allow no table, the nearest sizes that reproduce both
  percentages and the p are shown;
- ``hazard ratio``: the HR, its CI and its p on the log scale (Wald), the CI's symmetry, HRs printed
  as reciprocals of two-decimal numbers, and the HR's direction against the groups' medians.
"""

from __future__ import annotations

import math
from typing import Mapping

from ixathaldex.claims.consistency_counts import DERIVED_DENOMINATORS
from ixathaldex.claims.precision import printed_decimals
from ixathaldex.claims.printed import (
    finding,
    grim_counts,
    median_value,
    missing_finding,
    presence,
    show,
    sum_of,
    value_of,
)
from ixathaldex.claims.registry import AGREEING, compare

SEARCH = 6  # group sizes searched around the stated ones

#: Fisher exact tests: (pct id, n id or None (derived), pct id, n id or None, p id, reading when they disagree)
FISHER = [
    ("resp.imid_naive.orr.pct", "resp.imid_naive.n", "resp.imid_exposed.orr.pct", "resp.imid_exposed.n",
     "resp.imid.p", "percentages and group sizes as printed (37/53); the p-value is recomputed from the data"),
    ("t2b.hr.pos.orr.pct", "t1.cyto.hr.n", "t2b.hr.neg.orr.pct", None, "t2b.hr.p", ""),
    ("t2b.gain1q.pos.orr.pct", "t1.cyto.gain1q.n", "t2b.gain1q.neg.orr.pct", None, "t2b.gain1q.p",
     "15/32 vs 18/26: the negative group has 26 evaluable patients, not 61 - 32 = 29"),
    ("t2b.hr_or_gain1q.pos.orr.pct", "fish.hr_or_gain1q.n", "t2b.hr_or_gain1q.neg.orr.pct", "t1.cyto.none.n",
     "t2b.hr_or_gain1q.p", ""),
]

#: hazard ratios: (hr, ci_low, ci_high, p, (median of the group, median of the reference) or None)
HAZARD_RATIOS = [
    ("pfs.cox.gain1q.hr", "pfs.cox.gain1q.hr.ci_low", "pfs.cox.gain1q.hr.ci_high", "pfs.cox.gain1q.p",
     ("pfs.gain1q.pos.median", "pfs.gain1q.neg.median")),
    ("os.cox.gain1q.hr", "os.cox.gain1q.hr.ci_low", "os.cox.gain1q.hr.ci_high", "os.cox.gain1q.p",
     ("os.gain1q.pos.median", "os.gain1q.neg.median")),
    ("os.cox.hb100.hr", "os.cox.hb100.hr.ci_low", "os.cox.hb100.hr.ci_high", "os.cox.hb100.p", None),
]


def p_agrees(printed, p) -> bool:
    """True when ``p`` reproduces the printed p-value under the registry's p-value rule."""
    return compare({"id": "", "rule": "pvalue", "published": printed}, p)[0] in AGREEING


def _p_exact(printed, p) -> bool:
    return compare({"id": "", "rule": "pvalue", "published": printed}, p)[0] == "exact"


def _fisher(k1, n1, k2, n2) -> float:
    from scipy.stats import fisher_exact  # deferred: the build process imports this module, scipy is for the checks

    return float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]])[1])


def _nearby_fits(by, pa, pb, n1, n2, printed_p) -> list[str]:
    """Nearby group sizes whose tables reproduce both percentages and the printed p exactly."""
    fits = []
    for d1 in range(max(1, int(n1) - SEARCH), int(n1) + SEARCH + 1):
        for d2 in range(max(1, int(n2) - SEARCH), int(n2) + SEARCH + 1):
            for k1 in grim_counts(float(by[pa]["published"]), d1, printed_decimals(by[pa])):
                for k2 in grim_counts(float(by[pb]["published"]), d2, printed_decimals(by[pb])):
                    p = _fisher(k1, d1, k2, d2)
                    if _p_exact(printed_p, p):
                        fits.append(f"{k1}/{d1} vs {k2}/{d2} (p = {p:.4g})")
    return fits


def derive_fisher_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Fisher exact p-values against the 2x2 tables their printed percentages imply."""
    rows = []
    for pa, na, pb, nb, pid, reading in FISHER:
        spec = [pa, na, pb, nb or [r for _, r in DERIVED_DENOMINATORS[pb]], pid]
        state = presence(by, spec)
        if state != "all":
            rows += [missing_finding("fisher." + pid, "fisher", spec, by, pid)] if state == "some" else []
            continue
        n1 = float(value_of(by, na))
        n2 = float(value_of(by, nb)) if nb else sum_of(by, DERIVED_DENOMINATORS[pb])
        k1 = grim_counts(float(by[pa]["published"]), n1, printed_decimals(by[pa]))
        k2 = grim_counts(float(by[pb]["published"]), n2, printed_decimals(by[pb]))
        ids = [pid, pa, pb] + [x for x in (na, nb) if x] + ([r for _, r in DERIVED_DENOMINATORS[pb]] if not nb else [])
        published = f"{show(by, pa)}% of {n1:g} vs {show(by, pb)}% of {n2:g}, p = {show(by, pid)}"
        if k1 and k2:
            p = _fisher(k1[0], n1, k2[0], n2)
            ok = p_agrees(by[pid]["published"], p)
            text = f"{k1[0]}/{n1:g} vs {k2[0]}/{n2:g}: two-sided Fisher p = {p:.4g}"
            if not ok:
                fits = _nearby_fits(by, pa, pb, n1, n2, by[pid]["published"])
                text += "; nearby tables reproducing the printed p: " + (", ".join(fits[:3]) if fits else "none")
            rows.append(finding("fisher." + pid, "fisher", ids, by, published, text,
                                "consistent" if ok else "inconsistent",
                                "The p-value is Fisher's test on the table the percentages imply." if ok else
                                "Fisher's test on the table the percentages imply gives another p-value.",
                                "" if ok else reading))
            continue
        fits = _nearby_fits(by, pa, pb, n1, n2, by[pid]["published"])
        text = "no table with the stated group sizes gives both percentages; " + (
            "tables of nearby sizes reproducing them and the printed p: " + ", ".join(fits[:3]) if fits else
            "no nearby table reproduces them and the printed p")
        rows.append(finding("fisher." + pid, "fisher", ids, by, published, text,
                            "consistent" if fits else "inconsistent",
                            "The p-value fits the percentages once a group size is corrected (see the percentage "
                            "finding)." if fits else "No 2x2 table near the stated sizes gives the printed p.", reading))
    return rows


def _reciprocal_hundredths(v: float) -> int | None:
    """k when ``v`` is 1/(k/100) printed to two decimals (an inverted two-decimal estimate), else None."""
    k = round(100 / v) if v > 0 else 0
    if k >= 1 and abs(round(100 / k, 2) - v) < 1e-9:
        return k
    return None


def _hr_rows(by, hid, lid, uid, pid) -> list[dict]:
    hr, lo, hi = (median_value(value_of(by, x)) for x in (hid, lid, uid))
    p_pr = by[pid]["published"]
    if not (0 < lo < hi < math.inf and 0 < hr < math.inf):
        return [finding("hr.wald." + hid, "hazard ratio", [hid, lid, uid, pid], by, f"HR {show(by, hid)} "
                        f"({show(by, lid)}-{show(by, uid)})", "not a positive HR inside a positive interval",
                        "inconsistent", "A hazard ratio and its CI are positive, with the HR inside the CI.")]
    from scipy.stats import norm  # deferred, as in _fisher

    se = (math.log(hi) - math.log(lo)) / (2 * norm.ppf(0.975))
    z = math.log(hr) / se
    p_wald = 2 * norm.sf(abs(z))
    ok = p_agrees(p_pr, p_wald)
    published = f"HR {show(by, hid)} ({show(by, lid)}-{show(by, uid)})"
    rows = [finding("hr.wald." + hid, "hazard ratio", [hid, lid, uid, pid], by, f"{published}, p = {p_pr}",
                    f"SE(log HR) = {se:.3f}, z = {z:.2f}, Wald p = {p_wald:.3g}", "consistent" if ok else "inconsistent",
                    "The CI's width and the HR give the printed p on the log scale." if ok else
                    "The CI's width and the HR give another p on the log scale.",
                    "" if ok else "the HR and CI are reproduced; the p is the model's Wald p")]
    down, up = math.log(hr) - math.log(lo), math.log(hi) - math.log(hr)
    sym = down > 0 and up > 0 and 0.8 <= up / down <= 1.25
    rows.append(finding("hr.symmetry." + hid, "hazard ratio", [hid, lid, uid], by, published,
                        f"log distances to the limits {down:.3f} / {up:.3f}", "consistent" if sym else "inconsistent",
                        "A Wald CI is symmetric around the HR on the log scale." + ("" if sym else " This one is not.")))
    ks = [_reciprocal_hundredths(v) for v in (hr, lo, hi)]
    recip = hr > 1 and all(ks) and ks[2] <= 10
    text = ("= " + ", ".join(f"1/{k / 100:.2f}" for k in ks) + f": the upper limit lies anywhere in "
            f"{100 / (ks[2] + 0.5):.3g}-{100 / (ks[2] - 0.5):.3g}") if recip else "printed at its own precision"
    rows.append(finding("hr.reciprocal." + hid, "hazard ratio", [hid, lid, uid], by, published, text,
                        "rounding" if recip else "consistent",
                        "The HR and its limits are inverses of two-decimal numbers; the coarse upper limit is a "
                        "rounding artefact." if recip else "The HR is not printed as an inverse of a rounded value.",
                        "compare within the claim's reciprocal printing (reciprocal_decimals)" if recip else ""))
    return rows


def derive_hazard_ratio_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """HR CIs vs their p-values (Wald, log scale), CI symmetry, reciprocal printing, direction vs medians."""
    rows = []
    for hid, lid, uid, pid, medians in HAZARD_RATIOS:
        spec = [hid, lid, uid, pid]
        state = presence(by, spec)
        if state != "all":
            rows += [missing_finding("hr.wald." + hid, "hazard ratio", spec, by, hid)] if state == "some" else []
            continue
        rows += _hr_rows(by, hid, lid, uid, pid)
        if not medians or presence(by, list(medians)) != "all":
            continue
        hr = float(value_of(by, hid))
        m_exp, m_ref = (median_value(value_of(by, m)) for m in medians)
        if m_exp == m_ref:
            verdict, text = "not checkable", "equal medians do not tell the direction"
        else:
            agrees = (hr > 1) == (m_exp < m_ref)
            verdict = "consistent" if agrees else "inconsistent"
            text = ("HR > 1 expected: the group has the shorter median" if m_exp < m_ref else
                    "HR < 1 expected: the group has the longer median")
        lo, hi = float(value_of(by, lid)), float(value_of(by, uid))
        if min(hr, lo, hi) <= 0:
            continue  # reported by the Wald finding
        rows.append(finding("hr.direction." + hid, "hazard ratio", [hid, *medians], by,
                            f"HR {show(by, hid)}; medians {show(by, medians[0])} vs {show(by, medians[1])}", text,
                            verdict, "A group with the shorter median has the higher hazard.",
                            "" if verdict != "inconsistent" else f"the printed HR is read as the reference group "
                            f"relative to the group (reciprocal {1 / hr:.2f}, CI {1 / hi:.2f}-{1 / lo:.2f})"))
    return rows
