"""Figures 1–3 and S1 as data: the Kaplan–Meier steps with their CIs, the numbers at risk, the
forest plot's estimates — the CSV downloads beside each published figure.

Every ``table_*`` returns a tidy numeric DataFrame (one row per step, per grid time or per
estimate), computed from the same analysis functions the figures draw, so a download says exactly
what its figure shows. Large cohorts are thinned (``thin_km_curve``): past ``THIN_ABOVE``
patients in one group, the steps are kept on a grid of ``THIN_BINS`` equal time bins (events
and censorings summed per bin); the figure draws the same thinned rows and its caption says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ixathaldex.analysis.survival import TTE, at_risk_counts, km_curve, split_groups

#: a group with more patients than this is thinned (steps and censoring ticks)
THIN_ABOVE = 2000
#: number of equal time bins a thinned curve keeps at most (one row per bin)
THIN_BINS = 1000
#: columns of ``table_km_curve``
KM_CURVE_COLUMNS = ["endpoint", "population", "group", "label", "time", "survival", "ci_lower",
                    "ci_upper", "at_risk", "events", "censored"]


def km_steps(time, event, alpha: float = 0.05) -> pd.DataFrame:
    """One group's Kaplan–Meier steps from time 0: ``time``, ``survival``, pointwise 95 % CI on the
    log-log scale (Greenwood variance, as ``survival.survival_at``), ``at_risk`` (T ≥ t),
    ``events``, ``censored``. The first row is time 0 (S = 1, nobody lost yet)."""
    c = km_curve(time, event)
    d, n, s = (c[k].to_numpy(float) for k in ("events", "at_risk", "survival"))
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.cumsum(np.where(n > d, d / (n * (n - d)), 0.0))
        se = np.sqrt(var) / np.abs(np.log(s))
        z = stats.norm.ppf(1 - alpha / 2)
        inner = (s > 0) & (s < 1)
        lo = np.where(inner, s ** np.exp(z * se), s)
        hi = np.where(inner, s ** np.exp(-z * se), s)
    steps = pd.DataFrame({"time": c["time"].to_numpy(float), "survival": s, "ci_lower": lo,
                          "ci_upper": hi, "at_risk": c["at_risk"].to_numpy(int),
                          "events": c["events"].to_numpy(int), "censored": c["censored"].to_numpy(int)})
    start = pd.DataFrame({"time": [0.0], "survival": [1.0], "ci_lower": [1.0], "ci_upper": [1.0],
                          "at_risk": [int(n[0])], "events": [0], "censored": [0]})
    if len(steps) and steps["time"].iloc[0] == 0:
        return steps.reset_index(drop=True)
    return pd.concat([start, steps], ignore_index=True)


def thin_km_curve(steps: pd.DataFrame, bins: int = THIN_BINS) -> pd.DataFrame:
    """A long step table cut to at most ``bins`` rows plus time 0: in each equal time bin the
    last step is kept (its survival and CI), with the bin's events and censorings summed and the
    number at risk at the bin's first step. The drawn curve differs from the full one by less than
    one bin's width in time. Works on ``km_steps`` and on ``survival.km_curve`` tables."""
    if len(steps) <= bins + 1:
        return steps
    at_zero = steps["time"].to_numpy(float) <= 0
    start, rest = steps[at_zero], steps[~at_zero]
    top = float(rest["time"].max()) or 1.0
    key = np.minimum((rest["time"].to_numpy(float) / top * bins).astype(int), bins - 1)
    g = rest.groupby(key, sort=True)
    thinned = g.last()
    thinned["at_risk"] = g["at_risk"].first()
    thinned[["events", "censored"]] = g[["events", "censored"]].sum()
    return pd.concat([start, thinned.reset_index(drop=True)[steps.columns]], ignore_index=True)


