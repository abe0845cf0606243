"""The last stage of the calibration search: targeted moves toward the printed figures (issue 14).

After the annealing and its greedy polish (``ixathaldex.synth.calibration``), a few printed medians
and CI limits may still read one digit off. This stage tries moves aimed at them, and at the other
figures not yet exact, and keeps a move only when it is a **lexicographic** gain: every target within its tolerance stays
within it, and then more medians and CI limits exact, else (losing none of them) more figures
exact, else a lower objective. An exact median or CI limit may be given up only for more of them
exact. Deterministic (no
random numbers); every state it visits satisfies the hard constraints of ``calibration.valid``.

Moves, in order, until a round changes nothing:

1. *printed day*: one patient's progression (or death) on a day whose month value prints as the
   figure of a median or CI limit that is not exact (``conflicts.exact_window``), or, for a patient
   whose event lies near that figure, on any day near it;
2. *block swap*: a count-preserving swap of a covariate block (``calibration.BLOCKS``) between a
   patient whose event lies near such a figure and any other patient;
3. *shift*: each patient's progression day, death day and enrolment date shifted by a few days.

Tried on the committed search and left out, for gaining no figure: two patients exchanging their
event days, and shifts of 4 to 89 days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ixathaldex.synth import calibration, conflicts, targets
from ixathaldex.synth import cohort as S

MONTH = S.MONTH
#: shifts (days) of the shift move
SHIFTS = (1, -1, 2, -2, 3, -3, 5, -5, 8, -8, 13, -13)
#: the most rounds over the moves (on the committed search a second and third round, 140 s, changed only
#: the objective, no figure); how near (days) to a printed figure an event may move freely
ROUNDS, NEAR = 1, 40


@dataclass(frozen=True)
class State:
    """What the acceptance rule compares: objective, targets, exact ids, exact medians/CIs, ids within tolerance."""

    objective: float
    targets: list
    exact: frozenset
    exact_key: frozenset
    ok: frozenset

    def rank(self) -> tuple:
        return (len(self.exact_key), len(self.exact), -self.objective)


def judge(lat) -> State:
    """The state of a latent cohort at the publication cut (objective with the precision term)."""
    obj, T = calibration.objective(lat)
    ex = frozenset(t["id"] for t in T if t["kind"] in targets.PLAIN and calibration.exact(t))
    key = frozenset(t["id"] for t in T if t["id"] in ex and t["kind"] in ("med", "ci"))
    ok = frozenset(t["id"] for t in T if calibration.score(t)[1])
    return State(obj, T, ex, key, ok)


def better(new: State, cur: State) -> bool:
    """True when ``new`` loses no target within tolerance and ranks higher; an exact median / CI limit
    may be lost only for more medians / CI limits exact."""
    if not (cur.ok <= new.ok and new.rank() > cur.rank()):
        return False
    return cur.exact_key <= new.exact_key or len(new.exact_key) > len(cur.exact_key)


class Refiner:
    """Greedy lexicographic descent over the targeted moves (one latent cohort, changed in place)."""

    def __init__(self, lat):
        self.lat = lat
        self.cur = judge(lat)
        self.evaluations = 0

    def attempt(self, change) -> bool:
        """Apply ``change(lat)`` (returns an undo list); keep it when valid and better, else revert."""
        undo = change(self.lat)
        if not undo:
            return False
        if calibration.valid(self.lat):
            self.evaluations += 1
            new = judge(self.lat)
            if better(new, self.cur):
                self.cur = new
                return True
        calibration.revert(self.lat, undo)
        return False

    # ---- moves ------------------------------------------------------------------------------

    def windows(self, ids=None) -> list[tuple[str, str, np.ndarray]]:
        """(target id, endpoint, days that print as the figure) of each median / CI limit not yet
        exact (or of the targets ``ids``)."""
        out = []
        for t in self.cur.targets:
            chosen = t["id"] in ids if ids is not None else t["id"] not in self.cur.exact
            if t["kind"] in ("med", "ci") and chosen and t.get("claim"):
                lo, hi = conflicts.exact_window(targets.registry()[t["claim"]])
                days = np.arange(math.ceil(lo * MONTH), math.floor(hi * MONTH) + 1)
                out.append((t["id"], t["claim"].split(".")[0], days))
        return out

    def printed_day_moves(self) -> bool:
        """One event on a printed day of a median / CI limit not yet exact, or, for the patients
        whose event lies within ``NEAR`` days of that figure, on any day within ``NEAR`` of it (the
        event that must leave the stretch before the median for it to move)."""
        changed = False
        lat = self.lat
        for _tid, endpoint, days in self.windows():
            times = lat.pfs if endpoint == "pfs" else lat.os
            lo, hi = int(days[0]), int(days[-1])
            for i in range(lat.n):
                near = lo - NEAR <= times[i] <= hi + NEAR
                for d in (range(lo - NEAR, hi + NEAR + 1) if near else days):
                    if d != times[i]:
                        changed |= self.attempt(lambda lat, i=i, d=int(d): set_event(lat, i, endpoint, d))
        return changed

    def swap_moves(self) -> bool:
        """Count-preserving swaps of a covariate block (``calibration.BLOCKS``) between a patient whose
        event lies within ``NEAR`` days of a median / CI limit not yet exact and any other patient."""
        changed = False
        lat = self.lat
        near = np.zeros(lat.n, bool)
        for _tid, endpoint, days in self.windows():
            times = lat.pfs if endpoint == "pfs" else lat.os
            near |= (times >= days[0] - NEAR) & (times <= days[-1] + NEAR)
        for attrs, strata in calibration.BLOCKS.values():
            for i in np.flatnonzero(near):
                same = np.ones(lat.n, bool)
                for s in strata:
                    v = (lat.bor <= S.PR) if s == "resp" else getattr(lat, s)
                    same &= v == v[i]
                for j in np.flatnonzero(same):
                    if j != i and not all(np.array_equal(getattr(lat, a)[[i]], getattr(lat, a)[[j]], equal_nan=True)
                                          for a in attrs):
                        changed |= self.attempt(lambda lat, i=int(i), j=int(j), attrs=attrs: swap(lat, i, j, attrs))
        return changed

    def shift_moves(self) -> bool:
        """Each patient's progression day, death day and enrolment date shifted by each of ``SHIFTS``."""
        changed = False
        for i in range(self.lat.n):
            for attr in ("pfs", "os", "enrol"):
                for s in SHIFTS:
                    changed |= self.attempt(lambda lat, i=i, attr=attr, s=s: shift(lat, i, attr, s))
        return changed


