"""Reviewer page, arithmetic recheck: the paper's percentages against their counts and denominators.

Four families, every number read from ``data/published/claims.yaml``:

- ``percentage``: each printed percentage against its count and denominator at the printed precision
  (consistent; rounding when a printing slip explains it: truncated, rounded twice; else
  inconsistent), or, when no count is printed, whether any whole count prints as it (GRIM), with the
  denominators the percentage allows;
- ``two percentages``: one count of one denominator printed with two different percentages;
- ``rounded total``: a total printed as the sum of its rows' rounded percentages;
- ``restatement``: one quantity printed twice with two values.

The readings chosen are generated into docs/paper-readings.md.
"""

from __future__ import annotations

from typing import Mapping

from ixathaldex.claims.precision import printed_decimals
from ixathaldex.claims.printed import (
    allowed_denominators,
    classify_percentage,
    finding,
    grim_counts,
    missing_finding,
    presence,
    prints_as,
    show,
    slip_of,
    sum_of,
    value_of,
)

INFECTIONS = ("uri", "lri", "viral", "uti", "infection_other", "vzv", "sepsis")

#: percentages whose count is not printed beside them but is the sum or difference of printed counts
DERIVED_NUMERATORS = {
    "fish.missing.pct": [(+1, "flow.itt.n"), (-1, "fish.available.n")],
    "resp.itt.vgpr_or_better.pct": [(+1, "t2a.itt.cr.n"), (+1, "t2a.itt.vgpr.n")],
    "resp.pp.vgpr_or_better.pct": [(+1, "t2a.pp.cr.n"), (+1, "t2a.pp.vgpr.n")],
    "safety.neuropathy.g34.pct_discussion": [(+1, "t3.all.polyneuropathy.g3plus.n")],
}
#: denominators that are differences of printed counts
DERIVED_DENOMINATORS = {
    "t2b.hr.neg.orr.pct": [(+1, "fish.available.n"), (-1, "t1.cyto.hr.n")],
    "t2b.gain1q.neg.orr.pct": [(+1, "fish.available.n"), (-1, "t1.cyto.gain1q.n")],
}
#: a percentage set beside another denominator in the same sentence: (pct id, denominator id)
OTHER_DENOMINATORS = [("mnt.upgrade.pct", "flow.mnt.n")]
#: totals that may be sums of their rows' rounded percentages: (total, row pct ids, row count ids, n)
ROUNDED_TOTALS = [
    (total, [f"t3.all.{t}.{g}.pct" for t in INFECTIONS], [f"t3.all.{t}.{g}.n" for t in INFECTIONS], "flow.itt.n")
    for total, g in (("safety.infection.g12.pct", "g12"), ("safety.infection.g34.pct", "g3plus"),
                     ("safety.infection.g34.pct_discussion", "g3plus"))
]
#: one quantity printed twice with two values: (id, id, what, reading when they disagree)
RESTATED = [
    ("flow.mnt.n", "flow.mnt.n_discussion", "patients who entered maintenance",
     "43 entered maintenance (MNTFL); 41 received it (MNTSAFFL, Table 3)"),
    ("mnt.upgrade.pct", "mnt.upgrade.pct_abstract", "maintenance upgrade rate",
     "12.2 = 5/41; the abstract's 12.4 matches no denominator"),
    ("safety.infection.g34.pct", "safety.infection.g34.pct_discussion", "grade 3/4 infections", "18/90 = 20.0"),
    ("t3.all.polyneuropathy.g3plus.pct", "safety.neuropathy.g34.pct_discussion", "grade 3/4 polyneuropathy",
     "4/90 = 4.4% (Table 3)"),
    ("t1.prior.imid.n", "resp.imid_exposed.n", "IMiD-exposed patients",
     "54 exposed (Table 1) for baseline; the response split is reproduced on the data's IMiD flag"),
    ("pfs.gain1q.p", "pfs.cox.gain1q.p", "PFS by gain of 1q21: log-rank p and the p printed with the HR", ""),
]
NEARBY = 8  # denominators shown within this distance of the stated one


def _numerator(by, cid):
    if cid in DERIVED_NUMERATORS:
        return sum_of(by, DERIVED_NUMERATORS[cid]), [r for _, r in DERIVED_NUMERATORS[cid]]
    ref = by[cid].get("numerator")
    if ref is None:
        return None, []
    return float(value_of(by, ref)), [ref] if isinstance(ref, str) else []