def table_km_curve(tte: pd.DataFrame, group=None, endpoint: str = "", population: str = "",
                   thin_above: int = THIN_ABOVE) -> pd.DataFrame:
    """Figures 1–3 as data: every Kaplan–Meier step of every group with its pointwise 95 % CI.

    Tidy, one row per group and distinct time (``KM_CURVE_COLUMNS``); each group starts at time 0
    with S = 1. A group of more than ``thin_above`` patients is thinned (``thin_km_curve``): the
    frame's ``attrs["thinned"]`` lists those groups' labels, ``attrs["rows"]`` gives each group's
    (rows kept, rows before thinning).
    """
    frames, thinned, rows = [], [], {}
    for level, label, g in split_groups(tte, group, TTE):
        if not len(g):
            continue
        steps = km_steps(g["time"], g["event"])
        full = len(steps)
        if len(g) > thin_above:
            steps = thin_km_curve(steps)
            thinned.append(label)
        rows[label] = (len(steps), full)
        frames.append(steps.assign(endpoint=endpoint, population=population, group=level, label=label))
    out = pd.concat(frames, ignore_index=True)[KM_CURVE_COLUMNS]
    out.attrs["thinned"] = thinned
    out.attrs["rows"] = rows
    return out


def thinning_note(curve: pd.DataFrame, summary: pd.DataFrame) -> str:
    """Figures 1–3, the note under a thinned panel: per thinned group, the time points kept of
    all (``table_km_curve``'s ``attrs``) and the censoring marks drawn of the distinct censoring
    times (``figures.figure_km``'s ``km_summary_``); "" when nothing is thinned."""
    parts = []
    for r in summary.itertuples():
        if r.label in curve.attrs.get("thinned", []):
            kept, full = curve.attrs["rows"][r.label]
            parts.append(f"{r.label} (n = {r.n:,}): curve and data at {kept:,} of {full:,} time points, "
                         f"censoring marks at {r.censor_marks:,} of {r.censor_times:,} censoring times")
    if not parts:
        return ""
    return (f"Thinned, so that the files stay light (groups of more than {THIN_ABOVE:,} patients; events "
            f"and censorings summed between the points kept): " + "; ".join(parts) + ".")


def table_km_at_risk(tte: pd.DataFrame, times, group=None, endpoint: str = "",
                     population: str = "") -> pd.DataFrame:
    """Figures 1–3 (under the plot) as data: patients at risk (T ≥ t) per group at each grid time.

    Tidy: ``endpoint``, ``population``, ``group``, ``label``, ``time``, ``at_risk``.
    """
    rows = [{"endpoint": endpoint, "population": population, "group": level, "label": label,
             "time": float(t), "at_risk": n}
            for level, label, g in split_groups(tte, group, TTE) if len(g)
            for t, n in zip(times, at_risk_counts(g["time"], times))]
    return pd.DataFrame(rows)


def table_forest(hr: pd.DataFrame) -> pd.DataFrame:
    """Figure S1 as data: one row per hazard ratio drawn (``cox.table_subgroup_hr``).

    Tidy: ``factor``, ``level``, ``reference``, ``population``, ``hr``, ``ci_low``, ``ci_high``,
    ``p`` (Wald), ``logrank_p``, ``n``, ``events``, ``estimable``.
    """
    out = pd.DataFrame({
        "factor": hr["factor"], "level": hr["level"], "reference": hr["reference"],
        "population": hr["population"] if "population" in hr else "",
        "hr": hr["hr"].astype(float), "ci_low": hr["hr_lower"].astype(float),
        "ci_high": hr["hr_upper"].astype(float),
        "p": hr["p_value"].astype(float) if "p_value" in hr else np.nan,
        "logrank_p": hr["logrank_p"].astype(float) if "logrank_p" in hr else np.nan,
        "n": hr["n"] if "n" in hr else pd.NA, "events": hr["events"] if "events" in hr else pd.NA,
        "estimable": hr["estimable"] if "estimable" in hr else True,
    })
    return out.reset_index(drop=True)
