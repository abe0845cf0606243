"""Executed notebooks of the site: jupytext conversion, papermill execution, the content-keyed cache.

A MyST notebook (``chapters/NN_slug.md`` or a post page in ``book/``) is converted with jupytext
(``fmt="md:myst"``) and executed with papermill, its parameters injected after the cell tagged
``parameters``. The executed notebook is stored under ``_build/cache/notebooks/<key>.ipynb`` where
``key`` is the sha256 of everything that can change its outputs (see :func:`cache_key`); a notebook
whose key already has a cache file is never executed again.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from ixathaldex.data.manifest import check_cut_id
from ixathaldex.exceptions import BuildError
from ixathaldex.files import file_digest, sha256_bytes, tree_digest, write_if_changed
from ixathaldex.log import logger
from ixathaldex.site.zygote import Zygote

#: the installed package's own code (its digest enters every cache key); never a project path
PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: the parameters a notebook of the site may receive, and nothing else
ALLOWED_PARAMETERS = ("snapshot", "results_json", "previous_results_json", "claims_json", "previous_claims_json",
                      "ard_json", "previous_ard_json")
#: the path parameters that must name a file ("" is allowed for the previous version's, absent for the oldest)
REQUIRED_PATHS = ("results_json", "claims_json", "ard_json")


# ---- hashing ---------------------------------------------------------------------------------

#: seconds a kernel may take to start and answer (papermill's default, 60 s, was seen to run out on a
#: loaded two-core machine); it is a limit, not a wait: a kernel that answers sooner goes on at once
KERNEL_START_TIMEOUT = 600
#: nbclient's kernel manager for forked kernels, named by its import path: the build process itself
#: never imports jupyter_client (see :mod:`ixathaldex.site.kernels`)
KERNEL_MANAGER = "ixathaldex.site.kernels.ForkedKernelManager"


def package_digest(package_dir: Path | None = None) -> str:
    """sha256 over the package's source files (relative path and bytes of every ``*.py``)."""
    return tree_digest(Path(package_dir or PACKAGE_DIR), "*.py")


def cache_key(*, source: bytes, package: str, manifest: bytes, parameters: dict, lock: bytes) -> str:
    """The cache key of one executed notebook: sha256 of all the inputs that decide its outputs.

    ``source`` is the notebook's text, ``package`` the :func:`package_digest`, ``manifest`` the
    snapshot's ``manifest.json`` bytes (it carries every data file's checksum), ``parameters`` the
    values that enter the key (a path parameter is represented by its file's digest, not its path),
    ``lock`` the bytes of ``requirements.lock``.
    """
    h = hashlib.sha256()
    for part in (
        b"ixathaldex-notebook-v1",
        sha256_bytes(source).encode(),
        package.encode(),
        sha256_bytes(manifest).encode(),
        json.dumps(parameters, sort_keys=True, separators=(",", ":")).encode(),
        sha256_bytes(lock).encode(),
    ):
        h.update(part + b"\0")
    return h.hexdigest()


# ---- parameters ------------------------------------------------------------------------------

def validate_parameters(parameters: dict, known_snapshots: list[str], base: Path | None = None) -> dict:
    """Return ``parameters`` if every value is acceptable, else raise :class:`BuildError`.

    ``snapshot`` must be a string naming a known snapshot (a cut id, never a path); a ``*_json``
    parameter must be ``""`` (only the previous version's) or the path, relative to ``base`` (the
    notebook's working folder), of an existing ``.json`` file: never an absolute path, which would
    be published in the downloadable notebook; nothing else is allowed.
    """
    unknown = sorted(set(parameters) - set(ALLOWED_PARAMETERS))
    if unknown:
        raise BuildError(f"parameters {unknown} are not allowed (allowed: {', '.join(ALLOWED_PARAMETERS)})")
    if "snapshot" not in parameters:
        raise BuildError("parameter 'snapshot' is required")
    check_snapshot_parameter(parameters["snapshot"], known_snapshots)
    for name in ALLOWED_PARAMETERS[1:]:
        if name in parameters:
            check_path_parameter(name, parameters[name], base)
    return parameters


