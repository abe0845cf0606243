"""Reviewer page, arithmetic recheck: how a check reads the paper's printed numbers.

The claims by id (``index_claims``), the claims a specification names (``claim_ids``), signed sums of
printed counts, medians printed as "NR", a percentage against its count and denominator at the printed
precision (``classify_percentage``: consistent, or a rounding slip: truncated, rounded twice), GRIM
(``grim_counts``: the counts a percentage allows; ``allowed_denominators``: the denominators it
allows for a count) and the row of one finding (:data:`COLUMNS`, :data:`RECHECK_VERDICTS`). Printed
precision is decided by :mod:`ixathaldex.claims.precision`, never here. The families of checks are
in the ``consistency_*`` modules; :mod:`ixathaldex.claims.consistency` runs them all.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal
from typing import Any, Mapping

import pandas as pd

from ixathaldex.claims.precision import printed_decimals, printed_number, round_half_up
from ixathaldex.claims.registry import ID_PATTERN

#: one row per finding: a stable dotted id, the family of the check, the table or section of the first
#: claim, the verdict, the claims (subject first), what is printed, the recomputation, a plain
#: explanation and the reading the project chose ('' if none)
COLUMNS = ["id", "family", "section", "verdict", "claims", "published", "recomputed", "explanation", "reading"]
#: the recheck's verdicts: agrees; a printing slip (truncated, rounded twice, summed after rounding,
#: coarse printing); contradicts; cannot be decided from what is printed
RECHECK_VERDICTS = ("consistent", "rounding", "inconsistent", "not checkable")
EPS = 1e-9


def claim_ids(spec) -> set[str]:
    """Every claim id named in a specification (nested tuples/lists of strings)."""
    if isinstance(spec, str):
        return {spec} if ID_PATTERN.match(spec) else set()
    if isinstance(spec, (tuple, list)):
        return set().union(*[claim_ids(x) for x in spec]) if spec else set()
    return set()


def presence(by, spec) -> str:
    """"all" when every claim a specification names is registered, "none" when none is, else "some"."""
    ids = claim_ids(spec)
    have = ids & set(by)
    return "all" if have == ids else ("none" if not have else "some")


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


def show(by, ref) -> str:
    """A printed value as the findings show it (the registry's spelling; a count without decimals)."""
    v = value_of(by, ref)
    if isinstance(v, float) and isinstance(ref, str) and by[ref]["rule"] in ("percent_printed", "printed"):
        return f"{v:.{printed_decimals(by[ref])}f}"
    return str(int(v)) if isinstance(v, float) and v.is_integer() and by.get(ref, {}).get("rule") == "exact" \
        else str(v)


def section_of(location: str) -> str:
    """The table or section of a printed location: 'Table 2A, ITT column, CR row' -> 'Table 2A'."""
    return location.split(",")[0].strip()


def finding(fid: str, family: str, ids, by, published: str, recomputed: str, verdict: str,
            explanation: str, reading: str = "", section: str | None = None) -> dict:
    """One row of the findings table (:data:`COLUMNS`); the section is that of the first claim."""
    ids = [i for i in dict.fromkeys(ids) if isinstance(i, str)]
    if section is None:
        first = next((by[i] for i in ids if i in by), None)
        section = section_of(first["locations"][0]) if first else ""
    if verdict not in RECHECK_VERDICTS:
        raise ValueError(f"finding {fid}: unknown verdict {verdict!r}")
    return {"id": fid, "family": family, "section": section, "verdict": verdict, "claims": ids,
            "published": published, "recomputed": recomputed, "explanation": explanation, "reading": reading}


def missing_finding(fid: str, family: str, spec, by, what: str) -> dict:
    """The finding of a check some of whose claims are not in the registry: not checkable."""
    ids = sorted(claim_ids(spec))
    gone = [i for i in ids if i not in by]
    return finding(fid, family, ids, by, what, "missing from the registry: " + ", ".join(gone),
                   "not checkable", "The check needs numbers the registry does not hold.")


# ----------------------------------------------------------------------------- percentages
def _pct_claim(decimals: int) -> dict:
    return {"rule": "percent_printed", "decimals": int(decimals)}


def prints_as(x: float, printed: float, decimals: int) -> bool:
    """True when ``x`` printed at ``decimals`` (:func:`precision.printed_number`) reads as ``printed``."""
    shown = printed_number(_pct_claim(decimals), x)
    return shown is not None and shown == round_half_up(printed, decimals)


def pct_matches(k: float, n: float, printed: float, decimals: int) -> bool:
    """True when k/n, printed at ``decimals``, reads as ``printed``."""
    return n > 0 and prints_as(100.0 * k / n, printed, decimals)


def grim_counts(printed: float, n: int, decimals: int) -> list[int]:
    """Every count k in 0..n whose percentage k/n prints as ``printed`` (GRIM)."""
    return [k for k in range(int(n) + 1) if pct_matches(k, n, printed, decimals)]


def allowed_denominators(k: int, printed: float, decimals: int, n_max: int = 200) -> list[int]:
    """Every denominator n (k <= n <= n_max) for which k/n prints as ``printed``."""
    return [n for n in range(max(int(k), 1), n_max + 1) if pct_matches(k, n, printed, decimals)]


def slip_of(x: float, printed: float, decimals: int) -> str:
    """The printing slip that turns the exact ``x`` into ``printed`` ('' when none does).

    Truncated instead of rounded; rounded twice (first to one more decimal); printed at a coarser
    precision than the rest of its table (one decimal fewer).
    """
    target = round_half_up(printed, decimals)
    q = Decimal(1).scaleb(-decimals)
    if Decimal(repr(float(x))).quantize(q, rounding=ROUND_DOWN) == target:
        return "truncated instead of rounded"
    if round_half_up(float(round_half_up(x, decimals + 1)), decimals) == target:
        return "rounded twice"
    return ""


def classify_percentage(k: float, n: float, printed: float, decimals: int) -> tuple[str, str]:
    """(verdict, recomputation) of a printed percentage against count ``k`` of ``n``."""
    if n <= 0:
        return "not checkable", f"denominator {n:g}"
    exact = 100.0 * k / n
    text = f"{k:g}/{n:g} = {exact:.3f}% prints as {printed_number(_pct_claim(decimals), exact)}"
    if prints_as(exact, printed, decimals):
        return "consistent", text
    slip = slip_of(exact, printed, decimals)
    if slip:
        return "rounding", f"{text}; {slip}"
    return "inconsistent", text


def median_value(v) -> float:
    """A printed median as a number: "NR"/"NC" (not reached) is infinity."""
    return math.inf if isinstance(v, str) else float(v)


def show_median(x: float) -> str:
    """A median for the findings' text: infinity is "NR"."""
    return "NR" if math.isinf(x) else f"{x:g}"
