"""`ixathaldex synth`: build the latent cohort, calibrate it, and write its data cuts.

The generator (:mod:`ixathaldex.synth.cohort`), the search (:mod:`ixathaldex.synth.calibration`),
the cut tables (:mod:`ixathaldex.synth.cuts`) and the report
(:mod:`ixathaldex.synth.calibration_report`) each own one step; this module runs them in order.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ixathaldex.paths import Project
from ixathaldex.synth import calibration, calibration_report, logrank_finish, pairs, refine, reproduction, targets
from ixathaldex.synth.cohort import (
    CUT_PUBLICATION,
    CUTS,
    DEFAULT_SEED,
    GENERATOR,
    GENERATOR_VERSION,
    build_latent,
    expand,
    redraw_tails,
)
from ixathaldex.synth.cuts import publish_cuts, stage_cut, write_report
from ixathaldex.synth.progress import SearchProgress


def configure_parser(parser) -> None:
    parser.add_argument("--out", type=Path, default=None,
                        help="output root (default: the project's data/snapshots)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    parser.add_argument("--moves", type=int, default=None,
                        help="annealing moves (default: the full calibration search)")
    parser.add_argument("--force", action="store_true",
                        help="replace existing cuts whose content would change (never once published)")
    parser.add_argument("--n", type=int, default=90,
                        help="cohort size; other than 90 writes an uncalibrated large cohort with the "
                             "same structure (benchmarks)")


def run(args) -> int:
    seed = args.seed
    lat = build_latent(seed)
    out = Path(args.out) if args.out else Project.current().snapshot_root
    force = getattr(args, "force", False)
    if args.n != 90:
        big = expand(lat, args.n, seed)
        prov = {"generator": GENERATOR, "generator_version": GENERATOR_VERSION, "seed": seed,
                "n": args.n, "calibrated": False}
        staged = [(stage_cut(big, cut, f"Large synthetic cohort n={args.n} (benchmark, not calibrated); "
                             + label.split(" (")[0], out, prov), out / cut.isoformat())
                  for cut, label in CUTS]
        publish_cuts(staged, force)
        return 0
    moves = calibration.DEFAULT_MOVES if args.moves is None else args.moves
    bar = None if getattr(args, "quiet", False) else SearchProgress(calibration.score, calibration.exact, targets.PLAIN)
    lat, _ = calibration.calibrate(lat, moves=moves, seed=seed, progress=bar)
    rounds = refine.rounds_for(moves)
    lat, _, _ = refine.refine(lat, rounds=rounds, log=None if bar is None else bar.refine_round)
    evidence, ranked = {}, {}
    if rounds:
        lat, evidence = pairs.pair_finish(lat, log=None if bar is None else bar.pair_target)
        lat, ranked = logrank_finish.logrank_finish(lat, log=None if bar is None else bar.logrank_target)
    lat = redraw_tails(lat, seed)
    prov = {"generator": GENERATOR, "generator_version": GENERATOR_VERSION, "seed": seed,
            "moves": moves}
    staged, head = [], ""
    try:
        for cut, label in CUTS:
            tmp = stage_cut(lat, cut, label, out, prov)
            staged.append((tmp, out / cut.isoformat()))
            res = calibration_report.evaluate_cut(lat, cut)
            res["claims"] = reproduction.table_cut_claims(tmp, cut.isoformat())
            res["pairs"], res["logrank"] = evidence, ranked
            md, js = calibration_report.render_report(res, cut, publication=(cut == CUT_PUBLICATION),
                                                     moves=moves, seed=seed)
            write_report(tmp, md, js)
            if cut == CUT_PUBLICATION:
                head = calibration_report.headline(res)
    except BaseException:
        for tmp, _ in staged:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    publish_cuts(staged, force)
    print(f"publication cut {CUT_PUBLICATION.isoformat()}: {head}")
    return 0
