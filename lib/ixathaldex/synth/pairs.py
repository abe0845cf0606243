"""Pairs of moves for the medians and CI limits that no single move makes exact (issue 14).

After the targeted finish (``synth.refine``) a median or CI limit may still read one digit off
because every single move that prints its figure breaks another exact median: the same progression
sits on two curves. This stage tries two (and three) moves together, judged by the finish's lexicographic rule
(``refine.better``: no target leaves its tolerance, no exact median / CI limit is lost, a gain):

1. *first move*: one patient of the target's curve whose event lies within ``refine.NEAR`` days of
   the days that print the figure, with the progression (or death) on one of those days (death kept
   at the same gap, or kept where it is) or shifted by ``refine.SHIFTS``;
2. *second move*: a move of the first kind again, or, for the medians and CI limits the first move
   broke (``lost``), a patient of a lost curve with the event on a day that prints as that curve's
   figure or shifted, or a count-preserving swap of the covariate block that decides the lost
   curve's group (``GROUP_BLOCK``) between one of its members and a patient of the other group(s);
3. *third move*, for the ``MENDS`` best distinct pairs that lost at most ``MAX_LOST`` exact medians /
   CI limits and no tolerance: a compensation of the second kind for what the pair lost.

A move is kept only when the target then reads as its figure (``PairSearch.gain``). Each candidate
is pre-screened cheaply (the hard constraints, then the target's and the broken curves' medians
alone, ``key_values``) before the full objective. Deterministic (no random numbers). The
enumeration's size and result per target are returned as evidence for the calibration report
(``describe``).
"""

from __future__ import annotations

import math
import re

import numpy as np

from ixathaldex.synth import calibration, conflicts, refine, targets
from ixathaldex.synth import cohort as S
from ixathaldex.synth import fastsurv as fs

MONTH = S.MONTH
#: the covariate block (``calibration.BLOCKS``) that decides the groups of each subgroup comparison
GROUP_BLOCK = {"pfs_iss": "iss", "pfs_lines": "lines", "pfs_age": "age", "pfs_fit": "frail", "pfs_gfr": "gfr",
               "pfs_hr": "fish", "pfs_imid": "imid", "pfs_1q": "fish", "pfs_any": "fish", "pfs_three": "fish",
               "os_iss": "iss", "os_lines": "lines", "os_1q": "fish", "os_any": "fish", "os_three": "fish"}
#: pairs are tried only after first moves that lose at most MAX_LOST exact medians / CI limits
MAX_LOST = 2
#: the most pairs (distinct states) whose losses a third move tries to mend
MENDS = 40
_FIXED = {"pfs_itt_median": ("pfs", "itt", 0), "pfs_itt_ci_lo": ("pfs", "itt", 1), "pfs_itt_ci_hi": ("pfs", "itt", 2),
          "pfs_pp_median": ("pfs", "pp", 0), "os_itt_ci_lo": ("os", "itt", 1)}


def curve_of(tid: str) -> tuple[str, str, int] | None:
    """(endpoint, curve row of ``targets.curve_masks``, 0 median / 1 lower / 2 upper limit) of a
    median / CI target (None for the others)."""
    if tid in _FIXED:
        return _FIXED[tid]
    m = re.fullmatch(r"(pfs|os)_three_(\d)", tid)
    if m:
        return m.group(1), f"three_{m.group(2)}", 0
    m = re.fullmatch(r"(pfs|os)_[a-z0-9]+_[ab]", tid)
    return (m.group(1), tid, 0) if m else None


def block_of(tid: str) -> str | None:
    """The covariate block that decides a median's group (None for ITT / PP curves)."""
    return GROUP_BLOCK.get(tid.rsplit("_", 1)[0])


def curve_members(lat, tid: str) -> np.ndarray:
    """Boolean mask of the patients on the curve of target ``tid``."""
    ep, row, _ = curve_of(tid)
    pfs_rows, os_rows = targets.curve_masks(lat, targets.groups(lat))
    return dict(pfs_rows if ep == "pfs" else os_rows)[row]


