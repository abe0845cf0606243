"""Survival statistics: published reference values (Gehan 6-MP, Rossi) and hand-computed toys."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ixathaldex.exceptions import AnalysisError
from ixathaldex.analysis.cox import (fit_cox, invert_hr, table_cox_multivariate, table_cox_univariate,
                                     table_subgroup_hr)
from ixathaldex.analysis.survival import (KaplanMeier, at_risk_counts, derive_tte, km_curve, km_median,
                                          km_median_ci, logrank_p, survival_at, table_at_risk, table_followup,
                                          table_km_summary, table_logrank, table_subgroup_survival,
                                          table_survival_at)
from ixathaldex.values import DAYS_PER_MONTH

import reference_data as ref

MONTH = 30.4375


def test_one_month_length_everywhere():
    """Months are days / 30.4375 (the average Gregorian month: 365.25 / 12) in every layer."""
    assert DAYS_PER_MONTH == 365.25 / 12 == MONTH


def gehan_frame():
    return pd.DataFrame({
        "time": np.r_[ref.GEHAN_6MP_TIME, ref.GEHAN_CONTROL_TIME],
        "event": np.r_[ref.GEHAN_6MP_EVENT, ref.GEHAN_CONTROL_EVENT],
        "arm": ["6MP"] * 21 + ["control"] * 21,
    })


# ---- published reference values --------------------------------------------------------------

@pytest.mark.parametrize("arm,t,e", [("6MP", ref.GEHAN_6MP_TIME, ref.GEHAN_6MP_EVENT),
                                      ("control", ref.GEHAN_CONTROL_TIME, ref.GEHAN_CONTROL_EVENT)])
def test_gehan_median_and_loglog_ci(arm, t, e):
    km = KaplanMeier().fit(t, e)
    assert km.median_ == ref.GEHAN_MEDIAN[arm]
    lo, hi = ref.GEHAN_MEDIAN_CI_LOGLOG[arm]
    assert km.ci_[0] == lo
    assert (math.isnan(km.ci_[1]) if hi is None else km.ci_[1] == hi)


@pytest.mark.parametrize("arm,t,e", [("6MP", ref.GEHAN_6MP_TIME, ref.GEHAN_6MP_EVENT),
                                      ("control", ref.GEHAN_CONTROL_TIME, ref.GEHAN_CONTROL_EVENT)])
def test_gehan_log_transform_ci_differs_as_published(arm, t, e):
    lo, hi = km_median_ci(t, e, transform="log")
    plo, phi = ref.GEHAN_MEDIAN_CI_LOG[arm]
    assert lo == plo
    assert (math.isnan(hi) if phi is None else hi == phi)


def test_gehan_logrank():
    chi2, p, df = logrank_p(gehan_frame(), "arm")
    assert df == 1
    assert chi2 == pytest.approx(ref.GEHAN_LOGRANK_CHI2, abs=0.01)
    assert p == pytest.approx(ref.GEHAN_LOGRANK_P, rel=0.01)
    t = table_logrank(gehan_frame(), "arm")
    assert t.loc[0, "p_value"] == pytest.approx(p)


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_gehan_cox_ties(ties):
    g = gehan_frame()
    X = pd.DataFrame({"control": (g["arm"] == "control").astype(float)})
    fit = fit_cox(g["time"], g["event"], X, ties=ties)
    assert fit.loc[0, "coef"] == pytest.approx(ref.GEHAN_COX_COEF[ties], abs=0.001)
    assert fit.loc[0, "se"] == pytest.approx(ref.GEHAN_COX_SE[ties], abs=0.001)
    assert fit.loc[0, "hr"] == pytest.approx(math.exp(ref.GEHAN_COX_COEF[ties]), rel=0.002)


def test_rossi_cox_matches_fox_appendix():
    from lifelines.datasets import load_rossi

    r = load_rossi()
    fit = fit_cox(r["week"], r["arrest"], r.drop(columns=["week", "arrest"]), ties="efron")
    fit = fit.set_index("covariate")
    for cov, (coef, se) in ref.ROSSI_FOX_EFRON.items():
        assert fit.loc[cov, "coef"] == pytest.approx(coef, abs=5e-5), cov
        assert fit.loc[cov, "se"] == pytest.approx(se, abs=5e-5), cov
        z = coef / se
        assert fit.loc[cov, "p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-3)
        assert fit.loc[cov, "hr_lower"] == pytest.approx(math.exp(coef - 1.96 * se), rel=1e-3)


def test_gehan_km_estimates_published():
    # 6-MP KM estimates (Freireich data; e.g. Kleinbaum & Klein, Survival Analysis, ch. 2)
    published = {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}
    s = survival_at(ref.GEHAN_6MP_TIME, ref.GEHAN_6MP_EVENT, list(published))
    assert np.allclose(s["survival"], list(published.values()), atol=5e-4)
    assert s["at_risk"].tolist() == [21, 17, 15, 12, 11, 7, 6]


def test_survival_at_ci_matches_lifelines_loglog():
    from lifelines import KaplanMeierFitter

    k = KaplanMeierFitter().fit(ref.GEHAN_6MP_TIME, ref.GEHAN_6MP_EVENT)
    s = survival_at(ref.GEHAN_6MP_TIME, ref.GEHAN_6MP_EVENT, [7, 13, 23])
    ci = k.confidence_interval_
    for _, r in s.iterrows():
        row = ci[ci.index <= r["time"]].iloc[-1]
        assert r["ci_lower"] == pytest.approx(row.iloc[0], abs=1e-6)
        assert r["ci_upper"] == pytest.approx(row.iloc[1], abs=1e-6)
    beyond = survival_at([1, 2], [1, 0], [0, 3])
    assert beyond["survival"].iloc[0] == 1 and np.isnan(beyond["survival"].iloc[1])
    t = table_survival_at(gehan_frame(), [10], group="arm")
    assert t["at_risk"].tolist() == [15, 8]


# ---- hand-computed toys ----------------------------------------------------------------------

def test_km_curve_by_hand():
    c = km_curve([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    assert list(c["time"]) == [1, 2, 3, 4]
    assert list(c["at_risk"]) == [5, 4, 2, 1]
    assert np.allclose(c["survival"], [0.8, 0.6, 0.3, 0.3])
    assert km_median([1, 2, 2, 3, 4], [1, 1, 0, 1, 0]) == 3


def test_median_tie_rule():
    t, e = [1, 2, 3, 4], [1, 1, 1, 1]  # S = .75, .5, .25, 0
    assert km_median(t, e, tie="first") == 2
    assert km_median(t, e, tie="midpoint") == 2.5
    with pytest.raises(AnalysisError):
        km_median(t, e, tie="other")


def test_median_not_reached_is_nan():
    km = KaplanMeier().fit([1, 2, 3, 4], [1, 0, 0, 0])
    assert math.isnan(km.median_)
    assert km.survival_at(1.5) == pytest.approx(0.75)
    assert km.survival_at(0.5) == 1.0
    km0 = KaplanMeier().fit([1, 2], [0, 0])
    assert math.isnan(km0.median_) and math.isnan(km0.ci_[0]) and km0.events_ == 0


def test_at_risk_is_time_ge_t():
    assert at_risk_counts([0.5, 1, 2, 2, 3], [0, 1, 2, 3, 4]) == [5, 4, 3, 1, 0]
    tte = pd.DataFrame({"time": [0.5, 1, 2, 2, 3], "event": 1, "g": ["a", "a", "b", "b", "b"]})
    t = table_at_risk(tte, [0, 2], group="g")
    assert t.loc["a"].tolist() == [2, 0]
    assert t.loc["b"].tolist() == [3, 3]


def test_logrank_by_hand():
    # O_A - E_A = 2 - 4/3, V = 1/4 + 2/9 + 1/4 = 13/18  ->  chi2 = 8/13
    tte = pd.DataFrame({"time": [1, 3, 2, 4], "event": [1, 1, 1, 1], "g": ["A", "A", "B", "B"]})
    chi2, p, df = logrank_p(tte, "g")
    assert chi2 == pytest.approx(8 / 13)
    assert p == pytest.approx(stats.chi2.sf(8 / 13, 1))


def test_three_group_logrank_df():
    tte = pd.DataFrame({"time": [1, 3, 2, 4, 5, 6], "event": 1, "g": list("AABBCC")})
    assert logrank_p(tte, "g")[2] == 2


def test_km_summary_columns_and_counts():
    s = table_km_summary(gehan_frame(), "arm").set_index("group")
    assert s.loc["6MP", "n"] == 21 and s.loc["6MP", "events"] == 9
    assert s.loc["control", "events"] == 21
    assert s.loc["control", "median"] == 8
    all_ = table_km_summary(gehan_frame())
    assert all_.loc[0, "n"] == 42


def test_derive_tte_months_and_events():
    adsl, adtte, *_ = ref.toy_frames()
    tte = derive_tte(adsl, adtte, "PFS").set_index("USUBJID")
    assert tte.loc["P1", "time"] == pytest.approx(300 / MONTH)
    assert tte.loc["P1", "event"] == 1 and tte.loc["P2", "event"] == 0
    pp = derive_tte(adsl, adtte, "PFS", population="PP")
    assert set(pp["USUBJID"]) == {"P1", "P2", "P3", "P4", "P7", "P8"}
    with pytest.raises(AnalysisError):
        derive_tte(adsl, adtte, "DFS")
    with pytest.raises(AnalysisError):
        derive_tte(adsl, adtte[adtte["USUBJID"] != "P3"], "OS")


def test_derive_tte_carries_what_its_readers_need_and_no_more():
    """Every subgroup factor splits a tte frame as it splits the derived ADSL; the study's Cox
    complete-case flag rides along; the rest of the ADSL does not."""
    from ixathaldex.analysis.populations import SUBGROUPS, derive_adsl, derive_population, split_by

    adsl, adtte, *_ = ref.toy_frames()
    adsl["definition:cox_complete"] = ["Y", "N"] * 4
    full = derive_adsl(derive_population(adsl, "ITT")).set_index("USUBJID")
    tte = derive_tte(adsl, adtte, "OS").set_index("USUBJID")
    for sg in SUBGROUPS.values():
        pd.testing.assert_series_equal(split_by(tte, sg), split_by(full, sg).loc[tte.index])
    assert list(tte["definition:cox_complete"]) == list(full.loc[tte.index, "definition:cox_complete"])
    assert not {"AGE", "SEX", "ISS", "FISHFL", "TRTSDT"} & set(tte.columns)
    os_rows = adtte[adtte["PARAMCD"] == "OS"].set_index("USUBJID")
    assert (tte["AVAL"] == os_rows.loc[tte.index, "AVAL"]).all()
    assert (tte["CNSR"] == os_rows.loc[tte.index, "CNSR"]).all()


def test_derive_tte_is_kept_by_content_and_handed_out_as_copies():
    from ixathaldex.analysis import survival

    adsl, adtte, *_ = ref.toy_frames()
    survival.TTE_KEPT.clear()
    for _ in range(3):  # pandas fills lazy state on first use (consolidation, caches): a key may change early
        first = derive_tte(adsl, adtte, "PFS", "PP")
    settled = len(survival.TTE_KEPT.kept)
    first.loc[0, "time"] = -1.0  # the caller's copy: nothing kept changes
    again = derive_tte(adsl, adtte, "PFS", "PP")
    assert settled >= 1 and again.loc[0, "time"] > 0 and len(survival.TTE_KEPT.kept) == settled  # kept, then hit
    older = adsl.copy()
    older.loc[older["USUBJID"] == again.loc[0, "USUBJID"], "AGE"] = 90  # new content: derived anew
    assert derive_tte(older, adtte, "PFS", "PP").loc[0, "AGEGR"] == "≥75" != again.loc[0, "AGEGR"]
    longer = adtte.copy()
    longer.loc[(longer["USUBJID"] == again.loc[0, "USUBJID"]) & (longer["PARAMCD"] == "PFS"), "AVAL"] += 30
    assert derive_tte(adsl, longer, "PFS", "PP").loc[0, "time"] == pytest.approx(again.loc[0, "time"] + 30 / MONTH)
    assert derive_tte(adsl, adtte, "PFS", "ITT").shape[0] == 8  # the population is part of the key


def test_derive_tte_refuses_a_subject_twice_in_adsl():
    from pandas.errors import MergeError

    adsl, adtte, *_ = ref.toy_frames()
    with pytest.raises(MergeError, match="not unique in left dataset"):
        derive_tte(pd.concat([adsl, adsl.iloc[[2]]], ignore_index=True), adtte, "OS")


def test_subgroup_survival_levels_and_p():
    adsl, adtte, *_ = ref.toy_frames()
    t = table_subgroup_survival(adsl, adtte, "PFS")
    hr = t[t["factor"] == "hr_cyto"].set_index("level")
    assert hr.loc["Y", "n"] == 3 and hr.loc["N", "n"] == 3  # FISH patients only
    # PFS hr_cyto: HR P1 300 ev, P3 100 ev, P6 150 cens -> S(100)=2/3, S(300)=0 -> median 300 d
    assert hr.loc["Y", "median"] == pytest.approx(300 / MONTH)
    c3 = t[t["factor"] == "cyto3"]
    assert list(c3["level"]) == ["Isolated gain 1q21", "High risk", "Neither"]
    assert c3["p_value"].nunique() == 1


def test_subgroup_survival_population_per_factor():
    adsl, adtte, *_ = ref.toy_frames()
    t = table_subgroup_survival(adsl, adtte, "PFS", factors=["age75", "imid"],
                                population={"age75": "PP"})
    age = t[t["factor"] == "age75"]
    assert age["n"].sum() == 6 and (age["population"] == "PP").all()
    assert t[t["factor"] == "imid"]["n"].sum() == 8


def test_median_ci_agrees_with_lifelines_band_crossing():
    """statsmodels' BC inversion (cloglog) and lifelines' log-log band crossing coincide."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    rng = np.random.default_rng(7)
    for _ in range(40):
        m = int(rng.integers(5, 40))
        t = rng.integers(1, 25, m).astype(float)
        e = (rng.random(m) < 0.7).astype(int)
        ci = median_survival_times(KaplanMeierFitter().fit(t, e).confidence_interval_).to_numpy().ravel()
        ours = km_median_ci(t, e)
        for a, b in zip(ours, ci):
            assert (math.isnan(a) and not np.isfinite(b)) or a == b


