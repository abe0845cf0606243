"""The O(n log n) Kaplan–Meier curve, and the per-process memos of the survival page (subgroup
tables by frame content, log-rank tests and Cox fits by their input): same numbers as computed
afresh, a changed input computed again, every hit a copy."""

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

import reference_data as ref
from ixathaldex.analysis import cox, survival
from ixathaldex.analysis.framecache import ResultCache


def _gehan() -> pd.DataFrame:
    return pd.DataFrame({"time": np.r_[ref.GEHAN_6MP_TIME, ref.GEHAN_CONTROL_TIME],
                         "event": np.r_[ref.GEHAN_6MP_EVENT, ref.GEHAN_CONTROL_EVENT],
                         "arm": ["6MP"] * 21 + ["control"] * 21})


def test_km_curve_matches_lifelines_and_the_published_medians():
    rng = np.random.default_rng(3)
    t = np.round(rng.exponential(10, 5000), 1)  # many ties
    e = rng.integers(0, 2, 5000)
    curve = survival.km_curve(t, e)
    kmf = KaplanMeierFitter().fit(t, e)
    table = kmf.event_table.loc[curve["time"]]
    assert (curve["at_risk"].to_numpy() == table["at_risk"].to_numpy()).all()
    assert (curve["events"].to_numpy() == table["observed"].to_numpy()).all()
    assert (curve["censored"].to_numpy() == table["censored"].to_numpy()).all()
    assert np.allclose(curve["survival"], kmf.survival_function_.loc[curve["time"]].iloc[:, 0], rtol=0, atol=1e-12)
    assert survival.km_median(ref.GEHAN_6MP_TIME, ref.GEHAN_6MP_EVENT) == ref.GEHAN_MEDIAN["6MP"]
    assert survival.km_median(ref.GEHAN_CONTROL_TIME, ref.GEHAN_CONTROL_EVENT) == ref.GEHAN_MEDIAN["control"]
    assert survival.at_risk_counts(ref.GEHAN_6MP_TIME, [0, 6, 6.5, 35, 36]) == [21, 21, 17, 1, 0]


def test_logrank_memo_gives_the_fresh_result_and_recomputes_a_changed_input():
    survival.LOGRANK_KEPT.clear()
    d = _gehan()
    chi2, p, df = survival.logrank_p(d, "arm")
    assert abs(p - ref.GEHAN_LOGRANK_P) < 0.5e-5 and df == 1 and len(survival.LOGRANK_KEPT) == 1
    assert survival.logrank_p(d, "arm") == (chi2, p, df) and len(survival.LOGRANK_KEPT) == 1  # a hit
    changed = d.copy()
    changed.loc[0, "event"] = 0  # one 6-MP relapse becomes a censoring
    p2 = survival.logrank_p(changed, "arm")[1]
    fresh = multivariate_logrank_test(changed["time"], changed["arm"], changed["event"]).p_value
    assert p2 == fresh != p and len(survival.LOGRANK_KEPT) == 2


def test_cox_memo_gives_the_fresh_fit_and_recomputes_a_changed_design():
    cox.FITS_KEPT.clear()
    d = _gehan()
    X = pd.DataFrame({"control": (d["arm"] == "control").astype(float)})
    fit = cox.fit_cox(d["time"], d["event"], X)
    assert abs(fit["coef"].iloc[0] - ref.GEHAN_COX_COEF["breslow"]) < 1e-3
    again = cox.fit_cox(d["time"], d["event"], X)
    assert again.equals(fit) and len(cox.FITS_KEPT) == 1
    again.loc[0, "hr"] = -1.0  # a caller changing its copy changes nothing kept
    assert cox.fit_cox(d["time"], d["event"], X)["hr"].iloc[0] == fit["hr"].iloc[0]
    X2 = X.copy()
    X2.iloc[0, 0] = 1.0  # one patient moves arm
    assert cox.fit_cox(d["time"], d["event"], X2)["coef"].iloc[0] != fit["coef"].iloc[0]
    assert len(cox.FITS_KEPT) == 2
    assert cox.fit_cox(d["time"], d["event"], X, ties="efron")["coef"].iloc[0] != fit["coef"].iloc[0]


def test_result_cache_keys_on_every_frames_content():
    calls = []

    def derive(a, b):
        calls.append(1)
        return a.assign(y=a["x"] * 2), b.copy()

    cache = ResultCache(size=2)
    a, b = pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"z": [3]})
    first = cache.derive((a, b), derive)
    second = cache.derive((a.copy(), b.copy()), derive)  # equal content: a hit
    assert len(calls) == 1 and first[0].equals(second[0])
    second[0].loc[0, "y"] = 99  # a copy: the kept result is unchanged
    assert cache.derive((a, b), derive)[0].loc[0, "y"] == 2 and len(calls) == 1
    b.loc[0, "z"] = 4  # the second frame changed in place: derived again
    assert cache.derive((a, b), derive)[1].loc[0, "z"] == 4 and len(calls) == 2
    cache.derive((pd.DataFrame({"x": [5]}), b), derive)
    assert len(cache.kept) == 2  # the oldest dropped


def test_frame_cache_keyed_derivations_are_copies_within_a_row_bound():
    from ixathaldex.analysis.framecache import FrameCache

    calls = []

    def derive(n):
        calls.append(n)
        return pd.DataFrame({"x": range(n)})

    cache = FrameCache(max_rows=5)
    first = cache.derive_keyed(("a", 3), lambda: derive(3))
    first.loc[0, "x"] = 99  # the caller's copy
    assert cache.derive_keyed(("a", 3), lambda: derive(3)).loc[0, "x"] == 0 and calls == [3]
    cache.derive_keyed(("b", 2), lambda: derive(2))
    assert cache.rows == 5
    cache.derive_keyed(("c", 2), lambda: derive(2))  # over the bound: the oldest dropped
    assert list(cache.kept) == [("b", 2), ("c", 2)]
    cache.derive_keyed(("d", 6), lambda: derive(6))  # longer than the bound: not kept
    assert ("d", 6) not in cache.kept and calls == [3, 2, 2, 6]
