"""Printed sets that cannot all be exact: the Wald arithmetic of each printed hazard ratio.

A Cox hazard ratio printed with its 95% CI and p-value fixes, through the Wald formulas
(``HR = exp(b)``, limits ``exp(b -+ 1.96 se)``, ``p = 2 (1 - Phi(|b| / se))``), every number of the
set once two are fixed. For each printed set (HR, lower, upper, p) this module takes the values that
are exact at the printed precision (``claims.precision.is_exact``, found by bisection on it) and
computes, for each of the four numbers, the range it can take when the other three are exact. A
printed number outside its range conflicts with the other three: no cohort can reproduce all four.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from ixathaldex.claims.precision import is_exact
from ixathaldex.synth import fastsurv as fs
from ixathaldex.synth import targets

#: the printed Cox sets: (label, claim ids of HR, lower limit, upper limit, p)
WALD_SETS = (
    ("PFS Cox, no gain vs gain of 1q21", ("pfs.cox.gain1q.hr", "pfs.cox.gain1q.hr.ci_low",
                                          "pfs.cox.gain1q.hr.ci_high", "pfs.cox.gain1q.p")),
    ("OS Cox, gain of 1q21", ("os.cox.gain1q.hr", "os.cox.gain1q.hr.ci_low", "os.cox.gain1q.hr.ci_high",
                              "os.cox.gain1q.p")),
    ("OS Cox, Hb < 100 g/L", ("os.cox.hb100.hr", "os.cox.hb100.hr.ci_low", "os.cox.hb100.hr.ci_high",
                              "os.cox.hb100.p")),
)
_GRID = 20001


def exact_window(claim: dict) -> tuple[float, float]:
    """The interval of values that read as the printed figure (bisection on ``is_exact``)."""
    x0 = float(claim["published"])
    if not is_exact(claim, x0):
        raise ValueError(f"claim {claim['id']}: its own printed value is not exact")
    ends = []
    for far in (x0 / 4.0, x0 * 4.0):
        inside, outside = x0, far
        for _ in range(80):
            mid = math.sqrt(inside * outside)
            inside, outside = (mid, outside) if is_exact(claim, mid) else (inside, mid)
        ends.append(inside)
    return ends[0], ends[1]


def _se_bounds(b: np.ndarray, windows: dict, skip: str) -> tuple[np.ndarray, np.ndarray]:
    """For each log-HR ``b``, the interval of se allowed by the exact windows other than ``skip``."""
    z = fs.Z95
    lo_s, hi_s = np.zeros_like(b), np.full_like(b, np.inf)
    if skip != "lo":
        a, c = np.log(windows["lo"])
        lo_s, hi_s = np.maximum(lo_s, (b - c) / z), np.minimum(hi_s, (b - a) / z)
    if skip != "hi":
        a, c = np.log(windows["hi"])
        lo_s, hi_s = np.maximum(lo_s, (a - b) / z), np.minimum(hi_s, (c - b) / z)
    if skip != "p":
        p_lo, p_hi = windows["p"]
        z_hi, z_lo = norm.isf(p_lo / 2), norm.isf(p_hi / 2)
        lo_s, hi_s = np.maximum(lo_s, np.abs(b) / z_hi), np.minimum(hi_s, np.abs(b) / z_lo)
    return lo_s, hi_s


def _range(windows: dict, which: str) -> tuple[float, float] | None:
    """The range of one number of the set when the other three are exact (None: they conflict)."""
    if which == "hr":
        # the two limits alone fix b = (log lo + log hi) / 2 within their windows
        b = np.linspace(np.log(windows["lo"][0]) / 2 + np.log(windows["hi"][0]) / 2 - 1,
                        np.log(windows["lo"][1]) / 2 + np.log(windows["hi"][1]) / 2 + 1, _GRID * 5)
    else:
        b = np.linspace(*np.log(windows["hr"]), _GRID)
    lo_s, hi_s = _se_bounds(b, windows, which)
    ok = (lo_s <= hi_s) & (hi_s > 0)
    if not ok.any():
        return None
    b, lo_s, hi_s = b[ok], np.maximum(lo_s[ok], 1e-12), hi_s[ok]
    z = fs.Z95
    if which == "hr":
        vals = np.exp(b)
    elif which == "lo":
        vals = np.exp(np.concatenate([b - z * lo_s, b - z * hi_s]))
    elif which == "hi":
        vals = np.exp(np.concatenate([b + z * lo_s, b + z * hi_s]))
    else:
        vals = 2 * norm.sf(np.abs(np.concatenate([b / lo_s, b / hi_s])))
    return float(vals.min()), float(vals.max())


def wald_conflicts() -> list[dict]:
    """For each printed Cox set: the exact windows, and for each number its range given the other three."""
    reg = targets.registry()
    out = []
    for label, ids in WALD_SETS:
        claims = dict(zip(("hr", "lo", "hi", "p"), (reg[i] for i in ids)))
        windows = {k: exact_window(c) for k, c in claims.items()}
        rows = []
        for k, c in claims.items():
            rng = _range(windows, k)
            reachable = rng is not None and rng[0] <= windows[k][1] and rng[1] >= windows[k][0]
            rows.append({"claim": c["id"], "published": c["published"], "exact_window": list(windows[k]),
                         "range_given_others": None if rng is None else list(rng), "reachable": bool(reachable)})
        out.append({"set": label, "numbers": rows, "all_four_possible": all(r["reachable"] for r in rows)})
    return out


def conflict_reasons() -> dict[str, str]:
    """claim id -> why it may miss: the computation showing its Wald set cannot be exact as a whole."""
    reasons = {}
    for s in wald_conflicts():
        if s["all_four_possible"]:
            continue
        parts = []
        for r in s["numbers"]:
            rng = r["range_given_others"]
            rest = "the other three conflict among themselves" if rng is None else \
                f"the other three exact allow {rng[0]:.4g} to {rng[1]:.4g}"
            parts.append(f"{r['published']} needs [{r['exact_window'][0]:.4g}, {r['exact_window'][1]:.4g}], {rest}")
        text = (f"Wald set {s['set']} (HR, lower, upper, p): at most three of the four printed numbers can be exact "
                f"together, since b = log HR and se fix all four; " + "; ".join(parts))
        for r in s["numbers"]:
            reasons[r["claim"]] = text
    return reasons
