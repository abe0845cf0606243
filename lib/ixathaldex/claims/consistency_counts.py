"""Reviewer page, arithmetic recheck: the paper's counts, percentages and sums from its printed numbers.

Every percentage against its count and denominator (or, when no count is printed, whether any whole
count prints as it: GRIM), sums of counts (patient flow, Table 1 rows, Table 2A categories, FISH
overlaps, Table 3 grades), central values within their ranges, and quantities printed twice with
two values. The tables below name the claims each check reads; every number comes from
``data/published/claims.yaml``. The readings chosen are documented in docs/paper-readings.md.
"""

from __future__ import annotations

import math
from typing import Mapping

from ixathaldex.claims.printed import (
    DERIVED_DENOMINATORS,
    DERIVED_NUMERATORS,
    EPS,
    finding,
    fmt_number,
    grim_counts,
    half_unit,
    has_claims,
    median_value,
    pct_matches,
    sum_of,
    value_of,
)

# ----------------------------------------------------------------------------- specifications
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


#: one quantity printed twice with two values: (id, id, what)
RESTATED = [
    ("flow.mnt.n", "flow.mnt.n_discussion", "patients who entered maintenance"),
    ("mnt.upgrade.pct", "mnt.upgrade.pct_abstract", "maintenance upgrade rate"),
    ("safety.infection.g34.pct", "safety.infection.g34.pct_discussion", "grade 3/4 infections"),
    ("t3.all.polyneuropathy.g3plus.pct", "safety.neuropathy.g34.pct_discussion", "grade 3/4 polyneuropathy"),
    ("t1.prior.imid.n", "resp.imid_exposed.n", "IMiD-exposed patients"),
    ("pfs.gain1q.p", "pfs.cox.gain1q.p", "PFS gain of 1q21: log-rank p and the p printed with the HR"),
]
#: the reading the reproduction uses when a quantity printed twice disagrees with itself
READINGS = {
    ("flow.mnt.n", "flow.mnt.n_discussion"): "43 entered maintenance (MNTFL); 41 received it (MNTSAFFL, Table 3)",
    ("mnt.upgrade.pct", "mnt.upgrade.pct_abstract"): "12.2 = 5/41; the abstract's 12.4 matches no denominator",
    ("safety.infection.g34.pct", "safety.infection.g34.pct_discussion"): "20.0 = 18/90",
    ("t3.all.polyneuropathy.g3plus.pct", "safety.neuropathy.g34.pct_discussion"): "4/90 = 4.4% (Table 3)",
    ("t1.prior.imid.n", "resp.imid_exposed.n"): ("54 exposed (Table 1) for baseline; the response split is "
                                                  "reproduced on the data's IMiD flag"),
}


# ----------------------------------------------------------------------------- the checks
def derive_percentage_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Every printed percentage against its count and denominator (or GRIM when no count is printed)."""
    rows = []
    for cid, c in by.items():
        if c["rule"] != "percent_printed" or not (c.get("denominator") or cid in DERIVED_DENOMINATORS):
            continue
        if not has_claims(by, [cid, c.get("numerator") or "", c.get("denominator") if isinstance(c.get("denominator"), str)
                         else ""]):
            continue
        dec = c.get("decimals", 1)
        pub = float(c["published"])
        if cid in DERIVED_DENOMINATORS:
            n, nids = sum_of(by, DERIVED_DENOMINATORS[cid]), [r for _, r in DERIVED_DENOMINATORS[cid]]
        else:
            n, nids = float(value_of(by, c["denominator"])), [c["denominator"]] if isinstance(c["denominator"], str) else []
        if c.get("numerator") or cid in DERIVED_NUMERATORS:
            if cid in DERIVED_NUMERATORS:
                k, kids = sum_of(by, DERIVED_NUMERATORS[cid]), [r for _, r in DERIVED_NUMERATORS[cid]]
            else:
                k, kids = float(value_of(by, c["numerator"])), [c["numerator"]]
            exact = 100.0 * k / n
            ok = pct_matches(k, n, pub, dec)
            reading = ""
            implied = f"{int(k)}/{int(n)} = {exact:.2f}%"
            if not ok:
                trunc = math.floor(exact * 10 ** dec + EPS) / 10 ** dec
                if abs(trunc - pub) < EPS:
                    implied += " (printed truncated, not rounded)"
                elif not grim_counts(pub, n, dec):
                    implied += f" (no count out of {int(n)} prints as {fmt_number(pub, dec)})"
                reading = f"count and denominator as printed; the percentage is recomputed ({exact:.{dec}f})"
            rows.append(finding("percentage vs count/denominator", [cid] + kids + nids,
                             f"{fmt_number(pub, dec)}%", implied, "consistent" if ok else "inconsistent", reading))
        else:
            ks = grim_counts(pub, n, dec)
            implied = (f"k/{int(n)} with k = {', '.join(map(str, ks))}" if ks else
                       f"no count out of {int(n)} prints as {fmt_number(pub, dec)}%")
            reading = "" if ks else "the count is reproduced from the data and the percentage recomputed"
            rows.append(finding("percentage vs denominator (GRIM)", [cid] + nids, f"{fmt_number(pub, dec)}%", implied,
                             "consistent" if ks else "inconsistent", reading))
    return rows


def derive_sum_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Sums of counts: flow, Table 1 rows, Table 2A categories, FISH overlaps, Table 3 grades."""
    rows = []
    ops = {"==": lambda x, y: abs(x - y) < EPS, "<=": lambda x, y: x <= y + EPS, ">=": lambda x, y: x >= y - EPS}
    for label, left, rel, right in (x for x in SUMS if has_claims(by, x)):
        lv, rv = sum_of(by, left), sum_of(by, right)
        ok = ops[rel](lv, rv)
        rows.append(finding("sum of counts", [r for _, r in left + right], label, f"{lv:g} {rel} {rv:g}",
                         "consistent" if ok else "inconsistent", ""))
    rows += _table3_sum_checks(by)
    return rows


