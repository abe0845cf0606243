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

from ixathaldex.data.definitions import COLUMN_PREFIX, derive_definition_columns, format_definitions_file, \
    load_definitions
from ixathaldex.data.gitguard import check_private_destination
from ixathaldex.data.manifest import (
    DATA_FILES,
    DEFINITIONS_COPY,
    MAPPING_COPY,
    check_cut_id,
    list_snapshots,
    read_manifest,
    short_checksum,
    snapshot_dir,
    write_manifest,
)
from ixathaldex.data.mapping import DATASETS, StudyMapping, load_mapping
from ixathaldex.data.notes import snapshot_notes
from ixathaldex.data.readers import find_source, read_source, write_canonical
from ixathaldex.data.schema import coerce_types, read_table
from ixathaldex.data.transfer import derive_transfer, format_transfer
from ixathaldex.data.typed_cache import load_typed_tables, typed_cache_file, typed_cache_key, write_typed_tables
from ixathaldex.data.validate import check_snapshot, manifest_problems, validate_snapshot
from ixathaldex.exceptions import SnapshotError, ValidationError
from ixathaldex.files import sha256_file
from ixathaldex.log import logger
from ixathaldex.paths import Project


@dataclass
class Snapshot:
    """A loaded data cut: the four ADaM tables, the manifest, and the study's own analysis
    definitions (``definitions``, ``{}`` = the defaults; their flags are the ADSL columns
    ``definition:<name>``, see :mod:`ixathaldex.data.definitions`)."""

    cut: str
    path: Path
    manifest: dict
    adsl: "object" = field(repr=False)
    adtte: "object" = field(repr=False)
    adrs: "object" = field(repr=False)
    adae: "object" = field(repr=False)
    definitions: dict = field(default_factory=dict)

    @property
    def cutoff(self) -> dt.date:
        return dt.date.fromisoformat(self.manifest["cutoff_date"])

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    @property
    def checksum(self) -> str:
        return short_checksum(self.manifest)

    @property
    def mapping_text(self) -> str | None:
        """The study mapping this snapshot was made with (the kept copy), None if it had none."""
        if not self.manifest.get("mapping"):
            return None
        return (self.path / MAPPING_COPY).read_text(encoding="utf-8")


#: snapshots loaded ahead of need by :func:`hold_snapshots`, by (folder, typed-cache key): the next
#: :func:`load_snapshot` of the cut in this process takes it (once) instead of reading it again
HELD: dict[tuple[str, str], Snapshot] = {}


def hold_snapshots(cuts: list[str], root: str | Path | None = None) -> list[str]:
    """Load each of ``cuts`` now (without validation) and hold it for the next :func:`load_snapshot`
    of that cut; the cuts held. The kernels' fork server calls this before it forks the chapters'
    kernels: each kernel's load then takes its copy-on-write share of one loaded snapshot, instead of
    each kernel holding a copy of its own (at 100,000 patients ~150 MiB per kernel). A cut that
    cannot be loaded is not held (the chapter that loads it reports why)."""
    held = []
    for cut in cuts:
        try:
            snap = load_snapshot(cut, root=Path(root) if root else None, validate=False)
            HELD[_held_key(snap.path)] = snap
        except (SnapshotError, ValidationError, OSError):
            continue
        held.append(cut)
    return held


def release_snapshots() -> list[str]:
    """Drop the snapshots held by :func:`hold_snapshots` (no kernel is forked any more); their cuts."""
    cuts = [snap.cut for snap in HELD.values()]
    HELD.clear()
    return cuts


def _held_key(folder: Path) -> tuple[str, str]:
    """Which snapshot a held one is: its folder and :func:`typed_cache_key` (its manifest's bytes and
    the package's code), so a changed snapshot or code never gets a stale one."""
    return str(Path(folder).resolve()), typed_cache_key(folder)


