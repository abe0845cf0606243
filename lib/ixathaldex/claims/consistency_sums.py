"""Reviewer page, arithmetic recheck: the paper's totals and partitions from its printed counts.

Three families, every number read from ``data/published/claims.yaml``:

- ``sum``: totals against their rows (patient flow, Table 1 rows, Table 2A categories, FISH overlaps,
  prior exposures, Table 3 grades and its inclusion rule);
- ``responder split``: the responders each printed split implies, and every way they can split
  across the cytogenetic groups (the groups' atoms from the printed overlaps) that reproduces all the
  printed response percentages;
- ``analysis n``: the patients of an analysis against the patients who have what it needs.
"""

from __future__ import annotations

import itertools
from typing import Mapping

from ixathaldex.claims.precision import printed_decimals
from ixathaldex.claims.printed import (
    EPS,
    allowed_denominators,
    finding,
    grim_counts,
    missing_finding,
    presence,
    show,
    sum_of,
    value_of,
)


def _terms(*ids, sign=1):
    return [(sign, i) for i in ids]


#: totals against their rows: (slug, [(sign, id)...], relation, [(sign, id)...])
SUMS = [
    ("flow.early_stop", _terms("flow.early_stop.pd.n", "flow.early_stop.toxicity.n", "flow.early_stop.withdrawal.n",
                               "flow.early_stop.physician.n"), "==", [(1, "flow.itt.n"), (-1, "flow.pp.n")]),
    ("t1.sex", _terms("t1.sex.male.n", "t1.sex.female.n"), "==", _terms("flow.itt.n")),
    ("t1.iss", _terms("t1.iss.i.n", "t1.iss.ii.n", "t1.iss.iii.n"), "==", _terms("flow.itt.n")),
    ("t1.ecog", _terms("t1.ecog.0_1.n", "t1.ecog.2.n"), "==", _terms("flow.itt.n")),
    ("t1.type", _terms("t1.type.igg.n", "t1.type.iga.n", "t1.type.light_chain.n"), "==", _terms("flow.itt.n")),
    ("t1.lines", _terms("t1.lines.1_2.n", "t1.lines.3_4.n", "t1.lines.5plus.n"), "==", _terms("flow.itt.n")),
    ("fish.partition", _terms("fish.hr_or_gain1q.n", "t1.cyto.none.n"), "==", _terms("fish.available.n")),
    ("fish.hr_union", _terms("fish.t414.n", "fish.del17p.n"), ">=", _terms("t1.cyto.hr.n")),
    ("fish.hr_union_max", _terms("t1.cyto.hr.n"), ">=", _terms("fish.t414.n")),
    ("fish.union_le_sum", _terms("fish.hr_or_gain1q.n"), "<=", _terms("t1.cyto.hr.n", "t1.cyto.gain1q.n")),
    ("fish.union_ge_gain", _terms("fish.hr_or_gain1q.n"), ">=", _terms("t1.cyto.gain1q.n")),
    ("t1.prior.union", [(1, "t1.prior.pi.n"), (1, "t1.prior.imid.n"), (-1, "t1.prior.pi_and_imid.n")], "<=",
     _terms("flow.itt.n")),
    ("t1.prior.pi_btz", _terms("t1.prior.pi.n"), ">=", _terms("t1.btz.exposed.n")),
    ("t1.prior.imid_len", _terms("t1.prior.imid.n"), ">=", _terms("t1.len.exposed.n")),
    ("t1.prior.imid_thal", _terms("t1.prior.imid.n"), ">=", _terms("t1.thal.exposed.n")),
    ("t1.len.refractory", _terms("t1.len.refractory.n"), "<=", _terms("t1.len.exposed.n")),
    ("t1.btz.refractory", _terms("t1.btz.refractory.n"), "<=", _terms("t1.btz.exposed.n")),
    ("flow.lines_4plus.min", _terms("flow.prior_lines_4plus.n"), ">=", _terms("t1.lines.5plus.n")),
    ("flow.lines_4plus.max", _terms("flow.prior_lines_4plus.n"), "<=", _terms("t1.lines.3_4.n", "t1.lines.5plus.n")),
    ("resp.imid_split", _terms("resp.imid_naive.n", "resp.imid_exposed.n"), "==", _terms("flow.itt.n")),
    ("mnt.upgrades", _terms("mnt.upgrade.vgpr_to_cr.n", "mnt.upgrade.pr_to_vgpr.n", "mnt.upgrade.pr_to_cr.n"), "==",
     _terms("mnt.upgrade.n")),
    ("flow.induction_le_pp", _terms("flow.induction_complete.n"), "<=", _terms("flow.pp.n")),
    ("flow.mnt_eq_induction", _terms("flow.mnt.n"), "==", _terms("flow.induction_complete.n")),
    ("flow.mnt_outcomes", _terms("flow.mnt_complete.n", "flow.ongoing.n"), "<=", _terms("flow.mnt.n")),
    ("t3.mnt_le_entered", _terms("t3.mnt.n"), "<=", _terms("flow.mnt.n")),
] + [(f"t2a.{p}.orr", _terms(f"t2a.{p}.cr.n", f"t2a.{p}.vgpr.n", f"t2a.{p}.pr.n"), "==", _terms(f"t2a.{p}.orr.n"))
     for p in ("itt", "pp")] \
  + [(f"t2a.{p}.cbr", _terms(f"t2a.{p}.orr.n", f"t2a.{p}.mr.n"), "==", _terms(f"t2a.{p}.cbr.n")) for p in ("itt", "pp")] \
  + [(f"t2a.pp_le_itt.{k}", _terms(f"t2a.pp.{k}.n"), "<=", _terms(f"t2a.itt.{k}.n"))
     for k in ("cr", "vgpr", "pr", "mr", "orr", "cbr")]

