"""`ixathaldex build`: every snapshot -> executed chapters -> results.json -> one static site per cut.

The steps (see ``docs/pipeline.md``), methods of one :class:`Build`: ``validate`` every snapshot
(beside the first notebooks); ``execute`` each chapter of ``_toc.yml`` per version with papermill
(cached on content, :mod:`ixathaldex.site.execute`); ``collect`` the glued values into
``_build/runs/<version>/results.json`` and compute ``claims.json`` beside it, once; ``execute_posts``,
the post pages of ``book/`` (MyST notebooks with a ``parameters`` cell); then for each version whose
inputs changed ``stage``, ``build`` (jupyter-book) and ``check`` (:mod:`ixathaldex.site.stage`);
``publish`` every version only when all of them succeeded."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ixathaldex.claims import registry as claims
from ixathaldex.claims.notice import derive_data_notice, is_synthetic
from ixathaldex.data.manifest import check_cut_id, list_snapshots, read_manifest, short_checksum
from ixathaldex.exceptions import BuildError, IxaThalDexError
from ixathaldex.files import file_digest, mtime_ns, sha256_bytes, tree_digest
from ixathaldex.log import configure, logger
from ixathaldex.paths import Project, load_yaml, use_project
from ixathaldex.site import execute as ex
from ixathaldex.site import incremental as inc
from ixathaldex.site import leaks, pdf, uptodate
from ixathaldex.site import stage as st
from ixathaldex.site.collect import RUN_FILES, Precomputed, collect_version
from ixathaldex.site.snapshots import check_manifests, hold_snapshots_in, release_snapshots_in, run_snapshot_step
from ixathaldex.site.withdraw import load_withdrawn, refresh_site
from ixathaldex.site.zygote import Zygote, fork_server_enabled, sphinx_fork_enabled


@dataclass
class BuildReport:
    executed: int = 0
    cached: int = 0
    built: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    seconds: float = 0.0


# ---- the build -------------------------------------------------------------------------------

def check_complete(version: str, results_path: Path, settings: dict) -> None:
    """For the publication cut, every registered claim must have a computed value."""
    if version not in settings["publication_cuts"]:
        return
    try:
        claims.require_complete(claims.load_claims(), claims.load_results(results_path))
    except IxaThalDexError as exc:
        raise BuildError(f"version {version} (a publication cut): {exc}") from None


def version_key(project: Project, version: str, jobs: list, package: str, settings: dict) -> str:
    """What a version's pages depend on: its notebooks' keys, the code, configs, lock and book/."""
    parts = [version, package, settings["base_url"], str(settings["allow_patient_level"]),
             "pdf" if pdf.pdf_unavailable_reason() is None else "no pdf"]
    parts += [f"{j.label}={j.key}" for j in jobs]
    parts += [file_digest(project.root / n) for n in ("_config.yml", "_toc.yml", "requirements.lock")]
    parts.append(tree_digest(project.root / "book"))
    return sha256_bytes("\n".join(parts).encode())


def select_versions(project: Project, known: list[str], snapshots: list[str] | None) -> list[str]:
    """The versions to build: ``--snapshot`` cuts (each checked to be a known cut id), default all."""
    if not known:
        raise BuildError(f"no snapshots under {project.snapshot_root}; add one with "
                         f"`ixathaldex snapshot add FOLDER --cut YYYY-MM-DD --label TEXT`")
    withdrawn = load_withdrawn(project.root)
    if not snapshots:
        return [cut for cut in known if cut not in withdrawn]
    selected = sorted(set(snapshots))
    for cut in selected:
        if cut in withdrawn:
            raise BuildError(f"--snapshot {cut}: withdrawn on {withdrawn[cut]['date']} "
                             f"({withdrawn[cut]['reason']}); see data/withdrawn.yaml")
        try:
            check_cut_id(cut)
        except IxaThalDexError as exc:
            raise BuildError(f"--snapshot: {exc}") from None
        if cut not in known:
            raise BuildError(f"--snapshot {cut!r}: not a known snapshot (known: {', '.join(known)})")
    return selected


def code_digest(project: Project) -> str:
    """The package's sources, plus the claims registry and the table of contents, which decide the
    reviewer pages, the {claim} links and claims.json."""
    return sha256_bytes("\n".join([ex.package_digest()] + [file_digest(p) for p in
                                                          (project.claims_path, project.toc_path)]).encode())


@dataclass
class Build:
    """One run of ``ixathaldex build``: the project, what to build, and what each step produced.

    The steps, in order (:meth:`run`): :meth:`validate` (beside the first notebooks),
    :meth:`execute` the chapters, :meth:`collect` results.json and claims.json, :meth:`execute_posts`,
    then per version whose inputs changed :meth:`stage`, :meth:`build`, :meth:`check`, and
    :meth:`publish` every version together.
    """

    project: Project
    selected: list[str]
    jobs: int = 1
    force: bool = False
    config: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    chapters: list = field(default_factory=list)      # (toc name, MyST source)
    posts: dict = field(default_factory=dict)         # page name -> MyST source (book/ pages with parameters)
    known: list = field(default_factory=list)         # every snapshot, oldest first
    package: str = ""
    lock: bytes = b""
    chapter_jobs: dict = field(default_factory=dict)  # version -> [NotebookJob]
    post_jobs: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)       # version -> _build/runs/<version>/results.json
    outdated: dict = field(default_factory=dict)      # version -> version key (to stage and build)
    built: dict = field(default_factory=dict)         # version -> built html folder
    provenance: dict = field(default_factory=dict)    # version -> its banner's facts
    commit: str = ""                                  # the banner's code: the last commit changing an input
    code_date: str = ""                               # ... and its date (st.code_stamp; never the clock)
    subject_ids: frozenset | None = None              # every snapshot's USUBJID/SUBJID (the check)
    clean_texts: set = field(default_factory=set)     # (check, sha256) of texts the check found clean
    pdf_reason: str | None = None                     # why no PDF is printed (None: each version gets one)
    report: BuildReport = field(default_factory=BuildReport)
    zygote: Zygote | None = None                      # the kernels' fork server (docs/pipeline.md)
    workers: ex.Workers | None = None                 # the papermill processes, shared by both batches
    pre: Precomputed | None = None                    # the consistency checks (computed beside the chapters)
    printer: pdf.Printer | None = None                # the one Chromium printing every version's PDF
    incremental: bool = field(default_factory=inc.incremental_enabled)  # keep each version's Sphinx environment

    @classmethod
    def prepare(cls, project: Project, snapshots: list[str] | None = None, jobs: int = 1,
                force: bool = False) -> "Build":
        """Read the project (config, toc, snapshots) and choose the versions to build."""
        config = load_yaml(project.config_path)
        chapters, pages = st.resolve_pages(project.root, load_yaml(project.toc_path))
        if not chapters:
            raise BuildError("_toc.yml names no chapters (chapters/NN_slug)")
        known = list_snapshots(project.snapshot_root)
        posts = {name: project.root / "book" / f"{name}.md" for name in pages}
        memo = project.cache / "parameters-cells.json"
        posts = {name: src for name, src in posts.items() if src.is_file() and ex.has_parameters_cell(src, memo)}
        return cls(project, select_versions(project, known, snapshots), jobs, force, config=config,
                   settings=st.project_settings(config), chapters=chapters, posts=posts, known=known,
                   package=code_digest(project),
                   lock=project.lock_path.read_bytes() if project.lock_path.is_file() else b"")

    @property
    def previous(self) -> dict:
        """Each version's previous published version (None for the oldest; withdrawn ones skipped)."""
        live = [c for c in self.known if c not in load_withdrawn(self.project.root)]
        return {cut: max([c for c in live if c < cut], default=None) for cut in self.known}

    @property
    def executed_versions(self) -> list[str]:
        """The versions whose chapters run: the selected ones and the version before each (whose
        results.json and claims.json the post pages read)."""
        return sorted(set(self.selected) | {self.previous[c] for c in self.selected if self.previous[c]})

    def run(self) -> BuildReport:
        """Every step; on failure nothing under the published site changes (raises BuildError).
        The papermill workers, the consistency thread and the kernels' fork server (each started when first
        needed) are stopped at the end, whatever happened."""
        if self.zygote is None and fork_server_enabled():
            self.zygote = Zygote()  # started on first use (unless the command started it already)
        self.workers = ex.Workers(self.jobs, threads=self.zygote is not None)
        self.pre = Precomputed(self.project, self.package)
        self.printer = pdf.Printer()
        try:
            return self.run_steps()
        finally:
            self.workers.close()
            self.pre.close()
            self.printer.close()
            if self.zygote is not None:
                self.zygote.close()
            self.zygote = self.workers = self.pre = self.printer = None

    def run_steps(self) -> BuildReport:
        with ThreadPoolExecutor(max_workers=1) as validation_pool:
            validation = self.validate(validation_pool)
            try:
                self.execute(validation)
            except BuildError:
                validation.result()  # an invalid snapshot is the first thing to fix: its error wins
                raise
        self.collect()
        self.execute_posts()
        self.workers.release()  # no notebook is left: the papermill processes exit beside the Sphinx builds
        release_snapshots_in(self.zygote.address if self.zygote and self.zygote.pid else None)
        self.make_versions()
        return self.report

    def fork_server(self) -> str | None:
        """The address of the build's fork server (started now if it is not running), None without one."""
        return self.zygote.address if self.zygote is not None else None

    # ---- 1. validate ---------------------------------------------------------------------------

    def validate(self, pool: ThreadPoolExecutor) -> Future:
        """Refuse edited snapshots now; validate every snapshot in ``pool``, beside the fork server's
        imports and the typed-cache preload. No notebook runs before it passed (:meth:`execute`)."""
        check_manifests(self.project, self.known)
        return pool.submit(run_snapshot_step, "validate", self.project, self.known, self.package, self.fork_server())

    # ---- 2. execute ----------------------------------------------------------------------------

    def job(self, version: str, label: str, source: Path, parameters: dict) -> ex.NotebookJob:
        """One notebook of one version, keyed on everything that decides its outputs."""
        ex.validate_parameters(parameters, self.known, base=source.parent)
        folder = self.project.snapshot_root / version
        manifest = (folder / "manifest.json").read_bytes()
        calibration = folder / "calibration.json"  # the reviewer page reads its misses; not in the manifest
        if calibration.is_file():
            manifest += b"\0calibration.json\0" + calibration.read_bytes()
        key = ex.cache_key(source=source.read_bytes(), package=self.package, manifest=manifest,
                           parameters=ex.key_parameters(parameters, base=source.parent), lock=self.lock)
        return ex.NotebookJob(version=version, label=label, source=source, parameters=parameters, key=key,
                              output=self.project.cache / "notebooks" / f"{key}.ipynb", cwd=source.parent)

    def progress(self, job: ex.NotebookJob) -> None:
        if job.status == "executed":
            self.report.executed += 1
        else:
            self.report.cached += 1
        ex.log_job(job)

    def execute(self, validation: Future) -> None:
        """Execute (or take from the cache) every chapter of every version to execute, once the
        snapshots passed ``validation`` (which parses whole cuts, at 100,000 patients ~5 s and
        ~400 MiB: run beside the chapters, it was the large build's memory peak)."""
        self.chapter_jobs = {v: [self.job(v, f"{name}.md", src, {"snapshot": v}) for name, src in self.chapters]
                             for v in self.executed_versions}
        if any(not j.cached for v in self.executed_versions for j in self.chapter_jobs[v]):
            self.workers.start()  # their imports beside the fork server's, while this thread waits for it below
        # one parse per snapshot, not one per chapter
        run_snapshot_step("preload", self.project, self.executed_versions, self.package, self.fork_server())
        validation.result()  # no notebook runs on data that fails validation
        hold_snapshots_in(self.fork_server(), self.project, self.executed_versions)  # one copy for all kernels
        # the consistency checks start once a notebook process is idle: beside the last chapters, not against them
        ex.run_jobs([j for v in self.executed_versions for j in self.chapter_jobs[v]], self.jobs, self.progress,
                    self.zygote, self.workers, when_idle=self.pre.prefetch)

    # ---- 3. collect ----------------------------------------------------------------------------

    def collect(self) -> None:
        """results.json and claims.json of every executed version; the publication cut is complete."""
        self.results = {v: collect_version(self.project, v, self.chapter_jobs[v], self.pre)
                        for v in self.executed_versions}
        for v in self.selected:
            check_complete(v, self.results[v], self.settings)

    # ---- 4. post pages -------------------------------------------------------------------------

    def post_parameters(self, version: str, source: Path) -> dict:
        """A post page's parameters: the cut, and this and the previous version's results.json,
        claims.json and ard.json, relative to the page's folder (its kernel's working folder): no local path is
        published in the downloadable notebook."""
        prev = self.previous[version]

        def rel(v, name):
            return os.path.relpath(self.results[v].with_name(name), source.parent) if v else ""

        return {"snapshot": version, "results_json": rel(version, "results.json"),
                "previous_results_json": rel(prev, "results.json"), "claims_json": rel(version, "claims.json"),
                "previous_claims_json": rel(prev, "claims.json"), "ard_json": rel(version, "ard.json"),
                "previous_ard_json": rel(prev, "ard.json")}

    def execute_posts(self) -> None:
        """Execute the post pages of ``book/`` (MyST notebooks with a parameters cell) per selected version."""
        self.post_jobs = {v: [self.job(v, f"book/{name}.md", src, self.post_parameters(v, src))
                              for name, src in self.posts.items()]
                          for v in self.selected}
        ex.run_jobs([j for v in self.selected for j in self.post_jobs[v]], self.jobs, self.progress, self.zygote,
                    self.workers)

    # ---- 5-7. stage, build and check each version whose inputs changed -------------------------

    def find_outdated(self) -> dict:
        """version -> version key, for every selected version whose key differs from its published
        stamp (all of them with ``--force``); the others are reported unchanged."""
        outdated = {}
        for v in self.selected:
            vkey = version_key(self.project, v, self.chapter_jobs[v] + self.post_jobs[v], self.package,
                               self.settings)
            published = self.project.out / v
            if not self.force and st.read_stamp(published).get("key") == vkey \
                    and (published / "index.html").is_file():
                self.report.unchanged.append(v)
            else:
                outdated[v] = vkey
        return outdated

    def make_versions(self) -> None:
        """Stage, build and check the outdated versions (in parallel, in a temporary folder), then
        publish them together; the temporary folder is always removed."""
        self.outdated = self.find_outdated()
        self.commit, self.code_date = st.code_stamp(self.project.root)  # from the inputs: same inputs, same pages
        self.pdf_reason = pdf.pdf_unavailable_reason()
        if self.pdf_reason and self.outdated:
            logger.warning("no PDF of the versions: %s", self.pdf_reason)
        tmp_root = self.project.build_dir / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="build-", dir=tmp_root))
        try:
            if self.outdated:
                if not self.pdf_reason:
                    self.printer.warm_up()  # Chromium starts beside the Sphinx builds, not before the first PDF
                self.built = self.in_parallel(work)
            self.publish()
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def in_parallel(self, work: Path) -> dict:
        """version -> built html folder for every outdated version; every failure is collected and
        the first one raised (with the count of the others)."""
        built, errors = {}, []
        if self.zygote is not None:
            self.zygote.expect(len(self.outdated))  # stopped once the last version's Sphinx build is done
        with ThreadPoolExecutor(max_workers=max(1, min(self.jobs, len(self.outdated)))) as pool:
            futures = {v: pool.submit(self.make_version, v, work / v) for v in self.outdated}
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
        return built

    def make_version(self, version: str, out: Path) -> Path:
        """One version: stage, build, check, then stamp it with its key and provenance."""
        t = time.perf_counter()
        kept = self.project.build_dir / "sphinx" / version
        key = inc.sphinx_key(self.project.root, self.package, version)
        incremental = inc.prepare_kept(kept, key, self.incremental)
        config = self.stage(version, out.with_name(f"{version}.stage"), kept / "source")
        t_stage = time.perf_counter()
        try:
            html_dir = self.build(version, config, out, incremental)
        finally:
            if self.zygote is not None:
                self.zygote.done()
        inc.stamp_kept(kept, key)
        t_build = time.perf_counter()
        # the checks run beside the PDF, which is printed from the same HTML: a version is published only
        # when both succeeded, and a failed check is the error reported, whatever the PDF did
        files = leaks.published_files(html_dir)  # what the checks read: the files before the PDF's
        with ThreadPoolExecutor(max_workers=1) as pool:
            checked = pool.submit(self.check, version, html_dir, files)
            try:
                if self.provenance[version]["pdf"]:
                    self.print_pdf(version, html_dir)
            finally:
                seconds = checked.result()
        logger.info("  %-10s stage %.1f s, jupyter-book %.1f s, checks %.1f s", version, t_stage - t,
                     t_build - t_stage, seconds)
        stamp = {"key": self.outdated[version], "provenance": self.provenance[version], "built_at": st.now_utc()}
        (html_dir / st.STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
        logger.info("  %-10s %-32s %-8s %6.1f s", version, "jupyter-book build", "built", time.perf_counter() - t)
        return html_dir

    def stage(self, version: str, fresh: Path, kept: Path) -> Path:
        """``kept`` (``_build/sphinx/<version>/source/``): book/, the executed notebooks, results.json
        and claims.json (in ``_static/``, read by the {claim} role) and the generated config, staged in
        ``fresh`` then copied file by file where the bytes changed (:func:`incremental.sync_tree`);
        returns the config's path."""
        manifest = read_manifest(self.project.snapshot_root / version)
        prov = self.provenance[version] = st.provenance(version, manifest, short_checksum(manifest),
                                                        self.commit, self.code_date,
                                                        "" if self.pdf_reason else pdf.pdf_name(version))
        runs = self.results[version].parent
        config = st.stage_version(
            fresh, self.project.root,
            chapters={j.label[:-3]: j.output for j in self.chapter_jobs[version]},
            posts={j.label[len("book/"):-3]: j.output for j in self.post_jobs[version]},
            config=st.version_config(self.config, prov, self.settings["base_url"]),
            results_files={name: runs / name for name in RUN_FILES})
        leaks.strip_staged_notebooks(config.parent)  # papermill's input/output paths are local
        inc.sync_tree(fresh, kept)
        return kept / config.name

    def build(self, version: str, config_path: Path, out: Path, incremental: bool) -> Path:
        """jupyter-book over the staged version (``config_path``'s folder) into its kept folder
        ``_build/sphinx/<version>/`` (``incremental``: reusing the environment kept there, else from
        scratch), its HTML copied to ``out``, then its downloads (table CSVs, results.json,
        claims.json); returns the html folder."""
        kept = config_path.parent.parent
        if incremental:
            inc.forget_previous_output(kept / "_build" / "html")
        zygote = self.zygote.address if self.zygote is not None and sphinx_fork_enabled() else None
        html = st.run_jupyter_book(config_path.parent, config_path, self.project.toc_path.resolve(), kept,
                                   version, fresh=not incremental, zygote=zygote)
        html_dir = inc.copy_html(html, out)
        runs = self.results[version].parent
        st.write_downloads(html_dir, {j.label: j.output for j in self.chapter_jobs[version]},
                           [runs / name for name in RUN_FILES])
        return html_dir

    def check(self, version: str, html_dir: Path, files: list[Path] | None = None) -> float:
        """No subject id of any snapshot in the built version (unless the project allows
        patient-level data) and no folder of the building machine in any of its files (or ``files``,
        listed before anything else was written into ``html_dir``); the seconds it took."""
        t = time.perf_counter()
        if not self.settings["allow_patient_level"]:
            if self.subject_ids is None:
                self.subject_ids = frozenset(leaks.load_subject_ids(
                    [self.project.snapshot_root / cut for cut in self.known]))
            memo = self.project.build_dir / "sphinx" / version / inc.CHECKED
            st.check_no_patient_rows(html_dir, version, False, self.subject_ids,
                                     find=lambda folder, ids, pattern: inc.find_ids_remembered(
                                         folder, ids, pattern, memo, self.clean_texts, files))
        st.check_no_local_paths(html_dir, version, leaks.local_paths(
            self.project.root, self.project.build_dir, self.project.snapshot_root, self.project.cache,
            html_dir.parent.parent.parent), files)
        return time.perf_counter() - t

    def print_pdf(self, version: str, html_dir: Path) -> Path:
        """The version's PDF (front page, methods, chapters), printed from its HTML beside the checks
        of that HTML (the version is published only if both succeed)."""
        t = time.perf_counter()
        manifest = read_manifest(self.project.snapshot_root / version)
        kept = self.project.build_dir / "sphinx" / version / "pdf"
        before = mtime_ns(kept / "pdf.key")  # rewritten only when the PDF is printed (else copied)
        out = pdf.make_pdf(html_dir, [f"{name}.html" for name in self.project.toc_files()],
                           self.provenance[version], derive_data_notice(manifest)["data_notice"],
                           str(self.config.get("title") or "IxaThalDex"), f"{self.settings['base_url']}{version}/",
                           kept=kept, printer=self.printer)
        printed = mtime_ns(kept / "pdf.key") != before
        # "pdf ... printed N s": the line the bench reads (site.bench.pdf_seconds)
        logger.info("  %-10s %-32s %-8s %6.1f s", version, "pdf" if printed else "pdf (unchanged, reused)",
                    "printed" if printed else "kept", time.perf_counter() - t)
        return out

    # ---- 8. publish ----------------------------------------------------------------------------

    def publish(self) -> None:
        """Move every built version into the site together, then rewrite the switcher and the
        redirect (only when they change)."""
        st.publish(self.project.out, self.built)
        self.report.built = sorted(self.built)
        site_versions = [v for v in self.known if (self.project.out / v / "index.html").is_file()]
        synthetic = {v: is_synthetic(read_manifest(self.project.snapshot_root / v)) for v in site_versions
                     if (self.project.snapshot_root / v / "manifest.json").is_file()}
        refresh_site(self.project.out, site_versions, load_withdrawn(self.project.root), self.settings["base_url"],
                     synthetic)


def build_site(project: Project, snapshots: list[str] | None = None, jobs: int = 1,
               force: bool = False, zygote: Zygote | None = None) -> BuildReport:
    """Build (or reuse) every selected version and publish them together; raise BuildError on failure.
    ``zygote``: a fork server already started for this build (stopped at the end, as one started here)."""
    t0 = time.perf_counter()
    build = Build.prepare(project, snapshots, jobs, force)
    build.zygote = zygote
    report = build.run()
    report.seconds = time.perf_counter() - t0
    return report


# ---- command line ----------------------------------------------------------------------------

def run(args) -> int:
    zygote = getattr(args, "zygote", None)  # started by site.uptodate beside this module's imports
    try:
        return run_build(args, zygote)
    finally:
        if zygote is not None:
            zygote.close()


def run_build(args, zygote: Zygote | None) -> int:
    if getattr(args, "quiet", False):
        configure(quiet=True)
    if args.jobs < 1:
        raise BuildError("--jobs must be at least 1")
    project = Project.current(out=args.out)
    use_project(project.root)  # the kernels and Sphinx started by the build find the same project
    inputs = uptodate.input_digest(project, args)  # before reading anything: an edit meanwhile is seen next time
    uptodate.forget(project)
    try:
        report = build_site(project, snapshots=args.snapshot, jobs=args.jobs, force=args.force, zygote=zygote)
    except BuildError as exc:
        raise BuildError(f"build failed, the published site was not changed — {exc}") from None
    uptodate.record(project, inputs, len(report.built) + len(report.unchanged), report.executed + report.cached)
    logger.info("site %s: %d version(s) built%s, %d unchanged; notebooks %d executed, %d cached; %.1f s",
                project.out, len(report.built), f" ({', '.join(report.built)})" if report.built else "",
                len(report.unchanged), report.executed, report.cached, report.seconds)
    return 0
