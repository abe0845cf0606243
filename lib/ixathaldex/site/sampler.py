"""The peak memory of a build shown by `make bench`: its whole process tree, sampled.

A build is many processes (the command, the papermill workers, the kernels' fork server and its
kernels, jupyter-book, Chromium): the peak of one of them says little. :class:`TreeSampler` reads,
every ``interval`` seconds, the memory of the command's process and of all its descendants (psutil),
and keeps the largest sum seen of each measure:

- ``rss``: resident set size, summed. Pages shared between processes (the fork server's imports and
  held snapshot, shared libraries) are counted once per process that maps them: an upper bound
  that grows with every kernel forked, although the page exists once;
- ``pss``: proportional set size (a shared page divided among its sharers), summed: the memory the
  tree really occupies, **the reading the 1 GB limit of docs/pipeline.md is held to** (since the
  end of issue 13; the summed RSS before);
- ``uss``: unique set size (pages of one process alone), summed: what ending the tree frees at least.

PSS and USS come from ``/proc/<pid>/smaps_rollup`` (Linux; absent elsewhere: then ``None``). A
process that appears and ends between two samples is not seen: the figures are a lower bound of
the true peak, closer the shorter the interval.
"""

from __future__ import annotations

import resource
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psutil

MIB = 1024 * 1024


#: what a process of a build is, by its command line: (kind, words any of which names it), first match wins
KINDS = (("kernel", ("ipykernel_launcher",)), ("papermill worker", ("multiprocessing", "spawn_main")),
         ("jupyter-book", ("jupyter-book", "jupyter_book", "sphinx")), ("chromium", ("chrom", "headless")))


def process_kind(proc: psutil.Process, root_pid: int) -> str:
    """The kind of one process of a build's tree: ``build`` (the root), ``zygote``, ``kernel`` (a
    fresh one, or one forked by the zygote), ``papermill worker``, ``jupyter-book``, ``chromium``
    or ``other``."""
    if proc.pid == root_pid:
        return "build"
    try:
        cmd = " ".join(proc.cmdline())
        parent = proc.parent()
        parent_cmd = " ".join(parent.cmdline()) if parent else ""
    except psutil.Error:
        return "other"
    if "ixathaldex.site.zygote" in cmd:
        return "kernel" if "ixathaldex.site.zygote" in parent_cmd else "zygote"
    return next((kind for kind, words in KINDS if any(w in cmd for w in words)), "other")


def tree_memory(root: psutil.Process, full: bool = True) -> dict:
    """The summed ``rss`` (and ``pss``, ``uss`` when ``full`` and available) of ``root`` and all its
    descendants now, in bytes, with ``processes``, their count."""
    try:
        procs = [root] + root.children(recursive=True)
    except psutil.Error:
        procs = [root]
    total = {"rss": 0, "pss": 0 if full else None, "uss": 0 if full else None, "processes": 0}
    for proc in procs:
        try:
            info = proc.memory_full_info() if full else proc.memory_info()
        except psutil.AccessDenied:
            try:
                info, total["pss"], total["uss"] = proc.memory_info(), None, None
            except psutil.Error:
                continue
        except psutil.Error:  # ended meanwhile
            continue
        total["rss"] += info.rss
        for key in ("pss", "uss"):
            if total[key] is not None:
                value = getattr(info, key, None)
                total[key] = None if value is None else total[key] + value
        total["processes"] += 1
    return total


class TreeSampler:
    """Samples :func:`tree_memory` of process ``pid`` in a thread until :meth:`stop`; the peaks
    (MiB) in :attr:`peaks`. Use as a context manager around the process's life."""

    def __init__(self, pid: int, interval: float = 0.15):
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peaks = {"rss_mib": 0.0, "pss_mib": None, "uss_mib": None, "processes": 0, "samples": 0}
        self.cpu: dict[tuple, tuple] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, name="tree-sampler", daemon=True)

    def sample(self) -> None:
        self.sample_cpu()
        now = tree_memory(self.root)
        peaks = self.peaks
        peaks["rss_mib"] = max(peaks["rss_mib"], now["rss"] / MIB)
        for key in ("pss", "uss"):
            if now[key] is not None:
                peaks[f"{key}_mib"] = max(peaks[f"{key}_mib"] or 0.0, now[key] / MIB)
        peaks["processes"] = max(peaks["processes"], now["processes"])
        peaks["samples"] += 1

    def sample_cpu(self) -> None:
        """The CPU seconds seen so far of every process of the tree, with its kind."""
        try:
            procs = [self.root] + self.root.children(recursive=True)
        except psutil.Error:
            return
        for proc in procs:
            try:
                times = proc.cpu_times()
                key = (proc.pid, proc.create_time())
            except psutil.Error:
                continue
            kind = self.cpu[key][0] if key in self.cpu else process_kind(proc, self.root.pid)
            self.cpu[key] = (kind, times.user + times.system)

    def cpu_by_kind(self) -> dict:
        """CPU seconds per kind of process (as last sampled: a process's last 0.1-0.2 s may be missed,
        and one that lived less than a sampling interval is not seen), with the count of each."""
        out: dict[str, dict] = {}
        for kind, seconds in self.cpu.values():
            row = out.setdefault(kind, {"seconds": 0.0, "processes": 0})
            row["seconds"] += seconds
            row["processes"] += 1
        return out

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(self.interval)

    def __enter__(self) -> "TreeSampler":
        self.thread.start()
        return self

    def stop(self) -> dict:
        self.done.set()
        self.thread.join()
        return self.peaks

    def __exit__(self, *exc) -> None:
        self.stop()


class CpuClock:
    """CPU seconds (user + system) of the processes this one waits for meanwhile, their own waited-for
    descendants included (a kernel reaped by the fork server counts): unlike the wall time, hardly
    changed by the machine's load."""

    def __enter__(self) -> "CpuClock":
        self.start = self.read()
        self.seconds = 0.0
        return self

    @staticmethod
    def read() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def __exit__(self, *exc) -> None:
        self.seconds = self.read() - self.start


def run_measured(cmd: list[str], cwd: Path, env: dict) -> dict:
    """Run ``cmd``; its exit code ``rc``, wall ``seconds``, ``output`` (stdout and stderr), the peaks
    of its process tree (``tree_rss_mib``, ``tree_pss_mib``, ``tree_uss_mib``), its ``cpu`` seconds
    (:class:`CpuClock`) and ``cpu_by_kind`` (:meth:`TreeSampler.cpu_by_kind`)."""
    t = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        with TreeSampler(proc.pid) as sampler, CpuClock() as cpu:
            proc.wait()
        seconds = time.perf_counter() - t
        out.seek(0)
        text = out.read()
    peaks = {f"tree_{key}": sampler.peaks.get(key) for key in ("rss_mib", "pss_mib", "uss_mib")}
    return {"rc": proc.returncode, "seconds": seconds, "output": text, **peaks, "cpu": cpu.seconds,
            "cpu_by_kind": sampler.cpu_by_kind()}
