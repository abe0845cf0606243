"""Find, load and register data snapshots (data cuts); the manifest with its checksums.

A snapshot is a folder ``data/snapshots/<YYYY-MM-DD>/`` (see ``docs/data-model.md``). It is
immutable once written: every file's sha256 is recorded in ``manifest.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .exceptions import SnapshotError
from .log import logger

DATA_FILES = ("adsl.csv", "adtte.csv", "adrs.csv", "adae.csv")
MANIFEST = "manifest.json"
CUT_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: the project root (…/lib/ixathaldex/snapshot.py -> …)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_ROOT = PROJECT_ROOT / "data" / "snapshots"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_cut_id(cut: str) -> str:
    """Return ``cut`` if it is a valid cut id (an ISO date, never a path), else raise."""
    if not isinstance(cut, str) or not CUT_PATTERN.match(cut):
        raise SnapshotError(f"snapshot id {cut!r}: must be a cut-off date YYYY-MM-DD, not a path")
    try:
        dt.date.fromisoformat(cut)
    except ValueError as exc:
        raise SnapshotError(f"snapshot id {cut!r}: not a calendar date ({exc})") from None
    return cut


def list_snapshots(root: Path | None = None) -> list[str]:
    """Cut ids of every snapshot folder under ``root``, oldest first."""
    root = Path(root or SNAPSHOT_ROOT)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and CUT_PATTERN.match(p.name))


def snapshot_dir(cut: str, root: Path | None = None) -> Path:
    """Folder of a known snapshot; raises if ``cut`` is not a snapshot id under ``root``."""
    check_cut_id(cut)
    root = Path(root or SNAPSHOT_ROOT)
    path = root / cut
    if not path.is_dir():
        known = ", ".join(list_snapshots(root)) or "none"
        raise SnapshotError(f"unknown snapshot {cut!r} under {root} (known: {known})")
    return path


def build_manifest(folder: Path, cutoff: str, label: str, synthetic: bool, provenance: dict) -> dict:
    """The manifest of ``folder``'s data files (checksums and row counts), not yet written."""
    folder = Path(folder)
    files = {}
    for name in DATA_FILES:
        path = folder / name
        if not path.is_file():
            raise SnapshotError(f"{path}: missing data file")
        with open(path, "rb") as fh:
            rows = max(sum(1 for _ in fh) - 1, 0)
        files[name] = {"sha256": sha256_file(path), "rows": rows}
    return {
        "snapshot": cutoff,
        "cutoff_date": cutoff,
        "label": label,
        "synthetic": bool(synthetic),
        "provenance": provenance,
        "files": files,
    }


def write_manifest(folder: Path, cutoff: str, label: str, synthetic: bool, provenance: dict) -> dict:
    """Write ``manifest.json`` for ``folder`` (stable key order, trailing newline) and return it."""
    manifest = build_manifest(folder, cutoff, label, synthetic, provenance)
    text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
    (Path(folder) / MANIFEST).write_text(text, encoding="utf-8")
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


def manifest_problems(folder: Path, cut: str | None = None) -> list[str]:
    """Checksum and identity mismatches between a folder's files and its manifest, one line each.

    A file whose sha256 differs from the manifest means published data was edited: the message
    says snapshots are immutable and to add a new cut instead (see ``validate.manifest_checks``).
    """
    from .validate import manifest_checks

    return [str(p) for p in manifest_checks(Path(folder), cut)[1]]


def short_checksum(manifest: dict) -> str:
    """A 12-hex-digit fingerprint of a snapshot: sha256 over its files' checksums."""
    joined = "".join(f"{k}:{v['sha256']};" for k, v in sorted(manifest["files"].items()))
    return hashlib.sha256(joined.encode()).hexdigest()[:12]


@dataclass
class Snapshot:
    """A loaded data cut: the four ADaM tables and the manifest."""

    cut: str
    path: Path
    manifest: dict
    adsl: "object" = field(repr=False)
    adtte: "object" = field(repr=False)
    adrs: "object" = field(repr=False)
    adae: "object" = field(repr=False)

    @property
    def cutoff(self) -> dt.date:
        return dt.date.fromisoformat(self.manifest["cutoff_date"])

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    @property
    def checksum(self) -> str:
        return short_checksum(self.manifest)


def load_snapshot(cut: str, root: Path | None = None, validate: bool = True) -> Snapshot:
    """Load a snapshot by cut id (validated first unless ``validate=False``)."""
    import pandas as pd

    folder = snapshot_dir(cut, root)
    if validate:
        from .validate import check_snapshot

        check_snapshot(folder)
    else:
        problems = manifest_problems(folder)
        if problems:
            from .exceptions import ValidationError

            raise ValidationError(problems)
    manifest = read_manifest(folder)
    tables = {
        name[:-4]: pd.read_csv(folder / name, dtype=str, keep_default_na=False, na_values=[""])
        for name in DATA_FILES
    }
    from .validate import coerce_types

    tables = {k: coerce_types(k, v) for k, v in tables.items()}
    return Snapshot(cut=cut, path=folder, manifest=manifest, **tables)


def add_snapshot(source: Path, cut: str, label: str, root: Path | None = None,
                 synthetic: bool = False, provenance: dict | None = None) -> Path:
    """Validate ``source``'s four CSVs and register them as the new snapshot ``cut``.

    The files are copied into a temporary folder beside the destination, the manifest is
    written, the copy is validated, and only then is it renamed into place. An existing cut is
    never overwritten.
    """
    from .validate import check_snapshot

    check_cut_id(cut)
    root = Path(root or SNAPSHOT_ROOT)
    dest = root / cut
    if dest.exists():
        raise SnapshotError(
            f"snapshot {cut!r} already exists at {dest}; snapshots are immutable — choose a new cut date"
        )
    source = Path(source)
    missing = [n for n in DATA_FILES if not (source / n).is_file()]
    if missing:
        raise SnapshotError(f"{source}: missing data file(s) {', '.join(missing)}")
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"_tmp-{cut}-", dir=root))
    try:
        for name in DATA_FILES:
            shutil.copyfile(source / name, tmp / name)
        write_manifest(tmp, cut, label, synthetic,
                       provenance or {"source": str(source.resolve()), "added": dt.date.today().isoformat()})
        check_snapshot(tmp, cut=cut)
        if dest.exists():  # appeared while we validated: never replace it
            raise SnapshotError(f"snapshot {cut!r} appeared at {dest} meanwhile; nothing was written")
        tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    logger.info("added snapshot %s at %s", cut, dest)
    return dest


# ---- command line: `ixathaldex snapshot add FOLDER --cut DATE --label TEXT` -------------------

def configure_parser(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="validate a folder of ADaM CSVs and register it as a new cut")
    add.add_argument("folder", type=Path, help="folder holding adsl.csv, adtte.csv, adrs.csv, adae.csv")
    add.add_argument("--cut", required=True, help="cut-off date YYYY-MM-DD (the new snapshot id)")
    add.add_argument("--label", required=True, help="human label shown on the site")
    add.add_argument("--root", type=Path, default=None, help="snapshot root (default data/snapshots)")
    add.add_argument("--synthetic", action="store_true", help="mark the data as synthetic")
    sub.add_parser("list", help="list the snapshots")


def run(args) -> int:
    if args.action == "list":
        for cut in list_snapshots():
            print(cut)
        return 0
    dest = add_snapshot(args.folder, args.cut, args.label, root=args.root, synthetic=args.synthetic)
    print(f"snapshot {args.cut} written to {dest}; run `make site` to publish it")
    return 0
