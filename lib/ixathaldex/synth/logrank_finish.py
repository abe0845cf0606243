"""Pairs of event-day moves for the PFS log-rank p-values not yet exact (issue 14, generator 2.3.0).

A log-rank p depends only on the order of the events and censorings of its groups, so a p printed
to three decimals is reached in jumps: one event crossing another group's moves it by a few per
cent, and every such crossing also moves the other PFS log-rank p-values, most of which are exact.
This stage, after the pair search of the medians (``synth.pairs``), tries for each PFS log-rank p
within ``REACH`` of its printed figure (nearest first):

1. *single moves*: one patient's progression (or death without progression) on another day, the
   death kept at the same gap or kept where it is, one representative day (the nearest valid one)
   for each place the observation can take in the order of all PFS observations (``event_moves``);
2. *pairs* of them on two patients, pre-screened by the target p alone with the log-rank statistic
   of the two moves added (a quick estimate, kept within ``MARGIN``), then exactly (``logrank_uv``,
   every candidate at once), then by every log-rank p exact now (at most one may be lost), and only
   then judged in full;
3. for the ``MENDS`` best distinct pairs that print the target and lost at most ``refine.MAX_LOST``
   other exact numbers and no tolerance, a *third* single move that keeps every exact log-rank p.

A state is kept only when the target reads as its figure and the finish's lexicographic rule
(``refine.better``) holds with one more exact number (nothing traded). Deterministic (no random
numbers); each kept state satisfies ``calibration.valid``. The counts per target are returned as
evidence for the calibration report.
"""

from __future__ import annotations

import math

import numpy as np

from ixathaldex.synth import calibration, conflicts, pairs, refine, targets
from ixathaldex.synth import cohort as S

#: a PFS log-rank p is tried when it lies within REACH (relative) of its printed figure
REACH = 0.06
#: the pairs whose estimated p lies within MARGIN (relative) of the figure's interval are computed exactly
MARGIN = 0.03
#: the most pairs (distinct states) a third move tries to mend; pairs judged in full at most
MENDS, JUDGED = 40, 4000
_CHUNK = 50_000


def pfs_logrank_ids(lat) -> list[str]:
    """Target ids of the PFS log-rank p-values (two groups each, and the three cytogenetic groups)."""
    names = [name for name, _mask in targets.curve_masks(lat, targets.groups(lat))[0]]
    return [name[:-2] + "_p" for name in names if name.endswith("_a")] + ["pfs_three_p"]


def observations(lat) -> tuple[np.ndarray, np.ndarray, dict]:
    """(PFS time, event, {target id: group code per patient, -1 outside}) at the publication cut."""
    pt, pe, _ot, _oe, _fu = targets.observed(lat, S.CUT_PUBLICATION)
    rows = dict(targets.curve_masks(lat, targets.groups(lat))[0])
    codes = {}
    for tid in pfs_logrank_ids(lat):
        names = [f"three_{k}" for k in range(3)] if tid == "pfs_three_p" else [tid[:-1] + "a", tid[:-1] + "b"]
        codes[tid] = np.select([rows[n] for n in names], list(range(len(names))), -1)
    return pt.astype(np.int64), pe.astype(np.int64), codes


