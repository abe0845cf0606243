"""`make bench`: timings of the site build (not a test), measured in scratch copies of the project.

Prints: a cold build of every version; a no-op rebuild; a rebuild after touching (mtime) and after
editing one chapter; a cold build of one version beside the reference, plain ``jupyter-book build``
with ``execute_notebooks: force`` over the same chapters; one version from a 100,000-patient cut
(time and peak memory). The real ``_build/`` is never touched.

    python -m ixathaldex.site.bench [--keep] [--skip-large] [--n 100000]
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

import yaml

from ixathaldex.data.manifest import list_snapshots
from ixathaldex.paths import ENV_VAR, Project, load_yaml
from ixathaldex.site import execute as ex
from ixathaldex.site import stage as st

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
    """Run ``ixathaldex build ARGS`` in ``project``; wall time, exit code, output, peak RSS (one process)."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", MEASURE, "build", *args], cwd=project,
                          env=project_env(project), capture_output=True, text=True)
    seconds = time.perf_counter() - t
    out = proc.stdout + proc.stderr
    m = re.search(r"@@bench rc=(-?\d+) seconds=([\d.]+) peak_kib=(\d+)", out)
    return {"rc": proc.returncode, "seconds": seconds, "output": out,
            "peak_mib": int(m.group(3)) / 1024 if m else float("nan"),
            "executed": len(re.findall(r"\sexecuted\s", out)), "cached": len(re.findall(r"\scached\s", out))}


def reference_build(project: Path, version: str) -> dict:
    """Plain ``jupyter-book build`` with ``execute_notebooks: force`` over the same chapters, one version."""
    ref = project / "_ref"
    shutil.rmtree(ref, ignore_errors=True)
    shutil.copytree(project / "book", ref / "src")
    config = load_yaml(project / "_config.yml")
    toc = load_yaml(project / "_toc.yml")
    chapters, pages = st.resolve_pages(project, toc)
    for name, src in chapters:
        text = src.read_text(encoding="utf-8")
        # the parameters cell's default becomes this version (what papermill injects in our build)
        text = re.sub(r'(snapshot\s*=\s*)"[^"]*"', rf'\g<1>"{version}"', text, count=1)
        (ref / "src" / f"{name}.md").parent.mkdir(parents=True, exist_ok=True)
        (ref / "src" / f"{name}.md").write_text(text, encoding="utf-8")
    # post pages need this pipeline's results.json: left out of the reference toc
    posts = {n for n in pages if (project / "book" / f"{n}.md").is_file()
             and ex.has_parameters_cell(project / "book" / f"{n}.md")}
    ref_toc = _drop_from_toc(toc, posts)
    config.pop("ixathaldex", None)
    config["execute"] = {"execute_notebooks": "force", "timeout": 600}
    (ref / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (ref / "_toc.yml").write_text(yaml.safe_dump(ref_toc), encoding="utf-8")
    cmd = st.jupyter_book_command() + ["build", str(ref / "src"), "--all", "--config", str(ref / "_config.yml"),
                                       "--toc", str(ref / "_toc.yml"), "--path-output", str(ref / "out")]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=project, env=project_env(project), capture_output=True, text=True)
    return {"rc": proc.returncode, "seconds": time.perf_counter() - t, "output": proc.stdout + proc.stderr,
            "posts_left_out": sorted(posts)}


def _drop_from_toc(node, names):
    """The toc without the pages in ``names``; a part left with no chapters is dropped too
    (jupyter-book refuses an empty part)."""
    if isinstance(node, list):
        kept = [_drop_from_toc(x, names) for x in node
                if not (isinstance(x, dict) and x.get("file") in names)]
        return [x for x in kept if not (isinstance(x, dict) and "chapters" in x and not x["chapters"]
                                        and "file" not in x)]
    if isinstance(node, dict):
        return {k: _drop_from_toc(v, names) for k, v in node.items()}
    return node


def line(label: str, result: dict, extra: str = "") -> str:
    status = "ok" if result.get("rc") == 0 else f"FAILED (exit {result.get('rc')})"
    return f"{label:<58} {result['seconds']:7.1f} s  {status}{('  ' + extra) if extra else ''}"


