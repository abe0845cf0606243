"""ard.csv: the columns of the analysis-results dataset (ARD), one row per statistic, and the claim
values read back from it.

The ARD of a version holds every statistic the chapters compute, one row each, in the style of
pharmaverse's ``cards``: ``population``, two group columns with their levels, ``variable`` and
``variable_level``, ``stat_name``, the number ``stat`` (empty when the statistic has none: a median
not reached, a p-value not computable), its kind in the house's one representation of a value
(:class:`ixathaldex.values.Value`: ``stat_kind`` and ``stat_integer``), ``stat_display`` as the
pages print it, ``n`` (the patients it rests on), ``chapter`` (the page), ``context`` (the display
or analysis that computes it) and ``claim_id`` (the registry claims that name it, "; "-joined;
empty when no claim does). Columns and stat names: docs/ard.md.

Each page's rows are made by an :class:`ArdRows` builder (``claims.ard_patients`` …
``claims.values_survival``); :func:`derive_ard_claim_values` reads the claim values back, so the
values glued by a chapter are the ARD's values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import pandas as pd

from ixathaldex.claims.precision import printed_decimals
from ixathaldex.claims.registry import load_claims
from ixathaldex.exceptions import ClaimsError
from ixathaldex.values import MISSING, NOT_REACHED, NUMBER, Value, format_months, format_number, format_p

#: the ARD's columns, in order
COLUMNS = ["chapter", "context", "population", "group1", "group1_level", "group2", "group2_level", "variable",
           "variable_level", "stat_name", "stat", "stat_kind", "stat_integer", "stat_display", "n", "claim_id"]
#: the columns that name one statistic (unique within a version's ARD)
KEY = ["population", "group1", "group1_level", "group2", "group2_level", "variable", "variable_level",
       "stat_name"]
#: claim ids of one statistic are joined with this
CLAIM_SEP = "; "
#: stat names printed as p-values, as months (``format_months``), and with two decimals (ratios)
P_STATS = ("p_fisher", "p_logrank", "p_wald")
MONTH_STATS = ("median", "ci_low", "ci_high", "time_min", "time_max")
RATIO_STATS = ("hr", "hr_ci_low", "hr_ci_high")


def format_stat(value: Value, stat_name: str, claim: Mapping | None = None) -> str:
    """``stat_display``: a statistic as the pages print it.

    A claim's statistic at the claim's printed precision (``precision.printed_decimals``; p-values as
    ``values.format_p`` at three places or more); otherwise counts as integers, p-values at three
    places, hazard ratios at two, everything else at one. Not reached prints "NR", missing "".
    """
    if value.is_missing:
        return ""
    if value.is_not_reached:
        return "NR"
    decimals = printed_decimals(claim) if claim is not None else None
    if stat_name in P_STATS:
        return format_p(value, decimals=max(decimals or 0, 3))
    if value.integral and decimals in (None, 0):
        return str(int(value.number))
    if decimals is None:
        decimals = 2 if stat_name in RATIO_STATS else 1
    if stat_name in MONTH_STATS:
        return format_months(value, decimals=decimals)
    return format_number(value, decimals)


def read_computed(value: Any, what: str) -> Value:
    """A computed statistic as a ``Value``: a number, not reached or missing, never a printed bound
    ("<0.05" is how a paper prints, not what an analysis computes). ClaimsError names ``what``."""
    try:
        v = Value.parse(value)
    except ValueError as exc:
        raise ClaimsError(f"{what}: {exc}") from None
    if v.is_bound:
        raise ClaimsError(f"{what}: a computed value is a number, not a printed bound")
    return v


@dataclass
class ArdRows:
    """The ARD rows of one page: :meth:`add` one statistic at a time, then :meth:`frame`.

    ``claims`` is the registry by claim id (for the printed precision of a claim's ``stat_display``).
    """

    chapter: str
    claims: Mapping[str, Mapping] = field(default_factory=dict)
    rows: list = field(default_factory=list)

    def add(self, context: str, population: str, variable: str, stat_name: str, value: Any, n: Any, *,
            level: str = "", group1: str = "", group1_level: str = "", group2: str = "",
            group2_level: str = "", claim: str | tuple[str, ...] = ()) -> None:
        """One statistic. ``value`` is read by ``Value.parse`` (an int stays a count; NaN is missing,
        +inf or "NR" not reached); ``claim`` the claim id(s) that name it."""
        v = read_computed(value, f"ARD {self.chapter}: {variable} / {stat_name}")
        ids = (claim,) if isinstance(claim, str) else tuple(claim)
        self.rows.append({
            "chapter": self.chapter, "context": context, "population": population,
            "group1": group1, "group1_level": str(group1_level), "group2": group2,
            "group2_level": str(group2_level), "variable": variable, "variable_level": str(level),
            "stat_name": stat_name, "stat": v.number if v.is_number else math.nan, "stat_kind": v.kind,
            "stat_integer": bool(v.is_number and v.integral),
            "stat_display": format_stat(v, stat_name, self.claims.get(ids[0]) if ids else None),
            "n": None if n is None else int(n), "claim_id": CLAIM_SEP.join(ids)})

    def add_count(self, context: str, population: str, variable: str, level: str, n: Any, denominator: Any,
                  stem: str | None = None, claimed: tuple[str, ...] = ("n", "pct"), **groups) -> None:
        """``n`` and ``pct`` (100 × n / ``denominator``) of one level, each resting on ``denominator``
        patients; with ``stem``, the claims ``<stem>.<stat>`` for each stat of ``claimed``."""
        pct = 100.0 * float(n) / float(denominator) if denominator else math.nan
        for stat, value in (("n", int(n)), ("pct", pct)):
            claim = f"{stem}.{stat}" if stem and stat in claimed else ()
            self.add(context, population, variable, stat, value, denominator, level=level, claim=claim, **groups)

    def frame(self) -> pd.DataFrame:
        """The rows as an ARD frame (``COLUMNS``); a statistic computed twice on the page (the same
        key) is one row, its claim ids joined, and must have the same value both times."""
        return merge_duplicates(frame_of(self.rows))


def registry_by_id(claims: Iterable[Mapping] | None = None) -> dict[str, Mapping]:
    """The claims registry (default ``data/published/claims.yaml``) by claim id."""
    return {c["id"]: c for c in (load_claims() if claims is None else claims)}


def frame_of(rows: list[dict]) -> pd.DataFrame:
    """ARD rows as a frame with the ARD's dtypes (``stat`` float, ``n`` nullable int)."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["stat"] = pd.to_numeric(frame["stat"], errors="coerce").astype(float)
    frame["n"] = pd.array(frame["n"], dtype="Int64")
    frame["stat_integer"] = frame["stat_integer"].astype(bool)
    return frame


def _same_stat(a: pd.Series, b: pd.Series) -> bool:
    if a["stat_kind"] != b["stat_kind"]:
        return False
    return a["stat_kind"] != NUMBER or math.isclose(a["stat"], b["stat"], rel_tol=1e-12, abs_tol=1e-15)


def merge_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per key: rows of the same key (a statistic a page computes twice) are merged (claim
    ids joined, the first row's other fields kept); a key with two different values is a ClaimsError."""
    dup = frame.duplicated(KEY, keep=False)
    if not dup.any():
        return frame.reset_index(drop=True)
    keep = []
    for _, group in frame[dup].groupby(KEY, sort=False, dropna=False):
        first = group.iloc[0].copy()
        for _, other in group.iloc[1:].iterrows():
            if not _same_stat(first, other):
                raise ClaimsError(f"ARD: two values for one statistic ({', '.join(map(str, other[KEY]))}): "
                                  f"{first['stat_display']!r} and {other['stat_display']!r}")
        ids = [i for c in group["claim_id"] for i in c.split(CLAIM_SEP) if i]
        first["claim_id"] = CLAIM_SEP.join(dict.fromkeys(ids))
        keep.append((group.index[0], first))
    merged = frame[~dup].copy()
    for index, row in keep:
        merged.loc[index] = row
    return frame_of(merged.sort_index().to_dict("records"))


def ard_value(row: Mapping) -> Any:
    """A row's statistic as a claim value (``values.Value.plain`` of it): an int for a count, a
    float, "NR" when not reached, NaN when missing."""
    kind = row["stat_kind"]
    if kind == NUMBER:
        return int(row["stat"]) if bool(row["stat_integer"]) else float(row["stat"])
    if kind == NOT_REACHED:
        return "NR"
    if kind == MISSING:
        return math.nan
    raise ClaimsError(f"ARD: unknown stat_kind {kind!r}")


def derive_ard_claim_values(ard: pd.DataFrame) -> dict[str, Any]:
    """``{claim id: value}`` of every ARD row that a claim names (a row named by two claims gives
    both), in row order; a claim id on two rows is a ClaimsError."""
    out: dict[str, Any] = {}
    for row in ard.loc[ard["claim_id"] != ""].to_dict("records"):
        for claim_id in row["claim_id"].split(CLAIM_SEP):
            if claim_id in out:
                raise ClaimsError(f"ARD: claim {claim_id} names two statistics")
            out[claim_id] = ard_value(row)
    return out
