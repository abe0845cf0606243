"""Calibration of the synthetic cohort to the paper's survival results (Fig. 1-3, Cox model).

The latent cohort of ``ixathaldex.synth.cohort`` has every printed count by construction. The survival
targets and their claims are in ``ixathaldex.synth.targets``. This module holds the objective (sum
over targets of a score of error / tolerance, plus a cost for each value that does not read as the
printed figure by ``claims.precision.is_exact``), hard
constraints (the treatment course must stay what the counts say), and a seeded simulated-annealing
search over times, enrolment dates and count-preserving swaps of covariate blocks. The count
checks of a cut and the calibration report are in ``ixathaldex.synth.calibration_report``. Readings
of the paper are in ``docs/calibration.md``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ixathaldex.claims.precision import is_exact, printed_decimals
from ixathaldex.exceptions import CalibrationError
from ixathaldex.synth import cohort as S
from ixathaldex.synth import conflicts, targets

MONTH = S.MONTH
DEFAULT_MOVES = 150_000
TOL_MEDIAN, TOL_CI = 0.3, 0.5


def _f(x: float) -> float:
    x = abs(x)
    return 0.05 * x * x if x <= 1 else 1.0 + min((x - 1.0) ** 2, 9.0) + 0.5 * (x - 1.0)


@functools.lru_cache(maxsize=None)
def _half_unit(claim_id: str) -> float:
    """Half a unit of the printed precision of a claim."""
    return 0.5 * 10.0 ** -printed_decimals(targets.registry()[claim_id])


def _scaled(t: dict) -> tuple[float, float, bool]:
    """(x = error in tolerances, half a printed unit in the same units, sides of 1 and 0.05 right)."""
    k, v, tgt, ex = t["kind"], t["value"], t["target"], t["extra"]
    claim = targets.registry().get(t["claim"]) if t.get("claim") else None
    half = _half_unit(t["claim"]) if claim else 0.0
    if k in ("med", "ci"):
        tol = TOL_MEDIAN if k == "med" else TOL_CI
        if not math.isfinite(v):
            return 2.0 + max(0.0, (ex.get("last", 0.6) - 0.5)) / 0.02, half / tol, True
        x = (v - tgt) / tol
        m2 = ex.get("med2", v)
        if k == "med" and m2 != v:  # S = 0.5 on an interval: every median rule must pass
            x2 = (m2 - tgt) / tol if math.isfinite(m2) else 2.0 + abs(x)
            x = math.copysign(max(abs(x), abs(x2)), x)
        return x, half / tol, True
    if k == "p":
        return math.log2(max(v, 1e-300) / tgt), math.log2(1 + half / tgt), (v < 0.05) == (tgt < 0.05)
    if k in ("hr", "hrci"):
        if claim and claim.get("reciprocal_decimals") is not None:  # printed as 1/round(1/x)
            half = 0.5 * 10.0 ** -claim["reciprocal_decimals"] * tgt
        x = math.log(max(v, 1e-9) / tgt) / math.log(1.2)
        if k == "hr":
            side = ((ex["lo"] > 1) == (ex["tlo"] > 1)) and ((ex["hi"] > 1) == (ex["thi"] > 1))
        else:
            side = (v > 1) == (tgt > 1)
        return x, math.log(1 + half / tgt) / math.log(1.2), side
    raise ValueError(k)


def score(t: dict) -> tuple[float, bool]:
    """(penalty, within tolerance) of one target, before the printed-precision term."""
    k, v, tgt, ex = t["kind"], t["value"], t["target"], t["extra"]
    if k == "nr":
        if not math.isfinite(v):
            return 0.0, True
        return _f(1.0 + (0.5 - ex.get("last", 0.5)) / 0.03 + 0.5), False
    if k == "p_lt":
        x = max(0.0, math.log2(max(v, 1e-300) / tgt))
        pen = _f(x * 2 + (1.0 if x > 0 else 0.0))
        ok = x == 0.0
        if "sign" in ex and ex["sign"] <= 0:
            pen += 2.0 + 0.5 * min(-ex["sign"], 10.0)
            ok = False
        return pen, ok
    x, _half, side = _scaled(t)
    ok = abs(x) <= 1.0 and side
    return _f(x) + (0.0 if side else 3.0), ok


def exact(t: dict) -> bool | None:
    """True when the target's value reads as the printed figure (``claims.precision.is_exact``).

    A plain number well inside or well outside the interval of values that print as the figure
    (``conflicts.exact_window``, found by bisection on ``is_exact``) is decided by the interval; a
    value within 1e-9 of its ends, and any other value, by ``is_exact`` itself.
    """
    claim = targets.registry().get(t["claim"]) if t.get("claim") else None
    if claim is None:
        return None
    v = targets.claim_value(t)
    window = _window(t["claim"]) if isinstance(v, float) and t["kind"] in targets.PLAIN else None
    if window is not None:
        lo, hi = window
        if lo * (1 + 1e-9) < v < hi * (1 - 1e-9):
            return True
        if v < lo * (1 - 1e-9) or v > hi * (1 + 1e-9):
            return False
    return is_exact(claim, v)


@functools.lru_cache(maxsize=None)
def _window(claim_id: str) -> tuple[float, float] | None:
    """The values that print as a claim's figure, when it is a positive plain number (else None)."""
    claim = targets.registry()[claim_id]
    pub = claim.get("published")
    if not isinstance(pub, (int, float)) or isinstance(pub, bool) or pub <= 0:
        return None
    return conflicts.exact_window(claim)


