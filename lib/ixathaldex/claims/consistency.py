"""Reviewer page, second section: the paper's own arithmetic rechecked from its printed numbers alone.

Like statcheck and GRIM: every percentage against its count and denominator, Fisher p-values against
the 2x2 tables the printed percentages imply, hazard-ratio CIs against their p-values and against the
medians, subgroup medians against the pooled median, sums of counts, and quantities printed twice
with two values. Checks are driven by the registry (``numerator`` / ``denominator`` fields) and by
the small tables of specifications below, which name claim ids only: every number comes from
``data/published/claims.yaml``. The readings chosen are documented in docs/paper-readings.md.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd
from scipy.stats import fisher_exact, norm

from ixathaldex.claims.registry import BOUND_PATTERN, ID_PATTERN, compare, load_claims

COLUMNS = ["check", "claims", "printed", "implied", "verdict", "reading"]
Z975 = norm.ppf(0.975)
EPS = 1e-9

# ----------------------------------------------------------------------------- specifications
#: percentages whose count is not printed but is the sum (+) or difference (-) of printed counts
DERIVED_NUMERATORS = {
    "fish.missing.pct": [(+1, "flow.itt.n"), (-1, "fish.available.n")],
    "resp.itt.vgpr_or_better.pct": [(+1, "t2a.itt.cr.n"), (+1, "t2a.itt.vgpr.n")],
    "resp.pp.vgpr_or_better.pct": [(+1, "t2a.pp.cr.n"), (+1, "t2a.pp.vgpr.n")],
    "safety.infection.g12.pct": [(+1, f"t3.all.{t}.g12.n") for t in
                                 ("uri", "lri", "viral", "uti", "infection_other", "vzv", "sepsis")],
    "safety.infection.g34.pct": [(+1, f"t3.all.{t}.g3plus.n") for t in
                                 ("uri", "lri", "viral", "uti", "infection_other", "vzv", "sepsis")],
    "safety.infection.g34.pct_discussion": [(+1, f"t3.all.{t}.g3plus.n") for t in
                                            ("uri", "lri", "viral", "uti", "infection_other", "vzv", "sepsis")],
}
#: denominators that are differences of printed counts
DERIVED_DENOMINATORS = {
    "t2b.hr.neg.orr.pct": [(+1, "fish.available.n"), (-1, "t1.cyto.hr.n")],
    "t2b.gain1q.neg.orr.pct": [(+1, "fish.available.n"), (-1, "t1.cyto.gain1q.n")],
}
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
#: sums of counts: (label, [(sign, id)...], relation, [(sign, id)...])
SUMS = [
    ("stopped before two cycles = ITT - PP", [(1, "flow.early_stop.pd.n"), (1, "flow.early_stop.toxicity.n"),
      (1, "flow.early_stop.withdrawal.n"), (1, "flow.early_stop.physician.n")], "==",
     [(1, "flow.itt.n"), (-1, "flow.pp.n")]),
    ("Table 1 sex rows sum to N", [(1, "t1.sex.male.n"), (1, "t1.sex.female.n")], "==", [(1, "flow.itt.n")]),
    ("Table 1 ISS rows sum to N", [(1, "t1.iss.i.n"), (1, "t1.iss.ii.n"), (1, "t1.iss.iii.n")], "==",
     [(1, "flow.itt.n")]),
    ("Table 1 ECOG rows sum to N", [(1, "t1.ecog.0_1.n"), (1, "t1.ecog.2.n")], "==", [(1, "flow.itt.n")]),
    ("Table 1 myeloma type rows sum to N", [(1, "t1.type.igg.n"), (1, "t1.type.iga.n"),
                                            (1, "t1.type.light_chain.n")], "==", [(1, "flow.itt.n")]),
    ("Table 1 prior-line rows sum to N", [(1, "t1.lines.1_2.n"), (1, "t1.lines.3_4.n"), (1, "t1.lines.5plus.n")],
     "==", [(1, "flow.itt.n")]),
    ("FISH: HR and/or gain + none = FISH evaluable", [(1, "fish.hr_or_gain1q.n"), (1, "t1.cyto.none.n")], "==",
     [(1, "fish.available.n")]),
    ("FISH: t(4;14) + del(17p) >= their union (HR group)", [(1, "fish.t414.n"), (1, "fish.del17p.n")], ">=",
     [(1, "t1.cyto.hr.n")]),
    ("FISH: union HR/gain <= HR + gain", [(1, "fish.hr_or_gain1q.n")], "<=",
     [(1, "t1.cyto.hr.n"), (1, "t1.cyto.gain1q.n")]),
    ("FISH: union HR/gain >= gain", [(1, "fish.hr_or_gain1q.n")], ">=", [(1, "t1.cyto.gain1q.n")]),
    ("Prior PI or IMiD <= N", [(1, "t1.prior.pi.n"), (1, "t1.prior.imid.n"), (-1, "t1.prior.pi_and_imid.n")],
     "<=", [(1, "flow.itt.n")]),
    ("Prior PI >= bortezomib exposed", [(1, "t1.prior.pi.n")], ">=", [(1, "t1.btz.exposed.n")]),
    ("Prior IMiD >= lenalidomide exposed", [(1, "t1.prior.imid.n")], ">=", [(1, "t1.len.exposed.n")]),
    ("Prior IMiD >= thalidomide exposed", [(1, "t1.prior.imid.n")], ">=", [(1, "t1.thal.exposed.n")]),
    ("Lenalidomide refractory <= exposed", [(1, "t1.len.refractory.n")], "<=", [(1, "t1.len.exposed.n")]),
    ("Bortezomib refractory <= exposed", [(1, "t1.btz.refractory.n")], "<=", [(1, "t1.btz.exposed.n")]),
    ("4-8 prior lines >= 5+ lines", [(1, "flow.prior_lines_4plus.n")], ">=", [(1, "t1.lines.5plus.n")]),
    ("4-8 prior lines <= 3+ lines", [(1, "flow.prior_lines_4plus.n")], "<=",
     [(1, "t1.lines.3_4.n"), (1, "t1.lines.5plus.n")]),
    ("IMiD-naive + IMiD-exposed (response paragraph) = N", [(1, "resp.imid_naive.n"), (1, "resp.imid_exposed.n")],
     "==", [(1, "flow.itt.n")]),
    ("Maintenance upgrades by kind sum to the total", [(1, "mnt.upgrade.vgpr_to_cr.n"), (1, "mnt.upgrade.pr_to_vgpr.n"),
      (1, "mnt.upgrade.pr_to_cr.n")], "==", [(1, "mnt.upgrade.n")]),
    ("Completed induction <= PP", [(1, "flow.induction_complete.n")], "<=", [(1, "flow.pp.n")]),
    ("Entered maintenance = completed induction", [(1, "flow.mnt.n")], "==", [(1, "flow.induction_complete.n")]),
    ("Completed maintenance + on therapy <= entered maintenance", [(1, "flow.mnt_complete.n"),
      (1, "flow.ongoing.n")], "<=", [(1, "flow.mnt.n")]),
    ("Table 3 maintenance set <= entered maintenance", [(1, "t3.mnt.n")], "<=", [(1, "flow.mnt.n")]),
    ("Cox model patients <= FISH evaluable", [(1, "os.cox.n")], "<=", [(1, "fish.available.n")]),
] + [
    (f"Table 2A {pop.upper()}: CR + VGPR + PR = ORR", [(1, f"t2a.{pop}.cr.n"), (1, f"t2a.{pop}.vgpr.n"),
                                                       (1, f"t2a.{pop}.pr.n")], "==", [(1, f"t2a.{pop}.orr.n")])
    for pop in ("itt", "pp")
] + [
    (f"Table 2A {pop.upper()}: ORR + MR = CBR", [(1, f"t2a.{pop}.orr.n"), (1, f"t2a.{pop}.mr.n")], "==",
     [(1, f"t2a.{pop}.cbr.n")]) for pop in ("itt", "pp")
] + [
    (f"Table 2A: PP {k.upper()} <= ITT {k.upper()}", [(1, f"t2a.pp.{k}.n")], "<=", [(1, f"t2a.itt.{k}.n")])
    for k in ("cr", "vgpr", "pr", "mr", "orr", "cbr")
]
#: a central value within its printed range or CI: (label, low, centre, high)
RANGES = [
    ("prior lines: median within range", "flow.prior_lines.min", "flow.prior_lines.median", "flow.prior_lines.max"),
    ("age: centre within range", "t1.age.min", "t1.age.median", "t1.age.max"),
    ("months since first line: median within IQR", "t1.months_since_first_line.q1",
     "t1.months_since_first_line.median", "t1.months_since_first_line.q3"),
    ("ITT PFS median within its CI", "pfs.itt.median.ci_low", "pfs.itt.median", "pfs.itt.median.ci_high"),
    ("ITT OS median within its CI", "os.itt.median.ci_low", "os.itt.median", "os.itt.median.ci_high"),
    ("upgrade times within the maintenance duration (12 x 28 days = 11.0 months)", "mnt.upgrade.time.min",
     "mnt.upgrade.time.max", 11.04),
    ("median maintenance duration within 12 cycles (11.0 months)", 0, "flow.mnt.duration.median", 11.04),
]
#: Cox covariate selection at p < 0.2: (selected bound claim, printed p of the same comparison, or None)
COX_SELECTION = [
    ("os.univ.gain1q.p", "os.gain1q.p"), ("os.univ.lines.p", "os.lines.p"), ("os.univ.gfr60.p", "os.gfr.p"),
]
#: printed OS comparisons of covariates left out of the Cox model (p must be >= 0.2)
COX_NOT_SELECTED = ["os.age.p", "os.frailty.p", "os.hrcyto.p"]
#: one quantity printed twice with two values: (id, id, what)
RESTATED = [
    ("flow.mnt.n", "flow.mnt.n_discussion", "patients who entered maintenance"),
    ("mnt.upgrade.pct", "mnt.upgrade.pct_abstract", "maintenance upgrade rate"),
    ("safety.infection.g34.pct", "safety.infection.g34.pct_discussion", "grade 3/4 infections"),
    ("t3.all.polyneuropathy.g3plus.pct", "safety.neuropathy.g34.pct_discussion", "grade 3/4 polyneuropathy"),
    ("t1.prior.imid.n", "resp.imid_exposed.n", "IMiD-exposed patients"),
    ("pfs.gain1q.p", "pfs.cox.gain1q.p", "PFS gain of 1q21: log-rank p and the p printed with the HR"),
]
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


# ----------------------------------------------------------------------------- helpers
def _ids(spec) -> set[str]:
    """Every claim id named in a specification (nested tuples/lists of strings)."""
    if isinstance(spec, str):
        out = {spec} if ID_PATTERN.match(spec) else set()
        for table in (DERIVED_NUMERATORS, DERIVED_DENOMINATORS):
            for _, ref in table.get(spec, []):
                out.add(ref)
        return out
    if isinstance(spec, (tuple, list)):
        return set().union(*[_ids(x) for x in spec]) if spec else set()
    return set()


def _has(by, spec) -> bool:
    """True when every claim a specification names is in the (possibly partial) registry."""
    return _ids(spec) <= set(by)


def _index(claims) -> dict[str, Mapping]:
    if isinstance(claims, pd.DataFrame):
        claims = claims.to_dict("records")
    return {c["id"]: c for c in claims}


def _val(by: Mapping[str, Mapping], ref: Any) -> Any:
    if isinstance(ref, (int, float)) and not isinstance(ref, bool):
        return ref
    if ref not in by:
        raise KeyError(ref)
    return by[ref]["published"]


def _combo(by, terms) -> float:
    return sum(sign * float(_val(by, ref)) for sign, ref in terms)


def _fmt(x: Any, d: int = 1) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, float) and x.is_integer() and d == 0:
        return str(int(x))
    return f"{x:.{d}f}" if isinstance(x, float) else str(x)


def _row(check, ids, printed, implied, verdict, reading=""):
    return {"check": check, "claims": ", ".join(ids), "printed": printed, "implied": implied,
            "verdict": verdict, "reading": reading}


def _half(decimals) -> float:
    return 0.5 * 10.0 ** (-(decimals or 0))


def pct_matches(k: float, n: float, printed: float, decimals: int) -> bool:
    """True when k/n, rounded half-up to ``decimals``, prints as ``printed``."""
    return n > 0 and abs(100.0 * k / n - printed) <= _half(decimals) + EPS


def grim_counts(printed: float, n: int, decimals: int) -> list[int]:
    """Every count k in 0..n whose percentage k/n prints as ``printed`` (GRIM)."""
    return [k for k in range(int(n) + 1) if pct_matches(k, n, printed, decimals)]


def _reciprocal_hundredths(v: float) -> int | None:
    """k when ``v`` is 1/(k/100) printed to two decimals (an inverted two-decimal estimate), else None."""
    k = round(100 / v)
    if k >= 1 and abs(round(100 / k, 2) - v) < 1e-9:
        return k
    return None


def _median_num(v) -> float:
    return math.inf if isinstance(v, str) else float(v)


# ----------------------------------------------------------------------------- the checks
def derive_percentage_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Every printed percentage against its count and denominator (or GRIM when no count is printed)."""
    rows = []
    for cid, c in by.items():
        if c["rule"] != "percent_printed" or not (c.get("denominator") or cid in DERIVED_DENOMINATORS):
            continue
        if not _has(by, [cid, c.get("numerator") or "", c.get("denominator") if isinstance(c.get("denominator"), str)
                         else ""]):
            continue
        dec = c.get("decimals", 1)
        pub = float(c["published"])
        if cid in DERIVED_DENOMINATORS:
            n, nids = _combo(by, DERIVED_DENOMINATORS[cid]), [r for _, r in DERIVED_DENOMINATORS[cid]]
        else:
            n, nids = float(_val(by, c["denominator"])), [c["denominator"]] if isinstance(c["denominator"], str) else []
        if c.get("numerator") or cid in DERIVED_NUMERATORS:
            if cid in DERIVED_NUMERATORS:
                k, kids = _combo(by, DERIVED_NUMERATORS[cid]), [r for _, r in DERIVED_NUMERATORS[cid]]
            else:
                k, kids = float(_val(by, c["numerator"])), [c["numerator"]]
            exact = 100.0 * k / n
            ok = pct_matches(k, n, pub, dec)
            reading = ""
            implied = f"{int(k)}/{int(n)} = {exact:.2f}%"
            if not ok:
                trunc = math.floor(exact * 10 ** dec + EPS) / 10 ** dec
                if abs(trunc - pub) < EPS:
                    implied += " (printed truncated, not rounded)"
                elif not grim_counts(pub, n, dec):
                    implied += f" (no count out of {int(n)} prints as {_fmt(pub, dec)})"
                reading = f"count and denominator as printed; the percentage is recomputed ({exact:.{dec}f})"
            rows.append(_row("percentage vs count/denominator", [cid] + kids + nids,
                             f"{_fmt(pub, dec)}%", implied, "consistent" if ok else "inconsistent", reading))
        else:
            ks = grim_counts(pub, n, dec)
            implied = (f"k/{int(n)} with k = {', '.join(map(str, ks))}" if ks else
                       f"no count out of {int(n)} prints as {_fmt(pub, dec)}%")
            reading = "" if ks else "the count is reproduced from the data and the percentage recomputed"
            rows.append(_row("percentage vs denominator (GRIM)", [cid] + nids, f"{_fmt(pub, dec)}%", implied,
                             "consistent" if ks else "inconsistent", reading))
    return rows


