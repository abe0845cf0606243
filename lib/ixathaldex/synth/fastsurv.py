"""Fast numpy survival statistics for the calibration search (Fig. 1-3 quantities, Cox model).

Small, allocation-light versions of what the chapters compute with lifelines / statsmodels, so
that one evaluation of the calibration objective takes milliseconds. ``tests/test_synthetic.py``
checks them against lifelines (KM median and its CI, log-rank) and statsmodels (Cox, Breslow).

Conventions (as in ``docs/calibration.md``): Kaplan-Meier median = first time with S(t) <= 0.5;
95% CI of the median by Brookmeyer-Crowley inversion of the pointwise log-log (exponential
Greenwood) band, as lifelines' ``median_survival_times(kmf.confidence_interval_)``; log-rank
chi-square with k-1 df; Cox partial likelihood with Breslow ties, Wald CIs and p-values.
"""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054


def km(t: np.ndarray, e: np.ndarray):
    """Distinct times, survival S(t), and the Greenwood sum at each distinct time."""
    order = np.argsort(t, kind="stable")
    ts = t[order]
    es = e[order].astype(float)
    uniq, idx = np.unique(ts, return_index=True)
    d = np.add.reduceat(es, idx)
    nrisk = (len(t) - idx).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / nrisk)
        gw = d / (nrisk * (nrisk - d))
    gw[~np.isfinite(gw)] = 0.0
    return uniq, surv, np.cumsum(gw)


def _first_le(times, s, q=0.5):
    hit = np.flatnonzero(s <= q + 1e-12)  # S is a running product: 45/90 may come out as 0.5000000000000001
    return float(times[hit[0]]) if len(hit) else math.inf


