"""`ixathaldex build`: every snapshot -> executed chapters -> results.json -> one static site per cut.

The flow (see ``docs/pipeline.md``): validate every snapshot; execute each chapter of ``_toc.yml``
per version with papermill (cached on content, :mod:`ixathaldex.site.execute`); collect the glued values
into ``_build/runs/<version>/results.json``; execute the post pages of ``book/`` (MyST notebooks
with a ``parameters`` cell) with the results; stage and build each version with jupyter-book
(:mod:`ixathaldex.site.stage`); publish every version only when all of them succeeded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ixathaldex.claims import registry as claims
from ixathaldex.claims.review import write_claims_json
from ixathaldex.data.manifest import check_cut_id, list_snapshots, read_manifest, short_checksum
from ixathaldex.data.validate import check_snapshot, manifest_problems
from ixathaldex.exceptions import BuildError, IxaThalDexError, ValidationError
from ixathaldex.files import file_digest, sha256_bytes, tree_digest, write_if_changed
from ixathaldex.log import configure, logger
from ixathaldex.paths import Project, load_yaml, use_project
from ixathaldex.site import execute as ex
from ixathaldex.site import stage as st


@dataclass
class BuildReport:
    executed: int = 0
    cached: int = 0
    built: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    seconds: float = 0.0


# ---- snapshots -------------------------------------------------------------------------------

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


# ---- the build -------------------------------------------------------------------------------

def _job(project, version, label, source, parameters, known, package, lock, manifest_bytes):
    ex.validate_parameters(parameters, known, base=source.parent)
    key = ex.cache_key(source=source.read_bytes(), package=package, manifest=manifest_bytes,
                       parameters=ex.key_parameters(parameters, base=source.parent), lock=lock)
    return ex.NotebookJob(version=version, label=label, source=source, parameters=parameters, key=key,
                          output=project.cache / "notebooks" / f"{key}.ipynb", cwd=source.parent)


def _write_results(project: Project, version: str, chapter_jobs: list) -> Path:
    """``_build/runs/<version>/results.json`` from the glued values (re-collected only when needed)."""
    runs = project.runs(version)
    runs.mkdir(parents=True, exist_ok=True)
    path = runs / "results.json"
    marker = runs / "results.key"
    key = sha256_bytes("".join(j.key for j in chapter_jobs).encode())
    if path.is_file() and marker.is_file() and marker.read_text().strip() == key:
        return path
    try:
        results = claims.collect_results([j.output for j in chapter_jobs])
        write_if_changed(path, json.dumps(results, indent=2, sort_keys=True, default=str) + "\n")
        _write_claims(runs, results, project.root / "_toc.yml")
    except IxaThalDexError as exc:
        text = str(exc)
        for j in chapter_jobs:  # name chapters, not cache files
            text = text.replace(str(j.output), j.label)
        raise BuildError(f"version {version}: {text}") from None
    marker.write_text(key + "\n")
    return path


def _write_claims(runs: Path, results: dict, toc: Path) -> None:
    """``claims.json``: every registered claim, published vs reproduced, with its verdict."""
    write_claims_json(runs / "claims.json", results, toc=toc)


def check_complete(version: str, results_path: Path, settings: dict) -> None:
    """For the publication cut, every registered claim must have a computed value."""
    if version not in settings["publication_cuts"]:
        return
    try:
        claims.require_complete(claims.load_claims(), claims.load_results(results_path))
    except IxaThalDexError as exc:
        raise BuildError(f"version {version} (a publication cut): {exc}") from None


def version_key(project: Project, version: str, jobs: list, package: str, settings: dict) -> str:
    parts = [version, package, settings["base_url"], str(settings["allow_patient_level"])]
    parts += [f"{j.label}={j.key}" for j in jobs]
    parts += [file_digest(project.root / n) for n in ("_config.yml", "_toc.yml", "requirements.lock")]
    parts.append(tree_digest(project.root / "book"))
    return sha256_bytes("\n".join(parts).encode())


def build_site(project: Project, snapshots: list[str] | None = None, jobs: int = 1,
               force: bool = False) -> BuildReport:
    """Build (or reuse) every selected version and publish them together; raise BuildError on failure."""
    t0 = time.perf_counter()
    report = BuildReport()
    config = load_yaml(project.root / "_config.yml")
    toc_path = (project.root / "_toc.yml").resolve()
    toc = load_yaml(toc_path)
    settings = st.project_settings(config)
    chapters, pages = st.resolve_pages(project.root, toc)
    if not chapters:
        raise BuildError("_toc.yml names no chapters (chapters/NN_slug)")

    known = list_snapshots(project.snapshot_root)
    if not known:
        raise BuildError(f"no snapshots under {project.snapshot_root}; add one with "
                         f"`ixathaldex snapshot add FOLDER --cut YYYY-MM-DD --label TEXT`")
    selected = sorted(set(snapshots or known))
    for cut in selected:
        try:
            check_cut_id(cut)
        except IxaThalDexError as exc:
            raise BuildError(f"--snapshot: {exc}") from None
        if cut not in known:
            raise BuildError(f"--snapshot {cut!r}: not a known snapshot (known: {', '.join(known)})")
    # the code digest: the package's sources, plus the claims registry and the table of contents,
    # which decide the reviewer pages, the {claim} links and claims.json
    package = sha256_bytes("\n".join(
        [ex.package_digest()] + [file_digest(project.root / n)
                                 for n in ("data/published/claims.yaml", "_toc.yml")]).encode())
    check_manifests(project, known)
    # full validation runs beside the first notebooks; nothing is published unless it passed, and
    # a notebook executed on data that fails validation is never used (no validation stamp)
    validation_pool = ThreadPoolExecutor(max_workers=1)
    validation = validation_pool.submit(validate_snapshots, project, known, package)
    try:
        report = _build_validated(project, config, toc_path, settings, chapters, pages, known, selected,
                                  package, jobs, force, report, validation)
    except BuildError:
        validation.result()  # an invalid snapshot is the first thing to fix: its error wins
        raise
    finally:
        validation_pool.shutdown(wait=True)
    report.seconds = time.perf_counter() - t0
    return report


def _build_validated(project, config, toc_path, settings, chapters, pages, known, selected, package, jobs,
                     force, report, validation) -> BuildReport:

    lock = (project.root / "requirements.lock").read_bytes() if (project.root / "requirements.lock").is_file() else b""
    previous = {cut: (known[i - 1] if i else None) for i, cut in enumerate(known)}
    to_execute = sorted(set(selected) | {previous[c] for c in selected if previous[c]})

    def progress(job):
        if job.status == "executed":
            report.executed += 1
        else:
            report.cached += 1
        ex.log_job(job)

    # 1. chapters, every version to execute
    manifests = {c: (project.snapshot_root / c / "manifest.json").read_bytes() for c in known}
    chapter_jobs = {
        v: [_job(project, v, f"{name}.md", src, {"snapshot": v}, known, package, lock, manifests[v])
            for name, src in chapters]
        for v in to_execute
    }
    ex.run_jobs([j for v in to_execute for j in chapter_jobs[v]], jobs, progress)
    validation.result()

    # 2. results.json per version
    results = {v: _write_results(project, v, chapter_jobs[v]) for v in to_execute}
    for v in selected:
        check_complete(v, results[v], settings)

    # 3. post pages (book/ MyST notebooks with a parameters cell)
    post_sources = {name: project.root / "book" / f"{name}.md" for name in pages
                    if (project.root / "book" / f"{name}.md").is_file()
                    and ex.has_parameters_cell(project.root / "book" / f"{name}.md")}
    post_jobs = {
        v: [_job(project, v, f"book/{name}.md", src,
                 # paths relative to the page's folder (its kernel's cwd): no local paths on the site
                 {"snapshot": v, "results_json": os.path.relpath(results[v], src.parent),
                  "previous_results_json": os.path.relpath(results[previous[v]], src.parent)
                  if previous[v] else ""},
                 known, package, lock, manifests[v])
            for name, src in post_sources.items()]
        for v in selected
    }
    ex.run_jobs([j for v in selected for j in post_jobs[v]], jobs, progress)

    # 4. stage and build the versions whose inputs changed
    commit = st.code_commit(project.root)
    build_date = st.today_utc()
    tmp_root = project.build_dir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=tmp_root))
    try:
        todo = {}
        for v in selected:
            vkey = version_key(project, v, chapter_jobs[v] + post_jobs[v], package, settings)
            published = project.out / v
            if not force and st.read_stamp(published).get("key") == vkey and (published / "index.html").is_file():
                report.unchanged.append(v)
                continue
            todo[v] = vkey

        def build_one(v: str) -> Path:
            manifest = read_manifest(project.snapshot_root / v)
            prov = st.provenance(v, manifest, short_checksum(manifest), commit, build_date)
            cfg = st.version_config(config, prov, settings["base_url"])
            stage = project.build_dir / "stage" / v
            cfg_path = st.stage_version(
                stage, project.root,
                chapters={j.label[:-3]: j.output for j in chapter_jobs[v]},
                posts={j.label[len("book/"):-3]: j.output for j in post_jobs[v]},
                config=cfg, results_files={"results.json": results[v]})
            t = time.perf_counter()
            html_dir = st.run_jupyter_book(stage, cfg_path, toc_path, work / v, v)
            st.write_downloads(html_dir, {j.label: j.output for j in chapter_jobs[v]},
                               [results[v], results[v].parent / "claims.json"])
            st.check_no_patient_rows(html_dir, v, settings["allow_patient_level"])
            (html_dir / st.STAMP).write_text(json.dumps({"key": todo[v], "provenance": prov}, indent=2) + "\n")
            logger.info("  %-10s %-32s %-8s %6.1f s", v, "jupyter-book build", "built", time.perf_counter() - t)
            return html_dir

        built = {}
        if todo:
            with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(todo)))) as pool:
                futures = {v: pool.submit(build_one, v) for v in todo}
                errors = []
                for v, fut in futures.items():
                    try:
                        built[v] = fut.result()
                    except IxaThalDexError as exc:
                        errors.append(str(exc))
                    except Exception as exc:  # noqa: BLE001 - one readable line, never a half site
                        errors.append(f"version {v}: {type(exc).__name__}: {exc}")
                if errors:
                    raise BuildError(errors[0] + (f"\n  (and {len(errors) - 1} more failing version(s))"
                                                  if len(errors) > 1 else ""))
        # 5. publish together, then the site's root files
        st.publish(project.out, built)
        report.built = sorted(built)
        site_versions = [v for v in known if (project.out / v / "index.html").is_file()]
        st.write_site_index(project.out, site_versions, settings["base_url"])  # only writes changes
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


# ---- command line ----------------------------------------------------------------------------

def configure_parser(parser) -> None:
    parser.add_argument("--snapshot", metavar="CUT", action="append", default=None,
                        help="build only this version (repeatable; default: every snapshot)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks executed in parallel (processes)")
    parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print warnings and errors only")
    parser.add_argument("--out", type=Path, default=None, help="site folder (default _build/site)")
    parser.add_argument("--force", action="store_true",
                        help="rebuild every selected version's site even if its inputs are unchanged "
                             "(notebooks still come from the cache)")


def run(args) -> int:
    if getattr(args, "quiet", False):
        configure(quiet=True)
    if args.jobs < 1:
        raise BuildError("--jobs must be at least 1")
    project = Project.current(out=args.out)
    use_project(project.root)  # the kernels and Sphinx started by the build find the same project
    try:
        report = build_site(project, snapshots=args.snapshot, jobs=args.jobs, force=args.force)
    except BuildError as exc:
        raise BuildError(f"build failed, the published site was not changed — {exc}") from None
    logger.info("site %s: %d version(s) built%s, %d unchanged; notebooks %d executed, %d cached; %.1f s",
                project.out, len(report.built), f" ({', '.join(report.built)})" if report.built else "",
                len(report.unchanged), report.executed, report.cached, report.seconds)
    return 0
