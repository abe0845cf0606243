"""Kaplan–Meier summaries, log-rank tests, numbers at risk and follow-up (Figures 1–3).

The Cox models (prognostic factors, subgroup hazard ratios) are in ``analysis.cox``.

Methods, as implemented (also in ``docs/statistics.md``):

- time in months = AVAL (days) / 30.4375; event = 1 − CNSR;
- Kaplan–Meier estimate (product-limit), computed here with numpy;
- median = smallest time t with S(t) ≤ 0.5 (``tie="first"``, lifelines/SPSS convention), or the
  midpoint between that time and the next event time when S(t) equals 0.5 exactly
  (``tie="midpoint"``, R/SAS convention); NaN (reported "NR") when S never reaches 0.5;
- 95 % CI of the median: Brookmeyer–Crowley, inverting a test on the log-log (complementary
  log-log) scale — statsmodels ``SurvfuncRight.quantile_ci(method="cloglog")``; limits are
  observed event times; an unbounded limit is NaN (reported "NC");
- numbers at risk at t = patients with T ≥ t;
- log-rank test: lifelines ``multivariate_logrank_test`` (χ² with k − 1 df);
- median follow-up: reverse Kaplan–Meier (event = censored), OS by default.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict

import numpy as np
import pandas as pd
from pandas.errors import MergeError

from ixathaldex.analysis.framecache import FrameCache, frame_key
from ixathaldex.analysis.populations import (
    SUBGROUPS,
    SURVIVAL_FACTORS,
    derive_adsl_columns,
    derive_population,
    get_subgroup,
    split_by,
)
from ixathaldex.data.definitions import definition_column
from ixathaldex.exceptions import AnalysisError
from ixathaldex.log import logger
from ixathaldex.values import DAYS_PER_MONTH

CI_TRANSFORM = "cloglog"  # log-log; statsmodels name
#: the columns of a ``derive_tte`` frame that the Kaplan–Meier and log-rank code reads
TTE = ("time", "event")
TIE_RULE = "first"

#: Population of each PFS subgroup comparison of the results text. The paper says ITT, but its
#: ISS, age, fitness and GFR pairs both lie above the ITT median (8.5) and fit the per-protocol
#: median (9.4); the synthetic cohort is calibrated with every PFS pair per-protocol except IMiD
#: exposure (ITT). See docs/calibration.md item 7 and docs/paper-readings.md item 14.
PFS_SUBGROUP_POPULATIONS = {
    "iss_1_vs_23": "PP", "prior_lines": "PP", "age75": "PP", "frailty": "PP", "gfr60": "PP",
    "hr_cyto": "PP", "imid": "ITT", "gain1q": "PP", "hr_or_1q": "PP", "cyto3": "PP",
}
#: the PFS comparisons of the results text, in the paper's order
PFS_SUBGROUP_FACTORS = tuple(PFS_SUBGROUP_POPULATIONS)
#: the OS comparisons of the results text (all ITT; ISS split I–II vs III), in the paper's order
OS_SUBGROUP_FACTORS = ("iss_12_vs_3", "gfr60", "prior_lines", "frailty", "age75", "hr_cyto",
                       "gain1q", "hr_or_1q", "cyto3")


#: the derived ADSL columns a ``derive_tte`` frame keeps besides ``USUBJID``: the column of every
#: subgroup factor (``populations.SUBGROUPS``, read by ``split_by``) and the study's complete-case flag
#: of the multivariate Cox model (read by ``cox.derive_complete_cases``) where its snapshot has one
TTE_ADSL_COLUMNS = (*dict.fromkeys(sg.column for sg in SUBGROUPS.values()), definition_column("cox_complete"))
#: ``derive_tte`` frames of this process, keyed by the content of the ADSL and of the endpoint's
#: ADTTE rows and by the population (a survival page asks for the same four some 30 times), at most
#: 400,000 rows in all; every hit a new copy
TTE_KEPT = FrameCache(400_000)


def derive_tte(adsl: pd.DataFrame, adtte: pd.DataFrame, param: str,
               population: str | None = "ITT") -> pd.DataFrame:
    """Figure 1–3 inputs: one row per patient with ``time`` (months) and ``event`` for ``param``.

    Columns: ``USUBJID``, the derived ADSL columns of ``TTE_ADSL_COLUMNS`` (every subgroup factor's
    column, see ``derive_adsl``; no other ADSL column), ``AVAL``, ``CNSR``, ``time`` and ``event``
    (1 = event, 0 = censored); index 0 … n − 1 in ADSL order. ``population`` restricts to an
    analysis population (None keeps every ADSL row). Inputs of the same content give a copy of the
    frame derived before (``TTE_KEPT``).
    """
    p = adtte[adtte["PARAMCD"] == param]
    if p.empty:
        raise AnalysisError(f"adtte: no rows with PARAMCD == {param!r}")
    if p["USUBJID"].duplicated().any():
        dup = p.loc[p["USUBJID"].duplicated(), "USUBJID"].iloc[0]
        raise AnalysisError(f"adtte: subject {dup} has more than one {param} row")
    p = p[["USUBJID", "AVAL", "CNSR"]]
    key = (frame_key(adsl), frame_key(p), population)
    return TTE_KEPT.derive_keyed(key, lambda: _derive_tte(adsl, p, param, population))


def _derive_tte(adsl: pd.DataFrame, p: pd.DataFrame, param: str, population: str | None) -> pd.DataFrame:
    """``derive_tte`` without its cache; ``p``: the endpoint's ADTTE rows, one per subject."""
    d = derive_adsl_columns(derive_population(adsl, population) if population else adsl)
    if d["USUBJID"].duplicated().any():  # the words of pandas' one-to-one merge check, which this replaces
        raise MergeError("Merge keys are not unique in left dataset; not a one-to-one merge")
    d = d[[c for c in d.columns if c == "USUBJID" or c in TTE_ADSL_COLUMNS]].reset_index(drop=True)
    row = pd.Index(p["USUBJID"]).get_indexer(d["USUBJID"])
    missing = (row < 0) | p["AVAL"].isna().to_numpy()[row]
    if missing.any():
        miss = d["USUBJID"].iloc[int(np.argmax(missing))]
        raise AnalysisError(f"adtte: subject {miss} has no {param} row (rule: one row per patient)")
    for col in ("AVAL", "CNSR"):
        d[col] = p[col].iloc[row].reset_index(drop=True)
    d["time"] = d["AVAL"].astype(float) / DAYS_PER_MONTH
    d["event"] = (1 - d["CNSR"].astype(float)).clip(0, 1).astype(int)
    return d


