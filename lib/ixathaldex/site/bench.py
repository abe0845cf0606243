"""`make bench`: timings of the site build (not a test), measured in scratch copies of the project.

Prints: a cold build of every version; a no-op rebuild; a rebuild after touching (mtime) and after
editing one chapter; a cold build of one version beside the reference, plain ``jupyter-book build``
with ``execute_notebooks: force`` over the same chapters; one version from a 100,000-patient cut
(time and peak memory); the floor (:mod:`ixathaldex.site.floor`: one set of imports, every chapter's
code run in one process, plus one Sphinx pass over the staged version) and the PDF printing time of
one version. Every figure is the median of ``--runs`` runs (each in a fresh scratch copy), printed
with the machine's 1-minute load average before each run. The real ``_build/`` is never touched.
The last line printed is one JSON object: step -> ``{"seconds", "rc", "load", "runs"}``.

    python -m ixathaldex.site.bench [--keep] [--skip-large] [--n 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ixathaldex.data.manifest import list_snapshots
from ixathaldex.paths import ENV_VAR, Project, load_yaml
from ixathaldex.site import floor as fl
from ixathaldex.site import stage as st
from ixathaldex.site.reference import reference_build
from ixathaldex.site.sampler import run_measured

#: what a scratch project copies (never lib/: the package is installed, not part of a project)
COPIED = ("book", "chapters", "_config.yml", "_toc.yml", "requirements.lock", "data/published")


def copy_project(dest: Path, src: Path | None = None, snapshots: list[str] | None = None) -> Path:
    """A scratch project at ``dest``: the book, chapters, configuration, claims registry and the
    ``snapshots`` (default: all) of ``src`` (default: the current project). Never the package: the
    installed one builds it, run in that folder with the project named (see :func:`run_build`).
    """
    src = Path(src) if src else Project.current().root
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_build", ".ipynb_checkpoints")
    for name in COPIED:
        path = src / name
        if path.is_dir():
            shutil.copytree(path, dest / name, ignore=ignore)
        elif path.is_file():
            shutil.copyfile(path, dest / name)
    (dest / "data" / "snapshots").mkdir(parents=True, exist_ok=True)
    for cut in snapshots if snapshots is not None else list_snapshots(src / "data" / "snapshots"):
        shutil.copytree(src / "data" / "snapshots" / cut, dest / "data" / "snapshots" / cut)
    return dest


def project_env(project: Path) -> dict:
    """The environment of a build of ``project``: the same as ours, with the project named."""
    return {**os.environ, ENV_VAR: str(Path(project).resolve())}


MEASURE = """
import resource, sys, time
from ixathaldex import cli
t = time.perf_counter()
rc = cli.main(sys.argv[1:])
s = time.perf_counter() - t
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(f"@@bench rc={rc} seconds={s:.3f} peak_kib={peak}", file=sys.stderr)
sys.exit(rc)
"""


def run_build(project: Path, *args: str) -> dict:
    """Run ``ixathaldex build ARGS`` in ``project``; wall time, exit code, output, peak RSS of one
    process (``peak_mib``), the process tree's peak memory and CPU seconds
    (:func:`ixathaldex.site.sampler.run_measured`), the load average before it."""
    load = load_average()
    result = run_measured([sys.executable, "-c", MEASURE, "build", *args], project, project_env(project))
    text = result["output"]
    m = re.search(r"@@bench rc=(-?\d+) seconds=([\d.]+) peak_kib=(\d+)", text)
    return {**result, "load": load, "peak_mib": int(m.group(3)) / 1024 if m else float("nan"),
            "executed": len(re.findall(r"\sexecuted\s", text)), "cached": len(re.findall(r"\scached\s", text))}


#: a progress line of the build: version, what (a notebook, "pdf", "jupyter-book build"), status, seconds
LOG_LINE = re.compile(r"^\s+(\d{4}-\d\d-\d\d)\s+(.+?)\s+(executed|cached|computed|built|printed)\s+([\d.]+) s\s*$",
                      re.MULTILINE)


def parse_build_log(text: str) -> list[dict]:
    """The build's progress lines in ``text``: ``[{"version", "what", "status", "seconds"}]``."""
    return [{"version": m.group(1), "what": m.group(2).strip(), "status": m.group(3), "seconds": float(m.group(4))}
            for m in LOG_LINE.finditer(text)]


