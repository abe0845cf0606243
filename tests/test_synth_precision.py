"""The synthetic cohort at the printed precision: the objective, the Wald conflicts, the misses.

Printed numbers below are typed from the paper; the Wald arithmetic is redone here with scipy, not
taken from ``synth.conflicts``.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
from scipy.stats import norm

from ixathaldex.claims.precision import is_exact
from ixathaldex.synth import calibration, cohort, conflicts, refine, targets
from ixathaldex.synth.progress import SearchProgress

PUB = Path(__file__).resolve().parents[1] / "data" / "snapshots" / "2018-06-30"
Z = norm.isf(0.025)


def _wald(b, se):
    return math.exp(b), math.exp(b - Z * se), math.exp(b + Z * se), 2 * norm.sf(abs(b) / se)


def test_hb_cox_p_cannot_be_exact_with_its_hr_and_limits():
    # HR 5.00 = 1/0.20 and lower limit 1.11 = 1/0.90, both as the paper prints them
    reg = targets.registry()
    hits = 0
    for hr in np.linspace(4.88, 5.128, 40):
        for lo in np.linspace(1.105, 1.1173, 40):
            b = math.log(hr)
            se = (b - math.log(lo)) / Z
            h, lo_, hi, p = _wald(b, se)
            assert is_exact(reg["os.cox.hb100.hr"], h) and is_exact(reg["os.cox.hb100.hr.ci_low"], lo_)
            assert 0.035 < p < 0.037  # never prints as 0.034
            hits += is_exact(reg["os.cox.hb100.hr.ci_high"], hi)
    assert hits > 0  # the upper limit 25.0 is compatible with HR and lower limit
    sets = {s["set"]: s for s in conflicts.wald_conflicts()}
    assert not sets["OS Cox, Hb < 100 g/L"]["all_four_possible"]
    assert not sets["PFS Cox, no gain vs gain of 1q21"]["all_four_possible"]


def test_os_gain1q_cox_set_is_possible_at_printed_precision():
    reg = targets.registry()
    ids = ("os.cox.gain1q.hr", "os.cox.gain1q.hr.ci_low", "os.cox.gain1q.hr.ci_high", "os.cox.gain1q.p")
    found = False
    for b in np.linspace(math.log(13.34), math.log(15.38), 120):
        for se in np.linspace(0.9, 1.2, 120):
            if all(is_exact(reg[i], v) for i, v in zip(ids, _wald(b, se))):
                found = True
                break
        if found:
            break
    assert found
    sets = {s["set"]: s for s in conflicts.wald_conflicts()}
    assert sets["OS Cox, gain of 1q21"]["all_four_possible"]


def test_exact_window_uses_the_printed_reading():
    reg = targets.registry()
    lo, hi = conflicts.exact_window(reg["os.cox.gain1q.hr"])  # 14.29 printed as 1/0.07
    assert abs(lo - 1 / 0.075) < 1e-6 and abs(hi - 1 / 0.065) < 1e-6
    lo, hi = conflicts.exact_window(reg["pfs.iss.p"])  # 0.967
    assert abs(lo - 0.9665) < 1e-9 and abs(hi - 0.9675) < 1e-9


def test_precision_penalty_rewards_the_printed_figure():
    t = {"id": "pfs_itt_median", "kind": "med", "target": 8.5, "extra": {}, "claim": "pfs.itt.median"}
    near = dict(t, value=8.41)   # within tolerance, prints 8.4
    hit = dict(t, value=8.47)    # prints 8.5
    assert calibration.score(near)[1] and calibration.score(hit)[1]
    assert calibration.precision_penalty(hit) == 0.0 < calibration.precision_penalty(near)
    assert calibration.exact(hit) is True and calibration.exact(near) is False


def test_progress_bar_shows_the_running_objective():
    buf = io.StringIO()
    bar = SearchProgress(calibration.score, calibration.exact, targets.PLAIN, stream=buf)
    t = {"id": "x", "kind": "med", "target": 8.5, "value": 8.47, "extra": {}, "claim": "pfs.itt.median"}
    bar(5, 10, 3.5, 2.25, [t], 0.5)
    bar(10, 10, 3.0, 2.0, [t], 0.0)
    out = buf.getvalue()
    assert "objective 3.50 (best 2.25)" in out and "exact 1/1" in out and "CPU" in out


def test_quiet_run_writes_no_progress(tmp_path, capfd):
    from ixathaldex import cli

    assert cli.main(["-q", "synth", "--moves", "40", "--out", str(tmp_path)]) == 0
    assert "objective" not in capfd.readouterr().err


def test_search_proxy_and_claims_layer_agree_on_the_misses():
    """The search's fast reading of each targeted number misses exactly where the build's does."""
    rep = json.loads((PUB / "calibration.json").read_text())
    plain = [s for s in rep["survival"] if s["kind"] in targets.PLAIN and s.get("claim") in targets.registry()]
    missed = {s["claim"] for s in plain if s["exact"] is False}
    targeted = {s["claim"] for s in plain}
    assert missed == {m["claim"] for m in rep["misses"]} & targeted
    assert all(m["reason"] and m["kind"] in ("conflict", "search", "not computable") for m in rep["misses"])
    md = (PUB / "calibration.md").read_text()
    assert md.index("counts exact") < md.index("exact at the printed precision") < md.index("within tolerance")


def test_fast_exactness_is_is_exact():
    reg = targets.registry()
    for cid in ("pfs.iss.p", "os.cox.gain1q.hr", "pfs.itt.median", "os.cox.hb100.hr.ci_high", "pfs.risk3.p"):
        lo, hi = conflicts.exact_window(reg[cid])
        for x in np.linspace(lo * 0.98, hi * 1.02, 3001):
            t = {"id": "x", "kind": "p", "value": float(x), "extra": {}, "claim": cid}
            assert calibration.exact(t) == is_exact(reg[cid], float(x)), (cid, x)


def _state(n_key, n_exact, objective, ok=("a", "b"), key=None):
    key = frozenset(key if key is not None else [f"k{i}" for i in range(n_key)])
    return refine.State(objective, [], frozenset(key | {f"p{i}" for i in range(n_exact - len(key))}), key, frozenset(ok))


def test_refine_keeps_tolerance_and_ranks_medians_first():
    cur = _state(2, 5, 10.0)
    assert refine.better(_state(2, 5, 9.0), cur)                      # same figures, lower objective
    assert refine.better(_state(2, 6, 12.0), cur)                     # one more figure exact
    assert not refine.better(_state(2, 4, 1.0), cur)                  # a figure lost for the objective
    assert not refine.better(_state(2, 6, 9.0, ok=("a",)), cur)       # a target leaves its tolerance
    assert not refine.better(_state(2, 9, 9.0, key=["k0", "k9"]), cur)  # a median swapped for another
    assert refine.better(_state(3, 5, 12.0, key=["k0", "k8", "k9"]), cur)  # one median for two
    assert refine.rounds_for(2_000) == 0 and refine.rounds_for(150_000) >= 1


def test_refine_move_is_kept_only_when_better():
    lat = cohort.build_latent(cohort.DEFAULT_SEED)
    calibration.repair(lat)
    r = refine.Refiner(lat.copy())
    for i in range(6):
        before_pfs, before = r.lat.pfs.copy(), r.cur
        kept = r.attempt(lambda lat, i=i: refine.shift(lat, i, "pfs", 3))
        assert calibration.valid(r.lat)
        if kept:
            assert refine.better(r.cur, before) and r.lat.pfs[i] == before_pfs[i] + 3
        else:
            assert r.cur is before and np.array_equal(r.lat.pfs, before_pfs)


def test_refine_round_is_reported():
    buf = io.StringIO()
    bar = SearchProgress(calibration.score, calibration.exact, targets.PLAIN, stream=buf)
    t = {"id": "x", "kind": "med", "target": 8.5, "value": 8.47, "extra": {}, "claim": "pfs.itt.median"}
    bar.refine_round(1, refine.State(2.5, [t], frozenset({"x"}), frozenset({"x"}), frozenset({"x"})))
    assert "refine round 1: objective 2.50 exact 1/1 (medians and CI limits 1)" in buf.getvalue()