def _p_agrees(printed, p) -> bool:
    return compare({"id": "", "rule": "pvalue", "published": printed}, p)[0] == "reproduced"


def derive_fisher_checks(by: Mapping[str, Mapping], search: int = 6) -> list[dict]:
    """Fisher exact p-values against the 2x2 tables their printed percentages imply."""
    rows = []
    for label, pa, na, pb, nb, pid, reading in (x for x in FISHER if _has(by, x)):
        n1 = float(_val(by, na))
        n2 = float(_val(by, nb)) if nb else _combo(by, DERIVED_DENOMINATORS[pb])
        ids = [pa, pb, pid] + [x for x in (na, nb) if isinstance(x, str)]
        a, b = by[pa], by[pb]
        printed_p = by[pid]["published"]
        k1 = grim_counts(float(a["published"]), n1, a.get("decimals", 1))
        k2 = grim_counts(float(b["published"]), n2, b.get("decimals", 1))
        shown = f"{_fmt(a['published'])}% of {int(n1)} vs {_fmt(b['published'])}% of {int(n2)}, p = {printed_p}"
        if k1 and k2:
            p = fisher_exact([[k1[0], n1 - k1[0]], [k2[0], n2 - k2[0]]])[1]
            ok = _p_agrees(printed_p, p)
            implied = f"{k1[0]}/{int(n1)} vs {k2[0]}/{int(n2)}: Fisher p = {p:.4g}"
            if not ok:
                implied += _alternatives(by, a, b, n1, n2, printed_p, search)
            rows.append(_row("Fisher p vs implied 2x2", ids, shown, implied,
                             "consistent" if ok else "inconsistent", "" if ok else reading))
        else:
            implied = "the percentages are not k/n for the stated group sizes" + _alternatives(
                by, a, b, n1, n2, printed_p, search)
            rows.append(_row("Fisher p vs implied 2x2", ids, shown, implied, "inconsistent", reading))
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
    for label, pa, na, pb, nb, pid, _ in (x for x in FISHER[1:] if _has(by, x)):
        n1 = float(_val(by, na))
        n2 = float(_val(by, nb)) if nb else _combo(by, DERIVED_DENOMINATORS[pb])
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
    return [_row("responders implied by each Table 2B split", ids, "; ".join(totals),
                 "the same responders and FISH patients in every split", "consistent" if ok else "inconsistent",
                 "" if ok else "33 responders; the gain-of-1q21 split has 58 evaluable patients (15/32 + 18/26)")]