def _denominator(by, cid):
    if cid in DERIVED_DENOMINATORS:
        return sum_of(by, DERIVED_DENOMINATORS[cid]), [r for _, r in DERIVED_DENOMINATORS[cid]]
    ref = by[cid].get("denominator")
    if ref is None:
        return None, []
    return float(value_of(by, ref)), [ref] if isinstance(ref, str) else []


def resolve_percentage(by, cid):
    """(k or None, n or None, ids) of a printed percentage: its count and denominator as printed."""
    c = by[cid]
    spec = [c.get("numerator"), c.get("denominator"), DERIVED_NUMERATORS.get(cid, []),
            DERIVED_DENOMINATORS.get(cid, [])]
    spec = [s for s in spec if s is not None and not isinstance(s, int)]
    if presence(by, [[r for _, r in s] if isinstance(s, list) else s for s in spec]) != "all":
        return None, None, []
    k, kids = _numerator(by, cid)
    n, nids = _denominator(by, cid)
    return k, n, kids + nids


def _percentage_row(by, cid, k, n, ids, fid, note="") -> dict:
    c = by[cid]
    dec, pub = printed_decimals(c), float(c["published"])
    published = f"{show(by, cid)}%" + (f" of {n:g}" if n is not None else "")
    if k is not None:
        verdict, text = classify_percentage(k, n, pub, dec)
        if verdict == "inconsistent":
            dens = [d for d in allowed_denominators(int(k), pub, dec, int(n) + NEARBY) if abs(d - n) <= NEARBY]
            text += (f"; {show(by, cid)}% of {k:g} fits the denominator(s) {', '.join(map(str, dens))}" if dens
                     else f"; no denominator near {n:g} gives {show(by, cid)}% for {k:g}")
        explanation = {"consistent": "The printed percentage is the count over its denominator.",
                       "rounding": "The count and denominator are right; the percentage was printed with a slip.",
                       "inconsistent": "The printed percentage is not the printed count over its denominator.",
                       "not checkable": "The denominator is not a positive count."}
        return finding(fid, "percentage", [cid] + ids, by, published, text, verdict, explanation[verdict] + note,
                       c.get("note", "") if verdict != "consistent" else "")
    return _grim_row(by, cid, n, ids, fid, published)


def _grim_row(by, cid, n, ids, fid, published) -> dict:
    c = by[cid]
    dec, pub = printed_decimals(c), float(c["published"])
    ks = grim_counts(pub, n, dec)
    if ks:
        return finding(fid, "percentage", [cid] + ids, by, published, f"k/{n:g} with k = {', '.join(map(str, ks))}",
                       "consistent", "Some whole count over the denominator prints as this percentage (GRIM).")
    slips = [(k, slip_of(100.0 * k / n, pub, dec)) for k in range(int(n) + 1)]
    slips = [(k, s) for k, s in slips if s]
    dens = [d for d in range(max(1, int(n) - NEARBY), int(n) + NEARBY + 1) if grim_counts(pub, d, dec)]
    text = f"no count out of {n:g} prints as {show(by, cid)}%" + (
        f"; denominators nearby that allow it: {', '.join(f'{d} ({grim_counts(pub, d, dec)[0]}/{d})' for d in dens)}"
        if dens else "")
    if slips:
        return finding(fid, "percentage", [cid] + ids, by, published, text + f"; {slips[0][0]}/{n:g} {slips[0][1]}",
                       "rounding", "No count prints as this percentage when rounded, one does with a printing slip.",
                       c.get("note", ""))
    return finding(fid, "percentage", [cid] + ids, by, published, text, "inconsistent",
                   "No whole number of patients out of the denominator gives this percentage (GRIM).",
                   c.get("note", ""))


