"""Snapshot identity: cut ids, the snapshot folders of a root, and the manifest with its checksums.

A snapshot is a folder ``<snapshot root>/<YYYY-MM-DD>/`` (see ``docs/data-model.md``). It is
immutable once written: every file's sha256 is recorded in ``manifest.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

from ixathaldex.exceptions import SnapshotError
from ixathaldex.files import sha256_file, write_atomic

DATA_FILES = ("adsl.csv", "adtte.csv", "adrs.csv", "adae.csv")
MANIFEST = "manifest.json"
#: the copy of the study mapping kept in a snapshot made with ``snapshot add --map``
MAPPING_COPY = "mapping.yaml"
#: the study's own analysis definitions kept in a snapshot (``ixathaldex.data.definitions``)
DEFINITIONS_COPY = "definitions.yaml"
CUT_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_cut_id(cut: str) -> str:
    """Return ``cut`` if it is a valid cut id (an ISO date, never a path), else raise."""
    if not isinstance(cut, str) or not CUT_PATTERN.match(cut):
        raise SnapshotError(f"snapshot id {cut!r}: must be a cut-off date YYYY-MM-DD, not a path")
    try:
        dt.date.fromisoformat(cut)
    except ValueError as exc:
        raise SnapshotError(f"snapshot id {cut!r}: not a calendar date ({exc})") from None
    return cut


def list_snapshots(root: Path) -> list[str]:
    """Cut ids of every snapshot folder under ``root``, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and CUT_PATTERN.match(p.name))


def snapshot_dir(cut: str, root: Path) -> Path:
    """Folder of a known snapshot; raises if ``cut`` is not a snapshot id under ``root``."""
    check_cut_id(cut)
    root = Path(root)
    path = root / cut
    if not path.is_dir():
        known = ", ".join(list_snapshots(root)) or "none"
        raise SnapshotError(f"unknown snapshot {cut!r} under {root} (known: {known})")
    return path


def build_manifest(folder: Path, cutoff: str, label: str, synthetic: bool, provenance: dict,
                   sources: dict | None = None) -> dict:
    """The manifest of ``folder``'s data files (checksums and row counts), not yet written.

    ``sources`` (real data): the delivered files by NAME (never a path) with dataset, format and
    sha256. A copy of the study mapping in the folder (``mapping.yaml``) is listed under ``files``
    (so that it is immutable like the data) and under ``mapping``; the study's analysis
    definitions (``definitions.yaml``) likewise, under ``files`` and ``definitions``.
    """
    folder = Path(folder)
    files = {}
    for name in DATA_FILES:
        path = folder / name
        if not path.is_file():
            raise SnapshotError(f"{path}: missing data file")
        with open(path, "rb") as fh:
            rows = max(sum(1 for _ in fh) - 1, 0)
        files[name] = {"sha256": sha256_file(path), "rows": rows}
    manifest = {
        "snapshot": cutoff,
        "cutoff_date": cutoff,
        "label": label,
        "synthetic": bool(synthetic),
        "provenance": provenance,
    }
    if sources is not None:
        manifest["sources"] = sources
    for key, copy in (("mapping", MAPPING_COPY), ("definitions", DEFINITIONS_COPY)):
        if (folder / copy).is_file():
            digest = sha256_file(folder / copy)
            manifest[key] = {"file": copy, "sha256": digest}
            files[copy] = {"sha256": digest}
    manifest["files"] = files
    return manifest


def write_manifest(folder: Path, cutoff: str, label: str, synthetic: bool, provenance: dict,
                   sources: dict | None = None) -> dict:
    """Write ``manifest.json`` for ``folder`` (stable key order, trailing newline) and return it."""
    manifest = build_manifest(folder, cutoff, label, synthetic, provenance, sources)
    write_atomic(Path(folder) / MANIFEST, json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return manifest


def read_manifest(folder: Path) -> dict:
    """The parsed manifest of a snapshot folder."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise SnapshotError(f"{path}: missing manifest")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{path}: not valid JSON ({exc})") from None


def short_checksum(manifest: dict) -> str:
    """A 12-hex-digit fingerprint of a snapshot: sha256 over its files' checksums."""
    joined = "".join(f"{k}:{v['sha256']};" for k, v in sorted(manifest["files"].items()))
    return hashlib.sha256(joined.encode()).hexdigest()[:12]
