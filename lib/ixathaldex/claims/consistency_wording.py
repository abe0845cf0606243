"""Reviewer page, arithmetic recheck: the paper's wording against the statistics it describes.

Reads the assertions registry (``data/published/assertions.yaml``, :mod:`ixathaldex.claims.assertions`)
and the claims registry. Four families:

- ``wording``: an assertion of significance ("significant", "no difference", "similar", "a tendency")
  against the printed p-value it speaks of, and the direction it names against the printed medians;
  "the most important factor" against the other hazard ratios of the model;
- ``grouping``: one comparison described with two different groupings;
- ``definition``: a group defined in the methods against the group counted in the tables;
- ``selection``: the Cox model's covariates (selected at p < 0.2) against the printed p-values.
"""

from __future__ import annotations

from typing import Mapping

from ixathaldex.claims.printed import (
    finding,
    median_value,
    presence,
    section_of,
    show,
    show_median,
    value_of,
)
from ixathaldex.values import read_value

ALPHA, TREND = 0.05, 0.10
SELECTION = 0.2
#: Cox covariates selected at p < 0.2: (selection bound claim, printed p of the same comparison or None)
COX_SELECTION = [("os.univ.gain1q.p", "os.gain1q.p"), ("os.univ.lines.p", "os.lines.p"),
                 ("os.univ.gfr60.p", None), ("os.univ.hb100.p", None), ("os.univ.alb35.p", None),
                 ("os.univ.iss.p", None)]
#: printed OS comparisons of covariates left out of the Cox model (p must be >= 0.2)
COX_NOT_SELECTED = ["os.age.p", "os.frailty.p", "os.hrcyto.p"]


def p_interval(printed) -> tuple[float, float] | None:
    """The interval a printed p-value stands for: (p, p) for a number, (0, b) for a bound "<b"."""
    v = read_value(printed)
    if v is None or v.is_missing or v.is_not_reached:
        return None
    return (0.0, float(v.number)) if v.is_bound else (float(v.number), float(v.number))


def _asserted(asserts: str, lo: float, hi: float) -> bool | None:
    """Whether every p in [lo, hi] satisfies the assertion (None when some do and some do not)."""
    test = {"significant": lambda p: p < ALPHA, "not significant": lambda p: p >= ALPHA,
            "tendency": lambda p: ALPHA <= p < TREND}[asserts]
    a, b = test(lo), test(hi if hi == lo else hi - 1e-12)
    return a if a == b else None


def _significance_row(by, a) -> dict:
    fid, stat = "wording." + a["id"], a.get("statistic")
    if stat is None or stat not in by:
        return finding(fid, "wording", [stat] if stat else [], by, f"{a['statement']} ({a['asserts']})",
                       "no p-value printed for this statement" if stat is None else f"{stat} is not registered",
                       "not checkable", "The sentence asserts a test result the paper does not print.",
                       a.get("reading", ""), section=section_of(a["location"]))
    interval = p_interval(by[stat]["published"])
    ok = _asserted(a["asserts"], *interval) if interval else None
    rule = {"significant": "p < 0.05", "not significant": "p >= 0.05", "tendency": "0.05 <= p < 0.10"}[a["asserts"]]
    text = f"p = {show(by, stat)}; '{a['asserts']}' needs {rule}: " + {True: "holds", False: "fails",
                                                                       None: "undecided by the printed bound"}[ok]
    ids = [stat]
    if ok and a.get("lower") and presence(by, [a["lower"], a["higher"]]) == "all":
        low, high = (median_value(value_of(by, x)) for x in (a["lower"], a["higher"]))
        ids += [a["lower"], a["higher"]]
        ok = low < high
        text += f"; medians {show_median(low)} {'<' if ok else 'not <'} {show_median(high)}"
    verdict = {True: "consistent", False: "inconsistent", None: "not checkable"}[ok]
    return finding(fid, "wording", ids, by, f"{a['statement']} ({a['asserts']})", text, verdict,
                   "The wording agrees with the printed statistic." if ok else
                   "The wording says something the printed statistic does not." if ok is False else
                   "The printed bound does not decide the wording.", a.get("reading", "") if not ok else "",
                   section=section_of(a["location"]))


def _largest_row(by, a) -> dict:
    ids = [a["statistic"]] + list(a["others"])
    if presence(by, ids) != "all":
        return finding("wording." + a["id"], "wording", ids, by, a["statement"], "missing claims", "not checkable",
                       "The check needs hazard ratios the registry does not hold.", section=section_of(a["location"]))
    strength = {i: max(float(value_of(by, i)), 1 / max(float(value_of(by, i)), 1e-12)) for i in ids}
    ok = all(strength[a["statistic"]] > strength[o] for o in a["others"])
    text = "; ".join(f"{i}: HR {show(by, i)} (strength {strength[i]:.2f})" for i in ids)
    return finding("wording." + a["id"], "wording", ids, by, a["statement"], text,
                   "consistent" if ok else "inconsistent",
                   "The factor named as the strongest has the largest hazard ratio (either direction)." if ok else
                   "Another factor of the model has a larger hazard ratio.", section=section_of(a["location"]))


