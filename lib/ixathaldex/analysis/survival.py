"""Kaplan–Meier summaries, log-rank tests, numbers at risk, Cox models and follow-up.

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
- Cox proportional hazards: statsmodels ``PHReg`` with Breslow ties by default; Wald p and
  CI = exp(β ± 1.959964·SE);
- median follow-up: reverse Kaplan–Meier (event = censored), OS by default.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ixathaldex.analysis.populations import (
    COX_FACTORS,
    DAYS_PER_MONTH,
    SURVIVAL_FACTORS,
    derive_adsl,
    derive_population,
    get_subgroup,
    split_by,
)
from ixathaldex.exceptions import AnalysisError
from ixathaldex.log import logger

Z95 = 1.959963984540054
CI_TRANSFORM = "cloglog"  # log-log; statsmodels name
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
#: the univariate OS screen's selection threshold (log-rank p below it enters the model)
SCREEN_P = 0.2


def derive_tte(adsl: pd.DataFrame, adtte: pd.DataFrame, param: str,
               population: str | None = "ITT") -> pd.DataFrame:
    """Figure 1–3 inputs: one row per patient with ``time`` (months) and ``event`` for ``param``.

    Returns the derived ADSL columns (see ``derive_adsl``) joined to ``USUBJID``, ``time``,
    ``event`` (1 = event, 0 = censored), ``AVAL`` and ``CNSR``. ``population`` restricts to an
    analysis population (None keeps every ADSL row).
    """
    p = adtte[adtte["PARAMCD"] == param]
    if p.empty:
        raise AnalysisError(f"adtte: no rows with PARAMCD == {param!r}")
    if p["USUBJID"].duplicated().any():
        dup = p.loc[p["USUBJID"].duplicated(), "USUBJID"].iloc[0]
        raise AnalysisError(f"adtte: subject {dup} has more than one {param} row")
    base = derive_population(adsl, population) if population else adsl
    d = derive_adsl(base).merge(p[["USUBJID", "AVAL", "CNSR"]], on="USUBJID", how="left",
                                validate="one_to_one")
    if d["AVAL"].isna().any():
        miss = d.loc[d["AVAL"].isna(), "USUBJID"].iloc[0]
        raise AnalysisError(f"adtte: subject {miss} has no {param} row (rule: one row per patient)")
    d["time"] = d["AVAL"].astype(float) / DAYS_PER_MONTH
    d["event"] = (1 - d["CNSR"].astype(float)).clip(0, 1).astype(int)
    return d


# --------------------------------------------------------------------------------------------
# Kaplan–Meier
# --------------------------------------------------------------------------------------------

def km_curve(time, event) -> pd.DataFrame:
    """Product-limit estimate at each distinct time: ``time``, ``at_risk``, ``events``,
    ``censored``, ``survival`` (S just after the time)."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=int)
    if len(t) == 0:
        raise AnalysisError("Kaplan–Meier: no patients")
    ut = np.unique(t)
    at_risk = np.array([(t >= u).sum() for u in ut])
    d = np.array([((t == u) & (e == 1)).sum() for u in ut])
    c = np.array([((t == u) & (e == 0)).sum() for u in ut])
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
    for lv, label, g in split_groups(tte, group):
        if len(g) == 0:
            continue
        f = survival_at(g["time"], g["event"], list(times))
        f.insert(0, "label", label)
        f.insert(0, "group", lv)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def split_groups(tte: pd.DataFrame, factor):
    """[(level, label, frame)] for a factor id (registry), a column name, or None (all)."""
    if factor is None:
        return [("All", "All patients", tte)]
    try:
        sg = get_subgroup(factor)
    except AnalysisError:
        if factor not in tte.columns:
            raise
        levels = [v for v in pd.unique(tte[factor].dropna())]
        return [(lv, str(lv), tte[tte[factor] == lv]) for lv in levels]
    lv = split_by(tte, sg)
    return [(level, sg.level_label(level), tte[lv == level]) for level in sg.levels]


def table_km_summary(tte: pd.DataFrame, group=None, tie: str = TIE_RULE,
                     transform: str = CI_TRANSFORM) -> pd.DataFrame:
    """Figures 1–3 legends: n, events, median (months) and its 95 % CI for each group.

    ``group``: a subgroup id from ``populations.SUBGROUPS``, a column of ``tte``, or None.
    Columns: ``group``, ``label``, ``n``, ``events``, ``median``, ``ci_lower``, ``ci_upper``,
    ``median_reached`` (bool). Empty groups give n = 0 and NaN statistics.
    """
    rows = []
    for level, label, g in split_groups(tte, group):
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


def logrank_p(tte: pd.DataFrame, group) -> tuple[float, float, int]:
    """Log-rank test across the levels of ``group``: (chi2, p, df). Needs ≥ 2 non-empty groups."""
    from lifelines.statistics import multivariate_logrank_test

    parts = [(lv, g) for lv, _, g in split_groups(tte, group) if len(g)]
    if len(parts) < 2:
        return float("nan"), float("nan"), 0
    t = np.concatenate([g["time"].to_numpy(float) for _, g in parts])
    e = np.concatenate([g["event"].to_numpy(int) for _, g in parts])
    k = np.concatenate([[str(lv)] * len(g) for lv, g in parts])
    if e.sum() == 0:
        return float("nan"), float("nan"), len(parts) - 1
    res = multivariate_logrank_test(t, k, e)
    return float(res.test_statistic), float(res.p_value), len(parts) - 1


