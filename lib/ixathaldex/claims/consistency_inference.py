"""Reviewer page, arithmetic recheck: the paper's p-values, hazard ratios and medians from its printed numbers.

Like statcheck: Fisher p-values against the 2x2 tables the printed percentages imply (and the
responders each Table 2B split implies), hazard-ratio CIs against their p-values and against the
medians, pooled medians against their subgroups' medians, one group's median printed twice, the
Cox model's covariate selection against the printed p-values, and statements whose wording
contradicts the printed numbers. The tables below name the claims each check reads; every number
comes from ``data/published/claims.yaml``. The readings chosen are documented in
docs/paper-readings.md.
"""

from __future__ import annotations

import math
from typing import Mapping

from scipy.stats import fisher_exact, norm

from ixathaldex.claims.printed import (
    DERIVED_DENOMINATORS,
    EPS,
    finding,
    fmt_number,
    grim_counts,
    has_claims,
    median_value,
    sum_of,
    value_of,
)
from ixathaldex.claims.registry import AGREEING, BOUND_PATTERN, compare

Z975 = norm.ppf(0.975)

# ----------------------------------------------------------------------------- specifications
#: Fisher exact tests: (label, (pct id, denominator), (pct id, denominator), p id, reading)
FISHER = [
    ("ORR IMiD-naive vs IMiD-exposed", "resp.imid_naive.orr.pct", "resp.imid_naive.n",
     "resp.imid_exposed.orr.pct", "resp.imid_exposed.n", "resp.imid.p",
     "percentages and group sizes as printed in the response paragraph (37/53); the p-value is recomputed"),
    ("ORR high-risk vs standard-risk FISH (Table 2B)", "t2b.hr.pos.orr.pct", "t1.cyto.hr.n",
     "t2b.hr.neg.orr.pct", None, "t2b.hr.p", "as printed"),
    ("ORR gain of 1q21 vs none (Table 2B)", "t2b.gain1q.pos.orr.pct", "t1.cyto.gain1q.n",
     "t2b.gain1q.neg.orr.pct", None, "t2b.gain1q.p",
     "15/32 vs 18/26: the negative group has 26 evaluable patients, not 61 - 32 = 29"),
    ("ORR high-risk and/or gain of 1q21 vs neither (Table 2B)", "t2b.hr_or_gain1q.pos.orr.pct",
     "fish.hr_or_gain1q.n", "t2b.hr_or_gain1q.neg.orr.pct", "t1.cyto.none.n", "t2b.hr_or_gain1q.p", "as printed"),
]


#: hazard ratios: (label, hr, ci_low, ci_high, p, (median of the 'exposed' group, median of reference) or None)
HAZARD_RATIOS = [
    ("PFS, gain of 1q21 (Discussion)", "pfs.cox.gain1q.hr", "pfs.cox.gain1q.hr.ci_low",
     "pfs.cox.gain1q.hr.ci_high", "pfs.cox.gain1q.p", ("pfs.gain1q.pos.median", "pfs.gain1q.neg.median")),
    ("OS multivariate Cox, gain of 1q21", "os.cox.gain1q.hr", "os.cox.gain1q.hr.ci_low",
     "os.cox.gain1q.hr.ci_high", "os.cox.gain1q.p", ("os.gain1q.pos.median", "os.gain1q.neg.median")),
    ("OS multivariate Cox, haemoglobin <100 g/l", "os.cox.hb100.hr", "os.cox.hb100.hr.ci_low",
     "os.cox.hb100.hr.ci_high", "os.cox.hb100.p", None),
]


