"""The snapshots a build reads: refused when edited since they were added, validated once per content.

A published snapshot is immutable: its files must match its manifest's checksums (checked by every
build, even one that executes nothing). Its validation against the data rules runs once for given
bytes and code, remembered by a stamp under ``_build/cache/validated/``.

Validating a snapshot and filling its typed cache parse the whole cut: at 100,000 patients the
build's own process grew to ~650 MiB doing so and, since freed memory stays with the process, held
~480 MiB of it for the rest of the build. :func:`run_snapshot_step` therefore runs each step in a
child forked by the kernels' fork server (the console script :data:`COMMAND`, :func:`main`); its
memory goes back to the system when it exits. Without a fork server the step runs in-process.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ixathaldex.data.manifest import read_manifest, short_checksum
from ixathaldex.data.snapshot import load_snapshot
from ixathaldex.data.typed_cache import typed_cache_file
from ixathaldex.data.validate import check_snapshot, manifest_problems
from ixathaldex.exceptions import BuildError, IxaThalDexError, ValidationError
from ixathaldex.log import logger
from ixathaldex.paths import Project
from ixathaldex.site.zygote import hold
from ixathaldex.site.zygote import run_command as run_forked


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


def hold_snapshots_in(zygote: str | None, project: Project, cuts: list[str]) -> None:
    """Have the fork server at ``zygote`` load ``cuts`` before it forks the chapters' kernels
    (:func:`ixathaldex.data.snapshot.hold_snapshots`): the kernels then share one copy of each. Without
    a fork server, or when it cannot, each kernel loads its own (the same tables)."""
    if not zygote or not cuts:
        return
    try:
        hold(zygote, "snapshots", [list(cuts), str(project.snapshot_root)])
    except OSError as exc:
        logger.warning("fork server could not hold the snapshots (%s): each kernel loads its own", exc)


def release_snapshots_in(zygote: str | None) -> None:
    """Have the fork server drop the snapshots it holds (after the last kernel was forked: at
    100,000 patients ~150 MiB less while the versions are built and printed)."""
    if zygote:
        try:
            hold(zygote, "snapshots", [], release=True)
        except OSError as exc:
            logger.warning("fork server could not drop the snapshots it holds (%s)", exc)


#: the steps :func:`run_snapshot_step` runs, by name
STEPS = {"validate": validate_snapshots, "preload": lambda project, cuts, package: preload_snapshots(project, cuts)}
#: the console-script name under which the fork server runs :func:`main` (``site.zygote.COMMANDS``)
COMMAND = "ixathaldex-snapshots"


def run_snapshot_step(step: str, project: Project, cuts: list[str], package: str, zygote: str | None) -> None:
    """Run :data:`STEPS` ``[step]`` over ``cuts`` in a child of the fork server at ``zygote`` (in-process
    when there is none or it cannot fork); its BuildError is raised here with the same message."""
    if zygote and cuts:
        args = [step, "--root", str(project.root), "--snapshot-root", str(project.snapshot_root),
                "--package", package, *cuts]
        try:
            code, _, stderr = run_forked(zygote, COMMAND, args, str(project.root), dict(os.environ),
                                         project.build_dir / "tmp" / f"snapshots-{step}-{os.getpid()}")
        except OSError as exc:
            logger.warning("fork server unavailable for the snapshots' %s step (%s): running it here", step, exc)
        else:
            if code != 0:
                lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
                raise BuildError("\n".join(lines) if code == 1 and lines and not lines[0].startswith("Traceback")
                                 else f"the snapshots' {step} step failed (exit {code}):\n  " + "\n  ".join(lines[-20:]))
            return
    STEPS[step](project, cuts, package)


def main(args: list[str] | None = None, prog_name: str | None = None) -> None:
    """``ixathaldex-snapshots {validate,preload} --root R --snapshot-root S --package P CUT...``: one
    step of :data:`STEPS` in a process of its own; a BuildError is its message on stderr, exit 1."""
    parser = argparse.ArgumentParser(prog=prog_name or COMMAND, description="validate or preload a project's snapshots")
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--snapshot-root", type=Path, required=True)
    parser.add_argument("--package", required=True, help="the build's code digest (the validation stamps' key)")
    parser.add_argument("cuts", nargs="+")
    ns = parser.parse_args(args)
    try:
        STEPS[ns.step](Project(ns.root, snapshot_root=ns.snapshot_root), ns.cuts, ns.package)
    except BuildError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
