"""analysis.coxph: the numpy Cox fit equals statsmodels' PHReg (an independent implementation of the
same method) on random data with ties, for both tie rules; published fits are in test_survival."""

import warnings

import numpy as np
import pytest
from ixathaldex.analysis.coxph import CoxPH
from ixathaldex.exceptions import AnalysisError


def random_cohorts(seed, count):
    rng = np.random.default_rng(seed)
    for k in range(count):
        n, p = int(rng.integers(10, 250)), int(rng.integers(1, 5))
        X = rng.normal(size=(n, p))
        if k % 2:
            X = (X > 0).astype(float)  # binary factors, as in the paper's models
        t = rng.integers(1, int(rng.integers(4, 60)), size=n).astype(float)  # many ties
        e = (rng.random(n) < 0.7).astype(float)
        if e.sum():
            yield t, e, X


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_coxph_equals_statsmodels_phreg(ties):
    from statsmodels.duration.hazard_regression import PHReg

    compared = 0
    for t, e, X in random_cohorts(13, 60):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = PHReg(t, X, status=e, ties=ties).fit()
        if not np.all(np.abs(ref.params) < 10):
            continue  # a monotone likelihood: both diverge, neither estimate means anything
        fit = CoxPH(ties).fit(t, e, X)
        np.testing.assert_allclose(fit.params_, ref.params, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(fit.se_, ref.bse, rtol=1e-9)
        assert fit.loglik_ == pytest.approx(ref.llf, rel=1e-10)
        assert fit.converged_
        compared += 1
    assert compared >= 40


def test_coxph_ties_differ_only_with_ties():
    rng = np.random.default_rng(2)
    t, e, X = rng.permutation(60).astype(float) + 1, (rng.random(60) < 0.8).astype(float), rng.normal(size=(60, 2))
    assert np.allclose(CoxPH("breslow").fit(t, e, X).params_, CoxPH("efron").fit(t, e, X).params_, rtol=1e-12)
    t = np.ceil(t / 10)
    assert not np.allclose(CoxPH("breslow").fit(t, e, X).params_, CoxPH("efron").fit(t, e, X).params_)


def test_coxph_two_groups_no_ties_matches_hand_computation():
    # two patients per group, distinct times, one covariate: the score equation solved by hand.
    # times 1..4, all events; x = 1, 0, 1, 0. log L(b) = b - log(2e^b + 2) + 0 - log(e^b + 2) + b - log(e^b + 1)
    t, e, x = np.array([1.0, 2, 3, 4]), np.ones(4), np.array([[1.0], [0], [1], [0]])
    b = CoxPH().fit(t, e, x).params_[0]
    score = 2 - 2 * np.exp(b) / (2 * np.exp(b) + 2) - np.exp(b) / (np.exp(b) + 2) - np.exp(b) / (np.exp(b) + 1)
    assert abs(score) < 1e-10


def test_coxph_monotone_likelihood_has_no_finite_estimate():
    t, e = np.arange(1.0, 9), np.r_[np.ones(4), np.zeros(4)]
    fit = CoxPH().fit(t, e, np.array([[1.0]] * 4 + [[0.0]] * 4))
    assert abs(fit.params_[0]) > 10 or not np.isfinite(fit.se_[0]) or fit.se_[0] > 50


def test_coxph_refuses_what_it_cannot_fit():
    with pytest.raises(AnalysisError, match="no events"):
        CoxPH().fit([1.0, 2.0], [0, 0], [[1.0], [0.0]])
    with pytest.raises(AnalysisError, match="ties"):
        CoxPH("exact")


def test_risk_set_sums_of_products_by_brute_force():
    """Σ w·x_i·x_j over the risk set (time ≥ the failure's time) of every failure, by a plain loop."""
    rng = np.random.default_rng(5)
    n, k = 40, 3
    t = rng.integers(1, 12, n).astype(float)
    e = rng.random(n) < 0.6
    X = rng.normal(size=(n, k))
    w = rng.random(n) + 0.5
    m = CoxPH().fit(t, e, X)  # prepares the rows sorted by descending time
    order = np.argsort(-t, kind="stable")
    got = m._risk_sums2(w[order][:, None] * X[order], X[order])
    expect = [sum(w[r] * np.outer(X[r], X[r]) for r in range(n) if t[r] >= ft) for ft in np.sort(t[e])[::-1]]
    assert np.allclose(got, np.array(expect), rtol=1e-12)