#: a pooled median must lie between the medians of the groups that partition its population
POOLED = [
    ("pfs.itt.median", "pfs.pp.median", ["pfs.iss.i.median", "pfs.iss.ii_iii.median"]),
    ("pfs.itt.median", "pfs.pp.median", ["pfs.lines.one.median", "pfs.lines.more.median"]),
    ("pfs.itt.median", "pfs.pp.median", ["pfs.age.lt75.median", "pfs.age.ge75.median"]),
    ("pfs.itt.median", "pfs.pp.median", ["pfs.frailty.fit.median", "pfs.frailty.unfit_frail.median"]),
    ("pfs.itt.median", "pfs.pp.median", ["pfs.gfr.ge60.median", "pfs.gfr.lt60.median"]),
    ("pfs.itt.median", "pfs.pp.median", ["pfs.imid.naive.median", "pfs.imid.exposed.median"]),
    ("os.itt.median", "os.pp.median", ["os.iss.i_ii.median", "os.iss.iii.median"]),
    ("os.itt.median", "os.pp.median", ["os.lines.one.median", "os.lines.more.median"]),
    ("os.itt.median", "os.pp.median", ["os.frailty.fit.median", "os.frailty.unfit_frail.median"]),
    ("os.itt.median", "os.pp.median", ["os.age.lt75.median", "os.age.ge75.median"]),
    # FISH sub-partitions, reading the three-group split as isolated gain / HR FISH / neither
    ("pfs.hr_or_gain1q.pos.median", None, ["pfs.risk3.gain1q.median", "pfs.risk3.hr.median"]),
    ("pfs.hrcyto.sr.median", None, ["pfs.risk3.gain1q.median", "pfs.risk3.neither.median"]),
    ("os.hr_or_gain1q.pos.median", None, ["os.risk3.gain1q.median", "os.risk3.hr.median"]),
    ("os.hrcyto.sr.median", None, ["os.risk3.gain1q.median", "os.risk3.neither.median"]),
]


#: the same group's median printed in two analyses
SAME_GROUP = [
    ("pfs.hr_or_gain1q.neg.median", "pfs.risk3.neither.median", "patients with neither feature"),
    ("pfs.hrcyto.hr.median", "pfs.risk3.hr.median", "HR FISH group (read: all 18, with or without gain)"),
    ("pfs.gain1q.pos.median", "pfs.risk3.gain1q.median",
     "gain-of-1q21 group, only if the three-group split used every patient with gain"),
    ("os.hr_or_gain1q.neg.median", "os.risk3.neither.median", "patients with neither feature"),
]


#: Cox covariate selection at p < 0.2: (selected bound claim, printed p of the same comparison, or None)
COX_SELECTION = [
    ("os.univ.gain1q.p", "os.gain1q.p"), ("os.univ.lines.p", "os.lines.p"), ("os.univ.gfr60.p", "os.gfr.p"),
]


#: printed OS comparisons of covariates left out of the Cox model (p must be >= 0.2)
COX_NOT_SELECTED = ["os.age.p", "os.frailty.p", "os.hrcyto.p"]


#: statements whose wording contradicts the printed numbers, or groupings described two ways
WORDING = [
    ("wording vs p-value", ["pfs.imid.p"], "PFS IMiD-naive vs exposed listed among comparisons without a difference",
     "p = {pfs.imid.p} < 0.05", "inconsistent",
     "the p-value is reproduced as computed; the chapter calls it significant only if it is"),
    ("wording vs p-value", ["pfs.gain1q.p", "pfs.risk3.p"], "abstract: PFS significantly shorter with gain of 1q21",
     "two-group p = {pfs.gain1q.p}; only the three-group p = {pfs.risk3.p} is < 0.05", "inconsistent",
     "both tests are reproduced; the abstract's claim rests on the three-group comparison"),
    ("grouping described twice", ["pfs.iss.p", "os.iss.p", "os.univ.iss.p"],
     "PFS by ISS: I vs II+III (results); I+II vs III (discussion); OS by ISS: I+II vs III; Cox: II-III",
     "two different splits", "inconsistent", "PFS uses I vs II+III, OS uses I+II vs III, as in the results"),
    ("grouping described twice", ["pfs.frailty.p"], "fitness: fit vs unfit/frail (results); fit or unfit vs frail"
     " (discussion)", "two different splits", "inconsistent", "fit vs unfit or frail, as in the results"),
    ("definition vs count", ["t1.cyto.hr.n", "fish.t1416.n"], "HR defined with t(14;16); HR group = 18 ="
     " t(4;14) and/or del(17p); one patient had t(14;16)", "19 if that patient had neither t(4;14) nor del(17p)",
     "note", "HR = t(4;14) and/or del(17p) (the Table 1 and 2B label); the t(14;16) patient counts only if"
     " it also carries one of them"),
]


