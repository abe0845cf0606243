"""The typed-snapshot cache: a snapshot's parsed tables, kept in the project's build folder.

Every process of a build that loads a snapshot (each chapter, the post pages, the build's collect
step) used to parse its four CSVs again; at 100,000 patients that is ~2 s of CPU and a peak of
~300 MiB each time. The first load writes the typed tables (before the study's definition columns
are added) to ``Project.typed_snapshots / <cut>-<key>.pickle``; later loads unpickle them in a
fraction of the time. ``load_snapshot`` checks the data files against the manifest before every
load, cached or not.

The key is the sha256 of the manifest's bytes (which hold the sha256 of every data file), the
digest of the package's code (the schema and the parsers are in it), the schema itself, the
versions of Python, pandas and numpy and :data:`CACHE_FORMAT`: a changed file with its manifest
rewritten, changed code or another pandas gives a new key, so a stale entry is never read. A
snapshot gets a cache file only when it lies in the current project's snapshot root and the
project has a build folder (the cache never creates ``_build/``); real data is cached only where
git would not pick it up (:mod:`ixathaldex.data.gitguard`). Any failure to read or write the cache
(missing, unreadable, truncated, written by another pandas) falls back to parsing the CSVs. The
entries are pickles: like the code itself, only the project's own builds may write that folder.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ixathaldex.data.gitguard import git_exposure
from ixathaldex.data.manifest import DATA_FILES, MANIFEST
from ixathaldex.data.schema import SCHEMA
from ixathaldex.exceptions import ProjectError
from ixathaldex.files import tree_digest, write_atomic
from ixathaldex.log import logger
from ixathaldex.paths import Project

#: bump when what is stored changes shape (it is part of every key)
CACHE_FORMAT = 1
PACKAGE_DIR = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """What the typed tables depend on besides the data: the package's code, the schema, the
    Python, pandas and numpy versions and the cache format (computed once per process)."""
    parts = [tree_digest(PACKAGE_DIR, "*.py"), repr(SCHEMA), sys.version, pd.__version__, np.__version__,
             f"format {CACHE_FORMAT}", f"pickle {pickle.HIGHEST_PROTOCOL}"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def typed_cache_key(folder: Path) -> str:
    """The cache key of the snapshot in ``folder``: its manifest's bytes and :func:`code_digest`."""
    manifest = (Path(folder) / MANIFEST).read_bytes()
    return hashlib.sha256(hashlib.sha256(manifest).digest() + code_digest().encode()).hexdigest()


def typed_cache_file(folder: Path, project: Project | None = None) -> Path | None:
    """Where the typed tables of the snapshot in ``folder`` are cached; None when they are not:
    no project, a project without a build folder, or a snapshot outside its snapshot root."""
    try:
        project = project or Project.current()
    except ProjectError:
        return None
    folder = Path(folder).resolve()
    if folder.parent != Path(project.snapshot_root).resolve() or not project.build_dir.is_dir():
        return None
    try:
        key = typed_cache_key(folder)
    except OSError:
        return None
    return project.typed_snapshots / f"{folder.name}-{key[:32]}.pickle"


def load_typed_tables(path: Path | None) -> dict[str, pd.DataFrame] | None:
    """The cached typed tables at ``path`` ({"adsl": …, …}); None when there is no usable entry."""
    if path is None or not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            stored = pickle.load(fh)
    except Exception as exc:  # noqa: BLE001 - truncated, unreadable or from another pandas: parse instead
        logger.debug("typed-snapshot cache %s unusable (%s): parsing the CSVs", path.name, exc)
        return None
    names = [name[:-4] for name in DATA_FILES]
    if not (isinstance(stored, dict) and stored.get("format") == CACHE_FORMAT
            and stored.get("key") == path.stem.rsplit("-", 1)[-1]
            and all(isinstance(stored.get("tables", {}).get(n), pd.DataFrame) for n in names)):
        logger.debug("typed-snapshot cache %s does not hold this snapshot's tables: parsing", path.name)
        return None
    return {n: stored["tables"][n] for n in names}


def write_typed_tables(path: Path | None, tables: dict[str, pd.DataFrame], synthetic: bool) -> bool:
    """Cache ``tables`` at ``path`` (atomically) and drop older entries of the same snapshot; True
    when written. Real data is not cached where git would pick it up; a failed write is only logged."""
    if path is None:
        return False
    if not synthetic and git_exposure(path):
        logger.debug("typed-snapshot cache %s: real data, and git would see it: not cached", path)
        return False
    key = path.stem.rsplit("-", 1)[-1]
    data = pickle.dumps({"format": CACHE_FORMAT, "key": key, "tables": tables}, protocol=5)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        for old in path.parent.glob(f"{path.stem.rsplit('-', 1)[0]}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        logger.debug("typed-snapshot cache %s not written (%s)", path, exc)
        return False
    return True