def curve_population(lat, tid: str) -> np.ndarray:
    """Boolean mask of the patients of the comparison ``tid``'s curve belongs to (both groups, or the
    three groups); a swap of the deciding block between a member and another patient of it moves
    each into the other's group."""
    ep, row, _ = curve_of(tid)
    pfs_rows, os_rows = targets.curve_masks(lat, targets.groups(lat))
    rows = dict(pfs_rows if ep == "pfs" else os_rows)
    names = [f"three_{k}" for k in range(3)] if row.startswith("three_") else [row[:-1] + "a", row[:-1] + "b"]
    return np.logical_or.reduce([rows[n] for n in names])


def key_values(lat, tids) -> dict[str, float]:
    """The months of the medians / CI limits ``tids``, read off their curves alone (the quick screen)."""
    pt, pe, ot, oe, _ = targets.observed(lat, S.CUT_PUBLICATION)
    pfs_rows, os_rows = targets.curve_masks(lat, targets.groups(lat))
    rows = {"pfs": dict(pfs_rows), "os": dict(os_rows)}
    cache, out = {}, {}
    for tid in tids:
        ep, row, stat = curve_of(tid)
        if (ep, row) not in cache:
            m = rows[ep][row]
            t, e = (pt, pe) if ep == "pfs" else (ot, oe)
            cache[ep, row] = fs.median_ci(t[m], e[m])
        v = cache[ep, row][stat]
        out[tid] = v / MONTH if math.isfinite(v) else math.inf
    return out


def set_progression(lat, i: int, day: int) -> list:
    """Patient ``i``'s progression on ``day``, the death day kept (a death without progression moves)."""
    idx = np.array([i])
    undo = [(a, idx, getattr(lat, a)[idx].copy()) for a in ("pfs", "os")]
    lat.pfs[idx] = day
    if lat.dnp[i]:
        lat.os[idx] = day
    return undo


def event_moves(lat, members: np.ndarray, endpoint: str, days: np.ndarray, skip=()) -> list:
    """(label, change) of each member's event on each of ``days`` (two ways for a progression) and
    shifted by ``refine.SHIFTS``."""
    times = lat.pfs if endpoint == "pfs" else lat.os
    attr = "pfs" if endpoint == "pfs" else "os"
    out = []
    for i in np.flatnonzero(members):
        i = int(i)
        if i in skip:
            continue
        for d in days:
            d = int(d)
            if d == times[i]:
                continue
            out.append((f"{attr}[{i}]={d}", lambda lat, i=i, d=d: refine.set_event(lat, i, endpoint, d)))
            if endpoint == "pfs" and not lat.dnp[i]:
                out.append((f"pfs[{i}]={d}, death kept", lambda lat, i=i, d=d: set_progression(lat, i, d)))
        for s in refine.SHIFTS:
            out.append((f"{attr}[{i}]{s:+d}", lambda lat, i=i, s=s: refine.shift(lat, i, attr, s)))
    return out


def swap_moves(lat, block: str, members: np.ndarray, population: np.ndarray) -> list:
    """(label, change) of each count-preserving swap of ``block`` between a member and a patient of
    ``population`` who is not one."""
    attrs, strata = calibration.BLOCKS[block]
    out = []
    for i in np.flatnonzero(members):
        same = population & ~members
        for s in strata:
            v = (lat.bor <= S.PR) if s == "resp" else getattr(lat, s)
            same &= v == v[i]
        for j in np.flatnonzero(same):
            if not all(np.array_equal(getattr(lat, a)[[i]], getattr(lat, a)[[j]], equal_nan=True) for a in attrs):
                out.append((f"{block} {int(i)}<->{int(j)}",
                            lambda lat, i=int(i), j=int(j): refine.swap(lat, i, j, attrs)))
    return out


def windows(cur: refine.State, ids) -> dict[str, np.ndarray]:
    """Days that print as the figure of each median / CI target in ``ids``."""
    spec = {t["id"]: t for t in cur.targets}
    out = {}
    for tid in ids:
        lo, hi = conflicts.exact_window(targets.registry()[spec[tid]["claim"]])
        out[tid] = np.arange(math.ceil(lo * MONTH), math.floor(hi * MONTH) + 1)
    return out