def derive_percentage_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Every printed percentage against its count and denominator (GRIM when no count is printed)."""
    totals = {t for t, *_ in ROUNDED_TOTALS}
    rows = []
    for cid, c in by.items():
        if c["rule"] != "percent_printed" or cid in totals or isinstance(c["published"], str):
            continue
        if not (c.get("denominator") is not None or cid in DERIVED_DENOMINATORS):
            continue
        k, n, ids = resolve_percentage(by, cid)
        if n is None:
            rows.append(missing_finding("pct." + cid, "percentage", [cid, c.get("numerator"), c.get("denominator")],
                                        by, f"{c['published']}%"))
            continue
        rows.append(_percentage_row(by, cid, k, n, ids, "pct." + cid))
    for cid, den in OTHER_DENOMINATORS:
        if presence(by, [cid, den, by.get(cid, {}).get("numerator")]) == "all":
            k, _, kids = resolve_percentage(by, cid)
            rows.append(_percentage_row(by, cid, k, float(value_of(by, den)), kids + [den], f"pct.{cid}.of.{den}",
                                        " The same sentence sets the percentage beside this denominator."))
    return rows


def derive_two_percentage_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """One count of one denominator printed with two different percentages."""
    groups: dict[tuple, list[str]] = {}
    for cid, c in by.items():
        if c["rule"] != "percent_printed" or isinstance(c["published"], str) or cid not in by:
            continue
        k, n, _ = resolve_percentage(by, cid)
        if k is not None and n:
            groups.setdefault((k, n), []).append(cid)
    rows = []
    for (k, n), ids in groups.items():
        if len(ids) < 2:
            continue
        shown = sorted({show(by, i) for i in ids})
        verdicts = [classify_percentage(k, n, float(by[i]["published"]), printed_decimals(by[i]))[0] for i in ids]
        verdict = ("inconsistent" if "inconsistent" in verdicts else
                   "rounding" if "rounding" in verdicts else "consistent")
        published = "; ".join(f"{show(by, i)}% ({i})" for i in ids)
        rows.append(finding("twice." + ids[0], "two percentages", ids, by, published,
                            f"{k:g}/{n:g} = {100 * k / n:.3f}%; printed as {' and '.join(shown)}", verdict,
                            "One count over one denominator prints as one percentage everywhere (at each place's precision)."))
    return rows


def derive_rounded_total_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Totals against the sum of their rows' counts and against the sum of their rows' rounded percentages."""
    rows = []
    for total, pcts, counts, den in ROUNDED_TOTALS:
        spec = [total, pcts, counts, den]
        state = presence(by, spec)
        if state == "none" or total not in by:
            continue
        if state == "some":
            rows.append(missing_finding("total." + total, "rounded total", spec, by, str(by[total]["published"])))
            continue
        dec, pub = printed_decimals(by[total]), float(by[total]["published"])
        k, n = sum(float(value_of(by, c)) for c in counts), float(value_of(by, den))
        rowsum = sum(float(value_of(by, p)) for p in pcts)
        text = f"rows sum to {k:g}/{n:g} = {100 * k / n:.2f}%; the rows' printed percentages sum to {rowsum:.1f}"
        if prints_as(100 * k / n, pub, dec):
            verdict, why = "consistent", "The total is the rows' counts over the denominator."
        elif prints_as(rowsum, pub, dec):
            verdict, why = "rounding", "The total is the sum of the rows' rounded percentages, not of their counts."
        else:
            verdict, why = "inconsistent", "The total matches neither the rows' counts nor their percentages."
        rows.append(finding("total." + total, "rounded total", [total] + counts + [den], by, f"{show(by, total)}%",
                            text, verdict, why + " Rows count a patient once per infection type.",
                            "" if verdict == "consistent" else f"{k:g}/{n:g} (patients counted once per row)"))
    return rows


def derive_restatement_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """One quantity printed twice with two values (compared at the coarser printed precision)."""
    rows = []
    for a, b, what, reading in RESTATED:
        state = presence(by, [a, b])
        if state != "all":
            if state == "some":
                rows.append(missing_finding(f"restated.{a}", "restatement", [a, b], by, what))
            continue
        va, vb = by[a]["published"], by[b]["published"]
        if isinstance(va, str) or isinstance(vb, str):
            same, text = va == vb, f"{va} vs {vb}"
        else:
            da, db = printed_decimals(by[a]), printed_decimals(by[b])
            fine, coarse = (va, vb) if da >= db else (vb, va)
            same = prints_as(float(fine), float(coarse), min(da, db))
            text = f"{show(by, a)} vs {show(by, b)}; compared at {min(da, db)} decimal(s)"
        rows.append(finding(f"restated.{a}", "restatement", [a, b], by, f"{show(by, a)} vs {show(by, b)} ({what})",
                            text, "consistent" if same else "inconsistent",
                            "The same quantity is printed twice." + ("" if same else " The two values disagree."),
                            "" if same else reading))
    return rows