def set_event(lat, i: int, endpoint: str, day: int) -> list:
    """Patient ``i``'s progression (``pfs``, death kept at the same gap) or death (``os``) on ``day``."""
    idx = np.array([i])
    undo = [(a, idx, getattr(lat, a)[idx].copy()) for a in ("pfs", "os")]
    if endpoint == "pfs":
        gap = lat.os[i] - lat.pfs[i]
        lat.pfs[idx] = day
        lat.os[idx] = day + gap
    else:
        lat.os[idx] = day
        if lat.dnp[i]:
            lat.pfs[idx] = day
    return undo


def shift(lat, i: int, attr: str, days: int) -> list:
    """Patient ``i``'s progression day (``pfs``), death day (``os``) or enrolment moved by ``days``."""
    idx = np.array([i])
    undo = [(a, idx, getattr(lat, a)[idx].copy()) for a in ("pfs", "os", "enrol")]
    getattr(lat, attr)[idx] += days
    if lat.dnp[i] and attr != "enrol":
        lat.pfs[idx] = lat.os[idx] = getattr(lat, attr)[idx]
    return undo


def swap(lat, i: int, j: int, attrs) -> list:
    """The covariate block ``attrs`` of patients ``i`` and ``j`` exchanged."""
    idx = np.array([i, j])
    undo = []
    for a in attrs:
        arr = getattr(lat, a)
        undo.append((a, idx, arr[idx].copy()))
        arr[idx] = arr[idx[::-1]]
    return undo


def rounds_for(moves: int) -> int:
    """Rounds of the finish after a search of ``moves`` (none after a short one: from a state far from
    the figures it would try tens of thousands of moves)."""
    return min(ROUNDS, moves // 100_000)


def refine(lat, rounds: int = ROUNDS, log=None):
    """The targeted finish: (latent, targets, evaluations). ``log(round, state)`` after each round."""
    r = Refiner(lat.copy())
    for k in range(rounds):
        changed = r.printed_day_moves()
        changed |= r.swap_moves()
        changed |= r.shift_moves()
        if log is not None:
            log(k + 1, r.cur)
        if not changed:
            break
    return r.lat, r.cur.targets, r.evaluations