OPS = {"==": lambda x, y: abs(x - y) < EPS, "<=": lambda x, y: x <= y + EPS, ">=": lambda x, y: x >= y - EPS}

#: responders across a split: (slug, [(pct id, n spec)...] per group, total responders claim or None)
RESPONDER_TOTALS = [("imid", [("resp.imid_naive.orr.pct", "resp.imid_naive.n"),
                              ("resp.imid_exposed.orr.pct", "resp.imid_exposed.n")], "t2a.itt.orr.n")]

#: Table 2B's groups as unions of atoms of the FISH population (HR only, HR and gain, gain only, neither)
ATOMS = ("hr_only", "hr_gain", "gain_only", "neither")
SPLIT_GROUPS = [("t2b.hr.pos.orr.pct", ("hr_only", "hr_gain")), ("t2b.hr.neg.orr.pct", ("gain_only", "neither")),
                ("t2b.gain1q.pos.orr.pct", ("hr_gain", "gain_only")),
                ("t2b.gain1q.neg.orr.pct", ("hr_only", "neither")),
                ("t2b.hr_or_gain1q.pos.orr.pct", ("hr_only", "hr_gain", "gain_only")),
                ("t2b.hr_or_gain1q.neg.orr.pct", ("neither",))]
ATOM_COUNTS = ["fish.available.n", "t1.cyto.hr.n", "t1.cyto.gain1q.n", "fish.hr_or_gain1q.n"]


