"""Reviewer page, arithmetic recheck: how a check reads the paper's printed numbers.

The claims by id (``index_claims``), the claims a specification names (``claim_ids``, counting the
printed counts a derived numerator or denominator is made of), signed sums of printed counts, medians
printed as "NR", percentages against their counts (``pct_matches``, and GRIM: ``grim_counts``) and
the row of one finding. The checks themselves are in :mod:`ixathaldex.claims.consistency_counts`
(counts, percentages, sums) and :mod:`ixathaldex.claims.consistency_inference` (p-values, hazard
ratios, medians); :mod:`ixathaldex.claims.consistency` runs them all.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd

from ixathaldex.claims.registry import ID_PATTERN

COLUMNS = ["check", "claims", "printed", "implied", "verdict", "reading"]
EPS = 1e-9

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


def claim_ids(spec) -> set[str]:
    """Every claim id named in a specification (nested tuples/lists of strings)."""
    if isinstance(spec, str):
        out = {spec} if ID_PATTERN.match(spec) else set()
        for table in (DERIVED_NUMERATORS, DERIVED_DENOMINATORS):
            for _, ref in table.get(spec, []):
                out.add(ref)
        return out
    if isinstance(spec, (tuple, list)):
        return set().union(*[claim_ids(x) for x in spec]) if spec else set()
    return set()


def has_claims(by, spec) -> bool:
    """True when every claim a specification names is in the (possibly partial) registry."""
    return claim_ids(spec) <= set(by)


def index_claims(claims) -> dict[str, Mapping]:
    """The registry (list of dicts or DataFrame) as a mapping from claim id to claim."""
    if isinstance(claims, pd.DataFrame):
        claims = claims.to_dict("records")
    return {c["id"]: c for c in claims}


def value_of(by: Mapping[str, Mapping], ref: Any) -> Any:
    """The printed value of claim ``ref`` (a number given in a specification is itself)."""
    if isinstance(ref, (int, float)) and not isinstance(ref, bool):
        return ref
    if ref not in by:
        raise KeyError(ref)
    return by[ref]["published"]


def sum_of(by, terms) -> float:
    """The signed sum of printed values: ``terms`` is [(+1 or -1, claim id), ...]."""
    return sum(sign * float(value_of(by, ref)) for sign, ref in terms)


def fmt_number(x: Any, d: int = 1) -> str:
    """A printed number as the findings show it (``d`` decimals; strings such as "NR" as they are)."""
    if isinstance(x, str):
        return x
    if isinstance(x, float) and x.is_integer() and d == 0:
        return str(int(x))
    return f"{x:.{d}f}" if isinstance(x, float) else str(x)


def finding(check, ids, printed, implied, verdict, reading="") -> dict:
    """One row of the findings table (the columns of :data:`COLUMNS`)."""
    return {"check": check, "claims": ", ".join(ids), "printed": printed, "implied": implied,
            "verdict": verdict, "reading": reading}


def half_unit(decimals) -> float:
    """Half a unit of the last printed decimal: the rounding tolerance of a printed number."""
    return 0.5 * 10.0 ** (-(decimals or 0))


def pct_matches(k: float, n: float, printed: float, decimals: int) -> bool:
    """True when k/n, rounded half-up to ``decimals``, prints as ``printed``."""
    return n > 0 and abs(100.0 * k / n - printed) <= half_unit(decimals) + EPS


def grim_counts(printed: float, n: int, decimals: int) -> list[int]:
    """Every count k in 0..n whose percentage k/n prints as ``printed`` (GRIM)."""
    return [k for k in range(int(n) + 1) if pct_matches(k, n, printed, decimals)]


def median_value(v) -> float:
    """A printed median as a number: "NR" (not reached) is infinity."""
    return math.inf if isinstance(v, str) else float(v)