def derive_hazard_ratio_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """HR CIs vs their p-values (Wald, log scale), CI symmetry, reciprocal printing, direction vs medians."""
    rows = []
    for label, hid, lid, uid, pid, medians in (x for x in HAZARD_RATIOS if _has(by, x)):
        hr, lo, hi = (float(_val(by, x)) for x in (hid, lid, uid))
        p_pr = _val(by, pid)
        se = (math.log(hi) - math.log(lo)) / (2 * Z975)
        z = math.log(hr) / se
        p_wald = 2 * norm.sf(abs(z))
        ok = _p_agrees(p_pr, p_wald)
        rows.append(_row("HR CI vs p (Wald, log scale)", [hid, lid, uid, pid],
                         f"{label}: HR {hr:g} ({lo:g}-{hi:g}), p = {p_pr}",
                         f"SE(log HR) = {se:.3f}, z = {z:.2f}, p = {p_wald:.3g}",
                         "consistent" if ok else "inconsistent",
                         "" if ok else "the HR and CI are reproduced; the p is the model's Wald p"))
        up, down = math.log(hi) - math.log(hr), math.log(hr) - math.log(lo)
        ratio = up / down
        sym = 0.8 <= ratio <= 1.25
        rows.append(_row("HR CI symmetric on the log scale", [hid, lid, uid], f"HR {hr:g} ({lo:g}-{hi:g})",
                         f"log distances to the limits {down:.3f} / {up:.3f} (ratio {ratio:.2f})",
                         "consistent" if sym else "inconsistent", ""))
        ks = [_reciprocal_hundredths(v) for v in (hr, lo, hi)]
        if hr > 1 and all(ks) and ks[2] <= 10:  # an upper limit of 1/0.10 or coarser gives it away
            k_hi = ks[2]
            lo_true = 100 / (k_hi + 0.5)
            hi_true = 100 / (k_hi - 0.5) if k_hi > 0.5 else math.inf
            rows.append(_row("HR printed as a reciprocal", [hid, lid, uid], f"HR {hr:g} ({lo:g}-{hi:g})",
                             "= " + ", ".join(f"1/{k / 100:.2f}" for k in ks) +
                             f": the upper limit can be anywhere in {lo_true:.3g}-{hi_true:.3g}",
                             "note", "compare the HR within 20 %; the printed upper limit is a rounding artefact"))
        if medians:
            m_exp, m_ref = (_median_num(_val(by, m)) for m in medians)
            if m_exp != m_ref:
                expected_gt1 = m_exp < m_ref
                agrees = (hr > 1) == expected_gt1
                rows.append(_row("HR direction vs medians", [hid, *medians],
                                 f"HR {hr:g}; medians {_val(by, medians[0])} vs {_val(by, medians[1])}",
                                 "HR > 1 expected (the group has the shorter median)" if expected_gt1 else
                                 "HR < 1 expected (the group has the longer median)",
                                 "consistent" if agrees else "inconsistent",
                                 "" if agrees else f"the printed HR is read as the reference group relative to the"
                                 f" group (reciprocal {1 / hr:.2f}, CI {1 / hi:.2f}-{1 / lo:.2f})"))
    return rows


