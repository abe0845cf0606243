"""The peak memory of a build shown by `make bench`: its whole process tree, sampled.

A build is many processes (the command, the papermill workers, the kernels' fork server and its
kernels, jupyter-book, Chromium): the peak of one of them says little. :class:`TreeSampler` reads,
every ``interval`` seconds, the memory of the command's process and of all its descendants (psutil),
and keeps the largest sum seen of each measure:

- ``rss``: resident set size, summed. Pages shared between processes (the fork server's imports,
  shared libraries) are counted once per process: the conservative reading, **the one the 1 GB
  limit of docs/pipeline.md is read against**;
- ``pss``: proportional set size (a shared page divided among its sharers), summed: the memory the
  tree really occupies;
- ``uss``: unique set size (pages of one process alone), summed: what ending the tree frees at least.

PSS and USS come from ``/proc/<pid>/smaps_rollup`` (Linux; absent elsewhere: then ``None``). A
process that appears and ends between two samples is not seen: the figures are a lower bound of
the true peak, closer the shorter the interval.
"""

from __future__ import annotations

import threading

import psutil

MIB = 1024 * 1024


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
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, name="tree-sampler", daemon=True)

    def sample(self) -> None:
        now = tree_memory(self.root)
        peaks = self.peaks
        peaks["rss_mib"] = max(peaks["rss_mib"], now["rss"] / MIB)
        for key in ("pss", "uss"):
            if now[key] is not None:
                peaks[f"{key}_mib"] = max(peaks[f"{key}_mib"] or 0.0, now[key] / MIB)
        peaks["processes"] = max(peaks["processes"], now["processes"])
        peaks["samples"] += 1

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
