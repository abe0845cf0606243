"""Derived frames kept in one process, keyed by their input's content (``derive_adsl``,
``derive_tte``, the survival page's subgroup tables).

A chapter derives the same analysis frame from the same input many times (``derive_adsl`` of the
ITT population some 20 times per snapshot). :class:`FrameCache` keeps the results of a pure
derivation keyed by :func:`frame_key`, the sha256 of the input's pickle: equal keys mean inputs no
derivation can tell apart (values with their types, dtypes, index, columns, attrs), so one
snapshot's frame is never returned for another's, nor for a frame changed in place. Every hit is a
new copy, so a caller that changes what it got changes nothing kept. :class:`ResultCache` does the
same for a derivation from several frames to any result (e.g. a pair of tables).
"""

from __future__ import annotations

import copy
import hashlib
import pickle
from collections import OrderedDict
from typing import Callable, Hashable

import pandas as pd


class _Sha256Writer:
    """A file that keeps nothing but the sha256 of what is written to it."""

    def __init__(self):
        self.sha = hashlib.sha256()

    def write(self, data) -> int:
        self.sha.update(data)
        return memoryview(data).nbytes


def frame_key(frame: pd.DataFrame) -> str:
    """The content of ``frame`` as a key (sha256 of its pickle, hashed as it is written: a large
    frame's pickle is never held whole). Two equal frames may still get different keys, e.g. once
    pandas has filled a lazy cache of a column (the cache then derives again: slower, never wrong)."""
    out = _Sha256Writer()
    pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(frame)
    return out.sha.hexdigest()


class FrameCache:
    """Results of one pure frame derivation, at most ``max_rows`` rows in all (oldest dropped first;
    a result longer than that is not kept)."""

    def __init__(self, max_rows: int):
        self.max_rows = max_rows
        self.kept: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()

    @property
    def rows(self) -> int:
        return sum(len(d) for d in self.kept.values())

    def clear(self) -> None:
        self.kept.clear()

    def derive(self, frame: pd.DataFrame, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
        """``fn(frame)``, from the cache when a frame of the same content was derived before (a copy)."""
        return self.derive_keyed(frame_key(frame), lambda: fn(frame))

    def derive_keyed(self, key: Hashable, fn: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """``fn()``, from the cache when ``key`` was derived before (a copy). ``key`` stands for the
        content of every input of ``fn`` (e.g. a tuple of :func:`frame_key` values and parameters)."""
        if key in self.kept:
            self.kept.move_to_end(key)
            return self.kept[key].copy()
        result = fn()
        if len(result) <= self.max_rows:
            self.kept[key] = result.copy()
            while self.rows > self.max_rows:
                self.kept.popitem(last=False)
        return result


class ResultCache:
    """Results of one pure derivation from several frames, the ``size`` most recent kept; the key
    is the content of every input frame (:func:`frame_key`), each hit a deep copy."""

    def __init__(self, size: int):
        self.size = size
        self.kept: OrderedDict[tuple[str, ...], object] = OrderedDict()

    def clear(self) -> None:
        self.kept.clear()

    def derive(self, frames: tuple[pd.DataFrame, ...], fn: Callable[..., object]) -> object:
        """``fn(*frames)``, from the cache when frames of the same content were derived before."""
        key = tuple(frame_key(f) for f in frames)
        if key not in self.kept:
            self.kept[key] = fn(*frames)
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)
        self.kept.move_to_end(key)
        return copy.deepcopy(self.kept[key])