def _grouping_row(by, a) -> dict:
    def norm(g):
        return {frozenset(x) for x in g["groups"]}

    def text(g):
        return " vs ".join("+".join(x) for x in g["groups"]) + f" ({g['location']})"
    same = norm(a["groups"]) == norm(a["elsewhere"])
    return finding("grouping." + a["id"].removeprefix("grouping."), "grouping", [a["statistic"]], by,
                   f"{a['statement']}: {text(a['groups'])}; {text(a['elsewhere'])}",
                   "the same split" if same else "two different splits of the same levels",
                   "consistent" if same else "inconsistent",
                   "One comparison is described the same way everywhere." if same else
                   "The same comparison is described with two different groupings.",
                   "" if same else a.get("reading", ""), section=section_of(a["location"]))


def _definition_row(by, a) -> dict:
    fid = "definition." + a["id"].removeprefix("definition.")
    ids = [a["count"]] + a["defined_as"]
    if presence(by, ids + a["counted_as"]) != "all":
        return finding(fid, "definition", ids, by, a["statement"], "missing claims", "not checkable",
                       "The check needs counts the registry does not hold.", section=section_of(a["location"]))
    count = int(value_of(by, a["count"]))
    parts = [int(value_of(by, c)) for c in a["counted_as"]]
    extra = [c for c in a["defined_as"] if c not in a["counted_as"]]
    outside = sum(int(value_of(by, c)) for c in extra if c in a.get("outside", []))
    inside_max = sum(int(value_of(by, c)) for c in extra)
    union_ok = max(parts) <= count <= sum(parts)
    lo, hi = count + outside, count + inside_max
    text = (f"counted as {' and/or '.join(a['counted_as'])}: {max(parts)} <= {count} <= {sum(parts)}; "
            f"with the methods' definition the group has {lo}" + (f"-{hi}" if hi != lo else "") + " patients")
    ok = union_ok and lo == count
    return finding(fid, "definition", ids, by, a["statement"], text, "consistent" if ok else "inconsistent",
                   "The group counted in the tables is the group the methods define." if ok else
                   "The group counted in the tables is not the group the methods define.",
                   "" if ok else a.get("reading", ""), section=section_of(a["location"]))


def derive_assertion_checks(by: Mapping[str, Mapping], assertions: list[dict]) -> list[dict]:
    """Every registered assertion against the printed numbers it speaks of."""
    make = {"significance": _significance_row, "largest": _largest_row, "grouping": _grouping_row,
            "definition": _definition_row}
    rows = []
    for a in assertions:
        named = [a.get(f) for f in ("statistic", "count") if a.get(f)] + list(a.get("others") or []) \
            + list(a.get("defined_as") or [])
        if named and not set(named) & set(by):
            continue  # a partial registry without any of its claims
        rows.append(make[a["kind"]](by, a))
    return rows


def derive_selection_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """The Cox model's covariate selection at p < 0.2 against the printed p-values."""
    rows = []
    for bound_id, p_id in COX_SELECTION:
        if bound_id not in by:
            continue
        if p_id is None or p_id not in by:
            rows.append(finding("selection." + bound_id, "selection", [bound_id], by, "selected for the Cox model",
                                "no univariate OS p-value of this covariate's split is printed", "not checkable",
                                "The selection threshold cannot be checked without the printed p-value."))
            continue
        interval = p_interval(by[p_id]["published"])
        ok = interval is not None and interval[1] < SELECTION
        rows.append(finding("selection." + bound_id, "selection", [bound_id, p_id], by,
                            f"selected for the Cox model; printed p {show(by, p_id)}", f"p < {SELECTION:g}: {ok}",
                            "consistent" if ok else "inconsistent",
                            "A selected covariate has a univariate p below the threshold." if ok else
                            "A selected covariate has a univariate p above the threshold."))
    for p_id in (x for x in COX_NOT_SELECTED if x in by):
        interval = p_interval(by[p_id]["published"])
        ok = interval is not None and interval[0] >= SELECTION
        rows.append(finding("selection." + p_id, "selection", [p_id], by,
                            f"not selected; printed p {show(by, p_id)}", f"p >= {SELECTION:g}: {ok}",
                            "consistent" if ok else "inconsistent",
                            "A covariate left out has a univariate p at or above the threshold." if ok else
                            "A covariate left out has a univariate p below the threshold."))
    return rows