def _table3_sum_checks(by) -> list[dict]:
    rows = []
    terms = sorted({cid.split(".")[2] for cid in by if cid.startswith("t3.all.") and cid.endswith(".n")})
    for t in terms:
        need = [f"t3.{ph}.{t}.{gr}.{k}" for ph in ("all", "mnt") for gr in ("g12", "g3plus") for k in ("n", "pct")]
        if not has_claims(by, need + ["flow.itt.n", "t3.mnt.n"]):
            continue
        g = {(ph, gr): float(by[f"t3.{ph}.{t}.{gr}.n"]["published"]) for ph in ("all", "mnt")
             for gr in ("g12", "g3plus")}
        for ph, n_id in (("all", "flow.itt.n"), ("mnt", "t3.mnt.n")):
            n = float(by[n_id]["published"])
            tot = g[(ph, "g12")] + g[(ph, "g3plus")]
            rows.append(finding("Table 3 grades <= n", [f"t3.{ph}.{t}.g12.n", f"t3.{ph}.{t}.g3plus.n", n_id],
                             f"{t} ({ph})", f"{tot:g} <= {n:g}", "consistent" if tot <= n else "inconsistent"))
        any_m, any_a = g[("mnt", "g12")] + g[("mnt", "g3plus")], g[("all", "g12")] + g[("all", "g3plus")]
        ok = any_m <= any_a and g[("mnt", "g3plus")] <= g[("all", "g3plus")]
        rows.append(finding("Table 3 maintenance within whole study", [f"t3.mnt.{t}.g12.n", f"t3.mnt.{t}.g3plus.n",
                                                                    f"t3.all.{t}.g12.n", f"t3.all.{t}.g3plus.n"],
                         f"{t}", f"any grade {any_m:g} <= {any_a:g}; grade >=3 {g[('mnt', 'g3plus')]:g} <= "
                         f"{g[('all', 'g3plus')]:g}", "consistent" if ok else "inconsistent"))
        if (by[f"t3.all.{t}.g12.pct"]["published"] < 10 and by[f"t3.mnt.{t}.g12.pct"]["published"] < 10
                and g[("all", "g3plus")] + g[("mnt", "g3plus")] == 0):
            rows.append(finding("Table 3 inclusion rule", [f"t3.all.{t}.g12.pct"], t,
                             "grade 1/2 < 10% and no grade >=3: should not be listed", "inconsistent"))
    return rows


def derive_range_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Central values within their printed ranges and confidence intervals."""
    rows = []
    for label, lo, mid, hi in (x for x in RANGES if has_claims(by, x)):
        vals = [median_value(value_of(by, x)) for x in (lo, mid, hi)]
        ok = vals[0] - EPS <= vals[1] <= vals[2] + EPS
        shown = " <= ".join(str(value_of(by, x)) for x in (lo, mid, hi))
        rows.append(finding("value within its range", [x for x in (lo, mid, hi) if isinstance(x, str)], label,
                         shown, "consistent" if ok else "inconsistent", ""))
    return rows


def derive_restatement_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """One quantity printed twice with two values (compared at the coarser printed precision)."""
    rows = []
    for a, b, what in (x for x in RESTATED if has_claims(by, x)):
        va, vb = by[a]["published"], by[b]["published"]
        if isinstance(va, str) or isinstance(vb, str):
            same = va == vb
        else:
            d = min(by[a].get("decimals", 0) if by[a]["rule"] != "exact" else 0,
                    by[b].get("decimals", 0) if by[b]["rule"] != "exact" else 0)
            same = abs(float(va) - float(vb)) <= half_unit(d) + EPS
        rows.append(finding("same quantity printed twice", [a, b], f"{va} vs {vb}", what,
                         "consistent" if same else "inconsistent",
                         "" if same else READINGS.get((a, b), "")))
    # the upgrade rate against the maintenance count printed in the same paragraph
    if not has_claims(by, ["mnt.upgrade.n", "flow.mnt.n", "mnt.upgrade.pct"]):
        return rows
    k, n43 = float(value_of(by, "mnt.upgrade.n")), float(value_of(by, "flow.mnt.n"))
    pub = float(value_of(by, "mnt.upgrade.pct"))
    ok = pct_matches(k, n43, pub, 1)
    rows.append(finding("percentage vs count/denominator", ["mnt.upgrade.pct", "mnt.upgrade.n", "flow.mnt.n"],
                     f"{pub}% of {int(n43)} (results paragraph)", f"{int(k)}/{int(n43)} = {100 * k / n43:.2f}%",
                     "consistent" if ok else "inconsistent",
                     "" if ok else "12.2% = 5/41: the rate uses the 41 patients of the maintenance safety set"))
    return rows