def precision_penalty(t: dict) -> float:
    """The cost of a value that does not read as the printed figure: a step plus the distance to it."""
    if t["kind"] in ("nr", "p_lt") or exact(t) is not False:
        return 0.0
    x, half, _side = _scaled(t)
    return EXACT_MISS + EXACT_SLOPE * min(max(abs(x) - half, 0.0), 2.0)


#: a value within tolerance that is not exact at the printed precision costs EXACT_MISS plus
#: EXACT_SLOPE per tolerance unit from the printed figure; outside tolerance costs at least 1 (today's
#: bound stays the stronger pull)
EXACT_MISS, EXACT_SLOPE, OUTSIDE = 0.5, 0.5, 3.0
#: headline results weigh more in the objective (not in the pass/fail count)
WEIGHTS = {"os_lines_b": 3.0, "pfs_itt_median": 3.0, "pfs_itt_ci_lo": 2.0, "pfs_itt_ci_hi": 2.0, "pfs_pp_median": 3.0,
           "os_itt_nr": 2.0, "os_itt_ci_lo": 2.0, "followup": 3.0}


def objective(lat, cut=S.CUT_PUBLICATION, precision: bool = True) -> tuple[float, list]:
    """The search's objective (lower is better) and the targets it was computed from.

    With ``precision``, a value not exact at the printed precision costs ``precision_penalty`` and a
    value outside its tolerance ``OUTSIDE`` more, so that no exact figure is bought with a value
    leaving today's tolerance.
    """
    T = targets.targets_and_values(targets.compute(lat, cut))
    total = 0.0
    for t in T:
        pen, ok = score(t)
        if precision:
            pen += precision_penalty(t) + (0.0 if ok else OUTSIDE)
        total += WEIGHTS.get(t["id"], 1.0) * pen
    return total, T


# ---- hard constraints -------------------------------------------------------------------------

def valid(lat, cut=S.CUT_PUBLICATION) -> bool:
    """True when the treatment course at the publication cut is the one the counts require."""
    fu = (cut - S.ACCRUAL_START).days - lat.enrol + 1
    c, pfs, os_, k, stop = lat.cls, lat.pfs, lat.os, lat.indcyc, lat.stop
    if lat.enrol.min() < 0 or lat.enrol.max() > S.ACCRUAL_DAYS:
        return False
    if np.any(os_ < pfs) or np.any(pfs < 1) or np.any(lat.dnp & (os_ != pfs)):
        return False
    ok = np.select(
        [c == S.IND_PD, c == S.IND_OTHER, c == S.NODOSE_PD, c == S.NODOSE_OTHER, c == S.MNT_PD,
         c == S.MNT_OTHER, c == S.MNT_COMPLETE, c == S.MNT_ONGOING],
        [(pfs > S.CYCLE * k) & (pfs <= S.CYCLE * (k + 1)) & (pfs <= fu) & ~lat.dnp,
         (stop <= fu) & (pfs > stop),
         (pfs > S.MNT_START) & (pfs < S.MNT_START + S.CYCLE) & (pfs <= fu) & ~lat.dnp,
         (pfs > S.MNT_START) & (fu >= S.MNT_START),
         (pfs > S.MNT_START) & (pfs <= S.MNT_END) & (pfs <= fu) & ~lat.dnp,
         (pfs > stop) & (stop <= fu),
         (pfs > S.MNT_END) & (fu >= S.MNT_END),
         (pfs > fu) & (fu > S.MNT_START) & (fu < S.MNT_END)], False)
    if not ok.all():
        return False
    if np.any((lat.upg_day > 0) & (pfs <= lat.upg_day)):
        return False
    if np.any((lat.bor <= S.SD) & (lat.resp_day >= pfs)):
        return False
    # maintenance duration (41 dosed): median rounds to 7 months
    dosed = c >= S.MNT_PD
    end = np.select([c == S.MNT_PD, c == S.MNT_COMPLETE, c == S.MNT_ONGOING], [pfs, np.full_like(pfs, S.MNT_END), fu], stop)
    dur = (end[dosed] - S.IND_END) / MONTH
    if not 6.5 <= np.median(dur) < 7.5:
        return False
    return covariates_valid(lat)