def check_snapshot_parameter(cut, known_snapshots: list[str]) -> None:
    """Raise BuildError unless ``cut`` is a string naming a known snapshot."""
    if not isinstance(cut, str):
        raise BuildError(f"parameter snapshot={cut!r}: must be a string cut id, not {type(cut).__name__}")
    try:
        check_cut_id(cut)
    except Exception as exc:  # SnapshotError: say it as a parameter problem
        raise BuildError(f"parameter snapshot: {exc}") from None
    if cut not in known_snapshots:
        raise BuildError(f"parameter snapshot={cut!r}: not a known snapshot "
                         f"(known: {', '.join(known_snapshots) or 'none'})")


def check_path_parameter(name: str, value, base: Path | None) -> None:
    """Raise BuildError unless ``value`` is "" (where allowed) or a relative path to a .json file."""
    if not isinstance(value, str):
        raise BuildError(f"parameter {name}={value!r}: must be a string path or \"\"")
    if value == "":
        if name in REQUIRED_PATHS:
            raise BuildError(f"parameter {name}: must name this version's {name[:-len('_json')]}.json")
        return
    if Path(value).is_absolute():
        raise BuildError(f"parameter {name}={value!r}: must be relative to the notebook's folder "
                         "(an absolute path would be published in the notebook)")
    path = Path(base or ".") / value
    if path.suffix != ".json" or not path.is_file():
        raise BuildError(f"parameter {name}={value!r}: not an existing .json file")


def key_parameters(parameters: dict, base: Path | None = None) -> dict:
    """The parameters as they enter the cache key: a path is replaced by its file's digest."""
    out = {}
    for name, value in parameters.items():
        if name.endswith("_json"):
            out[name] = ("sha256:" + file_digest(Path(base or ".") / value)) if value else ""
        else:
            out[name] = value
    return out


# ---- notebooks -------------------------------------------------------------------------------

def read_myst(path: Path):
    """A MyST text notebook as an nbformat notebook (jupytext, ``fmt="md:myst"``)."""
    import jupytext

    return jupytext.read(str(path), fmt="md:myst")


def has_parameters_cell(path: Path, memo: Path | None = None) -> bool:
    """True if the MyST notebook at ``path`` has a code cell tagged ``parameters``.

    With ``memo`` (a JSON file), the answer is kept per sha256 of the text: a build that finds the
    same pages again does not import jupytext (1 s of a no-op rebuild)."""
    raw = Path(path).read_bytes()
    text = raw.decode("utf-8")
    if "{code-cell}" not in text or "parameters" not in text:
        return False
    digest = sha256_bytes(raw)
    known = read_memo(memo)
    if digest not in known:
        nb = read_myst(path)
        known[digest] = any(c.cell_type == "code" and "parameters" in c.metadata.get("tags", []) for c in nb.cells)
        if memo is not None:
            memo.parent.mkdir(parents=True, exist_ok=True)
            write_if_changed(memo, json.dumps(known, indent=0, sort_keys=True) + "\n")
    return bool(known[digest])


def read_memo(memo: Path | None) -> dict:
    """The memo of :func:`has_parameters_cell` (empty when absent or unreadable)."""
    try:
        data = json.loads(memo.read_text()) if memo is not None and memo.is_file() else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass
class NotebookJob:
    """One notebook to execute (or take from the cache) for one version."""

    version: str
    label: str           # e.g. "chapters/01_patients.md", as shown to the author
    source: Path         # the MyST file
    parameters: dict
    key: str
    output: Path         # the cache file _build/cache/notebooks/<key>.ipynb
    cwd: Path
    kernels: str = ""    # the build's kernel fork server (its socket), "" for a new kernel process per notebook
    status: str = ""     # "cached" | "executed"
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def cached(self) -> bool:
        return self.output.is_file()


def _source_line(source_path: Path, cell_source: str) -> int | None:
    """Line number (1-based) of a cell's first line in the MyST file, if it can be found."""
    try:
        text = Path(source_path).read_text(encoding="utf-8")
    except OSError:
        return None
    first = cell_source.strip("\n").split("\n", 1)[0]
    pos = text.find(cell_source.strip("\n")) if cell_source.strip() else -1
    if pos < 0 and first:
        pos = text.find(first)
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None