def table_logrank(tte: pd.DataFrame, group) -> pd.DataFrame:
    """Figures 1–3: log-rank test between the levels of ``group`` (two or more groups).

    Columns ``factor``, ``groups``, ``df``, ``chi2``, ``p_value``.
    """
    chi2, p, df = logrank_p(tte, group)
    return pd.DataFrame([{"factor": getattr(group, "id", group), "groups": df + 1 if df else 0,
                          "df": df, "chi2": chi2, "p_value": p}])


def at_risk_counts(time, times) -> list[int]:
    """Numbers at risk: patients with T ≥ t for each t of ``times``."""
    t = np.asarray(time, dtype=float)
    return [int((t >= x - 1e-9).sum()) for x in times]


def table_at_risk(tte: pd.DataFrame, times, group=None) -> pd.DataFrame:
    """Figures 1–3 (under the plot): numbers at risk (T ≥ t) per group at each grid time.

    Wide frame: index = group label, columns = grid times (months).
    """
    times = list(times)
    data = {label: at_risk_counts(g["time"], times) for _, label, g in split_groups(tte, group)}
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
# Cox proportional hazards
# --------------------------------------------------------------------------------------------

def fit_cox(time, event, X: pd.DataFrame, ties: str = "breslow") -> pd.DataFrame:
    """Cox PH fit by statsmodels PHReg: per covariate ``coef``, ``se``, ``hr``, ``hr_lower``,
    ``hr_upper`` (95 %), ``z``, ``p_value`` (Wald). ``ties``: 'breslow' (default) or 'efron'."""
    from scipy import stats
    from statsmodels.duration.hazard_regression import PHReg

    X = pd.DataFrame(X).astype(float)
    if len(X) == 0 or np.asarray(event).sum() == 0:
        raise AnalysisError("Cox model: no events or no patients")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = PHReg(np.asarray(time, float), X, status=np.asarray(event, int), ties=ties).fit()
    b = np.asarray(res.params, float)
    se = np.asarray(res.bse, float)
    z = b / se
    with np.errstate(over="ignore"):
        out = pd.DataFrame({"covariate": list(X.columns), "coef": b, "se": se, "hr": np.exp(b),
                            "hr_lower": np.exp(b - Z95 * se), "hr_upper": np.exp(b + Z95 * se),
                            "z": z, "p_value": 2 * stats.norm.sf(np.abs(z))})
    # monotone likelihood (a level with no events, or all events in one level): the estimate
    # runs off to ±infinity; flag it rather than report a meaningless HR
    out["estimable"] = (np.abs(b) < 10) & (se < 50) & np.isfinite(se)
    return out


def _design(tte: pd.DataFrame, factors) -> tuple[pd.DataFrame, list[dict]]:
    """Indicator columns (1 = non-reference level) for each factor, and their descriptions."""
    cols, info = {}, []
    for f in factors:
        sg = get_subgroup(f)
        lv = split_by(tte, sg)
        for level in sg.levels:
            if level == sg.reference:
                continue
            name = sg.id if len(sg.levels) == 2 else f"{sg.id}[{level}]"
            cols[name] = (lv == level).astype(float).where(lv.notna())
            info.append({"covariate": name, "factor": sg.id, "factor_label": sg.label,
                         "level": sg.level_label(level), "reference": sg.level_label(sg.reference)})
    return pd.DataFrame(cols, index=tte.index), info


def _direction(row) -> str:
    if not row.get("estimable", True) or not np.isfinite(row["hr"]):
        return f"{row['level']} vs {row['reference']}: not estimable (monotone likelihood)"
    word = "higher" if row["hr"] > 1 else "lower"
    return f"{row['level']} vs {row['reference']}: {word} hazard (HR {row['hr']:.2f})"


def table_cox_univariate(adsl: pd.DataFrame, adtte: pd.DataFrame, param: str = "OS",
                         factors=COX_FACTORS, ties: str = "breslow",
                         population: str = "ITT") -> pd.DataFrame:
    """Results text (prognostic factors): univariate Cox screen, one model per factor.

    Each model uses the patients with that factor available. Columns: ``covariate``, ``factor``,
    ``factor_label``, ``level``, ``reference``, ``n``, ``events``, ``coef``, ``se``, ``hr``,
    ``hr_lower``, ``hr_upper``, ``p_value`` (Wald), ``estimable`` (False when the likelihood is
    monotone, e.g. no events in one level), ``direction`` (words), ``ties``.
    """
    tte = derive_tte(adsl, adtte, param, population)
    out = []
    for f in factors:
        X, info = _design(tte, [f])
        ok = X.notna().all(axis=1)
        sub = tte[ok]
        try:
            fit = fit_cox(sub["time"], sub["event"], X[ok], ties=ties)
        except AnalysisError as exc:
            logger.info("Cox univariate %s skipped: %s", f, exc)
            continue
        fit = pd.DataFrame(info).merge(fit, on="covariate")
        fit["n"], fit["events"] = int(ok.sum()), int(sub["event"].sum())
        out.append(fit)
    if not out:
        raise AnalysisError("Cox univariate: no factor could be fitted")
    res = pd.concat(out, ignore_index=True)
    res["direction"] = res.apply(_direction, axis=1)
    res["ties"] = ties
    return res