def test_followup_reverse_km():
    adsl, adtte, *_ = ref.toy_frames()
    # reverse OS: censorings at 150, 350, 400, 500, 600 are the events; S(350)=6/7*3/4, S(400)=.43
    f = table_followup(adsl, adtte)
    assert f.loc[0, "median"] == pytest.approx(400 / MONTH)
    assert f.loc[0, "n"] == 8


def test_cox_univariate_matches_lifelines_without_ties():
    from lifelines import CoxPHFitter

    adsl, adtte, *_ = ref.toy_frames()
    uni = table_cox_univariate(adsl, adtte, "OS", factors=["hgb100"]).iloc[0]
    assert uni["level"] == "Hb <100 g/L" and uni["reference"] == "Hb ≥100 g/L"
    tte = derive_tte(adsl, adtte, "OS")
    df = pd.DataFrame({"T": tte["time"], "E": tte["event"], "x": (tte["HGBLOFL"] == "Y").astype(float)})
    cph = CoxPHFitter().fit(df, "T", "E")  # no tied times here, so Efron = Breslow
    assert uni["coef"] == pytest.approx(cph.params_["x"], abs=1e-4)
    assert ("higher" in uni["direction"]) == (uni["hr"] > 1)


def test_cox_multivariate_complete_cases():
    adsl, adtte, *_ = ref.toy_frames()
    m = table_cox_multivariate(adsl, adtte, "OS", factors=["gain1q", "hgb100"])
    assert set(m["covariate"]) == {"gain1q", "hgb100"}
    assert (m["n"] == 5).all()  # six FISH-evaluable patients, P8's 1q21 probe missing
    m = table_cox_multivariate(adsl, adtte, "OS", factors=["gain1q_detected", "hgb100"])
    assert (m["n"] == 6).all()  # missing probe coded 'not detected'
    assert (m["ties"] == "breslow").all()
    assert (m["ties"] == "breslow").all()