def pdf_seconds(text: str) -> float | None:
    """Seconds the build spent printing PDFs ("pdf ... printed N s" lines), None when it printed none."""
    times = [r["seconds"] for r in parse_build_log(text) if r["what"] == "pdf" and r["status"] == "printed"]
    return sum(times) if times else None


def median_run(runs: list[dict]) -> dict:
    """The run of median time (the lower middle one of an even count), with every run's seconds
    under ``runs`` and their loads under ``loads``; a failed run wins (it must be seen)."""
    if not runs:
        raise ValueError("no runs")
    failed = [r for r in runs if r.get("rc") != 0]
    ordered = sorted(runs, key=lambda r: r["seconds"])
    chosen = dict(failed[0] if failed else ordered[(len(ordered) - 1) // 2])
    chosen["runs"] = [round(r["seconds"], 2) for r in runs]
    chosen["loads"] = [r.get("load") for r in runs]
    return chosen


def load_average() -> float:
    """The machine's 1-minute load average."""
    return round(os.getloadavg()[0], 2)


def summary(results: dict) -> dict:
    """The JSON line: each step's ``seconds`` (median), ``rc``, ``load`` (before that run) and the
    seconds of every run; ``to_reference`` where a step is compared with the reference."""
    out = {}
    for key, r in results.items():
        row = {"seconds": round(r["seconds"], 2), "rc": r.get("rc", 0)}
        for extra in ("load", "loads", "runs", "to_reference", "imports", "analyses", "sphinx", "without_pdf",
                      "tree_rss_mib", "tree_pss_mib", "tree_uss_mib", "cpu", "cpu_to_reference"):
            if r.get(extra) is not None:
                row[extra] = round(r[extra], 2) if isinstance(r[extra], float) else r[extra]
        out[key] = row
    return out


def line(label: str, result: dict, extra: str = "") -> str:
    """One printed figure: label, median seconds, status, the load average before each run, extra."""
    status = "ok" if result.get("rc") == 0 else f"FAILED (exit {result.get('rc')})"
    loads = result.get("loads") or [result.get("load")]
    load = "load " + "/".join("?" if x is None else f"{x:.1f}" for x in loads)
    runs = result.get("runs") or []
    spread = f"  runs {'/'.join(f'{x:.1f}' for x in runs)}" if len(runs) > 1 else ""
    return (f"{label:<58} {result['seconds']:7.1f} s  {status}  [{load}]{spread}"
            f"{('  ' + extra) if extra else ''}")


def repeat(runs: int, once) -> dict:
    """``once(i)`` -> {step: result} for ``runs`` runs; each step's median run (:func:`median_run`).
    The load average is read before each run; a run that failed stops the repetition."""
    collected: dict[str, list] = {}
    for i in range(runs):
        load = load_average()
        for step, result in once(i).items():
            collected.setdefault(step, []).append({**result, "load": result.get("load", load)})
        if any(r[-1].get("rc") != 0 for r in collected.values()):
            break
    return {step: median_run(rs) for step, rs in collected.items()}


def cpu_line(result: dict) -> str:
    """The CPU seconds of a run by kind of process (sampled), largest first."""
    kinds = sorted((result.get("cpu_by_kind") or {}).items(), key=lambda kv: -kv[1]["seconds"])
    return "CPU by process: " + ", ".join(f"{kind} {row['seconds']:.1f} s" + (f" ({row['processes']})" if
                                                                               row["processes"] > 1 else "")
                                          for kind, row in kinds) if kinds else ""


def breakdown(result: dict) -> str:
    """Where a build's time went, from its progress lines: the slowest notebook, the notebooks'
    seconds summed, the ARD, jupyter-book and the PDF (each summed over versions)."""
    rows = parse_build_log(result.get("output", ""))
    notebooks = [r for r in rows if r["status"] == "executed"]
    parts = []
    if notebooks:
        slowest = max(notebooks, key=lambda r: r["seconds"])
        parts.append(f"notebooks {sum(r['seconds'] for r in notebooks):.1f} s summed, slowest "
                     f"{slowest['what']} {slowest['seconds']:.1f} s")
    for label, test in (("ARD", lambda r: r["what"].startswith("ARD")),
                        ("jupyter-book with PDF", lambda r: r["what"] == "jupyter-book build"),
                        ("PDF", lambda r: r["what"] == "pdf")):
        seconds = [r["seconds"] for r in rows if test(r)]
        if seconds:
            parts.append(f"{label} {'+'.join(f'{x:.1f}' for x in seconds)} s")
    return "; ".join(parts)


def project_sequence(proj: Path) -> dict:
    """Cold build, no-op rebuild, rebuild after touching and after editing the first chapter."""
    out = {"cold": run_build(proj, "--jobs", "2")}
    if out["cold"]["rc"] != 0:
        return out
    out["noop"] = run_build(proj, "--jobs", "2")
    first = proj / f"{first_chapter(proj)}.md"
    os.utime(first)
    out["touch"] = run_build(proj, "--jobs", "2")
    with open(first, "a", encoding="utf-8") as fh:
        fh.write("\n<!-- bench edit -->\n")
    out["edit"] = run_build(proj, "--jobs", "2")
    return out


def first_chapter(proj: Path) -> str:
    """The first chapter of the project's toc, e.g. ``chapters/01_patients``."""
    return st.resolve_pages(proj, load_yaml(proj / "_toc.yml"))[0][0][0]


def bench_one_project(source: Path, scratch: Path, cuts: list[str], runs: int, results: dict) -> bool:
    """Cold build, no-op rebuild, rebuild after touching and after editing the first chapter, each
    the median of ``runs`` fresh copies; False if the cold build failed."""
    chapter = first_chapter(source)
    results.update(repeat(runs, lambda i: project_sequence(copy_project(scratch / f"all-{i}", source))))
    r = results["cold"]
    print(line("cold build, all versions (--jobs 2)", r,
               f"{r['executed']} notebooks executed; {memory(r)}"), flush=True)
    if r["rc"] != 0:
        print(r["output"][-3000:])
        return False
    print(line("no-op rebuild (target <= 1 s)", results["noop"], f"{results['noop']['executed']} executed"))
    print(line(f"rebuild after touching {chapter}.md (mtime only)", results["touch"],
               f"{results['touch']['executed']} executed"))
    r = results["edit"]
    print(line(f"rebuild after editing {chapter}.md", r,
               f"{r['executed']} executed (expected {len(cuts)}: that chapter in each version"
               f"{' + post pages' if r['executed'] > len(cuts) else ''}); {r['seconds'] / EDIT_BEFORE_SECONDS:.2f}x "
               f"the {EDIT_BEFORE_SECONDS:.1f} s of bc12581"))
    print(f"    {breakdown(r)}")
    print(f"    {cpu_line(r)}", flush=True)
    return True


def sphinx_pass(project: Path, version: str) -> dict:
    """One ``jupyter-book build`` of the version a build of ``project`` left staged."""
    stage = project / "_build" / "sphinx" / version / "source"  # the kept staged source (site.incremental)
    out = project / "_floor_sphinx"
    shutil.rmtree(out, ignore_errors=True)
    saved = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(project.resolve())  # Sphinx (the {claim} role) reads this project
    t = time.perf_counter()
    try:
        st.run_jupyter_book(stage, stage / "_config.yml", project / "_toc.yml", out, version)
        rc, output = 0, ""
    except Exception as exc:  # noqa: BLE001 - reported in the bench
        rc, output = 1, str(exc)
    finally:
        if saved is None:
            del os.environ[ENV_VAR]
        else:
            os.environ[ENV_VAR] = saved
    return {"rc": rc, "seconds": time.perf_counter() - t, "output": output}


def floor_run(project: Path, version: str) -> dict:
    """The floor of ``version`` in ``project`` (built once already, so that it is staged): the
    imports and every chapter in one process (:mod:`ixathaldex.site.floor`), then one Sphinx pass."""
    chapters = [str(path.resolve()) for _, path in st.resolve_pages(project, load_yaml(project / "_toc.yml"))[0]]
    load = load_average()
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ixathaldex.site.floor", version, *chapters], cwd=project,
                          env=project_env(project), capture_output=True, text=True)
    wall = time.perf_counter() - t
    found = [ln for ln in proc.stdout.splitlines() if ln.startswith(fl.MARK)]
    if proc.returncode != 0 or not found:
        return {"rc": proc.returncode or 1, "seconds": wall, "output": proc.stdout + proc.stderr, "load": load}
    measured = json.loads(found[-1][len(fl.MARK):])
    sphinx = sphinx_pass(project, version)
    return {"rc": sphinx["rc"], "seconds": measured["seconds"] + sphinx["seconds"], "imports": measured["imports"],
            "analyses": measured["analyses"], "chapters": measured["chapters"], "sphinx": sphinx["seconds"],
            "output": sphinx["output"], "load": load}


def one_version_run(source: Path, scratch: Path, newest: str, i: int) -> dict:
    """One run of the one-version figures: cold build, its PDF time, the reference, the floor."""
    one = copy_project(scratch / f"one-{i}", source, snapshots=[newest])
    cold = run_build(one, "--jobs", "2")
    out = {"one_cold": cold}
    pdf = pdf_seconds(cold["output"])
    if pdf is not None:
        out["pdf"] = {"rc": 0, "seconds": pdf, "load": cold["load"]}
    load = load_average()
    out["reference"] = {**reference_build(one, newest, project_env(one)), "load": load}
    if cold["rc"] == 0:
        out["floor"] = floor_run(one, newest)
    return out


def bench_one_version(source: Path, scratch: Path, newest: str, runs: int, results: dict) -> None:
    """A cold build of the newest version alone, the plain jupyter-book reference and the floor,
    each the median of ``runs``; the ratios to the reference."""
    results.update(repeat(runs, lambda i: one_version_run(source, scratch, newest, i)))
    ref = results["reference"]
    cold = results["one_cold"]
    pdf = results.get("pdf", {}).get("seconds")
    if pdf is not None:
        cold["without_pdf"] = cold["seconds"] - pdf
    for r in (cold, results.get("floor")):
        if r is not None and ref["rc"] == 0 and ref["seconds"] > 0:
            r["to_reference"] = r.get("without_pdf", r["seconds"]) / ref["seconds"]
    if cold.get("cpu") and ref.get("cpu"):
        cold["cpu_to_reference"] = cold["cpu"] / ref["cpu"]
    print(line(f"cold build, one version ({newest}, --jobs 2)", cold, f"{cold['executed']} notebooks executed; "
               + (f"{cold['without_pdf']:.1f} s without the PDF; " if pdf is not None else "no PDF; ")
               + (f"{cold['to_reference']:.2f}x the reference; " if "to_reference" in cold else "")
               + (f"CPU {cold['cpu']:.1f} s with the PDF, {cold['cpu_to_reference']:.2f}x the reference's; "
                  if "cpu_to_reference" in cold else "") + memory(cold)),
          flush=True)
    print(f"    {breakdown(cold)}")
    print(f"    {cpu_line(cold)}")
    if pdf is not None:
        print(line("  of which: PDF printing (one version)", results["pdf"]))
    print(line(f"reference: jupyter-book build, execute_notebooks: force ({newest})", ref,
               f"CPU {ref.get('cpu', float('nan')):.1f} s; "
               f"post pages with prepared results: {', '.join(ref['posts']) or 'none'}; left out: "
               f"{', '.join(ref['posts_left_out']) or 'none'}"), flush=True)
    print(f"    {cpu_line(ref)}")
    if ref["rc"] != 0:
        print(ref["output"][-2000:])
    floor = results.get("floor")
    if floor is not None:
        print(line("floor: imports + chapters in one process + one Sphinx pass", floor,
                   (f"imports {floor['imports']:.1f} s, chapters {floor['analyses']:.1f} s, "
                    f"Sphinx {floor['sphinx']:.1f} s; {floor.get('to_reference', float('nan')):.2f}x the reference"
                    if floor["rc"] == 0 else floor["output"][-500:])), flush=True)


def bench_large(source: Path, scratch: Path, n: int, runs: int, results: dict) -> None:
    """Generate an ``n``-patient cut in a scratch project (no other data) and build its one version
    ``runs`` times (the build folder removed before each)."""
    big = copy_project(scratch / "large", source, snapshots=[])
    t = time.perf_counter()
    gen = subprocess.run([sys.executable, "-m", "ixathaldex.cli", "synth", "--n", str(n),
                          "--out", str(big / "data" / "snapshots")], cwd=big, env=project_env(big),
                         capture_output=True, text=True)
    gen_s = time.perf_counter() - t
    big_cuts = list_snapshots(big / "data" / "snapshots")
    if gen.returncode != 0 or not big_cuts:
        print(f"{n:,}-patient cut: generator failed ({gen_s:.1f} s): {(gen.stdout + gen.stderr).strip()[-800:]}")
        return
    for cut in big_cuts[:-1]:
        shutil.rmtree(big / "data" / "snapshots" / cut)
    print(f"{n:,}-patient cut {big_cuts[-1]} generated in {gen_s:.1f} s", flush=True)

    def once(i):
        shutil.rmtree(big / "_build", ignore_errors=True)
        return {"large": run_build(big, "--jobs", "2")}

    results.update(repeat(runs, once))
    r = results["large"]
    print(line(f"one version from the {n:,}-patient cut (target <= {LARGE_LIMITS[0]:.0f} s, "
               f"<= {LARGE_LIMITS[1]:.0f} MiB)", r,
               f"{memory(r)} (the limit reads the summed PSS, the tree's resident memory: each shared "
               f"page once; the summed RSS counts the fork server's pages once per kernel); one process at most "
               f"{r['peak_mib']:.0f} MiB"), flush=True)
    if r["rc"] != 0:
        print(r["output"][-3000:])


#: the rebuild after editing one chapter at the start of issue 13 (docs/pipeline.md, bc12581): 26.0 s
EDIT_BEFORE_SECONDS = 26.0
#: the limits of the 100,000-patient version: seconds, and MiB of the process tree's summed PSS (its
#: resident memory, each page once; the summed RSS where PSS cannot be read, docs/pipeline.md)
LARGE_LIMITS = (60.0, 1024.0)


def targets(results: dict, chapter: str, cuts: list[str]) -> list[tuple[str, bool]]:
    """Each target of docs/pipeline.md and whether this run met it."""
    edit = results["edit"]["output"]
    others = r"chapters/(?!" + re.escape(chapter[len("chapters/"):]) + r"\.md)\S+\s+executed"
    one = results["one_cold"]
    checks = [
        ("no-op rebuild in at most 1 s", results["noop"]["seconds"] <= 1.0),
        ("an edited chapter re-executes only that chapter, in each version",
         len(re.findall(rf"{re.escape(chapter)}\.md\s+executed", edit)) == len(cuts) and not re.search(others, edit)),
        (f"rebuild after editing one chapter in at most half of {EDIT_BEFORE_SECONDS:.1f} s (bc12581)",
         results["edit"]["seconds"] <= EDIT_BEFORE_SECONDS / 2),
        ("cold build of one version (without its PDF) in at most half the plain jupyter-book reference",
         one.get("without_pdf", one["seconds"]) <= 0.5 * results["reference"]["seconds"]),
    ]
    if "large" in results:
        large = results["large"]
        seconds, mib = LARGE_LIMITS
        resident = large.get("tree_pss_mib") or large.get("tree_rss_mib") or 0
        checks.append((f"100,000-patient version in at most {seconds:.0f} s and {mib:.0f} MiB (process tree, summed PSS)",
                       large["rc"] == 0 and large["seconds"] <= seconds and resident <= mib))
    return checks


def memory(result: dict) -> str:
    """The process tree's peak memory of a run, as printed: summed RSS, PSS (the limit's reading), USS."""
    parts = [f"{name} {result[key]:.0f}" for name, key in (("RSS", "tree_rss_mib"), ("PSS", "tree_pss_mib"),
                                                          ("USS", "tree_uss_mib")) if result.get(key) is not None]
    return f"process tree peak {' / '.join(parts)} MiB" if parts else "process tree not sampled"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders")
    parser.add_argument("--skip-large", action="store_true", help="skip the 100,000-patient build")
    parser.add_argument("--n", type=int, default=100_000, help="patients in the large cut")
    parser.add_argument("--runs", type=int, default=3, help="runs of each figure (the median is shown)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    source = Project.current()
    cuts = list_snapshots(source.snapshot_root)
    if not cuts:
        print("no snapshots in data/snapshots: nothing to benchmark (run `make synth` first)")
        return 1
    scratch = Path(tempfile.mkdtemp(prefix="ixathaldex-bench-"))
    print(f"scratch copies under {scratch}; {len(cuts)} version(s): {', '.join(cuts)}; {os.cpu_count()} CPU(s); "
          f"median of {args.runs} run(s); load average now {load_average():.2f}")
    results: dict = {}
    try:
        chapter = first_chapter(source.root)
        if not bench_one_project(source.root, scratch, cuts, args.runs, results):
            return 1
        bench_one_version(source.root, scratch, cuts[-1], args.runs, results)
        if not args.skip_large:
            bench_large(source.root, scratch, args.n, args.runs, results)
        print("targets:")
        for text, ok in targets(results, chapter, cuts):
            print(f"  [{'met' if ok else 'NOT met'}] {text}")
        print(json.dumps(summary(results)))
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
