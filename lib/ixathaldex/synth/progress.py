"""`ixathaldex synth`: the progress bar of the calibration search (stderr, one redrawn line)."""

from __future__ import annotations

import sys
import time


class SearchProgress:
    """Draws ``[#####.....] 45% move 54000/120000 objective 12.3 (best 11.9) exact 50/74 ...`` on stderr.

    Called by ``calibration.calibrate`` with (step, moves, current, best, best targets, temperature);
    ``score`` and ``exact`` judge the best targets (within tolerance; exact at the printed precision,
    counted over the targets of the ``plain`` kinds).
    """

    def __init__(self, score, exact, plain=("med", "ci", "p", "hr", "hrci"), stream=None, width: int = 30):
        self.score, self.exact, self.plain = score, exact, plain
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.start_wall, self.start_cpu = time.perf_counter(), time.process_time()

    def __call__(self, step, moves, current, best, best_targets, temperature) -> None:
        share = step / max(moves, 1)
        done = int(round(self.width * share))
        n_ok = sum(self.score(t)[1] for t in best_targets)
        judged = [self.exact(t) for t in best_targets if t["kind"] in self.plain]
        n_exact, n_claims = sum(j is True for j in judged), sum(j is not None for j in judged)
        wall = time.perf_counter() - self.start_wall
        line = (f"\r[{'#' * done}{'.' * (self.width - done)}] {share:4.0%} move {step}/{moves} "
                f"objective {current:.2f} (best {best:.2f}) exact {n_exact}/{n_claims} "
                f"within tolerance {n_ok}/{len(best_targets)} T={temperature:.3f} {wall:.0f}s")
        self.stream.write(line)
        if step >= moves:
            cpu = time.process_time() - self.start_cpu
            self.stream.write(f"\nsearch: {moves} moves, {wall:.0f} s wall, {cpu:.0f} s CPU\n")
        self.stream.flush()

    def refine_round(self, k: int, state) -> None:
        """One line after each round of the targeted finish (``synth.refine``): what is exact now."""
        judged = [self.exact(t) for t in state.targets if t["kind"] in self.plain]
        n_exact, n_claims = sum(j is True for j in judged), sum(j is not None for j in judged)
        n_ok = sum(self.score(t)[1] for t in state.targets)
        self.line(f"refine round {k}: objective {state.objective:.2f} exact {n_exact}/{n_claims} "
                  f"(medians and CI limits {len(state.exact_key)}) within tolerance {n_ok}/{len(state.targets)}")

    def pair_target(self, tid: str, ev: dict) -> None:
        """One line after the pair search of one median / CI limit (``synth.pairs``)."""
        self.line(f"pairs {tid}: {ev['first_moves']} first moves, {ev['pairs']} pairs, {ev['triples']} "
                  f"third moves, {ev['screened']} screened, {'kept ' + ev['kept'] if ev['kept'] else 'no gain'}")

    def logrank_target(self, tid: str, ev: dict) -> None:
        """One line after the log-rank finish of one p-value (``synth.logrank_finish``)."""
        self.line(f"log-rank {tid}: {ev['pairs_exact']} pairs print it, {ev['judged']} judged, "
                  f"{'kept ' + ev['kept'] if ev['kept'] else 'no gain'}")

    def line(self, text: str) -> None:
        """``text`` and the seconds since the search started, as one line."""
        wall = time.perf_counter() - self.start_wall
        self.stream.write(f"{text} {wall:.0f}s\n")
        self.stream.flush()