class PairSearch:
    """The pair enumeration of the medians / CI limits not exact, on one latent cohort (changed in place)."""

    def __init__(self, lat):
        self.r = refine.Refiner(lat)
        self.evidence: dict[str, dict] = {}

    @property
    def lat(self):
        return self.r.lat

    def screen(self, need, spec) -> bool:
        """True when every median / CI limit of ``need`` reads as its printed figure (quick read)."""
        vals = key_values(self.lat, need)
        return all(calibration.exact({**spec[tid], "value": vals[tid]}) for tid in need)

    def near(self, tid: str, days: np.ndarray) -> np.ndarray:
        """Members of ``tid``'s curve whose event lies within ``refine.NEAR`` days of ``days``."""
        times = self.lat.pfs if curve_of(tid)[0] == "pfs" else self.lat.os
        return curve_members(self.lat, tid) & (times >= days[0] - refine.NEAR) & (times <= days[-1] + refine.NEAR)

    def first_moves(self, tid: str, spec: dict) -> list:
        """(label, change, lost medians / CI limits, lost tolerances, state, target exact) of each
        valid move of a patient near ``tid``'s figure onto its days or by ``refine.SHIFTS``."""
        days = windows(self.r.cur, [tid])[tid]
        out = []
        for label, change in event_moves(self.lat, self.near(tid, days), curve_of(tid)[0], days):
            undo = change(self.lat)
            if calibration.valid(self.lat):
                state = refine.judge(self.lat)
                out.append((label, change, tuple(sorted(self.r.cur.exact_key - state.exact_key)),
                            tuple(sorted(self.r.cur.ok - state.ok)), state, tid in state.exact_key))
            calibration.revert(self.lat, undo)
        return out

    def second_moves(self, tid: str, lost) -> list:
        """(label, change) of the second moves: the first kind again (patients near ``tid``'s figure),
        and the compensations for the medians / CI limits ``lost``."""
        days = windows(self.r.cur, [tid])[tid]
        return event_moves(self.lat, self.near(tid, days), curve_of(tid)[0], days) + self.mend_moves(lost)

    def mend_moves(self, lost) -> list:
        """(label, change) of each compensation for the medians / CI limits ``lost``: a patient of a
        lost curve with the event on its printed days or shifted, a swap of the block of its group."""
        out = []
        days = windows(self.r.cur, lost)
        for ell in lost:
            members = curve_members(self.lat, ell)
            out += event_moves(self.lat, members, curve_of(ell)[0], days[ell])
            block = block_of(ell)
            if block is not None:
                out += swap_moves(self.lat, block, members, curve_population(self.lat, ell))
        return out

    def gain(self, new: refine.State, tid: str) -> bool:
        """The acceptance rule: ``refine.better`` with ``tid`` now exact."""
        return tid in new.exact_key and refine.better(new, self.r.cur)

    def try_moves(self, moves, tid: str, need, spec, ev: dict, count: str, lost_by=None):
        """Apply each move of ``moves`` on the current cohort; return (label, state) of the first
        accepted (left applied), else None. ``lost_by`` collects the screened states' lost keys."""
        for label, change in moves:
            undo = change(self.lat)
            if undo and calibration.valid(self.lat):
                ev[count] += 1
                if self.screen(need, spec):
                    ev["screened"] += 1
                    new = refine.judge(self.lat)
                    if self.gain(new, tid):
                        return label, new
                    if lost_by is not None:
                        lost_by(label, change, new)
            calibration.revert(self.lat, undo)
        return None

    def target(self, tid: str) -> bool:
        """Try the pairs (and their mends) for ``tid``; keep the first accepted. True when kept."""
        spec = {t["id"]: {"claim": t["claim"], "kind": t["kind"]} for t in self.r.cur.targets}
        firsts = self.first_moves(tid, spec)
        days = windows(self.r.cur, [tid])[tid]
        ev = {"claim": spec[tid]["claim"], "days": [int(days[0]), int(days[-1])], "first_moves": len(firsts),
              "window_moves": sum(f[5] for f in firsts), "pairs": 0, "mends": 0, "triples": 0, "screened": 0,
              "kept": "", "lost": {}, "pair_lost": {}}
        self.evidence[tid] = ev
        for label, change, lost, _lost_ok, state, hit in firsts:
            for ell in lost if hit else ():
                ev["lost"][spec[ell]["claim"]] = ev["lost"].get(spec[ell]["claim"], 0) + 1
            if self.gain(state, tid):
                change(self.lat)
                self.r.cur, ev["kept"] = state, label
                return True
        mends = {}
        for label, change, lost, _lost_ok, _state, _hit in firsts:
            if len(lost) > MAX_LOST:
                continue
            undo1 = change(self.lat)

            def lost_by(label2, change2, new, label=label, change=change):
                lost2 = tuple(sorted(self.r.cur.exact_key - new.exact_key))
                names = " ".join(sorted(spec[ell]["claim"] for ell in lost2))
                ev["pair_lost"][names] = ev["pair_lost"].get(names, 0) + 1
                key = self.lat.pfs.tobytes() + self.lat.os.tobytes() + targets.groups(self.lat)["three"].tobytes()
                if self.r.cur.ok <= new.ok and 0 < len(lost2) <= MAX_LOST and len(mends) < MENDS and key not in mends:
                    mends[key] = ((label, change), (label2, change2), lost2)
            found = self.try_moves(self.second_moves(tid, lost), tid, [tid, *lost], spec, ev, "pairs", lost_by)
            if found:
                self.r.cur, ev["kept"] = found[1], f"{label}; {found[0]}"
                return True
            calibration.revert(self.lat, undo1)
        return self.mend(tid, mends, spec, ev)

    def mend(self, tid: str, mends: dict, spec: dict, ev: dict) -> bool:
        """Third moves: compensations for what the best pairs lost (at most ``MENDS`` distinct pairs)."""
        ev["mends"] = len(mends)
        for first, second, lost2 in mends.values():
            undo1, undo2 = first[1](self.lat), second[1](self.lat)
            found = self.try_moves(self.mend_moves(lost2), tid, [tid, *lost2], spec, ev, "triples")
            if found:
                self.r.cur, ev["kept"] = found[1], f"{first[0]}; {second[0]}; {found[0]}"
                return True
            calibration.revert(self.lat, undo2)
            calibration.revert(self.lat, undo1)
        return False