def bench_one_project(proj: Path, cuts: list[str], chapter: str, results: dict) -> bool:
    """Cold build, no-op rebuild, rebuild after touching and after editing ``chapter``; False if
    the cold build failed."""
    r = results["cold"] = run_build(proj, "--jobs", "2")
    print(line("cold build, all versions (--jobs 2)", r,
               f"{r['executed']} notebooks executed; peak RSS {r['peak_mib']:.0f} MiB"), flush=True)
    if r["rc"] != 0:
        print(r["output"][-3000:])
        return False
    r = results["noop"] = run_build(proj, "--jobs", "2")
    print(line("no-op rebuild (target < 3 s)", r, f"{r['executed']} executed"), flush=True)
    first = proj / f"{chapter}.md"
    os.utime(first)
    r = results["touch"] = run_build(proj, "--jobs", "2")
    print(line(f"rebuild after touching {chapter}.md (mtime only)", r, f"{r['executed']} executed"), flush=True)
    with open(first, "a", encoding="utf-8") as fh:
        fh.write("\n<!-- bench edit -->\n")
    r = results["edit"] = run_build(proj, "--jobs", "2")
    print(line(f"rebuild after editing {chapter}.md", r,
               f"{r['executed']} executed (expected {len(cuts)}: that chapter in each version"
               f"{' + post pages' if r['executed'] > len(cuts) else ''})"), flush=True)
    return True


def bench_one_version(source: Path, scratch: Path, newest: str, results: dict) -> None:
    """A cold build of the newest version alone, and the plain jupyter-book reference."""
    one = copy_project(scratch / "one", source, snapshots=[newest])
    r = results["one_cold"] = run_build(one, "--jobs", "2")
    print(line(f"cold build, one version ({newest}, --jobs 2)", r, f"{r['executed']} notebooks executed"),
          flush=True)
    ref = results["reference"] = reference_build(one, newest)
    print(line(f"reference: jupyter-book build, execute_notebooks: force ({newest})", ref,
               f"post pages left out: {', '.join(ref['posts_left_out']) or 'none'}"), flush=True)
    if ref["rc"] != 0:
        print(ref["output"][-2000:])


def bench_large(source: Path, scratch: Path, n: int, results: dict) -> None:
    """Generate an ``n``-patient cut in a scratch project (no other data) and build its one version."""
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
    r = results["large"] = run_build(big, "--jobs", "2")
    print(line(f"one version from the {n:,}-patient cut (target < 300 s, < 4 GB)", r,
               f"peak RSS of one process {r['peak_mib']:.0f} MiB"), flush=True)
    if r["rc"] != 0:
        print(r["output"][-3000:])


def targets(results: dict, chapter: str, cuts: list[str]) -> list[tuple[str, bool]]:
    """Each target of docs/pipeline.md and whether this run met it."""
    edit = results["edit"]["output"]
    others = r"chapters/(?!" + re.escape(chapter[len("chapters/"):]) + r"\.md)\S+\s+executed"
    checks = [
        ("no-op rebuild under 3 s", results["noop"]["seconds"] < 3),
        ("an edited chapter re-executes only that chapter, in each version",
         len(re.findall(rf"{re.escape(chapter)}\.md\s+executed", edit)) == len(cuts) and not re.search(others, edit)),
        ("cold build of one version faster than the plain jupyter-book reference",
         results["one_cold"]["seconds"] < results["reference"]["seconds"]),
    ]
    if "large" in results:
        large = results["large"]
        checks.append(("100,000-patient version under 300 s and 4 GB",
                       large["rc"] == 0 and large["seconds"] < 300 and large["peak_mib"] < 4096))
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders")
    parser.add_argument("--skip-large", action="store_true", help="skip the 100,000-patient build")
    parser.add_argument("--n", type=int, default=100_000, help="patients in the large cut")
    args = parser.parse_args(argv)
    source = Project.current()
    cuts = list_snapshots(source.snapshot_root)
    if not cuts:
        print("no snapshots in data/snapshots: nothing to benchmark (run `make synth` first)")
        return 1
    scratch = Path(tempfile.mkdtemp(prefix="ixathaldex-bench-"))
    print(f"scratch copies under {scratch}; {len(cuts)} version(s): {', '.join(cuts)}; {os.cpu_count()} CPU(s)")
    results: dict = {}
    try:
        proj = copy_project(scratch / "all", source.root)
        chapter = st.resolve_pages(proj, load_yaml(proj / "_toc.yml"))[0][0][0]
        if not bench_one_project(proj, cuts, chapter, results):
            return 1
        bench_one_version(source.root, scratch, cuts[-1], results)
        if not args.skip_large:
            bench_large(source.root, scratch, args.n, results)
        print("targets:")
        for text, ok in targets(results, chapter, cuts):
            print(f"  [{'met' if ok else 'NOT met'}] {text}")
        print(json.dumps({k: {"seconds": round(v["seconds"], 2), "rc": v["rc"]} for k, v in results.items()}))
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