# ----------------------------------------------------------------------------- the checks
def _p_agrees(printed, p) -> bool:
    """True when ``p`` reproduces the printed p-value under the registry's p-value rule."""
    return compare({"id": "", "rule": "pvalue", "published": printed}, p)[0] in AGREEING


def _reciprocal_hundredths(v: float) -> int | None:
    """k when ``v`` is 1/(k/100) printed to two decimals (an inverted two-decimal estimate), else None."""
    k = round(100 / v)
    if k >= 1 and abs(round(100 / k, 2) - v) < 1e-9:
        return k
    return None


def derive_fisher_checks(by: Mapping[str, Mapping], search: int = 6) -> list[dict]:
    """Fisher exact p-values against the 2x2 tables their printed percentages imply."""
    rows = []
    for label, pa, na, pb, nb, pid, reading in (x for x in FISHER if has_claims(by, x)):
        n1 = float(value_of(by, na))
        n2 = float(value_of(by, nb)) if nb else sum_of(by, DERIVED_DENOMINATORS[pb])
        ids = [pa, pb, pid] + [x for x in (na, nb) if isinstance(x, str)]
        a, b = by[pa], by[pb]
        printed_p = by[pid]["published"]
        k1 = grim_counts(float(a["published"]), n1, a.get("decimals", 1))
        k2 = grim_counts(float(b["published"]), n2, b.get("decimals", 1))
        shown = f"{fmt_number(a['published'])}% of {int(n1)} vs {fmt_number(b['published'])}% of {int(n2)}, p = {printed_p}"
        if k1 and k2:
            p = fisher_exact([[k1[0], n1 - k1[0]], [k2[0], n2 - k2[0]]])[1]
            ok = _p_agrees(printed_p, p)
            implied = f"{k1[0]}/{int(n1)} vs {k2[0]}/{int(n2)}: Fisher p = {p:.4g}"
            if not ok:
                implied += _alternatives(by, a, b, n1, n2, printed_p, search)
            rows.append(finding("Fisher p vs implied 2x2", ids, shown, implied,
                             "consistent" if ok else "inconsistent", "" if ok else reading))
        else:
            implied = "the percentages are not k/n for the stated group sizes" + _alternatives(
                by, a, b, n1, n2, printed_p, search)
            rows.append(finding("Fisher p vs implied 2x2", ids, shown, implied, "inconsistent", reading))
    return rows


def _alternatives(by, a, b, n1, n2, printed_p, search) -> str:
    """Nearby group sizes whose tables reproduce both percentages and the printed p."""
    fits = []
    for d1 in range(max(1, int(n1) - search), int(n1) + search + 1):
        for d2 in range(max(1, int(n2) - search), int(n2) + search + 1):
            for k1 in grim_counts(float(a["published"]), d1, a.get("decimals", 1)):
                for k2 in grim_counts(float(b["published"]), d2, b.get("decimals", 1)):
                    p = fisher_exact([[k1, d1 - k1], [k2, d2 - k2]])[1]
                    printed = printed_p
                    close = (abs(p - float(printed)) <= 0.0005 if not isinstance(printed, str)
                             else _p_agrees(printed, p))
                    if close:
                        fits.append(f"{k1}/{d1} vs {k2}/{d2} (p = {p:.4g})")
    if not fits:
        return "; no nearby group sizes reproduce the printed p"
    return "; fits the printed p: " + ", ".join(fits[:4])


