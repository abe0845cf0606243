"""The reference of `make bench`: plain ``jupyter-book build`` with ``execute_notebooks: force``.

Issue 13 compares a cold build of one version with what jupyter-book alone does over the same
pages: the chapters, each with the version's cut as its ``snapshot`` default, and the post pages
reading this pipeline's ``results.json``, ``claims.json`` and ``ard.json`` of that version, prepared
before the clock starts (copied from a build of the same scratch project). Every notebook runs in a
fresh kernel, one after the other, then Sphinx builds the pages once.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import yaml

from ixathaldex.paths import load_yaml
from ixathaldex.site import execute as ex
from ixathaldex.site import stage as st
from ixathaldex.site.sampler import run_measured


def reference_build(project: Path, version: str, env: dict) -> dict:
    """The reference build of ``version`` in ``project`` (built once already, for its run files;
    without them, the post pages are left out), measured (:func:`run_measured`), with the post
    pages it ran (``posts``) and left out (``posts_left_out``)."""
    ref = project / "_ref"
    shutil.rmtree(ref, ignore_errors=True)
    shutil.copytree(project / "book", ref / "src")
    config = load_yaml(project / "_config.yml")
    toc = load_yaml(project / "_toc.yml")
    chapters, pages = st.resolve_pages(project, toc)
    for name, src in chapters:
        # the parameters cell's default becomes this version (what papermill injects in our build)
        write_page(ref / "src" / f"{name}.md", src, {"snapshot": version})
    posts = {n for n in pages if (project / "book" / f"{n}.md").is_file()
             and ex.has_parameters_cell(project / "book" / f"{n}.md")}
    runs = project / "_build" / "runs" / version
    left_out = set(posts)
    if all((runs / f).is_file() for f in ("results.json", "claims.json", "ard.json")):
        shutil.copytree(runs, ref / "runs")
        for name in sorted(posts):
            page = ref / "src" / f"{name}.md"
            paths = {f"{kind}_json": os.path.relpath(ref / "runs" / f"{kind}.json", page.parent)
                     for kind in ("results", "claims", "ard")}
            write_page(page, project / "book" / f"{name}.md", {"snapshot": version, **paths})
        left_out = set()
    config.pop("ixathaldex", None)
    config["execute"] = {"execute_notebooks": "force", "timeout": 600}
    (ref / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (ref / "_toc.yml").write_text(yaml.safe_dump(drop_from_toc(toc, left_out)), encoding="utf-8")
    cmd = st.jupyter_book_command() + ["build", str(ref / "src"), "--all", "--config", str(ref / "_config.yml"),
                                       "--toc", str(ref / "_toc.yml"), "--path-output", str(ref / "out")]
    return {**run_measured(cmd, project, env), "posts_left_out": sorted(left_out), "posts": sorted(posts - left_out)}


def write_page(dest: Path, src: Path, defaults: dict) -> None:
    """``src`` written to ``dest`` with the parameters cell's defaults set to ``defaults`` (the
    first ``name = "..."`` line of each name), as papermill's injected cell would set them."""
    text = src.read_text(encoding="utf-8")
    for name, value in defaults.items():
        text = re.sub(rf'^({re.escape(name)}\s*=\s*)"[^"]*"', lambda m: f'{m.group(1)}"{value}"', text, count=1,
                      flags=re.MULTILINE)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")


def drop_from_toc(node, names):
    """The toc without the pages in ``names``; a part left with no chapters is dropped too
    (jupyter-book refuses an empty part)."""
    if isinstance(node, list):
        kept = [drop_from_toc(x, names) for x in node
                if not (isinstance(x, dict) and x.get("file") in names)]
        return [x for x in kept if not (isinstance(x, dict) and "chapters" in x and not x["chapters"]
                                        and "file" not in x)]
    if isinstance(node, dict):
        return {k: drop_from_toc(v, names) for k, v in node.items()}
    return node