def test_cox_flags_monotone_likelihood():
    t = np.arange(1, 9, dtype=float)
    e = np.ones(8)
    X = pd.DataFrame({"x": [1, 1, 1, 1, 0, 0, 0, 0.0]})  # all early deaths in x = 1
    fit = fit_cox(t, e, X)
    assert fit.loc[0, "estimable"] or fit.loc[0, "hr"] > 1
    X2 = pd.DataFrame({"x": [1, 1, 1, 1, 0, 0, 0, 0.0]})
    fit2 = fit_cox(t, np.r_[np.ones(4), np.zeros(4)], X2)
    assert not fit2.loc[0, "estimable"]


def test_invert_hr():

    adsl, adtte, *_ = ref.toy_frames()
    u = table_cox_univariate(adsl, adtte, "OS", factors=["hgb100"])
    v = invert_hr(u).iloc[0]
    assert v["hr"] == pytest.approx(1 / u.iloc[0]["hr"])
    assert v["hr_lower"] == pytest.approx(1 / u.iloc[0]["hr_upper"])
    assert (v["level"], v["reference"]) == ("Hb ≥100 g/L", "Hb <100 g/L")
    assert v["p_value"] == u.iloc[0]["p_value"]


def test_subgroup_hr_has_logrank():
    adsl, adtte, *_ = ref.toy_frames()
    f = table_subgroup_hr(adsl, adtte, "PFS", factors=["gfr60", "cyto3"])
    assert list(f["covariate"]) == ["gfr60", "cyto3[Isolated gain 1q21]", "cyto3[High risk]"]
    assert f["logrank_p"].notna().all()
