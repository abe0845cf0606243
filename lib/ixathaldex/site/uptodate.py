"""The no-op answer of ``ixathaldex build``: the site is already the build of these inputs.

A successful ``ixathaldex build`` leaves ``_build/uptodate.json``: the digest of what it read,
taken before it started (the bytes of every file of the project folder outside ``_build/`` and
hidden folders — package, chapters, book, snapshots, configs, lock, claims registry, withdrawn
versions —, the snapshot folder and the package wherever they lie, whether a PDF can be printed,
the options) and a listing (path, size, mtime) of what it left behind (the cache, ``_build/runs/``,
the site). The next build computes both again with hashlib and ``os.stat`` only: when both match,
nothing would be executed or rebuilt, and it says so without importing the build's steps (pandas,
scipy, matplotlib, Sphinx). Otherwise (any changed byte, a touched output, ``--force``, other
options, no record) the full build runs and decides by its own keys. The digest covers more than
those keys, so this answer can only send a build to work more often, never less
(``docs/pipeline.md``).

It also holds the build's options, so that the command line needs nothing heavier to parse them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import ixathaldex
from ixathaldex.files import write_atomic
from ixathaldex.log import configure, logger
from ixathaldex.paths import Project, use_project
from ixathaldex.site.pdf import pdf_unavailable_reason
from ixathaldex.site.zygote import Zygote, fork_server_enabled

RECORD = "uptodate.json"
VERSION = "ixathaldex-uptodate-v1"


def configure_parser(parser) -> None:
    """The options of ``ixathaldex build``."""
    parser.add_argument("--snapshot", metavar="CUT", action="append", default=None,
                        help="build only this version (repeatable; default: every snapshot)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks executed in parallel (processes)")
    parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print warnings and errors only")
    parser.add_argument("--out", type=Path, default=None, help="site folder (default _build/site)")
    parser.add_argument("--force", action="store_true",
                        help="rebuild every selected version's site even if its inputs are unchanged "
                             "(notebooks still come from the cache)")


def walk_files(folder: Path, skip: set[Path]):
    """Every file under ``folder`` (symlinked folders not followed; ``__pycache__`` and the folders
    in ``skip`` left out), sorted."""
    found = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__" and Path(here, d) not in skip]
        found += [Path(here, f) for f in files]
    return sorted(found)


def input_digest(project: Project, args) -> str:
    """sha256 over the options, the PDF printer's availability and the path and bytes of every file
    a build can read: the project folder (but ``_build/`` and its hidden top-level entries), and the
    snapshot folder and the package when they lie elsewhere."""
    h = hashlib.sha256()
    options = {"root": str(project.root), "out": str(project.out), "snapshots": sorted(args.snapshot or []),
               "pdf": pdf_unavailable_reason()}
    h.update(json.dumps([VERSION, options], sort_keys=True).encode() + b"\0")
    skip = {project.build_dir, project.out} | {p for p in project.root.iterdir() if p.name.startswith(".")}
    folders = [project.root, project.snapshot_root, Path(ixathaldex.__file__).resolve().parent]
    for folder in folders:
        if folder != project.root and folder.is_relative_to(project.root) \
                and not any(folder.is_relative_to(s) for s in skip):
            continue  # already read as part of the project folder
        h.update(f"folder {folder}\0".encode())
        for path in walk_files(folder, skip):
            h.update(path.relative_to(folder).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def output_listing(project: Project) -> str:
    """sha256 over the path, size and mtime of every file in the cache, ``_build/runs/`` and the site."""
    h = hashlib.sha256()
    for folder in (project.cache, project.build_dir / "runs", project.out):
        h.update(f"folder {folder}\0".encode())
        for path in walk_files(folder, set()):
            st = path.lstat()
            h.update(f"{path.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def record_path(project: Project) -> Path:
    return project.build_dir / RECORD


def forget(project: Project) -> None:
    """Remove the record (a build is starting: until it succeeds, nothing is known to be up to date)."""
    record_path(project).unlink(missing_ok=True)


def record(project: Project, inputs: str, versions: int, notebooks: int) -> None:
    """After a successful build: its inputs' digest (taken before it started), its outputs' listing
    and what it counted (versions on the site, notebooks)."""
    entry = {"inputs": inputs, "outputs": output_listing(project), "versions": versions, "notebooks": notebooks}
    write_atomic(record_path(project), json.dumps(entry, indent=2) + "\n")


def run_if_unchanged(args) -> int | None:
    """0 (after the build's summary line) when the last successful build had these very inputs and
    its outputs are untouched; None when the full build must run: then the kernels' fork server is
    started at once (``args.zygote``), its imports beside the build's own (docs/pipeline.md)."""
    answer = answer_if_unchanged(args)
    if answer is None and fork_server_enabled():
        use_project(Project.current(out=args.out).root)  # as the build does: the zygote finds the same project
        args.zygote = Zygote()
        args.zygote.start()
    return answer


def answer_if_unchanged(args) -> int | None:
    """:func:`run_if_unchanged`'s answer, without starting anything."""
    if args.force or args.jobs < 1:
        return None
    if getattr(args, "quiet", False):
        configure(quiet=True)
    t0 = time.perf_counter()
    project = Project.current(out=args.out)
    try:
        last = json.loads(record_path(project).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(last, dict) or last.get("inputs") != input_digest(project, args) \
            or last.get("outputs") != output_listing(project):
        return None
    logger.info("site %s: 0 version(s) built, %d unchanged; notebooks 0 executed, %d cached; %.1f s "
                "(no input changed since the last build)", project.out, last["versions"], last["notebooks"],
                time.perf_counter() - t0)
    return 0
