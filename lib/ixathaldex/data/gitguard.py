"""Real data never lands in git: where ``snapshot add`` may write a snapshot that is not synthetic.

A snapshot whose manifest says ``synthetic: false`` may only be written where git will not pick it
up: outside any git checkout, or at a path the checkout ignores and does not track
(``git check-ignore`` / ``git ls-files``, run in the checkout that holds the destination). The
default place for real data is ``data/real/`` (ignored by the project's ``.gitignore``); set
``ixathaldex: snapshot_root:`` in ``_config.yml`` to use it (see ``docs/real-data.md``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ixathaldex.exceptions import SnapshotError


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess | None:
    if shutil.which("git") is None:
        return None
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None


def git_exposure(path: Path) -> str | None:
    """Why git would pick up a file at ``path`` ("tracked" / "not ignored by <top>"), or None when
    the path is ignored, or outside any git checkout."""
    path = Path(path).absolute()
    probe = next((p for p in (path, *path.parents) if p.is_dir()), None)
    if probe is None:
        return None
    top = _git(probe, "rev-parse", "--show-toplevel")
    if top is None or top.returncode != 0 or not top.stdout.strip():
        return None  # not a git checkout: nothing can be committed by accident
    root = Path(top.stdout.strip()).resolve()
    try:
        rel = path.resolve().relative_to(root).as_posix()
    except ValueError:
        return None
    tracked = _git(root, "ls-files", "--", rel)
    if tracked is not None and tracked.stdout.strip():
        return f"{rel} is tracked by the git checkout {root}"
    ignored = _git(root, "check-ignore", "-q", "--", rel)
    if ignored is not None and ignored.returncode == 1:
        return f"{rel} is not ignored by the git checkout {root}"
    return None


def check_private_destination(dest: Path) -> None:
    """Raise unless real (non-synthetic) data may be written to the snapshot folder ``dest``."""
    why = git_exposure(Path(dest) / "adsl.csv")
    if why:
        raise SnapshotError(
            f"refusing to write real (non-synthetic) data to {dest}: {why}, so it could be committed. "
            "Write real snapshots under an ignored folder: set `ixathaldex: snapshot_root: data/real` in "
            "_config.yml (data/real/ is in .gitignore) or pass --root to a folder outside the checkout "
            "(see docs/real-data.md)")
