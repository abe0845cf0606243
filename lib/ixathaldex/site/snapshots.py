"""The snapshots a build reads: refused when edited since they were added, validated once per content.

A published snapshot is immutable: its files must match its manifest's checksums (checked by every
build, even one that executes nothing). Its validation against the data rules runs once for given
bytes and code, remembered by a stamp under ``_build/cache/validated/``.
"""

from __future__ import annotations

from ixathaldex.data.manifest import read_manifest, short_checksum
from ixathaldex.data.snapshot import load_snapshot
from ixathaldex.data.typed_cache import typed_cache_file
from ixathaldex.data.validate import check_snapshot, manifest_problems
from ixathaldex.exceptions import BuildError, IxaThalDexError, ValidationError
from ixathaldex.paths import Project


def check_manifests(project: Project, cuts: list[str]) -> None:
    """Refuse a published snapshot whose files no longer match its manifest's checksums."""
    edited = []
    for cut in cuts:
        problems = manifest_problems(project.snapshot_root / cut)
        if problems:
            edited.append(f"snapshot {cut}:\n    " + "\n    ".join(problems))
    if edited:
        raise BuildError(
            "a published snapshot does not match its manifest. Snapshots are immutable: restore the "
            "original files and add the new data as a new cut (`ixathaldex snapshot add FOLDER --cut "
            "YYYY-MM-DD --label TEXT`).\n  " + "\n  ".join(edited))


def validate_snapshots(project: Project, cuts: list[str], package: str) -> None:
    """Validate each snapshot (skipped when the same bytes passed the same code before)."""
    stamps = project.cache / "validated"
    for cut in cuts:
        folder = project.snapshot_root / cut
        stamp = stamps / f"{cut}-{short_checksum(read_manifest(folder))}-{package[:16]}"
        if stamp.is_file():
            continue
        try:
            check_snapshot(folder)
        except ValidationError as exc:
            raise BuildError(f"snapshot {cut} is not valid: {exc}") from None
        stamps.mkdir(parents=True, exist_ok=True)
        stamp.write_text("ok\n")


def preload_snapshots(project: Project, cuts: list[str]) -> None:
    """Fill the typed-snapshot cache (:mod:`ixathaldex.data.typed_cache`) of each cut that has no
    entry yet, once, before the chapters start: every chapter's ``load_snapshot`` is then a cache
    hit instead of each parsing the CSVs. A snapshot that cannot be loaded is left to the
    validation and the chapters to report."""
    for cut in cuts:
        path = typed_cache_file(project.snapshot_root / cut, project)
        if path is None or path.is_file():
            continue
        try:
            load_snapshot(cut, root=project.snapshot_root, validate=False)
        except IxaThalDexError:
            continue