def derive_median_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Pooled medians between their subgroups' medians; one group's median printed twice."""
    rows = []
    for pooled, alt, subs in (x for x in POOLED if _has(by, x)):
        vals = [_median_num(_val(by, s)) for s in subs]
        lo, hi = min(vals), max(vals)
        m = _median_num(_val(by, pooled))
        ok = lo - EPS <= m <= hi + EPS
        printed = f"pooled {_val(by, pooled)}; subgroups " + " vs ".join(str(_val(by, s)) for s in subs)
        reading = ""
        if not ok and alt:
            m2 = _median_num(_val(by, alt))
            if lo - EPS <= m2 <= hi + EPS:
                reading = (f"fits the {by[alt]['population']} median {_val(by, alt)}: "
                           "read as computed in the PP population")
            else:
                reading = "fits neither ITT nor PP"
        rows.append(_row("pooled median between subgroup medians", [pooled] + subs, printed,
                         f"pooled in [{_fmt(lo)}, {_fmt(hi)}]".replace("inf", "NR"),
                         "consistent" if ok else "inconsistent", reading))
    for a, b, what in (x for x in SAME_GROUP if _has(by, x)):
        va, vb = _val(by, a), _val(by, b)
        same = _median_num(va) == _median_num(vb)
        verdict = "consistent" if same else ("note" if "only if" in what else "inconsistent")
        rows.append(_row("same group, median printed twice", [a, b], f"{va} vs {vb}", what, verdict,
                         "" if same else "the three-group split is read as isolated gain of 1q21 / HR FISH / neither"))
    return rows


def derive_sum_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Sums of counts: flow, Table 1 rows, Table 2A categories, FISH overlaps, Table 3 grades."""
    rows = []
    ops = {"==": lambda x, y: abs(x - y) < EPS, "<=": lambda x, y: x <= y + EPS, ">=": lambda x, y: x >= y - EPS}
    for label, left, rel, right in (x for x in SUMS if _has(by, x)):
        lv, rv = _combo(by, left), _combo(by, right)
        ok = ops[rel](lv, rv)
        rows.append(_row("sum of counts", [r for _, r in left + right], label, f"{lv:g} {rel} {rv:g}",
                         "consistent" if ok else "inconsistent", ""))
    rows += _table3_sum_checks(by)
    return rows


