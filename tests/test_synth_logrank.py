"""The log-rank finish of the calibration (synth.logrank_finish): its batched log-rank, its moves, its rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ixathaldex.synth import calibration, cohort, fastsurv, logrank_finish, targets


@pytest.fixture(scope="module")
def lat():
    lat = cohort.build_latent(cohort.DEFAULT_SEED)
    calibration.repair(lat)
    return lat


@pytest.fixture(scope="module")
def search(lat):
    return logrank_finish.LogrankFinish(lat.copy())


def test_batched_logrank_is_the_one_group_test_with_ties(lat):
    """Every row of ``logrank_uv`` gives ``fastsurv.logrank`` of that cohort alone (ties included)."""
    t, e, codes = logrank_finish.observations(lat)
    rng = np.random.default_rng(3)
    T = np.maximum(t[None] + rng.integers(-3, 4, (40, lat.n)) * rng.integers(0, 20, (40, 1)), 1)
    E = np.where(rng.random((40, lat.n)) < 0.1, 1 - e[None], e[None])
    for tid, g in codes.items():
        k = 3 if tid == "pfs_three_p" else 2
        p = logrank_finish.p_value(*logrank_finish.logrank_uv(T, E, np.repeat(g[None], 40, 0), k))
        inside = g >= 0
        for r in range(40):
            ref = fastsurv.logrank(T[r][inside], E[r][inside], g[inside])[1]
            assert math.isclose(p[r], ref, rel_tol=1e-9, abs_tol=1e-14), (tid, r)


def test_groups_are_those_of_the_targets(lat):
    """The p of each group coding is the search's own log-rank p of that target."""
    t, e, codes = logrank_finish.observations(lat)
    spec = {x["id"]: x for x in targets.targets_and_values(targets.compute(lat))}
    assert set(codes) == {"pfs_iss_p", "pfs_lines_p", "pfs_age_p", "pfs_fit_p", "pfs_gfr_p", "pfs_hr_p",
                          "pfs_imid_p", "pfs_1q_p", "pfs_any_p", "pfs_three_p"}
    for tid, g in codes.items():
        k = 3 if tid == "pfs_three_p" else 2
        p = logrank_finish.p_value(*logrank_finish.logrank_uv(t[None], e[None], g[None], k))[0]
        assert math.isclose(p, spec[tid]["value"], rel_tol=1e-9), tid


def test_single_moves_are_valid_and_reorder_the_patient(lat, search):
    """Each move keeps the hard constraints, changes only its patient's PFS place, and reverts cleanly."""
    assert len(search.moves) > 1000
    work = lat.copy()
    t0, e0, _ = logrank_finish.observations(work)
    for label, change, i in search.moves[::37]:
        undo = change(work)
        assert calibration.valid(work), label
        t, e, _ = logrank_finish.observations(work)
        assert (t[i], e[i]) != (t0[i], e0[i]), label
        assert np.array_equal(np.delete(t, i), np.delete(t0, i)), label
        calibration.revert(work, undo)
    assert work.pfs.tobytes() == lat.pfs.tobytes() and work.os.tobytes() == lat.os.tobytes()


def test_pair_rows_read_as_the_moves_applied(lat, search):
    """``p_rows`` of a pair of moves is the target's p after applying both to the cohort."""
    rows = np.array([[a, b] for a, b in zip(range(0, 600, 41), range(900, 3000, 150))
                     if search.patient[a] != search.patient[b]])
    for tid in ("pfs_age_p", "pfs_three_p"):
        p = search.p_rows(tid, rows)
        for (a, b), pv in zip(rows, p):
            work = lat.copy()
            search.moves[a][1](work)
            search.moves[b][1](work)
            ref = {x["id"]: x for x in targets.targets_and_values(targets.compute(work))}[tid]["value"]
            assert math.isclose(pv, ref, rel_tol=1e-9), (tid, a, b)


def test_one_target_keeps_a_gain_or_leaves_the_cohort(lat, search):
    """Seeded: the age p on the uncalibrated cohort; kept only with one more exact number, else unchanged."""
    s = search
    before = s.r.cur
    kept = s.target("pfs_age_p")
    ev = s.evidence["pfs_age_p"]
    assert ev["pairs_screened"] <= ev["pairs_exact"] <= ev["pairs_near"] and ev["thirds_screened"] <= ev["thirds"]
    if kept:
        assert calibration.valid(s.lat) and "pfs_age_p" in s.r.cur.exact
        assert len(s.r.cur.exact) > len(before.exact) and before.ok <= s.r.cur.ok
    else:
        assert s.lat.pfs.tobytes() == lat.pfs.tobytes() and s.lat.os.tobytes() == lat.os.tobytes()
        assert ev["kept"] == ""


def test_evidence_sentence_carries_the_enumeration():
    ev = {"claim": "pfs.age.p", "singles": 3289, "pairs_near": 523157, "pairs_exact": 24992, "pairs_screened": 20,
          "mends": 4, "thirds": 3259, "thirds_screened": 99, "judged": 30, "kept": ""}
    text = logrank_finish.describe(ev)
    assert "3289 single moves" in text and "24992 print" in text and "99 of 3259 third moves" in text
    assert logrank_finish.describe({**ev, "kept": "pfs[1]=52"}).startswith("reached by the log-rank finish")