def describe_failure(version: str, label: str, source_path: Path, nb, exc) -> str:
    """One readable line: version, chapter, cell (index, line, first source line) and exception."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        src = exc.source or ""
        # the cell's index in the MyST notebook (papermill's index counts its injected cell)
        index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source == src),
                     exc.cell_index)
        first = next((ln for ln in src.splitlines() if ln.strip()), "").strip()
        if len(first) > 80:
            first = first[:77] + "..."
        line = _source_line(source_path, src)
        where = f"cell {index}" + (f" (line {line})" if line else "")
        evalue = " ".join(str(exc.evalue).split())
        return (f"version {version}, chapter {label}, {where} `{first}`: "
                f"{exc.ename}: {evalue}")
    text = " ".join(str(exc).split()) or repr(exc)
    return f"version {version}, chapter {label}: {type(exc).__name__}: {text}"


def tag_for_site(nb) -> None:
    """Site presentation: parameters cells removed, code inputs hidden behind a toggle."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = list(cell.metadata.get("tags", []))
        if "parameters" in tags or "injected-parameters" in tags:
            if "remove-cell" not in tags:
                tags.append("remove-cell")
        elif not any(t in tags for t in ("remove-cell", "remove-input", "hide-input", "show-input")):
            tags.append("hide-input")
        cell.metadata["tags"] = tags


def _quiet_stderr():
    """Send fd 2 to /dev/null while a kernel runs (its start/stop chatter is noise); returns the saved fd."""
    import sys

    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        return saved
    except OSError:
        return None


def _restore_stderr(saved) -> None:
    if saved is not None:
        os.dup2(saved, 2)
        os.close(saved)


def kernel_options(address: str) -> dict:
    """papermill's (nbclient's) options for a kernel forked by the zygote at ``address``
    (:mod:`ixathaldex.site.kernels`); none (a new kernel process) for ""."""
    if not address:
        return {}
    from traitlets.config import Config

    return {"kernel_manager_class": KERNEL_MANAGER,
            "config": Config({"ForkedKernelManager": {"zygote_address": address}})}


def kernel_folder(job: NotebookJob) -> dict:
    """nbclient's ``resources`` naming the notebook's folder as its kernel's working folder (for a
    forked kernel, which papermill does not start in a folder it changed to); {} otherwise."""
    return {"resources": {"metadata": {"path": str(job.cwd)}}} if job.kernels else {}


def warm_worker() -> None:
    """What a papermill process imports for its first notebook, done as it starts (the build starts
    its processes beside the fork server's imports, when a core is free, not with the first notebook)."""
    import jupytext  # noqa: F401
    import nbclient  # noqa: F401
    import nbformat  # noqa: F401
    import papermill  # noqa: F401
    from traitlets.config import Config  # noqa: F401

    importlib.import_module(KERNEL_MANAGER.rpartition(".")[0])  # as nbclient will: by its name


def execute_job(job: NotebookJob) -> dict:
    """Execute one notebook into its cache file (atomically); a picklable result, never raises."""
    start = time.perf_counter()
    try:
        import nbformat
        import papermill

        nb = read_myst(job.source)
        if not any(c.cell_type == "code" and "parameters" in c.metadata.get("tags", []) for c in nb.cells):
            return {"ok": False, "seconds": 0.0,
                    "message": f"version {job.version}, chapter {job.label}: no code cell is tagged "
                               f"`parameters` (add `:tags: [parameters]` to the first code cell)"}
        job.output.parent.mkdir(parents=True, exist_ok=True)
        tmp = job.output.with_name(f".{job.output.stem}.{os.getpid()}.tmp.ipynb")
        # a forked kernel is started in the notebook's folder by the fork server and writes nothing to
        # our stderr: papermill then needs neither to change this process's folder nor to silence it,
        # so several notebooks can run in threads of one process (Workers)
        forked = bool(job.kernels)
        saved = None if forked else _quiet_stderr()
        try:
            executed = papermill.execute_notebook(
                nb, str(tmp), parameters=job.parameters, kernel_name="python3", language="python",
                cwd=None if forked else str(job.cwd), progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, start_timeout=KERNEL_START_TIMEOUT,
                **kernel_options(job.kernels), **kernel_folder(job),
            )
        except Exception as exc:  # noqa: BLE001 - turned into one readable message
            return {"ok": False, "seconds": time.perf_counter() - start,
                    "message": describe_failure(job.version, job.label, job.source, nb, exc)}
        finally:
            _restore_stderr(saved)
        tag_for_site(executed)
        nbformat.write(executed, str(tmp))
        os.replace(tmp, job.output)
        return {"ok": True, "seconds": time.perf_counter() - start}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "seconds": time.perf_counter() - start,
                "message": f"version {job.version}, chapter {job.label}: {type(exc).__name__}: {exc}"}
    finally:
        for stale in job.output.parent.glob(f".{job.output.stem}.{os.getpid()}.tmp.ipynb"):
            stale.unlink(missing_ok=True)


