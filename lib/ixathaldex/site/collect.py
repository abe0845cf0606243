"""A version's run files, collected once its chapters ran: results.json, claims.json, consistency.json, the ARD.

``_build/runs/<version>/`` holds what the post pages read and the site offers for download
(:data:`RUN_FILES`). ``results.json`` gathers the values glued by the version's executed chapters,
``claims.json`` puts every claim of the registry beside its reproduced value with its verdict,
``consistency.json`` the paper's own arithmetic; ``ard.csv``/``ard.json`` (the analysis-results
dataset) are computed from the snapshot alone, and every glued claim value must equal its ARD value.

Two keys decide what is done again. The **results key** (the chapters' cache keys) decides whether
the version is collected at all. The **ARD key** (:func:`ard_key`: the snapshot's manifest, the code
and its registry and table of contents, the lock) decides whether the ARD is computed or read back
from ``ard.json``: an edited chapter changes the results, never the ARD. A build computes an ARD in a
thread beside the last chapters (:class:`Precomputed`, with the paper's arithmetic checks), so
that it is ready when they end.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ixathaldex.claims import registry as claims
from ixathaldex.claims.ard import PAGES as ARD_PAGES, check_ard_results, load_ard, table_ard, write_ard
from ixathaldex.claims.consistency import table_consistency, write_consistency_json
from ixathaldex.claims.review import chapter_pages, write_claims_json
from ixathaldex.data.snapshot import load_snapshot
from ixathaldex.exceptions import BuildError, ClaimsError, IxaThalDexError
from ixathaldex.files import sha256_bytes, write_if_changed
from ixathaldex.log import logger
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


def ard_key(version: str, package: str, manifest: bytes, lock: bytes) -> str:
    """What a version's ARD depends on: the cut, the code with its claims registry and table of
    contents (``package``, the build's code digest), the snapshot's manifest (every data file's
    checksum) and the lock (the libraries' versions)."""
    return sha256_bytes(b"\0".join([b"ixathaldex-ard-v1", version.encode(), package.encode(),
                                    sha256_bytes(manifest).encode(), sha256_bytes(lock).encode()]))


def compute_ard(project: Project, version: str, registry: list):
    """The version's ARD: the statistics of the pages of the book's chapters (those of ``_toc.yml``
    that serve a registry chapter), from the snapshot."""
    t = time.perf_counter()
    pages = [p for p in ARD_PAGES if p in chapter_pages(project.toc_path)]
    snap = load_snapshot(version, root=project.snapshot_root, validate=False)
    try:
        ard = table_ard(snap, registry, pages)
    except IxaThalDexError:
        raise
    except Exception as exc:  # noqa: BLE001 - one readable line, never a traceback
        raise BuildError(f"the analysis-results dataset (ARD) could not be computed: "
                         f"{type(exc).__name__}: {exc}") from None
    logger.info("  %-10s %-32s %-8s %6.1f s", version, f"ARD ({len(ard)} statistics)", "computed",
                time.perf_counter() - t)
    return ard


class Precomputed:
    """What a version's collection needs that its chapters do not decide, prepared in a thread once
    a notebook process is idle (:meth:`prefetch`, beside the last chapters): each wanted version's
    ARD (:meth:`want` names it with its key; read back from ``ard.json`` when its key is unchanged)
    and the paper's arithmetic checks (:meth:`consistency`, the same for every version: computed
    once). Anything not prefetched is computed when asked for. :meth:`close` waits for the thread."""

    def __init__(self, project: Project):
        self.project = project
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="precompute")
        self.futures: dict[str, Future] = {}
        self.keys: dict[str, str] = {}
        self.claims: list | None = None

    def registry(self) -> list:
        """The claims registry, read once per build."""
        if self.claims is None:
            self.claims = claims.load_claims(self.project.claims_path)
        return self.claims

    def want(self, version: str, key: str) -> None:
        """``version``'s ARD will be needed, for ``key``."""
        self.keys[version] = key

    def prefetch(self) -> None:
        """Start computing, in the thread, each wanted ARD whose ``ard.json`` is not of its key, and
        the consistency checks."""
        for version in self.keys:
            if version not in self.futures and not self.is_current(version):
                self.futures[version] = self.pool.submit(compute_ard, self.project, version, self.registry())
        if self.keys and CONSISTENCY not in self.futures:
            self.futures[CONSISTENCY] = self.pool.submit(table_consistency)

    def is_current(self, version: str) -> bool:
        runs = self.project.runs(version)
        marker = runs / "ard.key"
        return (runs / "ard.json").is_file() and marker.is_file() and marker.read_text().strip() == self.keys[version]

    def ard(self, version: str) -> tuple:
        """``(ard, computed)``: the ARD of ``version``, computed (now, if it was not prefetched) or,
        with ``computed`` False, read back from its unchanged ``ard.json``."""
        if version in self.futures:
            return self.futures[version].result(), True
        if self.is_current(version):
            try:
                return load_ard(self.project.runs(version) / "ard.json"), False
            except ClaimsError:  # e.g. an ARD with no row has no columns to read back: computed again
                pass
        return compute_ard(self.project, version, self.registry()), True

    def consistency(self):
        """The paper's arithmetic checks (``claims.consistency.table_consistency``)."""
        if CONSISTENCY not in self.futures:
            self.futures[CONSISTENCY] = self.pool.submit(table_consistency)
        return self.futures[CONSISTENCY].result()

    def written(self, version: str) -> None:
        """Record that ``ard.json`` of ``version`` now holds the ARD of its key."""
        (self.project.runs(version) / "ard.key").write_text(self.keys[version] + "\n")

    def close(self) -> None:
        for fut in self.futures.values():
            fut.cancel()
        self.pool.shutdown(wait=True)


def collect_version(project: Project, version: str, jobs: list, pre: Precomputed) -> Path:
    """``_build/runs/<version>/results.json`` from the glued values, ``claims.json`` beside it
    (every claim, published vs reproduced, with its verdict: computed here, once), the consistency
    checks and the version's ARD (``ard.csv``, ``ard.json``; every glued claim value must equal its
    ARD value); collected again only when a chapter's key changed."""
    runs = project.runs(version)
    runs.mkdir(parents=True, exist_ok=True)
    path, key = runs / "results.json", results_key(jobs)
    if is_collected(runs, key):
        return path
    try:
        results = claims.collect_results([j.output for j in jobs])
        ard, computed = pre.ard(version)
        check_ard_results(results, ard, [c["id"] for c in pre.registry()])
        write_if_changed(path, json.dumps(results, indent=2, sort_keys=True, default=str) + "\n")
        write_claims_json(runs / "claims.json", results, toc=project.toc_path)
        write_consistency_json(runs / "consistency.json", pre.consistency())
        if computed:
            write_ard(ard, runs)
            pre.written(version)
    except IxaThalDexError as exc:
        text = str(exc)
        for j in jobs:  # name chapters, not cache files
            text = text.replace(str(j.output), j.label)
        raise BuildError(f"version {version}: {text}") from None
    (runs / "results.key").write_text(key + "\n")
    return path