def derive_sum_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Totals against their rows and set relations between printed counts."""
    rows = []
    for slug, left, rel, right in SUMS:
        spec = [r for _, r in left + right]
        state = presence(by, spec)
        if state == "some":
            rows.append(missing_finding("sum." + slug, "sum", spec, by, slug))
        if state != "all":
            continue
        lv, rv = sum_of(by, left), sum_of(by, right)
        ok = OPS[rel](lv, rv)
        text = lambda terms: " ".join(f"{'+' if s > 0 else '-'} {show(by, i)}" for s, i in terms).lstrip("+ ")
        rows.append(finding("sum." + slug, "sum", spec, by, f"{text(left)} {rel} {text(right)}",
                            f"{lv:g} {rel} {rv:g}", "consistent" if ok else "inconsistent",
                            "Printed counts that must add up (or nest) do." if ok else
                            "Printed counts that must add up (or nest) do not."))
    return rows + derive_table3_checks(by)


def derive_table3_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Table 3: grades within n, maintenance within the whole study, the table's inclusion rule."""
    rows = []
    terms = sorted({cid.split(".")[2] for cid in by if cid.startswith("t3.all.") and cid.endswith(".n")})
    for t in terms:
        need = [f"t3.{ph}.{t}.{gr}.{k}" for ph in ("all", "mnt") for gr in ("g12", "g3plus") for k in ("n", "pct")]
        if presence(by, need + ["flow.itt.n", "t3.mnt.n"]) != "all":
            continue
        g = {(ph, gr): float(by[f"t3.{ph}.{t}.{gr}.n"]["published"]) for ph in ("all", "mnt") for gr in ("g12", "g3plus")}
        for ph, n_id in (("all", "flow.itt.n"), ("mnt", "t3.mnt.n")):
            n, tot = float(by[n_id]["published"]), g[(ph, "g12")] + g[(ph, "g3plus")]
            rows.append(finding(f"sum.t3.{t}.{ph}", "sum", [f"t3.{ph}.{t}.g12.n", f"t3.{ph}.{t}.g3plus.n", n_id], by,
                                f"{t} ({ph}): {g[(ph, 'g12')]:g} + {g[(ph, 'g3plus')]:g} <= {n:g}", f"{tot:g} <= {n:g}",
                                "consistent" if tot <= n else "inconsistent",
                                "A patient is counted once per adverse event, in one grade band."))
        any_m, any_a = g[("mnt", "g12")] + g[("mnt", "g3plus")], g[("all", "g12")] + g[("all", "g3plus")]
        ok = any_m <= any_a and g[("mnt", "g3plus")] <= g[("all", "g3plus")]
        rows.append(finding(f"sum.t3.{t}.mnt_within_all", "sum", [f"t3.mnt.{t}.g12.n", f"t3.mnt.{t}.g3plus.n",
                            f"t3.all.{t}.g12.n", f"t3.all.{t}.g3plus.n"], by, f"{t}: maintenance within whole study",
                            f"any grade {any_m:g} <= {any_a:g}; grade >=3 {g[('mnt', 'g3plus')]:g} <= "
                            f"{g[('all', 'g3plus')]:g}", "consistent" if ok else "inconsistent",
                            "The maintenance phase is part of the whole study."))
        p12 = max(float(by[f"t3.{ph}.{t}.g12.pct"]["published"]) for ph in ("all", "mnt"))
        listed = p12 >= 10 or g[("all", "g3plus")] + g[("mnt", "g3plus")] > 0
        rows.append(finding(f"sum.t3.{t}.inclusion", "sum", [f"t3.all.{t}.g12.pct", f"t3.mnt.{t}.g12.pct",
                            f"t3.all.{t}.g3plus.n", f"t3.mnt.{t}.g3plus.n"], by,
                            f"{t}: listed in Table 3", f"grade 1/2 up to {p12:g}%; grade >=3 events "
                            f"{g[('all', 'g3plus')] + g[('mnt', 'g3plus')]:g}", "consistent" if listed else "inconsistent",
                            "Table 3 lists events of grade 1/2 in at least 10% and every grade >=3 event."))
    return rows


def _k_of(by, pct, n) -> list[int]:
    return grim_counts(float(value_of(by, pct)), int(n), printed_decimals(by[pct]))


def derive_responder_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Responders implied by printed splits: their sum against the total, and Table 2B's splits."""
    rows = []
    for slug, groups, total in RESPONDER_TOTALS:
        spec = [list(g) for g in groups] + [total]
        if presence(by, spec) != "all":
            continue
        ks = [(_k_of(by, p, float(value_of(by, n))), int(value_of(by, n))) for p, n in groups]
        t = int(value_of(by, total))
        parts = [f"{k[0]}/{n}" if k else f"no whole count of {n}" for k, n in ks]
        ok = all(k for k, _ in ks) and sum(k[0] for k, _ in ks) == t
        rows.append(finding(f"split.{slug}", "responder split", [g[0] for g in groups] + [total] + [g[1] for g in groups],
                            by, " + ".join(f"{show(by, p)}% of {show(by, n)}" for p, n in groups) + f" = {t}",
                            " + ".join(parts) + (f" = {sum(k[0] for k, _ in ks)}" if all(k for k, _ in ks) else ""),
                            "consistent" if ok else "inconsistent",
                            "The responders of the groups add up to the responders of the whole population."
                            if ok else "The responders implied by the groups do not add up to the printed total."))
    return rows + _table2b_split(by)


def atom_sizes(by) -> dict[str, int]:
    """Sizes of the FISH population's atoms from the printed counts and their union."""
    n, hr, gain, union = (int(value_of(by, i)) for i in ATOM_COUNTS)
    both = hr + gain - union
    return {"hr_only": hr - both, "hr_gain": both, "gain_only": gain - both, "neither": n - union}


def table2b_solutions(by, drop: str | None = None) -> list[dict]:
    """Every split of responders over the atoms that reproduces Table 2B's percentages (but ``drop``)."""
    size = atom_sizes(by)
    if min(size.values()) < 0:
        return []
    groups = [([ATOMS.index(a) for a in atoms], set(_k_of(by, p, sum(size[a] for a in atoms))))
              for p, atoms in SPLIT_GROUPS if p != drop]
    sols = []
    for combo in itertools.product(*[range(size[a] + 1) for a in ATOMS]):
        if all(sum(combo[i] for i in idx) in allowed for idx, allowed in groups):
            sols.append(dict(zip(ATOMS, combo)))
    return sols