def derive_responder_total_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Table 2B: each split of the FISH population must imply the same number of responders."""
    totals, ids = [], []
    for label, pa, na, pb, nb, pid, _ in (x for x in FISHER[1:] if has_claims(by, x)):
        n1 = float(value_of(by, na))
        n2 = float(value_of(by, nb)) if nb else sum_of(by, DERIVED_DENOMINATORS[pb])
        k1 = grim_counts(float(by[pa]["published"]), n1, by[pa].get("decimals", 1))
        k2 = grim_counts(float(by[pb]["published"]), n2, by[pb].get("decimals", 1))
        ids += [pa, pb]
        totals.append(f"{label.split(' (')[0][4:]}: " +
                      (f"{k1[0]} + {k2[0]} = {k1[0] + k2[0]} of {int(n1 + n2)}" if k1 and k2 else
                       f"no whole count for {by[pa]['published'] if not k1 else by[pb]['published']}%"))
    if not totals:
        return []
    sums = {t.split("= ")[-1] for t in totals}
    ok = len(sums) == 1 and all("no whole" not in t for t in totals)
    return [finding("responders implied by each Table 2B split", ids, "; ".join(totals),
                 "the same responders and FISH patients in every split", "consistent" if ok else "inconsistent",
                 "" if ok else "33 responders; the gain-of-1q21 split has 58 evaluable patients (15/32 + 18/26)")]


def derive_hazard_ratio_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """HR CIs vs their p-values (Wald, log scale), CI symmetry, reciprocal printing, direction vs medians."""
    rows = []
    for label, hid, lid, uid, pid, medians in (x for x in HAZARD_RATIOS if has_claims(by, x)):
        hr, lo, hi = (float(value_of(by, x)) for x in (hid, lid, uid))
        p_pr = value_of(by, pid)
        se = (math.log(hi) - math.log(lo)) / (2 * Z975)
        z = math.log(hr) / se
        p_wald = 2 * norm.sf(abs(z))
        ok = _p_agrees(p_pr, p_wald)
        rows.append(finding("HR CI vs p (Wald, log scale)", [hid, lid, uid, pid],
                         f"{label}: HR {hr:g} ({lo:g}-{hi:g}), p = {p_pr}",
                         f"SE(log HR) = {se:.3f}, z = {z:.2f}, p = {p_wald:.3g}",
                         "consistent" if ok else "inconsistent",
                         "" if ok else "the HR and CI are reproduced; the p is the model's Wald p"))
        up, down = math.log(hi) - math.log(hr), math.log(hr) - math.log(lo)
        ratio = up / down
        sym = 0.8 <= ratio <= 1.25
        rows.append(finding("HR CI symmetric on the log scale", [hid, lid, uid], f"HR {hr:g} ({lo:g}-{hi:g})",
                         f"log distances to the limits {down:.3f} / {up:.3f} (ratio {ratio:.2f})",
                         "consistent" if sym else "inconsistent", ""))
        ks = [_reciprocal_hundredths(v) for v in (hr, lo, hi)]
        if hr > 1 and all(ks) and ks[2] <= 10:  # an upper limit of 1/0.10 or coarser gives it away
            k_hi = ks[2]
            lo_true = 100 / (k_hi + 0.5)
            hi_true = 100 / (k_hi - 0.5) if k_hi > 0.5 else math.inf
            rows.append(finding("HR printed as a reciprocal", [hid, lid, uid], f"HR {hr:g} ({lo:g}-{hi:g})",
                             "= " + ", ".join(f"1/{k / 100:.2f}" for k in ks) +
                             f": the upper limit can be anywhere in {lo_true:.3g}-{hi_true:.3g}",
                             "note", "compare the HR within 20 %; the printed upper limit is a rounding artefact"))
        if medians:
            m_exp, m_ref = (median_value(value_of(by, m)) for m in medians)
            if m_exp != m_ref:
                expected_gt1 = m_exp < m_ref
                agrees = (hr > 1) == expected_gt1
                rows.append(finding("HR direction vs medians", [hid, *medians],
                                 f"HR {hr:g}; medians {value_of(by, medians[0])} vs {value_of(by, medians[1])}",
                                 "HR > 1 expected (the group has the shorter median)" if expected_gt1 else
                                 "HR < 1 expected (the group has the longer median)",
                                 "consistent" if agrees else "inconsistent",
                                 "" if agrees else f"the printed HR is read as the reference group relative to the"
                                 f" group (reciprocal {1 / hr:.2f}, CI {1 / hi:.2f}-{1 / lo:.2f})"))
    return rows


def derive_median_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Pooled medians between their subgroups' medians; one group's median printed twice."""
    rows = []
    for pooled, alt, subs in (x for x in POOLED if has_claims(by, x)):
        vals = [median_value(value_of(by, s)) for s in subs]
        lo, hi = min(vals), max(vals)
        m = median_value(value_of(by, pooled))
        ok = lo - EPS <= m <= hi + EPS
        printed = f"pooled {value_of(by, pooled)}; subgroups " + " vs ".join(str(value_of(by, s)) for s in subs)
        reading = ""
        if not ok and alt:
            m2 = median_value(value_of(by, alt))
            if lo - EPS <= m2 <= hi + EPS:
                reading = (f"fits the {by[alt]['population']} median {value_of(by, alt)}: "
                           "read as computed in the PP population")
            else:
                reading = "fits neither ITT nor PP"
        rows.append(finding("pooled median between subgroup medians", [pooled] + subs, printed,
                         f"pooled in [{fmt_number(lo)}, {fmt_number(hi)}]".replace("inf", "NR"),
                         "consistent" if ok else "inconsistent", reading))
    for a, b, what in (x for x in SAME_GROUP if has_claims(by, x)):
        va, vb = value_of(by, a), value_of(by, b)
        same = median_value(va) == median_value(vb)
        verdict = "consistent" if same else ("note" if "only if" in what else "inconsistent")
        rows.append(finding("same group, median printed twice", [a, b], f"{va} vs {vb}", what, verdict,
                         "" if same else "the three-group split is read as isolated gain of 1q21 / HR FISH / neither"))
    return rows