def load_snapshot(cut: str, root: Path | None = None, validate: bool = True) -> Snapshot:
    """Load a snapshot by cut id (validated first unless ``validate=False``; its files are checked
    against the manifest either way). It is the one held by :func:`hold_snapshots` when there is
    one (taken once: a second load reads again); else the typed tables come from the typed-snapshot
    cache when it holds them (:mod:`ixathaldex.data.typed_cache`), else from the CSVs, which then fill it."""
    folder = snapshot_dir(cut, root or Project.current().snapshot_root)
    if validate:
        check_snapshot(folder)
    else:
        problems = manifest_problems(folder)
        if problems:
            raise ValidationError(problems)
    if HELD:
        held = HELD.pop(_held_key(folder), None)
        if held is not None:
            return held
    manifest = read_manifest(folder)
    cached = typed_cache_file(folder)
    tables = load_typed_tables(cached)
    if tables is None:
        tables = {name[:-4]: _read_typed(folder, name[:-4]) for name in DATA_FILES}
        write_typed_tables(cached, tables, synthetic=bool(manifest.get("synthetic")))
    taken = [c for c in tables["adsl"].columns if str(c).startswith(COLUMN_PREFIX)]
    if taken:
        raise SnapshotError(f"{folder.name}/adsl.csv: column {taken[0]!r} uses the reserved prefix "
                            f"{COLUMN_PREFIX!r} (docs/real-data.md)")
    definitions = load_definitions(folder)
    for name, column in derive_definition_columns(tables["adsl"], definitions).items():
        tables["adsl"][name] = column
    return Snapshot(cut=cut, path=folder, manifest=manifest, definitions=definitions, **tables)


def _read_typed(folder: Path, table: str) -> pd.DataFrame:
    """One table of a snapshot with the analysis types (:func:`ixathaldex.data.schema.coerce_types`)."""
    raw, problems = read_table(folder / f"{table}.csv")  # a file that is no clean CSV: its problems, not a parser trace
    if raw is None:
        raise ValidationError(problems)
    return coerce_types(table, raw)


def _plain_sources(source: Path) -> dict[str, Path]:
    """The four datasets of a folder without a mapping (adsl.csv / .xpt / .json / .ndjson …)."""
    found = {name: find_source(source, name) for name in DATASETS}
    missing = [f"{n}.csv" for n, p in found.items() if p is None]
    if missing:
        raise SnapshotError(f"{source}: missing data file(s) {', '.join(missing)}")
    return found


def _write_plain(found: dict[str, Path], tmp: Path) -> dict:
    """Copy canonical CSVs byte for byte; read anything else (XPT, JSON, BOM or CRLF) and write it in
    the canonical form. Returns the manifest's ``sources``."""
    sources = {}
    for name, path in found.items():
        data = path.read_bytes() if path.suffix.lower() == ".csv" else None
        if data is not None and not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data:
            shutil.copyfile(path, tmp / f"{name}.csv")
            sources[path.name] = {"dataset": name, "format": "csv", "sha256": sha256_file(path)}
            continue
        src = read_source(path)
        write_canonical(src.data, tmp / f"{name}.csv")
        sources[path.name] = {"dataset": name, "format": src.format, "sha256": src.sha256}
    return sources


def _write_mapped(mapped: dict, mapping: StudyMapping, tmp: Path) -> dict:
    for name, d in mapped.items():
        write_canonical(d.table, tmp / f"{name}.csv")
    (tmp / MAPPING_COPY).write_text(mapping.text, encoding="utf-8")
    if mapping.definitions:
        (tmp / DEFINITIONS_COPY).write_text(format_definitions_file(mapping.definitions), encoding="utf-8")
    return {d.source.name: {"dataset": name, "format": d.source.format, "sha256": d.source.sha256}
            for name, d in mapped.items()}