# --------------------------------------------------------------------------------------------
# Kaplan–Meier
# --------------------------------------------------------------------------------------------

def km_curve(time, event) -> pd.DataFrame:
    """Product-limit estimate at each distinct time: ``time``, ``at_risk``, ``events``,
    ``censored``, ``survival`` (S just after the time). O(n log n): one sort, then counts per
    distinct time and cumulative sums."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=int)
    if len(t) == 0:
        raise AnalysisError("Kaplan–Meier: no patients")
    ut, row = np.unique(t, return_inverse=True)
    removed = np.bincount(row, minlength=len(ut))
    d = np.bincount(row, weights=(e == 1), minlength=len(ut)).astype(int)
    c = np.bincount(row, weights=(e == 0), minlength=len(ut)).astype(int)
    at_risk = len(t) - np.r_[0, np.cumsum(removed)[:-1]]
    s = np.cumprod(1.0 - d / at_risk)
    return pd.DataFrame({"time": ut, "at_risk": at_risk, "events": d, "censored": c, "survival": s})


def km_median(time, event, tie: str = TIE_RULE) -> float:
    """Median of the KM curve (NaN if not reached); ``tie`` 'first' or 'midpoint' (see module)."""
    curve = km_curve(time, event)
    ev = curve[curve["events"] > 0]
    below = ev[ev["survival"] <= 0.5 + 1e-12]
    if below.empty:
        return float("nan")
    t0 = float(below["time"].iloc[0])
    if tie == "midpoint" and abs(below["survival"].iloc[0] - 0.5) < 1e-12:
        later = ev[ev["time"] > t0]
        return (t0 + float(later["time"].iloc[0])) / 2 if len(later) else float("nan")
    if tie not in ("first", "midpoint"):
        raise AnalysisError(f"unknown tie rule {tie!r}")
    return t0


def km_median_ci(time, event, alpha: float = 0.05, transform: str = CI_TRANSFORM):
    """Brookmeyer–Crowley CI of the median by statsmodels (``transform``: 'cloglog' = log-log,
    'log', 'linear', …). Returns (lower, upper); an unbounded or undefined limit is NaN."""
    from statsmodels.duration.survfunc import SurvfuncRight

    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=int)
    if e.sum() == 0:
        return float("nan"), float("nan")
    sf = SurvfuncRight(t, e)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            lo, hi = sf.quantile_ci(0.5, alpha=alpha, method=transform)
        except (ValueError, IndexError, ZeroDivisionError) as exc:  # pragma: no cover
            logger.info("median CI not estimable: %s", exc)
            return float("nan"), float("nan")

    def clean(v):
        v = float(v)
        return v if np.isfinite(v) else float("nan")

    return clean(lo), clean(hi)


class KaplanMeier:
    """Kaplan–Meier fit of one group: ``fit(time, event)`` returns self.

    Fitted attributes: ``curve_`` (see ``km_curve``), ``n_``, ``events_``, ``median_``,
    ``ci_`` (lower, upper) of the median; NaN means not reached / not calculable.
    """

    def __init__(self, tie: str = TIE_RULE, transform: str = CI_TRANSFORM, alpha: float = 0.05):
        self.tie, self.transform, self.alpha = tie, transform, alpha

    def fit(self, time, event, label: str | None = None):
        self.time_ = np.asarray(time, dtype=float)
        self.event_ = np.asarray(event, dtype=int)
        self.label_ = label
        self.curve_ = km_curve(self.time_, self.event_)
        self.n_ = len(self.time_)
        self.events_ = int(self.event_.sum())
        self.median_ = km_median(self.time_, self.event_, self.tie)
        self.ci_ = km_median_ci(self.time_, self.event_, self.alpha, self.transform)
        return self

    def survival_at(self, t) -> float:
        """S(t) (right-continuous step function)."""
        c = self.curve_
        idx = np.searchsorted(c["time"].to_numpy(), t, side="right") - 1
        return 1.0 if idx < 0 else float(c["survival"].iloc[idx])


def survival_at(time, event, times, alpha: float = 0.05) -> pd.DataFrame:
    """S(t) at each of ``times`` with a pointwise log-log CI (Greenwood variance).

    Columns ``time``, ``survival``, ``ci_lower``, ``ci_upper``, ``at_risk`` (T ≥ t). Beyond the
    last observed time S is NaN (not estimable).
    """
    from scipy import stats

    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=int)
    c = km_curve(t, e)
    d, n = c["events"].to_numpy(float), c["at_risk"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(np.where(n > d, d / (n * (n - d)), 0.0))
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for x in times:
        idx = np.searchsorted(c["time"].to_numpy(), x, side="right") - 1
        if x > t.max():
            s_, lo, hi = np.nan, np.nan, np.nan
        elif idx < 0:
            s_, lo, hi = 1.0, 1.0, 1.0
        else:
            s_ = float(c["survival"].iloc[idx])
            if 0 < s_ < 1:
                se = np.sqrt(gw[idx]) / abs(np.log(s_))
                lo, hi = s_ ** np.exp(z * se), s_ ** np.exp(-z * se)
            else:
                lo = hi = s_
        rows.append({"time": x, "survival": s_, "ci_lower": lo, "ci_upper": hi,
                     "at_risk": int((t >= x - 1e-9).sum())})
    return pd.DataFrame(rows)


def table_survival_at(tte: pd.DataFrame, times, group=None) -> pd.DataFrame:
    """Landmark survival (e.g. 12-month PFS) per group: S(t) with log-log 95 % CI and at-risk.

    Columns ``group``, ``label``, ``time``, ``survival``, ``ci_lower``, ``ci_upper``, ``at_risk``.
    """
    frames = []
    for lv, label, g in split_groups(tte, group, TTE):
        if len(g) == 0:
            continue
        f = survival_at(g["time"], g["event"], list(times))
        f.insert(0, "label", label)
        f.insert(0, "group", lv)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def split_groups(tte: pd.DataFrame, factor, columns=None):
    """[(level, label, frame)] for a factor id (registry), a column name, or None (all); each
    frame keeps ``columns`` only when given (e.g. ``TTE``: cheaper to cut on a large cohort)."""
    part = tte if columns is None else tte[list(columns)]
    if factor is None:
        return [("All", "All patients", part)]
    try:
        sg = get_subgroup(factor)
    except AnalysisError:
        if factor not in tte.columns:
            raise
        levels = [v for v in pd.unique(tte[factor].dropna())]
        return [(lv, str(lv), part[(tte[factor] == lv).to_numpy()]) for lv in levels]
    lv = split_by(tte, sg).to_numpy()
    return [(level, sg.level_label(level), part[lv == level]) for level in sg.levels]


def table_km_summary(tte: pd.DataFrame, group=None, tie: str = TIE_RULE,
                     transform: str = CI_TRANSFORM) -> pd.DataFrame:
    """Figures 1–3 legends: n, events, median (months) and its 95 % CI for each group.

    ``group``: a subgroup id from ``populations.SUBGROUPS``, a column of ``tte``, or None.
    Columns: ``group``, ``label``, ``n``, ``events``, ``median``, ``ci_lower``, ``ci_upper``,
    ``median_reached`` (bool). Empty groups give n = 0 and NaN statistics.
    """
    rows = []
    for level, label, g in split_groups(tte, group, TTE):
        if len(g) == 0:
            rows.append({"group": level, "label": label, "n": 0, "events": 0, "median": np.nan,
                         "ci_lower": np.nan, "ci_upper": np.nan, "median_reached": False})
            continue
        km = KaplanMeier(tie, transform).fit(g["time"], g["event"])
        rows.append({"group": level, "label": label, "n": km.n_, "events": km.events_,
                     "median": km.median_, "ci_lower": km.ci_[0], "ci_upper": km.ci_[1],
                     "median_reached": bool(np.isfinite(km.median_))})
    return pd.DataFrame(rows)


def table_endpoint_summary(adsl: pd.DataFrame, adtte: pd.DataFrame, params=("PFS", "OS"),
                           populations=("ITT", "PP")) -> pd.DataFrame:
    """Figure 1 as a table: n, events, median and 95 % CI of each endpoint in each population.

    Columns as ``table_km_summary`` (``label`` = "PFS, ITT" …) plus ``param`` and ``population``.
    """
    rows = []
    for param in params:
        for pop in populations:
            r = table_km_summary(derive_tte(adsl, adtte, param, pop)).iloc[0].to_dict()
            r.update(group=f"{param} {pop}", label=f"{param}, {pop}", param=param, population=pop)
            rows.append(r)
    return pd.DataFrame(rows)


#: log-rank results of this process, keyed by the test's input (times, events, group labels): a
#: page tests the same split for its table, its figure and its hazard ratios
LOGRANK_KEPT: OrderedDict[str, tuple[float, float, int]] = OrderedDict()
LOGRANK_KEEP = 256


def logrank_p(tte: pd.DataFrame, group) -> tuple[float, float, int]:
    """Log-rank test across the levels of ``group``: (chi2, p, df). Needs ≥ 2 non-empty groups.
    A test of the same times, events and groups is computed once per process (``LOGRANK_KEPT``)."""
    from lifelines.statistics import multivariate_logrank_test

    parts = [(lv, g) for lv, _, g in split_groups(tte, group, TTE) if len(g)]
    if len(parts) < 2:
        return float("nan"), float("nan"), 0
    t = np.concatenate([g["time"].to_numpy(float) for _, g in parts])
    e = np.concatenate([g["event"].to_numpy(int) for _, g in parts])
    if e.sum() == 0:
        return float("nan"), float("nan"), len(parts) - 1
    sizes = np.array([len(g) for _, g in parts])
    names = [str(lv) for lv, _ in parts]
    key = hashlib.sha256(t.tobytes() + e.tobytes() + sizes.tobytes() + "\0".join(names).encode()).hexdigest()
    if key not in LOGRANK_KEPT:
        k = np.repeat(np.array(names), sizes)
        res = multivariate_logrank_test(t, k, e)
        LOGRANK_KEPT[key] = (float(res.test_statistic), float(res.p_value), len(parts) - 1)
        while len(LOGRANK_KEPT) > LOGRANK_KEEP:
            LOGRANK_KEPT.popitem(last=False)
    return LOGRANK_KEPT[key]


def table_logrank(tte: pd.DataFrame, group) -> pd.DataFrame:
    """Figures 1–3: log-rank test between the levels of ``group`` (two or more groups).

    Columns ``factor``, ``groups``, ``df``, ``chi2``, ``p_value``.
    """
    chi2, p, df = logrank_p(tte, group)
    return pd.DataFrame([{"factor": getattr(group, "id", group), "groups": df + 1 if df else 0,
                          "df": df, "chi2": chi2, "p_value": p}])


def at_risk_counts(time, times) -> list[int]:
    """Numbers at risk: patients with T ≥ t for each t of ``times``."""
    t = np.sort(np.asarray(time, dtype=float))
    return [int(len(t) - np.searchsorted(t, x - 1e-9, side="left")) for x in times]


def table_at_risk(tte: pd.DataFrame, times, group=None) -> pd.DataFrame:
    """Figures 1–3 (under the plot): numbers at risk (T ≥ t) per group at each grid time.

    Wide frame: index = group label, columns = grid times (months).
    """
    times = list(times)
    data = {label: at_risk_counts(g["time"], times) for _, label, g in split_groups(tte, group, TTE)}
    out = pd.DataFrame.from_dict(data, orient="index", columns=times)
    out.index.name = "group"
    return out


def table_subgroup_survival(adsl: pd.DataFrame, adtte: pd.DataFrame, param: str,
                            factors=SURVIVAL_FACTORS, population="ITT") -> pd.DataFrame:
    """Results text (survival): medians per level and log-rank p for every subgroup comparison.

    One row per factor and level: ``factor``, ``factor_label``, ``param``, ``level``, ``label``,
    ``n``, ``events``, ``median``, ``ci_lower``, ``ci_upper``, ``median_reached``, ``p_value``
    (log-rank across that factor's levels, repeated on each level's row), ``population``.
    Patients with the factor missing (e.g. no FISH) are left out of that comparison.
    ``population`` is one name for every factor, or a dict factor -> population (factors not in
    the dict use "ITT").
    """
    frames = []
    cache = {}
    for f in factors:
        sg = get_subgroup(f)
        pop = population.get(sg.id, "ITT") if isinstance(population, dict) else population
        if pop not in cache:
            cache[pop] = derive_tte(adsl, adtte, param, pop)
        tte = cache[pop]
        s = table_km_summary(tte, sg).rename(columns={"group": "level"})
        s.insert(0, "factor", sg.id)
        s.insert(1, "factor_label", sg.label)
        s.insert(2, "param", param)
        s["p_value"] = logrank_p(tte, sg)[1]
        s["population"] = pop
        frames.append(s)
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Follow-up
# --------------------------------------------------------------------------------------------

def table_followup(adsl: pd.DataFrame, adtte: pd.DataFrame, param: str = "OS",
                   population: str = "ITT") -> pd.DataFrame:
    """Results text: median follow-up by reverse Kaplan–Meier (censoring as the event).

    Columns ``param``, ``n``, ``median``, ``ci_lower``, ``ci_upper`` (months; same median rule and
    CI transform as the KM summaries), ``method``.
    """
    tte = derive_tte(adsl, adtte, param, population)
    rev = 1 - tte["event"]
    km = KaplanMeier().fit(tte["time"], rev)
    return pd.DataFrame([{"param": param, "n": km.n_, "median": km.median_,
                          "ci_lower": km.ci_[0], "ci_upper": km.ci_[1],
                          "method": "reverse Kaplan-Meier"}])