def derive_cox_selection_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """The Cox model's covariate selection at p < 0.2 against the printed p-values."""
    rows = []
    for bound_id, p_id in (x for x in COX_SELECTION if has_claims(by, x)):
        p = value_of(by, p_id)
        bound = float(BOUND_PATTERN.match(value_of(by, bound_id)).group(1))
        p_max = float(BOUND_PATTERN.match(p).group(1)) if isinstance(p, str) else float(p)
        ok = p_max < bound
        rows.append(finding("Cox selection at p < 0.2", [bound_id, p_id], f"selected; printed p {p}",
                         f"p < {bound:g}", "consistent" if ok else "inconsistent", ""))
    for p_id in (x for x in COX_NOT_SELECTED if x in by):
        p = float(value_of(by, p_id))
        ok = p >= 0.2
        rows.append(finding("Cox selection at p < 0.2", [p_id], f"not selected; printed p {p}", "p >= 0.2",
                         "consistent" if ok else "inconsistent", ""))
    return rows


def derive_wording_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Statements whose wording disagrees with the printed numbers; groupings described two ways."""
    rows = []
    for check, ids, printed, implied, verdict, reading in WORDING:
        if all(i in by for i in ids):
            rows.append(finding(check, ids, printed, _fill(implied, by), verdict, reading))
    return rows


def _fill(template: str, by) -> str:
    """``template`` with every ``{claim id}`` replaced by its printed value."""
    out = template
    for cid, c in by.items():
        out = out.replace("{" + cid + "}", str(c["published"]))
    return out