def pair_finish(lat, log=None):
    """The pair finish: (latent, evidence by target id). ``log(target id, evidence)`` after each target."""
    search = PairSearch(lat.copy())
    done = set()
    while True:
        todo = [tid for tid, _ep, _days in search.r.windows() if tid not in done and curve_of(tid)]
        if not todo:
            break
        tid = todo[0]
        done.add(tid)
        search.target(tid)
        if log is not None:
            log(tid, search.evidence[tid])
    return search.lat, search.evidence


def describe(ev: dict) -> str:
    """The evidence of one target's pair search as one sentence (the calibration report's reason)."""
    def listing(counts: dict, k: int) -> str:
        top = sorted(counts.items(), key=lambda kv: (len(kv[0].split()), -kv[1], kv[0]))[:k]
        return "; ".join(f"{name.replace(' ', ' and ')} ({n})" for name, n in top) or "none"
    d0, d1 = ev["days"]
    if ev["kept"]:
        return f"reached by the pair search (synth.pairs): {ev['kept']}"
    printing = (f"{ev['window_moves']} of them print it, losing (times): {listing(ev['lost'], 4)}"
                if ev["window_moves"] else "none of them prints it")
    return (f"the pair search after the targeted finish (synth.pairs) found no pair that keeps every exact median "
            f"and CI limit: it tried {ev['first_moves']} single moves of the patients within {refine.NEAR} days of "
            f"days {d0}-{d1} (the days that print the figure), {printing}; then {ev['pairs']} valid pairs (a second "
            f"such move, or a move or block swap of a curve the first move broke) and {ev['triples']} third moves "
            f"mending the losses of the {ev['mends']} best distinct pairs; {ev['screened']} print the figure and "
            f"pass the quick screen of the broken curves, and each loses another exact median or CI limit, the "
            f"fewest (times): {listing(ev['pair_lost'], 3)}")
