"""No recheck verdict is fixed: one printed number (or one assertion) changed in a copy of the registries
changes it.

Each family gets a planted perturbation whose effect is known; then every finding of the real
registries that is decidable is perturbed claim by claim until its verdict changes.
"""

import copy

import pytest

from ixathaldex.claims import consistency_wording as wording
from ixathaldex.claims.assertions import load_assertions
from ixathaldex.claims.consistency import CHECKS, derive_findings
from ixathaldex.claims.printed import index_claims
from ixathaldex.claims.registry import load_claims


@pytest.fixture(scope="module")
def registries():
    claims = load_claims()
    return index_claims(claims), load_assertions(claim_ids={c["id"] for c in claims})


def with_value(by, cid, value):
    out = dict(by)
    out[cid] = {**by[cid], "published": value}
    return out


def verdicts(by, assertions, fid=None):
    """Every finding's verdict (only the family that makes ``fid`` is recomputed when it is given)."""
    if fid is not None:
        for fn in CHECKS:
            rows = fn(by)
            if any(r["id"] == fid for r in rows):
                return {r["id"]: r["verdict"] for r in rows}
        return {r["id"]: r["verdict"] for r in wording.derive_assertion_checks(by, assertions)}
    return {r["id"]: r["verdict"] for r in derive_findings(by, assertions)}


# ----------------------------------------------------------------------------- one planted change per family
PLANTED = [  # (finding, claim, new printed value, verdict before, verdict after)
    ("pct.t1.iss.iii.pct", "t1.iss.iii.pct", 25.6, "rounding", "consistent"),
    ("pct.t2a.itt.orr.pct", "t2a.itt.orr.pct", 52.1, "consistent", "inconsistent"),
    ("twice.t1.iss.iii.pct", "t1.type.light_chain.pct", 25.5, "rounding", "rounding"),
    ("twice.t1.iss.iii.pct", "t1.iss.iii.pct", 25.6, "rounding", "consistent"),
    ("total.safety.infection.g34.pct", "safety.infection.g34.pct", 20.0, "rounding", "consistent"),
    ("total.safety.infection.g34.pct", "safety.infection.g34.pct", 21.0, "rounding", "inconsistent"),
    ("restated.flow.mnt.n", "flow.mnt.n_discussion", 43, "inconsistent", "consistent"),
    ("sum.t1.iss", "t1.iss.iii.n", 24, "consistent", "inconsistent"),
    ("split.imid", "resp.imid_exposed.orr.pct", 43.4, "consistent", "inconsistent"),
    ("split.t2b", "t2b.gain1q.neg.orr.pct", 62.1, "inconsistent", "consistent"),
    ("n.cox.gain1q", "os.cox.n", 58, "inconsistent", "consistent"),
    ("fisher.resp.imid.p", "resp.imid.p", 0.034, "inconsistent", "consistent"),
    ("fisher.t2b.hr.p", "t2b.hr.p", 0.01, "consistent", "inconsistent"),
    ("hr.wald.pfs.cox.gain1q.hr", "pfs.cox.gain1q.p", 0.0001, "consistent", "inconsistent"),
    ("hr.direction.pfs.cox.gain1q.hr", "pfs.cox.gain1q.hr", 1.64, "inconsistent", "consistent"),
    ("hr.reciprocal.os.cox.gain1q.hr", "os.cox.gain1q.hr.ci_high", 98.2, "rounding", "consistent"),
    ("interval.pfs.itt", "pfs.itt.median.ci_low", 9.0, "consistent", "inconsistent"),
    ("pooled.pfs.iss.i.median.ii_iii", "pfs.itt.median", 9.6, "inconsistent", "consistent"),
    ("same.pfs.risk3.gain1q.median", "pfs.risk3.gain1q.median", 7.0, "inconsistent", "consistent"),
    ("selection.os.age.p", "os.age.p", 0.15, "consistent", "inconsistent"),
    ("wording.results.pfs.imid.no_difference", "pfs.imid.p", 0.26, "inconsistent", "consistent"),
    ("wording.abstract.pfs.gain1q.shorter", "pfs.gain1q.p", 0.011, "inconsistent", "consistent"),
    ("wording.abstract.cox.gain1q.largest", "os.cox.hb100.hr", 20.0, "consistent", "inconsistent"),
    ("definition.hr_fish", "fish.t1416.n", 0, "inconsistent", "consistent"),
]