def add_snapshot(source: Path, cut: str, label: str, root: Path | None = None,
                 synthetic: bool = False, provenance: dict | None = None,
                 mapping: Path | None = None) -> Path:
    """Validate ``source``'s four datasets and register them as the new snapshot ``cut``.

    With ``mapping`` (a study mapping file, ``docs/real-data.md``) the sponsor's datasets are mapped
    first and the mapping is kept as ``mapping.yaml``. The files are written into a temporary
    folder beside the destination, the manifest is written (source file names, formats and
    checksums, never a path), the copy is validated, and only then is it renamed into place. An
    existing cut is never overwritten; real data is never written where git would pick it up.
    """
    check_cut_id(cut)
    root = Path(root or Project.current().snapshot_root)
    dest = root / cut
    if dest.exists():
        raise SnapshotError(
            f"snapshot {cut!r} already exists at {dest}; snapshots are immutable — choose a new cut date"
        )
    source = Path(source)
    study = load_mapping(mapping) if mapping else None
    mapped = derive_transfer(source, study) if study else None
    found = None if study else _plain_sources(source)
    if not synthetic:
        check_private_destination(dest)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"_tmp-{cut}-", dir=root))
    try:
        sources = _write_mapped(mapped, study, tmp) if study else _write_plain(found, tmp)
        write_manifest(tmp, cut, label, synthetic,
                       provenance or {"added": dt.date.today().isoformat()}, sources=sources)
        check_snapshot(tmp, cut=cut)
        if dest.exists():  # appeared while we validated: never replace it
            raise SnapshotError(f"snapshot {cut!r} appeared at {dest} meanwhile; nothing was written")
        tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    logger.info("added snapshot %s at %s", cut, dest)
    return dest


def check_transfer(source: Path, cut: str, mapping: Path | None = None) -> tuple[str, list, list]:
    """The dry run of ``snapshot add --check``: (what maps to what, problems, notes). Nothing is
    written into the project: the mapped tables are validated in a private temporary folder of the
    system that is removed at once."""
    source = Path(source)
    check_cut_id(cut)
    if mapping:
        study = load_mapping(mapping)
        mapped = derive_transfer(source, study)
        report = format_transfer(mapped, study)
    else:
        found = _plain_sources(source)
        report = "\n".join(f"{n}.csv <- {p.name}" for n, p in found.items())
    with tempfile.TemporaryDirectory(prefix="ixathaldex-check-") as tmp:
        _write_mapped(mapped, study, Path(tmp)) if mapping else _write_plain(found, Path(tmp))
        problems = validate_snapshot(Path(tmp), cut=cut, manifest=False)
        notes = snapshot_notes(Path(tmp))
    return report, problems, notes


# ---- command line: `ixathaldex snapshot add FOLDER --cut DATE --label TEXT [--map FILE] [--check]` --

def configure_parser(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="validate a folder of datasets and register it as a new cut")
    add.add_argument("folder", type=Path, help="folder holding adsl, adtte, adrs, adae (.csv, .xpt, "
                     ".json or .ndjson), or a sponsor's transfer named by --map")
    add.add_argument("--cut", required=True, help="cut-off date YYYY-MM-DD (the new snapshot id)")
    add.add_argument("--label", required=True, help="human label shown on the site")
    add.add_argument("--map", type=Path, default=None, metavar="FILE", dest="mapping",
                     help="study mapping (YAML) from the sponsor's datasets to the snapshot tables")
    add.add_argument("--check", action="store_true",
                     help="dry run: print what maps to what, what is unmapped or ignored; write nothing")
    add.add_argument("--root", type=Path, default=None,
                     help="snapshot root (default: _config.yml ixathaldex.snapshot_root, else data/snapshots)")
    add.add_argument("--synthetic", action="store_true", help="mark the data as synthetic")
    sub.add_parser("list", help="list the snapshots")


def run(args) -> int:
    if args.action == "list":
        for cut in list_snapshots(Project.current().snapshot_root):
            print(cut)
        return 0
    if args.check:
        report, problems, notes = check_transfer(args.folder, args.cut, args.mapping)
        print(report)
        for p in problems:
            print(f"problem: {p}")
        for n in notes:
            print(f"note: {n}")
        print(f"dry run: {len(problems)} problem(s), {len(notes)} note(s); nothing was written")
        return 1 if problems else 0
    dest = add_snapshot(args.folder, args.cut, args.label, root=args.root, synthetic=args.synthetic,
                        mapping=args.mapping)
    for n in snapshot_notes(dest):
        print(f"note: {n}")
    print(f"snapshot {args.cut} written to {dest}; run `make site` to publish it")
    return 0