def _table3_sum_checks(by) -> list[dict]:
    rows = []
    terms = sorted({cid.split(".")[2] for cid in by if cid.startswith("t3.all.") and cid.endswith(".n")})
    for t in terms:
        need = [f"t3.{ph}.{t}.{gr}.{k}" for ph in ("all", "mnt") for gr in ("g12", "g3plus") for k in ("n", "pct")]
        if not _has(by, need + ["flow.itt.n", "t3.mnt.n"]):
            continue
        g = {(ph, gr): float(by[f"t3.{ph}.{t}.{gr}.n"]["published"]) for ph in ("all", "mnt")
             for gr in ("g12", "g3plus")}
        for ph, n_id in (("all", "flow.itt.n"), ("mnt", "t3.mnt.n")):
            n = float(by[n_id]["published"])
            tot = g[(ph, "g12")] + g[(ph, "g3plus")]
            rows.append(_row("Table 3 grades <= n", [f"t3.{ph}.{t}.g12.n", f"t3.{ph}.{t}.g3plus.n", n_id],
                             f"{t} ({ph})", f"{tot:g} <= {n:g}", "consistent" if tot <= n else "inconsistent"))
        any_m, any_a = g[("mnt", "g12")] + g[("mnt", "g3plus")], g[("all", "g12")] + g[("all", "g3plus")]
        ok = any_m <= any_a and g[("mnt", "g3plus")] <= g[("all", "g3plus")]
        rows.append(_row("Table 3 maintenance within whole study", [f"t3.mnt.{t}.g12.n", f"t3.mnt.{t}.g3plus.n",
                                                                    f"t3.all.{t}.g12.n", f"t3.all.{t}.g3plus.n"],
                         f"{t}", f"any grade {any_m:g} <= {any_a:g}; grade >=3 {g[('mnt', 'g3plus')]:g} <= "
                         f"{g[('all', 'g3plus')]:g}", "consistent" if ok else "inconsistent"))
        if (by[f"t3.all.{t}.g12.pct"]["published"] < 10 and by[f"t3.mnt.{t}.g12.pct"]["published"] < 10
                and g[("all", "g3plus")] + g[("mnt", "g3plus")] == 0):
            rows.append(_row("Table 3 inclusion rule", [f"t3.all.{t}.g12.pct"], t,
                             "grade 1/2 < 10% and no grade >=3: should not be listed", "inconsistent"))
    return rows


