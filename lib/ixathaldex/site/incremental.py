"""The incremental Sphinx build of one version: its staged source and Sphinx environment kept
between builds (docs/pipeline.md, "Incremental Sphinx").

Each version keeps ``_build/sphinx/<version>/``: ``source/`` (its staged source) and ``_build/``
(jupyter-book's output: the doctrees, the pickled environment, the glue caches, the HTML), beside
the PDF last printed and the memo of the subject-id check.
:func:`sync_tree` copies a freshly staged version into the kept source, rewriting a file only when
its bytes change, so that Sphinx (which compares modification times) re-reads only the pages whose
source changed; the ``{claim}`` role and the cross-page glue add the pages that read what changed
(:mod:`ixathaldex.site.sphinxext`). Anything else that could change a page without changing its
source (the code, the configs, the lock, ``book/``) is in :func:`sphinx_key`: when the key differs
from the one stamped in the kept folder, the folder is removed and Sphinx builds from scratch.
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
from pathlib import Path

from ixathaldex.files import file_digest, sha256_bytes, tree_digest
from ixathaldex.site import leaks

#: the stamp of a kept Sphinx folder: the key of the inputs it was built from
SPHINX_STAMP = ".ixathaldex-sphinx.json"
#: environment variable: "0" turns the incremental Sphinx build off (every version built from scratch)
INCREMENTAL_ENV = "IXATHALDEX_INCREMENTAL_SPHINX"


def incremental_enabled() -> bool:
    """True unless ``IXATHALDEX_INCREMENTAL_SPHINX=0`` (then every Sphinx build is a full one)."""
    return os.environ.get(INCREMENTAL_ENV, "1") != "0"


def sphinx_key(root: Path, package: str, version: str) -> str:
    """What every page of a version may depend on beyond its own source: the package (the Sphinx
    extension, the claims registry, the toc), the project's configs and lock, and ``book/`` (its
    templates, static files and bibliography). A change of any of them means a full build."""
    parts = [version, package] + [file_digest(root / n) for n in ("_config.yml", "_toc.yml", "requirements.lock")]
    parts.append(tree_digest(root / "book"))
    return sha256_bytes("\n".join(parts).encode())


def prepare_kept(folder: Path, key: str, incremental: bool = True) -> bool:
    """Make ``folder`` ready for a build with ``key``: kept when its stamp holds ``key`` (returns
    True: an incremental build), else emptied (False: a full build). The stamp is removed until
    :func:`stamp_kept` (a failed build leaves no stamp, so the next one is full)."""
    stamp = folder / SPHINX_STAMP
    try:
        kept = incremental and json.loads(stamp.read_text(encoding="utf-8")).get("key") == key
    except (OSError, ValueError):
        kept = False
    if not kept and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    return kept


#: files an earlier build left in the HTML folder that the next build would read, making its pages
#: differ from a clean build's: myst-nb copies its stylesheet after the pages are written (a clean
#: build links it without Sphinx's ``?v=<checksum>``, an incremental one finding it with it); Sphinx
#: merges the new search index into the old one (keeping terms no page has any more, as empty lists).
#: Every page is written again (``sphinxext.write_every_page``), so the search index is complete.
PREVIOUS_OUTPUT = ("_static/mystnb.*.css", "searchindex.js")


def forget_previous_output(html_dir: Path) -> None:
    """Remove :data:`PREVIOUS_OUTPUT` from a kept HTML folder, so that the incremental build writes
    the same files as a clean one (``tests/test_incremental_sphinx.py``)."""
    for pattern in PREVIOUS_OUTPUT:
        for path in Path(html_dir).glob(pattern):
            path.unlink()


def stamp_kept(folder: Path, key: str) -> None:
    """Record that ``folder`` holds a successful build of the inputs with ``key``."""
    (folder / SPHINX_STAMP).write_text(json.dumps({"key": key}) + "\n", encoding="utf-8")


def sync_tree(source: Path, dest: Path) -> list[str]:
    """Make ``dest`` a copy of ``source``: a file is copied only when it is new or its bytes differ
    (an unchanged file keeps its modification time), every file and folder of ``dest`` absent from
    ``source`` is removed. Returns the relative paths copied or removed, sorted."""
    source, dest = Path(source), Path(dest)
    wanted = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    changed = []
    for rel in sorted(wanted):
        src, dst = source / rel, dest / rel
        if dst.is_file() and filecmp.cmp(src, dst, shallow=False):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.is_dir():
            shutil.rmtree(dst)
        shutil.copyfile(src, dst)
        changed.append(str(rel))
    if dest.exists():
        for path in sorted(dest.rglob("*"), reverse=True):  # children before their folder
            rel = path.relative_to(dest)
            if path.is_file() and rel not in wanted:
                path.unlink()
                changed.append(str(rel))
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return sorted(changed)


def copy_html(kept_html: Path, out: Path) -> Path:
    """A copy of a kept version's HTML in ``out/_build/html`` (the folder that is checked and then
    published; the kept one stays for the next build); returns it."""
    html_dir = Path(out) / "_build" / "html"
    html_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(kept_html, html_dir)
    return html_dir


#: the memo of the files a kept version's subject-id check found clean (in its kept Sphinx folder)
CHECKED = "checked-clean.json"


def find_ids_remembered(folder: Path, ids: frozenset[str], pattern: re.Pattern, memo: Path,
                        seen: set | None = None, files: list[Path] | None = None) -> list[str]:
    """``leaks.find_ids`` of ``folder``, skipping each text file whose sha256 the ``memo`` file
    lists as found clean by the same check (the same ids and pattern); the clean files of this
    check are remembered for the next one. An unreadable or other check's memo is ignored.
    ``seen``: a set shared by the versions of one build, of ``(check, sha256)`` of the texts this
    same check found clean in another version (the theme's files, identical in every version,
    are then searched once per build). ``files``: the files of ``folder`` to read (default: all)."""
    check = sha256_bytes("\n".join(sorted(ids) + [pattern.pattern]).encode())
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
        known = set(data["clean"]) if data.get("check") == check else set()
    except (OSError, ValueError, KeyError, TypeError):
        known = set()
    seen = set() if seen is None else seen
    known |= {digest for c, digest in list(seen) if c == check}
    matcher, hits, clean = leaks.IdMatcher(set(ids)), [], set()
    for rel, text in leaks.published_texts(folder, files):
        digest = sha256_bytes(text.encode("utf-8"))
        if digest in known:
            clean.add(digest)
            continue
        found = matcher.find(text) | set(pattern.findall(text))
        hits += [f"{rel}: {i}" for i in sorted(found)]
        if not found:
            clean.add(digest)
            seen.add((check, digest))
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(json.dumps({"check": check, "clean": sorted(clean)}) + "\n", encoding="utf-8")
    return hits
