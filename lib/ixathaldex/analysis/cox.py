"""Cox proportional-hazards models: the prognostic-factor screen and model for OS, subgroup
hazard ratios (Figure S1) and the PFS hazard ratio of gain of 1q21.

Methods, as implemented (also in ``docs/statistics.md``): the partial likelihood with Breslow ties
by default (as SPSS), fitted the way statsmodels' ``PHReg`` fits it (:mod:`ixathaldex.analysis.coxph`);
Wald p and CI = exp(β ± 1.959964·SE); each factor binary (or k levels as k − 1 indicators), its
favourable level the reference, so HR > 1 means a higher hazard in the adverse level. Times and events come from ``survival.derive_tte``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
import pandas as pd

from ixathaldex.analysis.coxph import CoxPH
from ixathaldex.analysis.populations import (
    COX_FACTORS,
    PAPER_MULTIVARIATE_FACTORS,
    SURVIVAL_FACTORS,
    get_subgroup,
    split_by,
)
from ixathaldex.analysis.survival import PFS_SUBGROUP_POPULATIONS, derive_tte, logrank_p
from ixathaldex.data.definitions import definition_column
from ixathaldex.exceptions import AnalysisError
from ixathaldex.log import logger

Z95 = 1.959963984540054
#: the univariate OS screen's selection threshold (log-rank p below it enters the model)
SCREEN_P = 0.2


#: the columns of a Cox fit (:func:`fit_cox`), besides ``covariate``
FIT_COLUMNS = ("coef", "se", "hr", "hr_lower", "hr_upper", "z", "p_value", "estimable")


#: Cox fits of this process, keyed by their input (times, events, design, ties): a page fits
#: the same model for its claim values and for its tables (a fit is fast, but a design matrix of a large
#: cohort is not free to build twice)
FITS_KEPT: OrderedDict[str, pd.DataFrame] = OrderedDict()
FITS_KEEP = 64


def fit_cox(time, event, X: pd.DataFrame, ties: str = "breslow") -> pd.DataFrame:
    """Cox PH fit (:class:`~ixathaldex.analysis.coxph.CoxPH`): per covariate ``coef``, ``se``, ``hr``, ``hr_lower``,
    ``hr_upper`` (95 %), ``z``, ``p_value`` (Wald). ``ties``: 'breslow' (default) or 'efron'.
    A fit of the same input is computed once per process (``FITS_KEPT``; each call a copy)."""
    X = pd.DataFrame(X).astype(float)
    if len(X) == 0 or np.asarray(event).sum() == 0:
        raise AnalysisError("Cox model: no events or no patients")
    t, e = np.asarray(time, float), np.asarray(event, int)
    key = hashlib.sha256(b"\0".join([t.tobytes(), e.tobytes(), np.ascontiguousarray(X.to_numpy()).tobytes(),
                                      "\0".join(map(str, X.columns)).encode(), ties.encode()])).hexdigest()
    if key not in FITS_KEPT:
        FITS_KEPT[key] = _fit_cox(t, e, X, ties)
        while len(FITS_KEPT) > FITS_KEEP:
            FITS_KEPT.popitem(last=False)
    FITS_KEPT.move_to_end(key)
    return FITS_KEPT[key].copy()


def _fit_cox(t: np.ndarray, e: np.ndarray, X: pd.DataFrame, ties: str) -> pd.DataFrame:
    from scipy import stats

    constant = [c for c in X.columns if X[c].nunique() < 2]
    if constant:
        raise AnalysisError(f"Cox model: covariate(s) {', '.join(constant)} do not vary")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            res = CoxPH(ties).fit(t, e, X.to_numpy())
        except np.linalg.LinAlgError as exc:
            raise AnalysisError(f"Cox model: cannot be fitted ({exc})") from None
    b, se = res.params_, res.se_
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
        except AnalysisError as exc:  # kept as a row without estimates: "not computable" downstream
            logger.info("Cox univariate %s not computable: %s", f, exc)
            fit = pd.DataFrame({"covariate": list(X.columns)}).reindex(columns=["covariate", *FIT_COLUMNS])
            fit["estimable"] = False
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
    columns as ``table_cox_univariate``; ``n`` / ``events`` are the complete cases used
    (:func:`derive_complete_cases`: a study's own complete-case flag, where declared, narrows them).
    """
    tte = derive_tte(adsl, adtte, param, population)
    if factors is None:
        uni = table_cox_univariate(adsl, adtte, param, ties=ties, population=population)
        factors = list(dict.fromkeys(uni.loc[uni["p_value"] < screen_p, "factor"]))
        if not factors:
            raise AnalysisError(f"Cox multivariate: no factor with univariate p < {screen_p}")
    X, info = _design(tte, factors)
    ok = derive_complete_cases(tte, X)
    sub = tte[ok]
    varying = [c for c in X.columns if X.loc[ok, c].nunique() > 1]
    if not varying or int(sub["event"].sum()) == 0:
        # e.g. a factor the data do not hold (every value missing): no complete case, no model
        logger.warning("Cox multivariate (%s): %d complete case(s), %d event(s), %d covariate(s) that vary: "
                       "not computable", param, int(ok.sum()), int(sub["event"].sum()), len(varying))
        fitted = pd.DataFrame({"covariate": list(X.columns)}).reindex(columns=["covariate", *FIT_COLUMNS])
    else:
        fitted = fit_cox(sub["time"], sub["event"], X.loc[ok, varying], ties=ties)
        if len(varying) < X.shape[1]:
            logger.warning("Cox multivariate (%s): covariate(s) %s do not vary among the complete cases: "
                           "not estimated", param, ", ".join(c for c in X.columns if c not in varying))
    fit = pd.DataFrame(info).merge(fitted, on="covariate", how="left")
    fit["estimable"] = fit["estimable"].astype("boolean").fillna(False).astype(bool) \
        if "estimable" in fit else False
    fit["n"], fit["events"] = int(ok.sum()), int(sub["event"].sum())
    fit["direction"] = fit.apply(_direction, axis=1)
    fit["ties"] = ties
    return fit


def derive_complete_cases(d: pd.DataFrame, X: pd.DataFrame | None = None,
                          factors=PAPER_MULTIVARIATE_FACTORS) -> pd.Series:
    """Multivariate OS model: which rows of a derived ADSL (or of ``derive_tte``) are its complete
    cases — every factor known (``X``, else the design of ``factors``) and, where the snapshot
    declares the study's own ``cox_complete`` flag, that flag Y (``ixathaldex.data.definitions``)."""
    if X is None:
        X = _design(d, factors)[0]
    ok = X.notna().all(axis=1)
    study = definition_column("cox_complete")
    if study in d.columns:
        ok &= d[study] == "Y"
    return ok


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


def table_pfs_gain1q_hr(adsl: pd.DataFrame, adtte: pd.DataFrame) -> pd.DataFrame:
    """Discussion: the univariate PFS Cox model of gain of 1q21 (PP, FISH patients with a 1q21
    result), two rows: gain vs no gain (ours, ``orientation`` "ours …") and no gain vs gain (the
    paper's printed orientation, "as printed …"); ``population`` names the population."""
    pop = PFS_SUBGROUP_POPULATIONS["gain1q"]
    ours = table_cox_univariate(adsl, adtte, "PFS", ["gain1q"], population=pop)
    both = pd.concat([ours, invert_hr(ours)], ignore_index=True)
    both["orientation"] = ["ours (gain vs no gain)", "as printed (no gain vs gain)"]
    both["population"] = pop
    return both