def logrank_uv(T: np.ndarray, E: np.ndarray, G: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-rank score U (rows, k-1) and its variance V (rows, k-1, k-1) of many cohorts at once.

    Each row is one cohort: times ``T``, events ``E`` and group codes ``G`` (0..k-1, -1 = not in the
    comparison). Ties as in ``fastsurv.logrank``: all at risk at a time, events at one time together.
    """
    B, n = T.shape
    key = np.where(G >= 0, T, 10 ** 7) * 16 + E * 4 + (G + 1)
    key.sort(axis=1)
    Ts, Gs = key // 16, key % 4 - 1
    Es = ((key // 4) % 4) * (Gs >= 0)
    M = np.stack([Gs == j for j in range(k)]).astype(float)
    R = np.cumsum(M[:, :, ::-1], axis=2)[:, :, ::-1]
    idx = np.broadcast_to(np.arange(n), (B, n))
    change = Ts[:, 1:] != Ts[:, :-1]
    start = np.maximum.accumulate(np.where(np.c_[np.ones((B, 1), bool), change], idx, 0), axis=1)
    end = np.minimum.accumulate(np.where(np.c_[change, np.ones((B, 1), bool)], idx, n - 1)[:, ::-1], axis=1)[:, ::-1]
    Ec = np.cumsum(Es, axis=1)
    d = np.take_along_axis(Ec, end, 1) - np.take_along_axis(Ec, start, 1) + np.take_along_axis(Es, start, 1)
    nr = np.stack([np.take_along_axis(R[j], start, 1) for j in range(k)])
    tot = nr.sum(0)
    ev = (Es > 0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(tot > 0, nr / tot, 0.0)
        w = ev * np.where(tot > 1, (tot - d) / (tot - 1), 0.0)
    U = np.stack([((M[j] - frac[j]) * ev).sum(1) for j in range(k - 1)], 1)
    V = np.stack([np.stack([(w * frac[a] * ((a == b) - frac[b])).sum(1) for b in range(k - 1)], 1)
                  for a in range(k - 1)], 1)
    return U, V


def p_value(U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Chi-square p (k-1 = 1 or 2 degrees of freedom) of each row's U' V^-1 U."""
    if U.shape[1] == 1:
        stat = U[:, 0] ** 2 / np.where(V[:, 0, 0] > 0, V[:, 0, 0], np.inf)
        return np.array([math.erfc(math.sqrt(s / 2.0)) for s in stat])
    a, b, c, d = V[:, 0, 0], V[:, 0, 1], V[:, 1, 0], V[:, 1, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = (d * U[:, 0] ** 2 - (b + c) * U[:, 0] * U[:, 1] + a * U[:, 1] ** 2) / (a * d - b * c)
    return np.exp(-np.nan_to_num(stat) / 2.0)


def _place(t: np.ndarray, e: np.ndarray, i: int) -> tuple[int, bool, int]:
    """Where patient ``i``'s PFS observation lies in the order of everyone else's."""
    others = np.delete(t, i)
    return int((others < t[i]).sum()), bool((others == t[i]).any()), int(e[i])


#: the single moves: (kind, endpoint of ``refine.set_event`` or None = ``pairs.set_progression``)
_KINDS = {"pfs": "pfs", "os": "os", "keep": None}


def _apply(lat, kind: str, i: int, day: int) -> list:
    ep = _KINDS[kind]
    return pairs.set_progression(lat, i, day) if ep is None else refine.set_event(lat, i, ep, day)


def event_moves(lat) -> list[tuple[str, object, int]]:
    """(label, change, patient) of each patient's progression (or death without progression) on the
    nearest valid day of each other place in the PFS order, the death kept at its gap or where it is."""
    pt, pe, _ = observations(lat)
    fu = (S.CUT_PUBLICATION - S.ACCRUAL_START).days - lat.enrol + 1
    out = []
    for i in range(lat.n):
        here, old = _place(pt, pe, i), int(lat.pfs[i])
        for kind in (("os",) if lat.dnp[i] else ("pfs", "keep")):
            best = {}
            for day in range(1, int(fu[i]) + 2):
                if day == old:
                    continue
                undo = _apply(lat, kind, i, day)
                if calibration.valid(lat):
                    t, e, _ot, _oe, _fu = targets.observed(lat, S.CUT_PUBLICATION)
                    place = _place(t, e, i)
                    if place != here and (place not in best or abs(day - old) < abs(best[place] - old)):
                        best[place] = day
                calibration.revert(lat, undo)
            for day in sorted(best.values()):
                label = f"pfs[{i}]={day}, death kept" if kind == "keep" else f"{kind}[{i}]={day}"
                out.append((label, lambda lat, k=kind, i=i, d=day: _apply(lat, k, i, d), i))
    return out


class LogrankFinish:
    """The pair (and third-move) search of the PFS log-rank p-values on one latent cohort (changed in place)."""

    def __init__(self, lat):
        self.r = refine.Refiner(lat)
        self.moves = event_moves(self.lat)
        self.t0, self.e0, self.g0 = observations(self.lat)
        rows = []
        for _label, change, _i in self.moves:
            undo = change(self.lat)
            rows.append(observations(self.lat))
            calibration.revert(self.lat, undo)
        self.T = np.array([r[0] for r in rows]).reshape(len(rows), self.lat.n)
        self.E = np.array([r[1] for r in rows]).reshape(len(rows), self.lat.n)
        self.patient = np.array([m[2] for m in self.moves])
        self.evidence: dict[str, dict] = {}

    @property
    def lat(self):
        return self.r.lat

    def window(self, tid: str) -> tuple[float, float]:
        spec = {t["id"]: t for t in self.r.cur.targets}
        return conflicts.exact_window(targets.registry()[spec[tid]["claim"]])

    def p_rows(self, tid: str, rows: np.ndarray) -> np.ndarray:
        """The exact log-rank p of ``tid`` after the moves of each row of ``rows`` (move indices)."""
        out = []
        for s in range(0, len(rows), _CHUNK):
            c = rows[s:s + _CHUNK]
            T = np.repeat(self.t0[None], len(c), 0)
            E = np.repeat(self.e0[None], len(c), 0)
            for col in c.T:
                T = np.where(self.T[col] != self.t0, self.T[col], T)
                E = np.where(self.E[col] != self.e0, self.E[col], E)
            G = np.repeat(self.g0[tid][None], len(c), 0)
            out.append(p_value(*logrank_uv(T, E, G, 3 if tid == "pfs_three_p" else 2)))
        return np.concatenate(out) if out else np.zeros(0)

    def lost_p(self, rows: np.ndarray, tid: str) -> tuple[np.ndarray, np.ndarray]:
        """(target in its window, number of exact PFS log-rank p lost) of each row of moves."""
        lo, hi = self.window(tid)
        p = self.p_rows(tid, rows)
        hit = (p >= lo) & (p < hi)
        lost = np.zeros(len(rows), int)
        for other in pfs_logrank_ids(self.lat):
            if other in self.r.cur.exact:
                lo2, hi2 = self.window(other)
                q = self.p_rows(other, rows[hit])
                lost[hit] += ~((q >= lo2) & (q < hi2))
        return hit, lost

    def pair_rows(self, tid: str) -> np.ndarray:
        """Pairs of moves on two patients whose estimated p (the two moves' U and V added) lies near
        the figure's interval."""
        k = 3 if tid == "pfs_three_p" else 2
        U0, V0 = logrank_uv(self.t0[None], self.e0[None], self.g0[tid][None], k)
        U1, V1 = logrank_uv(self.T, self.E, np.repeat(self.g0[tid][None], len(self.T), 0), k)
        dU, dV = U1 - U0, V1 - V0
        live = np.flatnonzero((np.abs(dU).sum(1) > 1e-12) | (np.abs(dV).sum((1, 2)) > 1e-12))
        lo, hi = self.window(tid)
        out = []
        for pos, a in enumerate(live):
            b = live[pos + 1:]
            b = b[self.patient[b] != self.patient[a]]
            p = p_value(U0 + dU[a] + dU[b], V0 + dV[a] + dV[b])
            near = b[(p >= lo * (1 - MARGIN)) & (p < hi * (1 + MARGIN))]
            out.append(np.column_stack([np.full(len(near), a), near]))
        return np.concatenate(out) if out else np.zeros((0, 2), int)

    def judge_rows(self, rows, tid: str, mends: dict | None = None) -> bool:
        """Judge each row of moves in full; keep the first that gains (left applied: True). With
        ``mends``, collect the distinct states that print the target and lose at most MAX_LOST."""
        cur = self.r.cur
        for row in rows:
            undos = [self.moves[m][1](self.lat) for m in row]
            if calibration.valid(self.lat):
                self.evidence[tid]["judged"] += 1
                new = refine.judge(self.lat)
                if tid in new.exact and len(new.exact) > len(cur.exact) and refine.better(new, cur):
                    self.r.cur, self.evidence[tid]["kept"] = new, "; ".join(self.moves[m][0] for m in row)
                    return True
                lost = cur.exact - new.exact
                if mends is not None and tid in new.exact and cur.ok <= new.ok and len(lost) <= pairs.MAX_LOST:
                    key = self.lat.pfs.tobytes() + self.lat.os.tobytes()
                    if key not in mends and len(mends) < MENDS:
                        mends[key] = (len(lost), new.objective, tuple(int(m) for m in row))
            for undo in reversed(undos):
                calibration.revert(self.lat, undo)
        return False

    def target(self, tid: str) -> bool:
        """Pairs, then third moves, for one log-rank p; True when a state was kept."""
        ev = self.evidence[tid] = {"claim": {t["id"]: t for t in self.r.cur.targets}[tid]["claim"],
                                   "singles": len(self.moves), "pairs_near": 0, "pairs_exact": 0,
                                   "pairs_screened": 0, "mends": 0, "thirds": 0, "thirds_screened": 0,
                                   "judged": 0, "kept": ""}
        rows = self.pair_rows(tid)
        hit, lost = self.lost_p(rows, tid)
        order = np.lexsort((np.arange(len(rows)), lost))
        chosen = order[hit[order] & (lost[order] <= 1)][:JUDGED]
        ev.update(pairs_near=len(rows), pairs_exact=int(hit.sum()), pairs_screened=len(chosen))
        mends: dict = {}
        if self.judge_rows(rows[chosen], tid, mends):
            return True
        ev["mends"] = len(mends)
        for _n, _obj, pair in sorted(mends.values()):
            thirds = np.flatnonzero(~np.isin(self.patient, self.patient[list(pair)]))
            rows3 = np.column_stack([np.tile(pair, (len(thirds), 1)), thirds])
            hit3, lost3 = self.lost_p(rows3, tid)
            kept = rows3[hit3 & (lost3 == 0)]
            ev["thirds"] += len(rows3)
            ev["thirds_screened"] += len(kept)
            if self.judge_rows(kept, tid):
                return True
        return False

    def todo(self, done) -> list[str]:
        """The PFS log-rank p-values not exact and within REACH of their figure, nearest first."""
        spec = {t["id"]: t for t in self.r.cur.targets}
        gaps = {tid: abs(spec[tid]["value"] / spec[tid]["target"] - 1.0) for tid in pfs_logrank_ids(self.lat)
                if tid not in self.r.cur.exact and tid not in done}
        return sorted((tid for tid, gap in gaps.items() if gap <= REACH), key=lambda tid: (gaps[tid], tid))


def logrank_finish(lat, log=None):
    """The log-rank finish: (latent, evidence by target id). ``log(target id, evidence)`` after each target."""
    search, evidence = LogrankFinish(lat.copy()), {}
    while todo := search.todo(evidence):
        tid = todo[0]
        kept = search.target(tid)
        evidence[tid] = search.evidence[tid]
        if log is not None:
            log(tid, evidence[tid])
        if kept:
            search = LogrankFinish(search.lat)  # the single moves again, from the new state
    return search.lat, evidence


def describe(ev: dict) -> str:
    """The evidence of one p-value's log-rank finish as one sentence (the calibration report's reason)."""
    if ev["kept"]:
        return f"reached by the log-rank finish (synth.logrank_finish): {ev['kept']}"
    return (f"the log-rank finish (synth.logrank_finish) found no pair or triple of event-day moves that keeps "
            f"every exact number: of the pairs of its {ev['singles']} single moves, {ev['pairs_exact']} print the "
            f"figure, {ev['pairs_screened']} of them lose at most one exact log-rank p and were judged in full, "
            f"and {ev['thirds_screened']} of {ev['thirds']} third moves mending the {ev['mends']} best pairs keep "
            f"every exact log-rank p; each loses another exact number")
