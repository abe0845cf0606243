"""Response tables: Table 2A (ITT and PP), Table 2B (Fisher exact), IMiD exposure, upgrades.

IMWG categories, best first: CR > VGPR > PR > MR > SD > PD; NE (not evaluable) ranks below PD
and counts as a non-responder in every rate (denominator = all patients of the population).
ORR = PR or better; CBR = MR or better. 95 % CIs are exact Clopper–Pearson
(statsmodels ``proportion_confint(method="beta")``); p-values are two-sided Fisher exact (scipy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ixathaldex.analysis.populations import (
    RESPONSE_FACTORS,
    derive_adsl,
    derive_population,
    get_subgroup,
    split_by,
)
from ixathaldex.exceptions import AnalysisError
from ixathaldex.values import DAYS_PER_MONTH

CATEGORIES = ("CR", "VGPR", "PR", "MR", "SD", "PD", "NE")
RANK = {c: i for i, c in enumerate(reversed(CATEGORIES))}  # NE 0 … CR 6
#: summary rows of Table 2A: name -> set of categories counted
COMBINED = {"ORR": ("CR", "VGPR", "PR"), "CBR": ("CR", "VGPR", "PR", "MR"), "≥VGPR": ("CR", "VGPR")}


def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Clopper–Pearson) CI of k/n as proportions; (NaN, NaN) when n = 0."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return float("nan"), float("nan")
    lo, hi = proportion_confint(int(k), int(n), alpha=alpha, method="beta")
    return float(lo), float(hi)


def fisher_exact_p(table) -> float:
    """Two-sided Fisher exact p of a 2×2 table [[a, b], [c, d]] (scipy)."""
    from scipy.stats import fisher_exact

    t = np.asarray(table, dtype=int)
    if t.shape != (2, 2):
        raise AnalysisError(f"Fisher exact test needs a 2x2 table, got shape {t.shape}")
    return float(fisher_exact(t, alternative="two-sided")[1])


def best_response(adsl: pd.DataFrame, adrs: pd.DataFrame, paramcd: str = "BOR") -> pd.Series:
    """AVALC of ``paramcd`` per ADSL row (index as adsl); missing record -> 'NE'."""
    r = adrs[adrs["PARAMCD"] == paramcd]
    if r["USUBJID"].duplicated().any():
        dup = r.loc[r["USUBJID"].duplicated(), "USUBJID"].iloc[0]
        raise AnalysisError(f"adrs: subject {dup} has more than one {paramcd} record")
    bad = set(r["AVALC"].dropna()) - set(CATEGORIES)
    if bad:
        raise AnalysisError(f"adrs: AVALC values {sorted(bad)} are not IMWG categories {CATEGORIES}")
    m = dict(zip(r["USUBJID"], r["AVALC"]))
    return adsl["USUBJID"].map(m).fillna("NE").rename("BOR")


def _rate_row(k, n):
    lo, hi = clopper_pearson(k, n)
    return {"n": int(k), "N": int(n), "pct": 100.0 * k / n if n else np.nan,
            "ci_lower": 100.0 * lo, "ci_upper": 100.0 * hi}


def table_response(adsl: pd.DataFrame, adrs: pd.DataFrame, populations=("ITT", "PP"),
                   categories=CATEGORIES, combined=("ORR", "CBR", "≥VGPR")) -> pd.DataFrame:
    """Table 2A: best overall response by category, ORR and CBR, n and % with exact 95 % CI.

    Long frame: ``population``, ``category``, ``n``, ``N``, ``pct``, ``ci_lower``, ``ci_upper``
    (percent). ``categories`` are single IMWG categories, ``combined`` keys of ``COMBINED``.
    """
    rows = []
    for pop in populations:
        d = derive_population(adsl, pop)
        bor = best_response(d, adrs)
        N = len(d)
        for c in categories:
            rows.append({"population": pop, "category": c, **_rate_row((bor == c).sum(), N)})
        for c in combined:
            rows.append({"population": pop, "category": c,
                         **_rate_row(bor.isin(COMBINED[c]).sum(), N)})
    return pd.DataFrame(rows)


def table_response_by_group(adsl: pd.DataFrame, adrs: pd.DataFrame, factors=RESPONSE_FACTORS,
                            rate: str = "ORR", population: str = "ITT") -> pd.DataFrame:
    """Table 2B (and the IMiD comparison): response rate per subgroup level, Fisher exact p.

    One row per factor and level: ``factor``, ``factor_label``, ``level``, ``label``, ``n``
    (responders), ``N``, ``pct``, ``ci_lower``, ``ci_upper``, ``p_value`` (two-sided Fisher exact
    on the factor's 2×2 table, repeated on both rows; NaN for factors with ≠ 2 levels).
    Patients with the factor missing are left out.
    """
    d = derive_adsl(derive_population(adsl, population))
    resp = best_response(d, adrs).isin(COMBINED[rate])
    rows = []
    for f in factors:
        sg = get_subgroup(f)
        lv = split_by(d, sg)
        cells = []
        for level in sg.levels:
            m = lv == level
            k, n = int((resp & m).sum()), int(m.sum())
            cells.append((k, n))
            rows.append({"factor": sg.id, "factor_label": sg.label, "level": level,
                         "label": sg.level_label(level), "rate": rate, **_rate_row(k, n)})
        p = np.nan
        if len(cells) == 2:
            p = fisher_exact_p([[k, n - k] for k, n in cells])
        for r in rows[-len(cells):]:
            r["p_value"] = p
    return pd.DataFrame(rows)


def table_response_upgrades(adsl: pd.DataFrame, adrs: pd.DataFrame,
                            population: str = "MAINT") -> pd.DataFrame:
    """Results text (maintenance): patients whose response deepened during maintenance.

    An upgrade is a best response in maintenance (MNTBOR) better than the end-of-induction
    response (EOIRESP); NE on either side is never an upgrade. One row per upgraded patient:
    ``USUBJID``, ``from``, ``to``, ``months_after_start`` = (MNTBOR ADT − MNTSDT) / 30.4375.
    The denominator (see ``table_upgrade_summary``) is ``population`` (maintenance safety set).
    """
    d = derive_population(adsl, population)
    eoi = best_response(d, adrs, "EOIRESP")
    mnt = best_response(d, adrs, "MNTBOR")
    r = adrs[adrs["PARAMCD"] == "MNTBOR"].set_index("USUBJID")["ADT"]
    up = (eoi != "NE") & (mnt != "NE") & (mnt.map(RANK) > eoi.map(RANK))
    out = pd.DataFrame({"USUBJID": d.loc[up, "USUBJID"].to_numpy(), "from": eoi[up].to_numpy(),
                        "to": mnt[up].to_numpy()})
    start = pd.to_datetime(d.loc[up, "MNTSDT"]).to_numpy()
    when = pd.to_datetime(d.loc[up, "USUBJID"].map(r)).to_numpy()
    out["months_after_start"] = (pd.Series(when - start).dt.days / DAYS_PER_MONTH).to_numpy()
    return out.sort_values(["months_after_start", "USUBJID"]).reset_index(drop=True)


def table_upgrade_summary(adsl: pd.DataFrame, adrs: pd.DataFrame,
                          population: str = "MAINT") -> pd.DataFrame:
    """Results text (maintenance): upgrades by transition (from → to) with the overall count.

    Rows ``from``, ``to``, ``n``, ``N`` (size of ``population``), ``pct``, ``min_months``,
    ``max_months``; a last row with from = to = 'any' totals every upgrade.
    """
    ups = table_response_upgrades(adsl, adrs, population)
    N = len(derive_population(adsl, population))
    rows = []
    for (a, b), g in ups.groupby(["from", "to"], sort=False):
        rows.append({"from": a, "to": b, "n": len(g), "N": N, "pct": 100.0 * len(g) / N if N else np.nan,
                     "min_months": g["months_after_start"].min(),
                     "max_months": g["months_after_start"].max()})
    rows.sort(key=lambda r: (-RANK[r["from"]], -RANK[r["to"]]))
    rows.append({"from": "any", "to": "any", "n": len(ups), "N": N,
                 "pct": 100.0 * len(ups) / N if N else np.nan,
                 "min_months": ups["months_after_start"].min() if len(ups) else np.nan,
                 "max_months": ups["months_after_start"].max() if len(ups) else np.nan})
    return pd.DataFrame(rows)