def median_ci(t: np.ndarray, e: np.ndarray):
    """(median, lower, upper, last S, median2) of a KM curve; inf = not reached.

    The CI is Brookmeyer-Crowley on the log-log band. ``median2`` is the first time S drops below
    0.5 strictly; it differs from the median when S sits at exactly 0.5 over an interval.
    """
    times, s, gw = km(t, e)
    med = _first_le(times, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.log(s)
        a = np.log(-v)
        b = Z95 * np.sqrt(gw) / v
        lo = np.exp(-np.exp(a - b))
        hi = np.exp(-np.exp(a + b))
    lo[~np.isfinite(lo)] = 1.0
    hi[~np.isfinite(hi)] = 1.0
    low_band = np.minimum(lo, hi)
    up_band = np.maximum(lo, hi)
    # S sitting at exactly 0.5 makes the median depend on the rule: first time (lifelines, SPSS),
    # midpoint (R), next time (statsmodels); ``med2`` = first time with S clearly below 0.5
    med2 = _first_le(times, s, 0.5 - 1e-9)
    return med, _first_le(times, low_band), _first_le(times, up_band), float(s[-1]), med2


def median(t, e) -> float:
    times, s, _ = km(t, e)
    return _first_le(times, s)


def logrank(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """Log-rank test of k groups (codes 0..k-1 in ``g``): (chi-square, p-value), k-1 df."""
    k = int(g.max()) + 1
    ev_times = np.unique(t[e.astype(bool)])
    m = len(ev_times)
    if m == 0 or k < 2:
        return 0.0, 1.0
    nr = np.empty((k, m))
    dd = np.zeros((k, m))
    pos_ev = np.searchsorted(ev_times, t)
    for j in range(k):
        sel = g == j
        tj = np.sort(t[sel])
        nr[j] = len(tj) - np.searchsorted(tj, ev_times, side="left")
        ev = sel & e.astype(bool)
        dd[j] = np.bincount(pos_ev[ev], minlength=m)[:m]
    return logrank_tables(nr, dd)


def followup_median(t, e) -> float:
    """Median follow-up by reverse Kaplan-Meier (censoring is the event)."""
    return median(t, 1 - e)


def cox_breslow(t: np.ndarray, e: np.ndarray, X: np.ndarray, iters: int = 30):
    """Cox PH by Newton-Raphson, Breslow ties: (beta, se, p) arrays (Wald)."""
    order = np.argsort(-t, kind="stable")
    t = t[order]
    e = e[order].astype(float)
    X = X[order].astype(float)
    n, p = X.shape
    # index of the last member of each tie group in descending order (risk set = up to it)
    last = np.r_[np.flatnonzero(t[1:] != t[:-1]), n - 1]
    grp_end = np.repeat(last, np.diff(np.r_[-1, last]))
    beta = np.zeros(p)
    info = np.eye(p)
    for _ in range(iters):
        w = np.exp(np.clip(X @ beta, -50, 50))
        s0 = np.cumsum(w)[grp_end]
        s1 = np.cumsum(w[:, None] * X, axis=0)[grp_end]
        s2 = np.cumsum(w[:, None, None] * X[:, :, None] * X[:, None, :], axis=0)[grp_end]
        ev = e > 0
        xbar = s1[ev] / s0[ev, None]
        grad = (X[ev] - xbar).sum(0)
        info = (s2[ev] / s0[ev, None, None] - xbar[:, :, None] * xbar[:, None, :]).sum(0)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            break
        step = np.clip(step, -2, 2)
        beta = beta + step
        if np.abs(step).max() < 1e-9:
            break
    try:
        cov = np.linalg.inv(info)
        se = np.sqrt(np.maximum(np.diag(cov), 1e-300))
    except np.linalg.LinAlgError:
        se = np.full(p, np.inf)
    z = beta / se
    pval = np.array([math.erfc(abs(zz) / math.sqrt(2.0)) for zz in z])
    return beta, se, pval


# ---- batched: many groups of one cohort at once (the search's objective) ----------------------

class Batch:
    """Kaplan-Meier tables of many groups (boolean masks over one cohort) on the cohort's own times.

    One sort of the times serves every group: at each distinct time of the cohort, the number at
    risk and the events of each group (rows). A time at which a group has nobody at risk or no event
    leaves its curve unchanged, so medians, CIs and log-rank tests read off these tables equal those
    of ``median_ci`` / ``logrank`` on the group alone (``tests/test_synthetic.py`` checks it).
    """

    def __init__(self, t: np.ndarray, e: np.ndarray, masks: np.ndarray):
        order = np.argsort(t, kind="stable")
        ts = t[order]
        es = e[order].astype(float)
        self.times, first = np.unique(ts, return_index=True)
        ms = masks[:, order].astype(float)
        self.nrisk = np.cumsum(ms[:, ::-1], axis=1)[:, ::-1][:, first]
        self.d = np.add.reduceat(ms * es, first, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = self.d / self.nrisk
            gw = self.d / (self.nrisk * (self.nrisk - self.d))
        h[~np.isfinite(h)] = 0.0
        gw[~np.isfinite(gw)] = 0.0
        self.surv = np.cumprod(1.0 - h, axis=1)
        self.gw = np.cumsum(gw, axis=1)

    def _first_le(self, s: np.ndarray, q: float = 0.5) -> np.ndarray:
        hit = s <= q + 1e-12
        idx = hit.argmax(axis=1)
        return np.where(hit.any(axis=1), self.times[idx].astype(float), math.inf)

    def median_ci(self) -> list[tuple]:
        """``median_ci`` of every row: (median, lower, upper, last S, median2)."""
        s = self.surv
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log(s)
            a = np.log(-v)
            b = Z95 * np.sqrt(self.gw) / v
            lo = np.exp(-np.exp(a - b))
            hi = np.exp(-np.exp(a + b))
        lo[~np.isfinite(lo)] = 1.0
        hi[~np.isfinite(hi)] = 1.0
        med, low, up = self._first_le(s), self._first_le(np.minimum(lo, hi)), self._first_le(np.maximum(lo, hi))
        med2 = self._first_le(s, 0.5 - 1e-9)
        last = s[:, -1]
        return [(float(med[i]), float(low[i]), float(up[i]), float(last[i]), float(med2[i])) for i in range(len(s))]

    def logrank(self, rows) -> float:
        """Log-rank p of the disjoint groups of ``rows`` (k - 1 df)."""
        nr, dd = self.nrisk[list(rows)], self.d[list(rows)]
        return logrank_tables(nr, dd)[1]

    def logrank_pairs(self, pairs) -> np.ndarray:
        """Two-group log-rank p of each (row a, row b) of ``pairs`` at once (a and b disjoint)."""
        ia, ib = np.array(pairs).T
        na, nb, da, db = self.nrisk[ia], self.nrisk[ib], self.d[ia], self.d[ib]
        n, d = na + nb, da + db
        with np.errstate(divide="ignore", invalid="ignore"):
            o_e = (da - np.where(n > 0, na * d / n, 0.0)).sum(1)
            f = np.where(n > 1, d * (n - d) / (n * n * (n - 1)), 0.0)
        var = (f * na * nb).sum(1)
        stat = np.where(var > 0, o_e ** 2 / np.where(var > 0, var, 1.0), 0.0)
        return np.array([math.erfc(math.sqrt(x / 2.0)) for x in stat])

    def observed_minus_expected(self, flag: int, rest: int) -> float:
        """Observed minus expected events of row ``flag`` against ``flag`` + ``rest`` (log-rank sense)."""
        n = self.nrisk[flag] + self.nrisk[rest]
        d = self.d[flag] + self.d[rest]
        with np.errstate(divide="ignore", invalid="ignore"):
            exp_ = np.where(n > 0, self.nrisk[flag] * d / n, 0.0)
        return float(self.d[flag].sum() - exp_.sum())


def logrank_tables(nr: np.ndarray, dd: np.ndarray) -> tuple[float, float]:
    """Log-rank (chi-square, p) from numbers at risk and events per group (rows) and time (columns)."""
    k = len(nr)
    n, d = nr.sum(0), dd.sum(0)
    if d.sum() == 0 or k < 2:
        return 0.0, 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        exp_ = np.where(n > 0, nr * (d / n), 0.0)
        f = np.where(n > 1, d * (n - d) / (n * n * (n - 1)), 0.0)
    o_e = (dd - exp_).sum(1)
    if k == 2:
        var = (f * nr[0] * nr[1]).sum()
        stat = o_e[0] ** 2 / var if var > 0 else 0.0
        return stat, math.erfc(math.sqrt(stat / 2.0))
    V = np.einsum("m,im,jm->ij", f, nr, nr) * -1.0
    V[np.diag_indices(k)] += (f * n * nr).sum(1)
    try:
        stat = float(o_e[:-1] @ np.linalg.solve(V[:-1, :-1], o_e[:-1]))
    except np.linalg.LinAlgError:
        return 0.0, 1.0
    if k == 3:
        return stat, math.exp(-stat / 2.0)
    from scipy.stats import chi2
    return stat, float(chi2.sf(stat, k - 1))
