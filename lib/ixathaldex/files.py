"""Bytes on disk: the one sha256 helper family and the one write-then-rename helper.

Every module that fingerprints a file or a folder, or replaces a file so that a reader never sees
half of it, uses these functions.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes (read in blocks: snapshots can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digest(path: Path) -> str:
    """Hex sha256 of a file's bytes, "" for a missing file."""
    path = Path(path)
    return sha256_file(path) if path.is_file() else ""


def tree_digest(folder: Path, pattern: str = "*") -> str:
    """sha256 over the relative path and bytes of every file under ``folder`` matching ``pattern``
    ("missing" for a missing folder); ``__pycache__`` is skipped."""
    folder = Path(folder)
    if not folder.exists():
        return "missing"
    h = hashlib.sha256()
    for path in sorted(folder.rglob(pattern)):
        if "__pycache__" in path.parts:
            continue
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        if path.is_file():
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary sibling and a rename (readers never see a
    partial file; a failed write leaves the old file as it was)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_if_changed(path: Path, text: str) -> bool:
    """Atomically write ``text`` unless the file already holds it; True when it was written."""
    path = Path(path)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_atomic(path, text)
    return True


def mtime_ns(path: Path) -> int | None:
    """The modification time of ``path`` in nanoseconds; None when it does not exist."""
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return None