def covariates_valid(lat) -> bool:
    """Plausibility rules tying covariates together (and the 60 complete cases of the Cox model)."""
    albna = np.isnan(lat.alb)
    if np.any((lat.iss == 1) & (albna | (np.nan_to_num(lat.alb) < 35))):
        return False
    if np.any(albna & (lat.iss != 3)):
        return False
    if np.any((lat.age > 80) & (lat.frail != 2)) or np.any((lat.age >= 75) & (lat.frail == 0)):
        return False
    if np.any((lat.ecog == 2) & (lat.frail == 0)):
        return False
    return int((lat.fishfl & ~albna).sum()) == 60


# ---- moves ------------------------------------------------------------------------------------

BLOCKS = {  # covariate blocks swapped between two patients, with the stratum that keeps counts
    "fish": (("fishfl", "t414", "t1416", "del17p", "gain1q"), ("resp",)),
    "imid": (("imid", "len_", "lenref", "thal", "thalref"), ("resp", "pi")),
    "iss": (("iss",), ()),
    "lines": (("prlines", "mfl"), ()),
    "age": (("age", "asct"), ()),
    "frail": (("frail",), ()),
    "gfr": (("gfr",), ()),
    "hgb": (("hgb",), ()),
    "alb": (("alb",), ()),
}
FREE = (S.IND_OTHER, S.NODOSE_OTHER, S.MNT_OTHER, S.MNT_COMPLETE)


def propose(lat, rng, cut=S.CUT_PUBLICATION):
    """One random move, applied in place; returns an undo list [(attr, index, old values)]."""
    n = lat.n
    u = rng.random()
    undo = []

    def save(attr, idx):
        arr = getattr(lat, attr)
        undo.append((attr, idx, arr[idx].copy()))

    if u < 0.06:  # one event time onto a day that prints as a printed median or CI limit
        i = np.array([rng.integers(n)])
        save("pfs", i); save("os", i)
        days = printed_days()
        if rng.random() < 0.5:
            gap = lat.os[i] - lat.pfs[i]
            lat.pfs[i] = days["pfs"][rng.integers(len(days["pfs"]))]
            lat.os[i] = lat.pfs[i] + gap
        else:
            lat.os[i] = max(int(days["os"][rng.integers(len(days["os"]))]), int(lat.pfs[i[0]]))
            if lat.dnp[i[0]]:
                lat.pfs[i] = lat.os[i]
    elif u < 0.35:  # progression time of one patient
        i = np.array([rng.integers(n)])
        save("pfs", i); save("os", i)
        c, k = lat.cls[i[0]], lat.indcyc[i[0]]
        gap = lat.os[i] - lat.pfs[i]
        if c == S.IND_PD:
            new = S.CYCLE * k + rng.integers(1, S.CYCLE + 1)
        elif c == S.NODOSE_PD:
            new = S.MNT_START + rng.integers(1, S.CYCLE)
        elif rng.random() < 0.5:
            new = int(lat.pfs[i[0]] + rng.normal(0, 25))
        else:
            new = int(lat.pfs[i[0]] * math.exp(rng.normal(0, 0.3)))
        lat.pfs[i] = max(new, 1)
        lat.os[i] = lat.pfs[i] + (0 if lat.dnp[i[0]] else (gap if rng.random() < 0.7 else max(gap, 1)))
    elif u < 0.62:  # death time of one patient
        i = np.array([rng.integers(n)])
        save("os", i); save("dnp", i)
        if lat.cls[i[0]] in FREE and rng.random() < 0.05:
            lat.dnp[i] = ~lat.dnp[i]
            if lat.dnp[i[0]]:
                save("pfs", i)
                lat.pfs[i] = lat.os[i]
                return undo
        if lat.dnp[i[0]]:
            save("pfs", i)
            new = int(lat.os[i[0]] * math.exp(rng.normal(0, 0.25)))
            lat.os[i] = new
            lat.pfs[i] = new
        else:
            gap = max(int(lat.os[i[0]] - lat.pfs[i[0]]), 1)
            r = rng.random()
            if r < 0.4:
                gap = int(gap * math.exp(rng.normal(0, 0.5)))
            elif r < 0.8:
                gap = int(gap + rng.normal(0, 40))
            else:
                gap = int(rng.exponential(500))
            lat.os[i] = lat.pfs[i] + max(gap, 1)
    elif u < 0.72:  # enrolment: swap two dates or move one
        if rng.random() < 0.6:
            i = rng.choice(n, 2, replace=False)
            save("enrol", i)
            lat.enrol[i] = lat.enrol[i[::-1]]
        else:
            i = np.array([rng.integers(n)])
            save("enrol", i)
            lat.enrol[i] = int(lat.enrol[i[0]] + rng.normal(0, 40))
    elif u < 0.75:  # induction cycles of two progressing per-protocol patients
        cand = np.flatnonzero((lat.cls == S.IND_PD) & lat.pp)
        i = rng.choice(cand, 2, replace=False)
        if lat.indcyc[i[0]] == lat.indcyc[i[1]]:
            return undo
        for a in ("indcyc", "pfs", "os"):
            save(a, i)
        ki, kj = lat.indcyc[i].copy()
        off = lat.pfs[i] - S.CYCLE * np.array([ki, kj])
        gap = lat.os[i] - lat.pfs[i]
        lat.indcyc[i] = [kj, ki]
        lat.pfs[i] = S.CYCLE * np.array([kj, ki]) + off
        lat.os[i] = lat.pfs[i] + gap
    else:  # count-preserving swap of a covariate block
        name = list(BLOCKS)[rng.integers(len(BLOCKS))]
        attrs, strat = BLOCKS[name]
        i = rng.integers(n)
        same = np.ones(n, bool)
        for s in strat:
            v = (lat.bor <= S.PR) if s == "resp" else getattr(lat, s)
            same &= v == v[i]
        same[i] = False
        cand = np.flatnonzero(same)
        if len(cand) == 0:
            return undo
        j = cand[rng.integers(len(cand))]
        idx = np.array([i, j])
        for a in attrs:
            save(a, idx)
            arr = getattr(lat, a)
            arr[idx] = arr[idx[::-1]]
    return undo