@pytest.mark.parametrize("fid, cid, value, before, after", PLANTED)
def test_planted_change_flips_the_verdict(registries, fid, cid, value, before, after):
    by, assertions = registries
    assert verdicts(by, assertions, fid)[fid] == before
    assert verdicts(with_value(by, cid, value), assertions, fid)[fid] == after


def test_grouping_flips_when_both_places_agree(registries):
    by, assertions = registries
    fixed = copy.deepcopy(assertions)
    for a in fixed:
        if a["id"] == "grouping.pfs.iss":
            a["elsewhere"]["groups"] = [["II", "III"], ["I"]]
    assert verdicts(by, assertions)["grouping.pfs.iss"] == "inconsistent"
    assert verdicts(by, fixed)["grouping.pfs.iss"] == "consistent"


def test_unprinted_statistic_becomes_checkable_once_printed(registries):
    by, assertions = registries
    fixed = copy.deepcopy(assertions)
    for a in fixed:
        if a["id"] == "discussion.os.gfr.shorter":
            a["statistic"] = "os.age.p"  # any printed p: the verdict is then computed
    assert verdicts(by, fixed)["wording.discussion.os.gfr.shorter"] == "inconsistent"


# ----------------------------------------------------------------------------- no finding is constant
def perturbations(v):
    if isinstance(v, str):
        return [5.0, 0.5, 0.00001, 99.0]
    if isinstance(v, int):
        return [v + 1, v - 1, v + 2, v - 2, v + 7, 2 * v + 3, 10 * v + 100, 0]
    return [round(v + d, 6) for d in (0.1, -0.1, 0.2, -0.2)] + [v * 1.5 + 0.05, v * 0.5, v + 5, 0.5, 0.001, 0.0,
                                                                 99.0, 10 * v + 100]


def family_functions(by):
    out = {}
    for fn in CHECKS:
        for r in fn(by):
            out.setdefault(r["family"], fn)
    return out


@pytest.mark.slow  # about a minute: every finding, claim by claim
def test_no_decidable_finding_has_a_constant_verdict(registries):
    by, assertions = registries
    fns = family_functions(by)
    rows = [r for fn in CHECKS for r in fn(by)]
    constant = []
    for r in rows:
        if r["verdict"] == "not checkable":
            continue
        fn = fns[r["family"]]
        flipped = False
        for cid in r["claims"]:
            for value in perturbations(by[cid]["published"]):
                new = {x["id"]: x["verdict"] for x in fn(with_value(by, cid, value))}
                if new.get(r["id"], r["verdict"]) != r["verdict"]:
                    flipped = True
                    break
            if flipped:
                break
        if not flipped:
            constant.append(r["id"])
    # flipped only by a specific value (planted above) or by two or more numbers changed together:
    # Table 3's inclusion rule (a row is listed at >= 10% grade 1/2 OR with a grade >= 3 event in either
    # phase), the reciprocal printing of an HR (all three numbers must be inverses of two-decimal values)
    needs_more = {"split.t2b", "same.pfs.risk3.gain1q.median", "hr.reciprocal.pfs.cox.gain1q.hr"}
    constant = [f for f in constant if f not in needs_more and not f.endswith(".inclusion")]
    assert not constant, f"findings whose verdict no perturbation changes: {constant}"


def test_every_assertion_finding_can_flip(registries):
    by, assertions = registries
    base = {r["id"]: r["verdict"] for r in wording.derive_assertion_checks(by, assertions)}
    for fid, verdict in base.items():
        if verdict == "not checkable" or fid.startswith("grouping."):
            continue  # groupings: test_grouping_flips_when_both_places_agree
        row = next(r for r in wording.derive_assertion_checks(by, assertions) if r["id"] == fid)
        flipped = any(
            {x["id"]: x["verdict"] for x in wording.derive_assertion_checks(with_value(by, cid, v), assertions)}[fid]
            != verdict for cid in row["claims"] for v in perturbations(by[cid]["published"]))
        assert flipped, fid


def test_table3_inclusion_rule_can_fail(registries):
    by, assertions = registries
    changed = dict(by)
    for ph in ("all", "mnt"):
        changed = with_value(changed, f"t3.{ph}.uti.g3plus.n", 0)
        changed = with_value(changed, f"t3.{ph}.uti.g12.pct", 2.2)
    assert verdicts(by, assertions, "sum.t3.uti.inclusion")["sum.t3.uti.inclusion"] == "consistent"
    assert verdicts(changed, assertions, "sum.t3.uti.inclusion")["sum.t3.uti.inclusion"] == "inconsistent"
