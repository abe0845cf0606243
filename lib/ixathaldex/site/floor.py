"""`make bench`'s floor: what one version costs without kernels, measured in one Python process.

The floor is the cost the build cannot go below with today's analyses: one set of imports (the
analysis stack and the package), every chapter's code run once for one version in one in-process
IPython shell (its namespace reset between chapters; figures rendered by the inline backend as in a
kernel, so glued figures are drawn). The bench adds one Sphinx pass over the version as staged by
a build (:func:`ixathaldex.site.bench.sphinx_pass`). No kernel is started and no notebook is
written. Nothing of the package is imported before the clock starts.

    python -m ixathaldex.site.floor CUT CHAPTER.md...

run in a project folder prints one line ``@@floor {json}`` (see :func:`measure_floor`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import json
import sys
import time
from pathlib import Path

#: what a chapter's kernel imports: the analysis stack, then the package modules the chapters use
STACK = ("numpy", "pandas", "scipy.stats", "matplotlib", "matplotlib.pyplot", "matplotlib_inline.backend_inline",
         "lifelines", "statsmodels.duration.survfunc", "statsmodels.stats.proportion", "myst_nb", "IPython",
         "jupytext")
PACKAGE = ("ixathaldex.data.snapshot", "ixathaldex.analysis.populations", "ixathaldex.analysis.response",
           "ixathaldex.analysis.survival", "ixathaldex.analysis.cox", "ixathaldex.analysis.safety",
           "ixathaldex.claims.values", "ixathaldex.claims.values_survival", "ixathaldex.claims.notice",
           "ixathaldex.report.tables", "ixathaldex.report.figures", "ixathaldex.report.figure_publish")
MARK = "@@floor "


def import_stack() -> float:
    """Import the analysis stack and the package once; the seconds it took."""
    t = time.perf_counter()
    for name in STACK + PACKAGE:
        importlib.import_module(name)
    return time.perf_counter() - t


def make_shell():
    """An in-process IPython shell drawing figures with the inline backend (as a kernel does)."""
    import matplotlib
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib_inline.backend_inline import configure_inline_support

    shell = InteractiveShell.instance()
    matplotlib.use("module://matplotlib_inline.backend_inline")
    configure_inline_support(shell, "inline")
    return shell


def run_chapter(shell, path: Path, cut: str) -> float:
    """Run every code cell of the MyST chapter at ``path`` with ``snapshot = cut`` (its
    ``parameters`` cell replaced); the seconds it took. Raises RuntimeError on a failing cell."""
    import jupytext

    nb = jupytext.read(str(path), fmt="md:myst")
    shell.reset(new_session=False)
    os.chdir(path.parent)  # a chapter's kernel works in its folder
    t = time.perf_counter()
    shell.run_cell(f"snapshot = {cut!r}", store_history=False)
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            result = shell.run_cell(cell.source, store_history=False, silent=False)
        if not result.success:
            error = result.error_in_exec or result.error_before_exec
            raise RuntimeError(f"{path.name}: {type(error).__name__}: {error}")
    return time.perf_counter() - t


def measure_floor(cut: str, chapters: list[Path]) -> dict:
    """``{"imports", "analyses", "seconds", "chapters": {file name: s}, "rc"}``: the imports once,
    then every chapter of version ``cut`` (``rc`` 1 and ``error`` when a chapter failed)."""
    out: dict = {"imports": import_stack(), "analyses": 0.0, "chapters": {}, "rc": 0}
    try:
        shell = make_shell()
        for path in chapters:
            out["chapters"][Path(path).name] = run_chapter(shell, Path(path), cut)
    except Exception as exc:  # noqa: BLE001 - reported, the bench goes on
        out["rc"], out["error"] = 1, f"{type(exc).__name__}: {exc}"
    out["analyses"] = sum(out["chapters"].values())
    out["seconds"] = out["imports"] + out["analyses"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cut")
    parser.add_argument("chapters", nargs="+", type=Path, help="the chapters' MyST files, in the toc's order")
    args = parser.parse_args(argv)
    result = measure_floor(args.cut, args.chapters)
    print(MARK + json.dumps(result), flush=True)
    return result["rc"]


if __name__ == "__main__":
    sys.exit(main())
