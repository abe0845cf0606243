"""The pair search of the calibration (synth.pairs): its quick screen, its acceptance rule, its evidence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ixathaldex.synth import calibration, cohort, pairs, refine, targets


@pytest.fixture(scope="module")
def lat():
    lat = cohort.build_latent(cohort.DEFAULT_SEED)
    calibration.repair(lat)
    return lat


def test_quick_screen_reads_every_median_and_ci_as_the_objective(lat):
    """``key_values`` (one curve at a time) gives what ``targets.compute`` (all curves in one batch) gives."""
    T = targets.targets_and_values(targets.compute(lat))
    curves = [t for t in T if t["kind"] in ("med", "ci") and t["id"] != "followup"]
    assert len(curves) > 30 and all(pairs.curve_of(t["id"]) for t in curves)
    quick = pairs.key_values(lat, [t["id"] for t in curves])
    for t in curves:
        assert (quick[t["id"]] == t["value"]) or math.isclose(quick[t["id"]], t["value"], rel_tol=1e-12), t["id"]


def test_block_of_each_subgroup_is_the_block_that_moves_its_patients(lat):
    """Swapping the named block between a member and a non-member changes the curve's membership."""
    for t in targets.targets_and_values(targets.compute(lat)):
        block = pairs.curve_of(t["id"]) and pairs.block_of(t["id"])
        if not block:
            continue
        members = pairs.curve_members(lat, t["id"])
        moves = pairs.swap_moves(lat, block, members, pairs.curve_population(lat, t["id"]))
        assert moves, t["id"]
        work = lat.copy()
        for label, change in moves:
            undo = change(work)
            assert not np.array_equal(pairs.curve_members(work, t["id"]), members), (t["id"], label)
            calibration.revert(work, undo)
        assert np.array_equal(pairs.curve_members(work, t["id"]), members)


def test_gain_needs_the_target_exact_and_better():
    cur = refine.State(10.0, [], frozenset({"a", "k"}), frozenset({"k"}), frozenset({"a", "k"}))
    search = pairs.PairSearch.__new__(pairs.PairSearch)
    search.r = type("R", (), {"cur": cur})()
    lower = refine.State(9.0, [], cur.exact, cur.exact_key, cur.ok)
    assert refine.better(lower, cur) and not search.gain(lower, "t")   # the objective alone is no gain
    hit = refine.State(12.0, [], cur.exact | {"t"}, cur.exact_key | {"t"}, cur.ok)
    assert search.gain(hit, "t")
    swap = refine.State(12.0, [], frozenset({"a", "t"}), frozenset({"t"}), cur.ok)
    assert not search.gain(swap, "t")                                   # one median for another


def test_evidence_sentence_carries_the_enumeration():
    ev = {"claim": "pfs.gfr.lt60.median", "days": [282, 284], "first_moves": 54, "window_moves": 21, "pairs": 42113,
          "mends": 40, "triples": 21880, "screened": 4434, "kept": "", "lost": {"pfs.age.ge75.median": 9},
          "pair_lost": {"pfs.age.ge75.median": 87, "pfs.age.lt75.median pfs.iss.ii_iii.median": 42}}
    text = pairs.describe(ev)
    for part in ("54 single moves", "days 282-284", "21 of them", "pfs.age.ge75.median (9)", "42113 valid pairs",
                 "21880 third moves", "40 best", "4434 print the figure", "pfs.age.ge75.median (87)",
                 "pfs.age.lt75.median and pfs.iss.ii_iii.median (42)"):
        assert part in text, part
    assert pairs.describe({**ev, "kept": "pfs[1]=283; age 1<->2"}).startswith("reached by the pair search")
    assert "none of them prints it" in pairs.describe({**ev, "window_moves": 0, "lost": {}})