def table_cox_multivariate(adsl: pd.DataFrame, adtte: pd.DataFrame, param: str = "OS",
                           factors=None, screen_p: float = 0.2, ties: str = "breslow",
                           population: str = "ITT") -> pd.DataFrame:
    """Results text (prognostic factors): multivariate Cox model on complete cases.

    ``factors`` None means: the univariate screen's factors with Wald p < ``screen_p``. Same
    columns as ``table_cox_univariate``; ``n`` / ``events`` are the complete cases used.
    """
    tte = derive_tte(adsl, adtte, param, population)
    if factors is None:
        uni = table_cox_univariate(adsl, adtte, param, ties=ties, population=population)
        factors = list(dict.fromkeys(uni.loc[uni["p_value"] < screen_p, "factor"]))
        if not factors:
            raise AnalysisError(f"Cox multivariate: no factor with univariate p < {screen_p}")
    X, info = _design(tte, factors)
    ok = X.notna().all(axis=1)
    sub = tte[ok]
    fit = pd.DataFrame(info).merge(fit_cox(sub["time"], sub["event"], X[ok], ties=ties),
                                   on="covariate")
    fit["n"], fit["events"] = int(ok.sum()), int(sub["event"].sum())
    fit["direction"] = fit.apply(_direction, axis=1)
    fit["ties"] = ties
    return fit


def invert_hr(cox: pd.DataFrame) -> pd.DataFrame:
    """The same Cox rows with the comparison reversed: HR → 1/HR, limits swapped and inverted,
    ``level`` and ``reference`` exchanged (e.g. to read "no gain vs gain" as the paper prints)."""
    out = cox.copy()
    out["coef"] = -cox["coef"]
    out["hr"] = 1.0 / cox["hr"]
    out["hr_lower"], out["hr_upper"] = 1.0 / cox["hr_upper"], 1.0 / cox["hr_lower"]
    if "z" in out:
        out["z"] = -cox["z"]
    out["level"], out["reference"] = cox["reference"], cox["level"]
    if "direction" in out:
        out["direction"] = out.apply(_direction, axis=1)
    return out


def table_subgroup_hr(adsl: pd.DataFrame, adtte: pd.DataFrame, param: str = "PFS",
                      factors=SURVIVAL_FACTORS, ties: str = "breslow",
                      population="ITT") -> pd.DataFrame:
    """Forest plot (beyond the paper): univariate Cox HR (non-reference vs reference level) per
    subgroup factor, with the log-rank p of the factor. Columns as ``table_cox_univariate`` plus
    ``logrank_p``, ``param`` and ``population``. ``population`` is one name, or a dict
    factor -> population (factors not in the dict use "ITT"), as in ``table_subgroup_survival``;
    rows keep the order of ``factors``."""
    factors = [get_subgroup(f).id for f in factors]
    pops = {f: (population.get(f, "ITT") if isinstance(population, dict) else population)
            for f in factors}
    frames = []
    for pop in dict.fromkeys(pops.values()):
        fs = [f for f in factors if pops[f] == pop]
        uni = table_cox_univariate(adsl, adtte, param, fs, ties, pop)
        tte = derive_tte(adsl, adtte, param, pop)
        uni["logrank_p"] = [logrank_p(tte, f)[1] for f in uni["factor"]]
        uni["population"] = pop
        frames.append(uni)
    out = pd.concat(frames, ignore_index=True)
    order = {f: i for i, f in enumerate(factors)}
    out = out.sort_values("factor", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    out["param"] = param
    return out


def table_univariate_screen(adsl: pd.DataFrame, adtte: pd.DataFrame, param: str = "OS",
                            factors=COX_FACTORS, threshold: float = SCREEN_P,
                            ties: str = "breslow", population: str = "ITT") -> pd.DataFrame:
    """Results text (prognostic factors): the univariate OS screen, one row per factor.

    Univariate Cox (HR, 95 % CI, Wald p; patients with the factor known) and the log-rank p of
    the same split; ``selected`` is True when the **log-rank** p is below ``threshold`` (the
    paper does not name its screening test; the log-rank test is the one used for every other
    comparison of its survival text). Columns as ``table_subgroup_hr`` plus ``selected``.
    """
    out = table_subgroup_hr(adsl, adtte, param, factors, ties, population)
    out["selected"] = out["logrank_p"] < threshold
    out["threshold"] = threshold
    return out


def selected_factors(screen: pd.DataFrame) -> list[str]:
    """The factor ids a ``table_univariate_screen`` selects, in the screen's order."""
    return list(dict.fromkeys(screen.loc[screen["selected"], "factor"]))


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