class Workers:
    """What runs papermill for one build (``n`` notebooks at once), started with the first batch that
    needs more than one and shared by the next ones; :meth:`close` stops it. With kernels forked by
    the fork server (``threads``), threads of the build's process: papermill only relays messages
    then, and a process of its own per notebook held ~50 MiB more each. Else processes, since
    papermill changes the process's working folder for a kernel it starts itself."""

    def __init__(self, n: int, threads: bool = False):
        self.n = n
        self.threads = threads
        self.pool: ProcessPoolExecutor | ThreadPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor | ThreadPoolExecutor:
        if self.pool is None and self.threads:
            # papermill's own warnings (unused parameters, kernel chatter) stay out of the build's output,
            # as its separate processes' stderr did
            papermill_log = logging.getLogger("papermill")
            papermill_log.addHandler(logging.NullHandler())
            papermill_log.propagate = False
            self.pool = ThreadPoolExecutor(max_workers=self.n, thread_name_prefix="papermill")
        elif self.pool is None:
            # spawn, not fork: the build validates snapshots in a thread meanwhile (fork + threads deadlock)
            self.pool = ProcessPoolExecutor(max_workers=self.n, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=warm_worker)
        return self.pool

    def start(self) -> None:
        """Start now, beside other work: the ``n`` processes (each does its imports as it starts,
        :func:`warm_worker`: with no process idle, each task submitted starts one), or the imports
        of papermill in a thread."""
        pool = self.get()
        for _ in range(1 if self.threads else self.n):
            pool.submit(warm_worker if self.threads else int)

    def release(self) -> None:
        """Let the processes exit now, without waiting for them (:meth:`close` still waits)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def run_jobs(jobs: list[NotebookJob], n_jobs: int = 1, report=None, zygote: Zygote | None = None,
             workers: Workers | None = None, when_idle=None) -> None:
    """Execute every job not in the cache (``n_jobs`` processes, the longest first); raise on the
    first failure. With a ``zygote`` (started here if needed), each kernel is forked by it; with
    ``workers``, the processes are theirs (else started and stopped here).

    ``report(job)`` is called once per job (cached or executed) for the progress lines;
    ``when_idle()`` once, as soon as a process has no notebook left to run (the build starts other
    work there: not before, where it would slow the longest notebook down).
    """
    todo = []
    for job in jobs:
        if job.cached:
            job.status, job.seconds = "cached", 0.0
            if report:
                report(job)
        else:
            todo.append(job)
    if not todo:
        return
    # the same key twice in one batch (identical inputs) is executed once
    unique: dict[str, NotebookJob] = {}
    for job in sorted(todo, key=expected_cost, reverse=True):
        unique.setdefault(job.key, job)
    if zygote is not None:
        for job in unique.values():
            job.kernels = zygote.address
    failures: list[str] = []
    if n_jobs <= 1 or len(unique) == 1:
        for job in unique.values():
            _finish(job, execute_job(job), todo, report, failures)
            if failures:
                break
    else:
        own = workers is None
        workers = Workers(n_jobs, threads=zygote is not None) if own else workers
        try:
            futures = {workers.get().submit(execute_job, job): job for job in unique.values()}
            pending = set(futures)
            while pending and not failures:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    _finish(futures[fut], fut.result(), todo, report, failures)
                if when_idle is not None and len(pending) < workers.n and not failures:
                    when_idle()
                    when_idle = None
            for fut in pending:  # the first failure stops the build: queued notebooks are not started
                fut.cancel()
        finally:
            if own:
                workers.close()
    if failures:
        raise BuildError(failures[0])


def expected_cost(job: NotebookJob) -> int:
    """How long a notebook is expected to run, for the order of execution (the longest first, so
    that it is not the last one running alone): the size of its source, a proxy measured to rank
    the survival chapter first (docs/pipeline.md)."""
    try:
        return job.source.stat().st_size
    except OSError:
        return 0


def _finish(job, result, todo, report, failures) -> None:
    if not result["ok"]:
        failures.append(result["message"])
        return
    for other in todo:
        if other.key == job.key:
            other.status = "executed" if other is job else "cached"
            other.seconds = result["seconds"] if other is job else 0.0
            if report:
                report(other)


def log_job(job: NotebookJob) -> None:
    logger.info("  %-10s %-32s %-8s %6.1f s", job.version, job.label, job.status, job.seconds)