def derive_range_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Central values within their printed ranges/CIs; Cox selection threshold vs printed p-values."""
    rows = []
    for label, lo, mid, hi in (x for x in RANGES if _has(by, x)):
        vals = [_median_num(_val(by, x)) for x in (lo, mid, hi)]
        ok = vals[0] - EPS <= vals[1] <= vals[2] + EPS
        shown = " <= ".join(str(_val(by, x)) for x in (lo, mid, hi))
        rows.append(_row("value within its range", [x for x in (lo, mid, hi) if isinstance(x, str)], label,
                         shown, "consistent" if ok else "inconsistent", ""))
    for bound_id, p_id in (x for x in COX_SELECTION if _has(by, x)):
        p = _val(by, p_id)
        bound = float(BOUND_PATTERN.match(_val(by, bound_id)).group(1))
        p_max = float(BOUND_PATTERN.match(p).group(1)) if isinstance(p, str) else float(p)
        ok = p_max < bound
        rows.append(_row("Cox selection at p < 0.2", [bound_id, p_id], f"selected; printed p {p}",
                         f"p < {bound:g}", "consistent" if ok else "inconsistent", ""))
    for p_id in (x for x in COX_NOT_SELECTED if x in by):
        p = float(_val(by, p_id))
        ok = p >= 0.2
        rows.append(_row("Cox selection at p < 0.2", [p_id], f"not selected; printed p {p}", "p >= 0.2",
                         "consistent" if ok else "inconsistent", ""))
    return rows


def derive_restatement_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """One quantity printed twice with two values (compared at the coarser printed precision)."""
    rows = []
    for a, b, what in (x for x in RESTATED if _has(by, x)):
        va, vb = by[a]["published"], by[b]["published"]
        if isinstance(va, str) or isinstance(vb, str):
            same = va == vb
        else:
            d = min(by[a].get("decimals", 0) if by[a]["rule"] != "exact" else 0,
                    by[b].get("decimals", 0) if by[b]["rule"] != "exact" else 0)
            same = abs(float(va) - float(vb)) <= _half(d) + EPS
        rows.append(_row("same quantity printed twice", [a, b], f"{va} vs {vb}", what,
                         "consistent" if same else "inconsistent",
                         "" if same else READINGS.get((a, b), "")))
    # the upgrade rate against the maintenance count printed in the same paragraph
    if not _has(by, ["mnt.upgrade.n", "flow.mnt.n", "mnt.upgrade.pct"]):
        return rows
    k, n43 = float(_val(by, "mnt.upgrade.n")), float(_val(by, "flow.mnt.n"))
    pub = float(_val(by, "mnt.upgrade.pct"))
    ok = pct_matches(k, n43, pub, 1)
    rows.append(_row("percentage vs count/denominator", ["mnt.upgrade.pct", "mnt.upgrade.n", "flow.mnt.n"],
                     f"{pub}% of {int(n43)} (results paragraph)", f"{int(k)}/{int(n43)} = {100 * k / n43:.2f}%",
                     "consistent" if ok else "inconsistent",
                     "" if ok else "12.2% = 5/41: the rate uses the 41 patients of the maintenance safety set"))
    return rows


READINGS = {
    ("flow.mnt.n", "flow.mnt.n_discussion"): "43 entered maintenance (MNTFL); 41 received it (MNTSAFFL, Table 3)",
    ("mnt.upgrade.pct", "mnt.upgrade.pct_abstract"): "12.2 = 5/41; the abstract's 12.4 matches no denominator",
    ("safety.infection.g34.pct", "safety.infection.g34.pct_discussion"): "20.0 = 18/90",
    ("t3.all.polyneuropathy.g3plus.pct", "safety.neuropathy.g34.pct_discussion"): "4/90 = 4.4% (Table 3)",
    ("t1.prior.imid.n", "resp.imid_exposed.n"): ("54 exposed (Table 1) for baseline; the response split is "
                                                  "reproduced on the data's IMiD flag"),
}


def derive_wording_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Statements whose wording disagrees with the printed numbers; groupings described two ways."""
    rows = []
    for check, ids, printed, implied, verdict, reading in WORDING:
        if all(i in by for i in ids):
            rows.append(_row(check, ids, printed, _fill(implied, by), verdict, reading))
    return rows


def _fill(template: str, by) -> str:
    out = template
    for cid, c in by.items():
        out = out.replace("{" + cid + "}", str(c["published"]))
    return out


def table_consistency(claims=None) -> pd.DataFrame:
    """Reviewer page, arithmetic recheck: one row per check of the paper's printed numbers.

    Columns: check, claims (comma-separated ids), printed, implied, verdict (consistent /
    inconsistent / note), reading (the reading the reproduction uses when they disagree). ``claims``
    is the registry (list of dicts or DataFrame); default: the project's registry. A check whose
    claims are missing from a partial registry is skipped.
    """
    by = _index(load_claims() if claims is None else claims)
    rows: list[dict] = []
    for fn in (derive_percentage_checks, derive_fisher_checks, derive_responder_total_checks,
               derive_hazard_ratio_checks, derive_median_checks,
               derive_sum_checks, derive_range_checks, derive_restatement_checks, derive_wording_checks):
        rows += fn(by)
    return pd.DataFrame(rows, columns=COLUMNS)
