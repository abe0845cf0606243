"""A version's run files, collected once its chapters ran: results.json, claims.json, consistency.json, the ARD.

``_build/runs/<version>/`` holds what the post pages read and the site offers for download
(:data:`RUN_FILES`). ``results.json`` gathers the values glued by the version's executed chapters,
``claims.json`` puts every claim of the registry beside its reproduced value with its verdict,
``consistency.json`` the paper's own arithmetic; ``ard.csv``/``ard.json`` (the analysis-results
dataset) are assembled from the rows each chapter computed in its kernel and handed over in its
executed notebook (``claims.ard.collect_ard``), and every glued claim value must equal its ARD value.

The **results key** (the chapters' cache keys) decides whether the version is collected again: the
ARD lives in the same notebooks, so it can only change with them. The paper's arithmetic checks,
the same for every version, are computed once per build in a thread beside the last chapters
(:class:`Precomputed`).
"""

from __future__ import annotations

import json
import pickle
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ixathaldex.claims import registry as claims
from ixathaldex.claims.ard import PAGES as ARD_PAGES, check_ard_results, collect_ard, write_ard
from ixathaldex.claims.consistency import table_consistency, write_consistency_json
from ixathaldex.claims.review import chapter_pages, write_claims_json
from ixathaldex.exceptions import BuildError, IxaThalDexError
from ixathaldex.files import sha256_bytes, write_atomic, write_if_changed
from ixathaldex.paths import Project

#: the files of ``_build/runs/<version>/`` staged in ``_static/`` and offered for download
RUN_FILES = ("results.json", "claims.json", "consistency.json", "ard.csv", "ard.json")
#: the key of the consistency checks among :class:`Precomputed`'s futures (a version is a cut id)
CONSISTENCY = "consistency"


def results_key(jobs: list) -> str:
    """What a version's results depend on: its chapters' cache keys, in order."""
    return sha256_bytes("".join(j.key for j in jobs).encode())


def is_collected(runs: Path, key: str) -> bool:
    """True if ``runs`` holds every run file, collected for ``key``."""
    marker = runs / "results.key"
    return all((runs / name).is_file() for name in RUN_FILES) and marker.is_file() \
        and marker.read_text().strip() == key


class Precomputed:
    """What a version's collection needs that its chapters do not decide: the paper's arithmetic
    checks (:meth:`consistency`, the same for every version) and the claims registry, read once.

    The checks depend only on the registry, the assertions beside it and the code (``package``, the
    build's code digest): they are kept in ``_build/cache/consistency/`` under the digest of those
    and read back by a build whose inputs are the same (an edited chapter); otherwise computed once,
    in a thread started once a notebook process is idle (:meth:`prefetch`, beside the last
    chapters). :meth:`close` waits for the thread."""

    def __init__(self, project: Project, package: str = ""):
        self.project = project
        self.package = package
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="precompute")
        self.futures: dict[str, Future] = {}
        self.claims: list | None = None

    def registry(self) -> list:
        """The claims registry, read once per build."""
        if self.claims is None:
            self.claims = claims.load_claims(self.project.claims_path)
        return self.claims

    def kept_checks(self) -> Path:
        """Where the checks of this registry, its assertions and this code are kept."""
        inputs = [self.package.encode()] + [path.read_bytes() if path.is_file() else b"" for path in
                                            (self.project.claims_path, self.project.claims_path.with_name("assertions.yaml"))]
        key = sha256_bytes(b"\0".join(inputs))
        return self.project.cache / "consistency" / f"{key[:32]}.pickle"

    def prefetch(self) -> None:
        """Start the consistency checks in the thread (read back, or computed and kept)."""
        if CONSISTENCY not in self.futures:
            self.futures[CONSISTENCY] = self.pool.submit(self.compute_checks, self.registry())

    def compute_checks(self, registry: list):
        path = self.kept_checks()
        try:
            return pickle.loads(path.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass  # not kept yet, or unreadable: computed again
        checks = table_consistency(registry)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, pickle.dumps(checks, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass  # not kept: the next build computes them again
        return checks

    def consistency(self):
        """The paper's arithmetic checks of the build's registry (``claims.consistency.table_consistency``)."""
        self.prefetch()
        return self.futures[CONSISTENCY].result()

    def close(self) -> None:
        for fut in self.futures.values():
            fut.cancel()
        self.pool.shutdown(wait=True)


def chapter_notebooks(project: Project, jobs: list) -> dict[str, Path]:
    """ARD page -> the executed notebook of the chapter serving it (pages of the toc only)."""
    by_label = {j.label: j.output for j in jobs}
    labels = {page: html.removesuffix(".html") + ".md" for page, html in chapter_pages(project.toc_path).items()}
    return {page: by_label[label] for page, label in labels.items() if page in ARD_PAGES and label in by_label}


def collect_version(project: Project, version: str, jobs: list, pre: Precomputed) -> Path:
    """``_build/runs/<version>/results.json`` from the glued values, ``claims.json`` beside it
    (every claim, published vs reproduced, with its verdict: computed here, once), the consistency
    checks and the version's ARD (``ard.csv``, ``ard.json``, from the rows each chapter handed over;
    every glued claim value must equal its ARD value); collected again only when a chapter's key
    changed."""
    runs = project.runs(version)
    runs.mkdir(parents=True, exist_ok=True)
    path, key = runs / "results.json", results_key(jobs)
    if is_collected(runs, key):
        return path
    try:
        results = claims.collect_results([j.output for j in jobs])
        ard = collect_ard(chapter_notebooks(project, jobs))
        check_ard_results(results, ard, [c["id"] for c in pre.registry()])
        write_if_changed(path, json.dumps(results, indent=2, sort_keys=True, default=str) + "\n")
        checks = pre.consistency()  # of the build's registry, computed once for every version
        write_claims_json(runs / "claims.json", results, toc=project.toc_path, claims=pre.registry(), consistency=checks)
        write_consistency_json(runs / "consistency.json", checks)
        write_ard(ard, runs)
    except IxaThalDexError as exc:
        text = str(exc)
        for j in jobs:  # name chapters, not cache files
            text = text.replace(str(j.output), j.label)
        raise BuildError(f"version {version}: {text}") from None
    (runs / "results.key").write_text(key + "\n")
    return path