def _table2b_split(by) -> list[dict]:
    spec = [p for p, _ in SPLIT_GROUPS] + ATOM_COUNTS
    state = presence(by, spec)
    if state != "all":
        return [missing_finding("split.t2b", "responder split", spec, by, "Table 2B")] if state == "some" else []
    size = atom_sizes(by)
    sols = table2b_solutions(by)
    shown = ", ".join(f"{a.replace('_', ' ')} {size[a]}" for a in ATOMS)
    text = f"groups from the printed overlaps: {shown}; {len(sols)} split(s) reproduce all six percentages"
    reading = ""
    if not sols:
        for p, _ in SPLIT_GROUPS:
            alt = table2b_solutions(by, drop=p)
            if alt:
                text += (f"; without {p}: {len(alt)} split(s), e.g. "
                         + ", ".join(f"{a.replace('_', ' ')} {alt[0][a]}/{size[a]}" for a in ATOMS))
                reading = (f"{p} is the odd one out; three FISH patients lack a 1q21 result in the response "
                           "analysis (32 + 26), the data's GAIN1Q flag decides")
                break
    return [finding("split.t2b", "responder split", spec, by, "Table 2B: six response percentages over "
                    "the 61 FISH patients", text, "consistent" if sols else "inconsistent",
                    "Every grouping of the same patients must imply the same responders." + (
                        "" if sols else " No whole numbers of responders fit all the printed percentages."), reading)]


def gain1q_known(by) -> tuple[int | None, str]:
    """Patients with a gain-of-1q21 result in Table 2B: the positives plus the denominator the printed
    negative percentage allows for the responders the other splits leave (None when none fits)."""
    ks = [_k_of(by, p, n) for p, n in (("t2b.hr.pos.orr.pct", value_of(by, "t1.cyto.hr.n")),
                                       ("t2b.hr.neg.orr.pct", sum_of(by, [(1, "fish.available.n"),
                                                                          (-1, "t1.cyto.hr.n")])))]
    pos_n = int(value_of(by, "t1.cyto.gain1q.n"))
    k_pos = _k_of(by, "t2b.gain1q.pos.orr.pct", pos_n)
    if not all(ks) or not k_pos:
        return None, "the high-risk split or the gain-positive percentage allows no whole count of responders"
    total, k_pos = ks[0][0] + ks[1][0], k_pos[0]
    dens = allowed_denominators(total - k_pos, float(value_of(by, "t2b.gain1q.neg.orr.pct")),
                                printed_decimals(by["t2b.gain1q.neg.orr.pct"]), int(value_of(by, "fish.available.n")))
    if not dens:
        return None, f"{total} responders, {k_pos} with gain: no denominator gives the negative percentage"
    return pos_n + dens[0], (f"{total} responders (HR split), {k_pos}/{pos_n} with gain; "
                             f"{total - k_pos}/{dens[0]} without: {pos_n} + {dens[0]} = {pos_n + dens[0]} with a result")


def derive_analysis_n_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """The Cox model's patients against the patients who have every covariate (gain of 1q21)."""
    spec = ["os.cox.n", "fish.available.n", "t1.cyto.hr.n", "t1.cyto.gain1q.n", "t2b.hr.pos.orr.pct",
            "t2b.hr.neg.orr.pct", "t2b.gain1q.pos.orr.pct", "t2b.gain1q.neg.orr.pct"]
    state = presence(by, spec)
    if state != "all":
        return [missing_finding("n.cox", "analysis n", spec, by, "Cox model n")] if state == "some" else []
    n_cox, fish = int(value_of(by, "os.cox.n")), int(value_of(by, "fish.available.n"))
    rows = [finding("n.cox.fish", "analysis n", ["os.cox.n", "fish.available.n"], by,
                    f"Cox model on {n_cox} patients with all data", f"{n_cox} <= {fish} FISH-evaluable",
                    "consistent" if n_cox <= fish else "inconsistent",
                    "The model includes gain of 1q21, known only for FISH-evaluable patients.")]
    known, text = gain1q_known(by)
    ok = known is not None and n_cox <= known
    rows.append(finding("n.cox.gain1q", "analysis n", ["os.cox.n"] + spec[1:], by,
                        f"Cox model on {n_cox} patients, including gain of 1q21", text + f"; {n_cox} <= {known}",
                        "consistent" if ok else "inconsistent",
                        "The model needs a 1q21 result for every patient it includes." + (
                            "" if ok else " Table 2B's gain split leaves fewer patients with one."),
                        "" if ok else "the FISH-evaluable patients (61) all have a 1q21 result in the data; "
                        "Table 2B's negative group is reproduced on the data's flag"))
    return rows
