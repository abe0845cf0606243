"""Load and register data snapshots (data cuts): ``load_snapshot``, ``snapshot add``, ``snapshot list``.

Identity and checksums are :mod:`ixathaldex.data.manifest`; the rules a snapshot must pass are
:mod:`ixathaldex.data.validate`. Snapshots live under the project's snapshot root
(:class:`ixathaldex.paths.Project`).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ixathaldex.data.manifest import (
    DATA_FILES,
    check_cut_id,
    list_snapshots,
    read_manifest,
    short_checksum,
    snapshot_dir,
    write_manifest,
)
from ixathaldex.data.schema import coerce_types
from ixathaldex.data.validate import check_snapshot, manifest_problems
from ixathaldex.exceptions import SnapshotError, ValidationError
from ixathaldex.log import logger
from ixathaldex.paths import Project


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
    folder = snapshot_dir(cut, root or Project.current().snapshot_root)
    if validate:
        check_snapshot(folder)
    else:
        problems = manifest_problems(folder)
        if problems:
            raise ValidationError(problems)
    manifest = read_manifest(folder)
    tables = {
        name[:-4]: pd.read_csv(folder / name, dtype=str, keep_default_na=False, na_values=[""])
        for name in DATA_FILES
    }
    tables = {k: coerce_types(k, v) for k, v in tables.items()}
    return Snapshot(cut=cut, path=folder, manifest=manifest, **tables)


def add_snapshot(source: Path, cut: str, label: str, root: Path | None = None,
                 synthetic: bool = False, provenance: dict | None = None) -> Path:
    """Validate ``source``'s four CSVs and register them as the new snapshot ``cut``.

    The files are copied into a temporary folder beside the destination, the manifest is
    written, the copy is validated, and only then is it renamed into place. An existing cut is
    never overwritten.
    """
    check_cut_id(cut)
    root = Path(root or Project.current().snapshot_root)
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
        for cut in list_snapshots(Project.current().snapshot_root):
            print(cut)
        return 0
    dest = add_snapshot(args.folder, args.cut, args.label, root=args.root, synthetic=args.synthetic)
    print(f"snapshot {args.cut} written to {dest}; run `make site` to publish it")
    return 0
