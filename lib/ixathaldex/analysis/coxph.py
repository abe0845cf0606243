"""The Cox proportional-hazards partial likelihood, fitted by Newton-Raphson in numpy.

The method is the one statsmodels' ``PHReg`` states and the package used until issue 13: the
partial likelihood with Breslow (default) or Efron ties, started at β = 0, plain Newton steps with a
ridge of 1e-10 per observation added to the information's diagonal, stopped when no coefficient moves by more than 1e-8
or after 100 steps; the covariance is the inverse of the observed information at the estimate. It
is computed here because ``PHReg`` prepares its risk sets with a Python loop over the rows (about
0.5 s per model at 100,000 patients); here every risk-set sum is a cumulative sum over the rows
sorted by time, so one model costs a few milliseconds at that size.

The risk set of time t is every row whose time is ≥ t. With Breslow ties the rows that fail at t
share one denominator; with Efron's the l-th of d tied failures (l = 0..d-1) sees the risk set less
l/d of the tied failures' own weight. ``tests/test_coxph.py`` checks both against published
reference fits and against statsmodels on random data with ties.
"""

from __future__ import annotations

import numpy as np

from ixathaldex.exceptions import AnalysisError

#: Newton's stopping rule and safeguard (statsmodels' defaults for ``PHReg.fit``)
TOL, MAX_ITER, RIDGE = 1e-8, 100, 1e-10
TIES = ("breslow", "efron")


class CoxPH:
    """A Cox model of ``time``, ``event`` on the columns of ``X`` (no intercept).

    ``fit()`` returns self with ``params_`` (β), ``cov_`` (inverse information), ``se_``,
    ``loglik_``, ``iterations_`` and ``converged_``. A singular information matrix during the
    steps raises ``numpy.linalg.LinAlgError``; at the end (a monotone likelihood, the estimate
    running off to infinity) it gives infinite standard errors.
    """

    def __init__(self, ties: str = "breslow"):
        if ties not in TIES:
            raise AnalysisError(f"Cox model: ties must be one of {', '.join(TIES)}, not {ties!r}")
        self.ties = ties

    def fit(self, time, event, X) -> CoxPH:
        t = np.asarray(time, float)
        e = np.asarray(event, float) > 0
        X = np.asarray(X, float).reshape(len(t), -1)
        if not e.any():
            raise AnalysisError("Cox model: no events")
        self._prepare(t, e, X)
        beta, old, steps = np.zeros(X.shape[1]), np.full(X.shape[1], np.inf), 0
        while steps < MAX_ITER and np.any(np.abs(beta - old) > TOL):
            _, grad, info = self._derivatives(beta)
            # statsmodels' ridge is added to the information per observation, hence n times here
            info[np.diag_indices_from(info)] += len(t) * RIDGE
            old, beta = beta, beta + np.linalg.solve(info, grad)
            steps += 1
        self.loglik_, _, info = self._derivatives(beta)
        self.params_, self.iterations_, self.converged_ = beta, steps, steps < MAX_ITER
        try:
            self.cov_ = np.linalg.inv(info)
        except np.linalg.LinAlgError:  # a monotone likelihood: the estimate ran off to infinity
            self.cov_ = np.full_like(info, np.inf)
        self.se_ = np.sqrt(np.diag(self.cov_))
        return self

    def _prepare(self, t: np.ndarray, e: np.ndarray, X: np.ndarray) -> None:
        """Rows sorted by descending time; for each failure, the index (in that order) of the last
        row of its risk set, its tie group and its Efron fraction l/d."""
        order = np.argsort(-t, kind="stable")
        ts, self._e, self._X = t[order], e[order], X[order]
        n = len(ts)
        # the last row (descending order) whose time equals each row's time: the risk set ends there
        last = np.r_[np.flatnonzero(ts[1:] != ts[:-1]), n - 1]
        end = np.repeat(last, np.diff(np.r_[-1, last]))
        fail = np.flatnonzero(self._e)
        self._end = end[fail]
        self._fail = fail
        group = np.searchsorted(last, self._end)  # tie group of each failure (one per distinct time)
        self._group = np.unique(group, return_inverse=True)[1]
        size = np.bincount(self._group)
        rank = np.arange(len(fail)) - np.r_[0, np.cumsum(size)[:-1]][self._group]
        self._frac = rank / size[self._group] if self.ties == "efron" else np.zeros(len(fail))

    def _derivatives(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log partial likelihood, its gradient (score) and the observed information at ``beta``."""
        X, f = self._X, self._fail
        eta = X @ beta
        top = eta.max()  # weights relative to the largest: the ratios are unchanged, exp cannot overflow
        w = np.exp(eta - top)
        wx = w[:, None] * X
        s0 = np.cumsum(w)[self._end]
        s1 = np.cumsum(wx, axis=0)[self._end]
        s2 = self._risk_sums2(wx, X)
        if self.ties == "efron":
            k = len(np.bincount(self._group))
            d0 = np.bincount(self._group, weights=w[f], minlength=k)[self._group]
            d1 = np.stack([np.bincount(self._group, weights=c, minlength=k) for c in wx[f].T], axis=1)[self._group]
            d2 = np.zeros((k,) + s2.shape[1:])
            np.add.at(d2, self._group, wx[f][:, :, None] * X[f][:, None, :])
            fr = self._frac
            s0 = s0 - fr * d0
            s1 = s1 - fr[:, None] * d1
            s2 = s2 - fr[:, None, None] * d2[self._group]
        mean = s1 / s0[:, None]
        loglik = float(eta[f].sum() - (np.log(s0) + top).sum())
        grad = (X[f] - mean).sum(axis=0)
        # information = Σ over failures of s2 / s0 − mean·meanᵀ, worked in place in s2 (each element
        # as the one-expression form computes it; a large model's (failures, k, k) arrays held once)
        s2 /= s0[:, None, None]
        for i in range(s2.shape[1]):
            s2[:, i, :] -= mean[:, i, None] * mean
        return loglik, grad, s2.sum(axis=0)

    def _risk_sums2(self, wx: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Σ w·x_i·x_j over each failure's risk set, (failures, k, k): one cumulative sum per pair
        (i, j), the same sums in the same order as one cumulative sum of every row's k × k
        products, without holding those products for every row at once (100,000 rows × k²)."""
        k = X.shape[1]
        s2 = np.empty((len(self._end), k, k))
        for i in range(k):
            for j in range(k):
                s2[:, i, j] = np.cumsum(wx[:, i] * X[:, j])[self._end]
        return s2