@functools.lru_cache(maxsize=1)
def printed_days() -> dict[str, np.ndarray]:
    """The days whose month value prints as a printed PFS / OS median or CI limit (by ``is_exact``)."""
    out = {"pfs": set(), "os": set()}
    for t in targets.targets_and_values(targets.compute(S.build_latent(S.DEFAULT_SEED))):
        w = _window(t["claim"]) if t["kind"] in ("med", "ci") and t.get("claim") in targets.registry() else None
        if w is not None:
            out.get(t["claim"].split(".")[0], set()).update(range(math.ceil(w[0] * MONTH), math.floor(w[1] * MONTH) + 1))
    return {k: np.array(sorted(v)) for k, v in out.items()}


def revert(lat, undo) -> None:
    for attr, idx, old in reversed(undo):
        getattr(lat, attr)[idx] = old


#: annealing schedule: (share of the moves, start temperature, end temperature, restart from best,
#: printed precision in the objective); the first phase reaches the tolerances, the others the figures
SCHEDULE = ((0.5, 2.0, 0.02, False, False), (0.25, 0.5, 0.01, True, True), (0.25, 0.5, 0.01, True, True))


def calibrate(lat, moves: int = DEFAULT_MOVES, seed: int = 0, progress=None):
    """Simulated annealing (geometric cooling, reheats from the best state); (best latent, targets).

    ``progress(step, moves, current, best, best_targets, temperature)`` is called every 0.5 % of the
    moves and at the end (the command line draws a bar on stderr with it).
    """
    lat = lat.copy()
    repair(lat)
    rng = np.random.default_rng(seed + 1)
    cur, T = objective(lat, precision=SCHEDULE[0][4])
    best, best_lat, best_T = cur, lat.copy(), T
    step, every = 0, max(moves // 200, 1)
    for share, t0, t1, restart, precision in SCHEDULE:
        n_phase = int(round(moves * share))
        if restart:
            lat = best_lat.copy()
            best, best_T = objective(lat, precision=precision)  # the objective may have changed
            cur = best
        for j in range(n_phase):
            temp = t0 * (t1 / t0) ** (j / max(n_phase - 1, 1))
            step += 1
            if progress is not None and step % every == 0 and step < moves:
                progress(step, moves, cur, best, best_T, temp)
            undo = propose(lat, rng)
            if not undo:
                continue
            if not valid(lat):
                revert(lat, undo)
                continue
            new, T_new = objective(lat, precision=precision)
            if new <= cur or rng.random() < math.exp((cur - new) / temp):
                cur = new
                if new < best:
                    best, best_lat, best_T = new, lat.copy(), T_new
            else:
                revert(lat, undo)
    best_lat, best, best_T = polish(best_lat, best, best_T, sweeps=min(POLISH_SWEEPS, moves // 10_000))
    if progress is not None:
        progress(moves, moves, best, best, best_T, 0.0)
    return best_lat, best_T


#: the greedy polish after the annealing: shifts (days) tried for each patient's progression day,
#: death day and enrolment date, and the most sweeps over the patients
POLISH_SHIFTS, POLISH_SWEEPS = (1, -1, 2, -2, 3, -3, 5, -5, 8, -8, 13, -13, 21, -21), 8


def polish(lat, cur: float, T: list, sweeps: int = POLISH_SWEEPS):
    """Greedy descent after the annealing: for each patient in turn, each small shift of its
    progression day, death day or enrolment date that lowers the objective (precision included) is
    kept; at most ``sweeps`` sweeps (a short search gets one per 10 000 moves), until a sweep changes
    nothing. Deterministic; (latent, objective, targets)."""
    lat = lat.copy()
    for _ in range(sweeps):
        improved = False
        for i in range(lat.n):
            idx = np.array([i])
            for attr in ("pfs", "os", "enrol"):
                for shift in POLISH_SHIFTS:
                    undo = [(a, idx, getattr(lat, a)[idx].copy()) for a in ("pfs", "os", "enrol")]
                    getattr(lat, attr)[idx] += shift
                    if lat.dnp[i] and attr != "enrol":
                        lat.pfs[idx] = lat.os[idx] = getattr(lat, attr)[idx]
                    if valid(lat):
                        new, T_new = objective(lat)
                        if new < cur - 1e-12:
                            cur, T, improved = new, T_new, True
                            continue
                    revert(lat, undo)
        if not improved:
            break
    return lat, cur, T


def repair(lat) -> None:
    """Make the initial latent cohort satisfy the hard constraints (deterministic)."""
    rng = np.random.default_rng(7)
    fu0 = (S.CUT_PUBLICATION - S.ACCRUAL_START).days + 1
    for _ in range(200):
        if valid(lat):
            return
        fu = fu0 - lat.enrol
        c = lat.cls
        # follow-up long enough for every resolved course; ongoing ones short enough
        need = np.select([c == S.MNT_COMPLETE, c == S.MNT_ONGOING], [S.MNT_END, 0],
                         np.maximum(np.where(np.isin(c, FREE) | (c == S.NODOSE_OTHER), lat.stop, lat.pfs), S.MNT_START * (c >= S.NODOSE_PD)))
        bad = (fu < need) & (c != S.MNT_ONGOING)
        lat.enrol[bad] = np.maximum(0, fu0 - need[bad] - rng.integers(1, 60, bad.sum()))
        ong = c == S.MNT_ONGOING
        fu = fu0 - lat.enrol
        badong = ong & ((fu >= S.MNT_END) | (fu <= S.MNT_START) | (lat.pfs <= fu))
        lat.enrol[badong] = fu0 - rng.integers(S.MNT_START + 10, S.MNT_END - 10, badong.sum())
        fu = fu0 - lat.enrol
        lat.pfs[ong] = np.maximum(lat.pfs[ong], fu[ong] + 1)
        lat.os = np.maximum(lat.os, lat.pfs)
        lat.enrol = np.clip(lat.enrol, 0, S.ACCRUAL_DAYS)
        # maintenance duration median
        dosed = c >= S.MNT_PD
        end = np.select([c == S.MNT_PD, c == S.MNT_COMPLETE, c == S.MNT_ONGOING],
                        [lat.pfs, np.full_like(lat.pfs, S.MNT_END), fu], lat.stop)
        med = np.median((end[dosed] - S.IND_END) / MONTH)
        if med < 6.5 or med >= 7.5:
            ipd = np.flatnonzero(c == S.MNT_PD)
            target = int(S.IND_END + 7 * MONTH)
            order = ipd[np.argsort(lat.pfs[ipd])]
            # move the longest PD times around seven months
            for j in order[-6:]:
                lat.pfs[j] = min(target + int(rng.integers(-10, 10)), fu[j])
                lat.os[j] = max(lat.os[j], lat.pfs[j])
    if not valid(lat):
        raise CalibrationError("could not build a valid initial latent cohort")
