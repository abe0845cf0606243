"""The versioned website: staging, per-version Jupyter Book config, build, checks and publishing.

Layout of a staged version (``_build/sphinx/<version>/source/``, kept between builds and synchronised
file by file, :mod:`ixathaldex.site.incremental`)::

    <book/ pages, _static/, _templates/, references.bib>   copied from book/ (post pages replaced)
    <post page>.ipynb                                       executed post pages (reviewer, what changed)
    chapters/NN_slug.ipynb                                  executed chapters
    _config.yml                                             this version's generated config

The paths in ``_toc.yml`` are relative to that staged root.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from ixathaldex.claims.notice import is_synthetic
from ixathaldex.exceptions import BuildError
from ixathaldex.files import write_if_changed
from ixathaldex.log import logger
from ixathaldex.paths import toc_files
from ixathaldex.report.figure_files import FILES_MIME, FOLDER
from ixathaldex.site import leaks
from ixathaldex.site.zygote import run_command as run_forked

#: a USUBJID-like subject id (docs/data-model.md: IXATHALDEX-<site>-<nnn>)
SUBJECT_ID = re.compile(r"IXATHALDEX-\d\d-\d\d\d")
STAMP = ".ixathaldex-build.json"


# ---- configuration and toc -------------------------------------------------------------------

def project_settings(config: dict) -> dict:
    """The ``ixathaldex:`` section of ``_config.yml`` with its defaults."""
    settings = {"allow_patient_level": False, "base_url": "/", "publication_cuts": []}
    settings.update(config.get("ixathaldex") or {})
    settings["publication_cuts"] = [str(c) for c in settings["publication_cuts"] or []]
    if not str(settings["base_url"]).endswith("/"):
        settings["base_url"] = str(settings["base_url"]) + "/"
    return settings


def resolve_pages(project: Path, toc: dict) -> tuple[list[tuple[str, Path]], list[str]]:
    """The toc's chapters (``chapters/…`` -> MyST source) and its book pages (names)."""
    chapters, pages = [], []
    for name in toc_files(toc):
        if name.startswith("chapters/"):
            src = project / f"{name}.md"
            if not src.is_file():
                raise BuildError(f"_toc.yml names {name} but {src} does not exist")
            chapters.append((name, src))
        else:
            if not any((project / "book" / f"{name}{ext}").is_file() for ext in (".md", ".ipynb", ".rst")):
                raise BuildError(f"_toc.yml names {name} but book/{name}.md does not exist")
            pages.append(name)
    return chapters, pages


# ---- provenance and per-version config -------------------------------------------------------

#: the site's inputs in the project folder: the banner names the last commit that changed one of
#: them and its date (docs/pipeline.md, "The banner"), so that a rebuild of unchanged inputs
#: writes the same pages and reuses the PDF
SITE_INPUTS = ("lib", "chapters", "book", "_config.yml", "_toc.yml", "requirements.lock", "data/published")


def _git(project: Path, *args: str) -> str | None:
    """``git ARGS`` in ``project``: its output, None when it fails (no git, not a checkout)."""
    try:
        out = subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def _utc(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _newest_mtime(paths) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


def code_stamp(project: Path) -> tuple[str, str]:
    """The banner's code and date, from the site's inputs (:data:`SITE_INPUTS`) alone, never the
    clock: the short hash of the last commit that changed one of them and that commit's date; with
    uncommitted changes to them, "+modified" and the newest modification time of a changed file.
    Outside a git checkout: "unknown" and the newest modification time of any input file."""
    root = Path(project)
    last = _git(root, "log", "-1", "--format=%h %ct", "--", *SITE_INPUTS)
    if last is None or not last.strip():
        files = [p for name in SITE_INPUTS for p in ([root / name] if (root / name).is_file()
                                                     else (root / name).rglob("*"))
                 if "__pycache__" not in p.parts]
        return "unknown", _utc(_newest_mtime(files))
    commit, seconds = last.split()
    status = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *SITE_INPUTS) or ""
    top = Path((_git(root, "rev-parse", "--show-toplevel") or str(root)).strip())
    changed = [top / line[3:].split(" -> ")[-1].strip('"') for line in status.splitlines() if line.strip()]
    changed = [p for p in changed if "__pycache__" not in p.parts]
    if not changed:
        return commit, _utc(float(seconds))
    return commit + "+modified", _utc(max(float(seconds), _newest_mtime(changed)))


def provenance(cut: str, manifest: dict, checksum: str, commit: str, code_date: str, pdf: str = "") -> dict:
    """The banner's facts of one version; ``data`` is "synthetic" or "trial", from the manifest;
    ``pdf`` the file name of the version's PDF ("" when the build does not print one)."""
    return {
        "snapshot": cut,
        "cutoff_date": manifest.get("cutoff_date", cut),
        "label": manifest.get("label", ""),
        "checksum": checksum,
        "commit": commit,
        "code_date": code_date,
        "data": "synthetic" if is_synthetic(manifest) else "trial",
        "pdf": pdf,
    }


def provenance_html(prov: dict) -> str:
    """The banner shown on every page of a version (the theme's announcement)."""
    e = html.escape
    parts = []
    if prov["data"] == "synthetic":
        parts.append("<strong>Synthetic data</strong> (not real patients)")
    else:
        parts.append("<strong>Data</strong>: the trial's patient-level data")
    parts.append(f"snapshot <code>{e(prov['snapshot'])}</code>")
    parts.append(f"cut-off {e(prov['cutoff_date'])}")
    parts.append(f"checksum <code>{e(prov['checksum'])}</code>")
    parts.append(f"code <code>{e(prov['commit'])}</code> of {e(prov['code_date'])}")
    if prov.get("pdf") and prov.get("url"):
        parts.append(f'<a href="{e(prov["url"] + prov["pdf"])}">PDF of this version</a>')
    return '<span class="ixathaldex-provenance">' + " · ".join(parts) + "</span>"


def _merge(base: dict, update: dict) -> dict:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def version_config(config: dict, prov: dict, base_url: str) -> dict:
    """This version's Jupyter Book config: the project's, execution off, switcher, provenance."""
    prov = {**prov, "url": f"{base_url}{prov['snapshot']}/"}
    cfg = json.loads(json.dumps(config))  # deep copy
    cfg.pop("ixathaldex", None)
    cfg["only_build_toc_files"] = True
    _merge(cfg, {
        "execute": {"execute_notebooks": "off"},
        "html": {"announcement": provenance_html(prov)},
        "sphinx": {
            "recursive_update": True,
            "config": {
                "version": prov["snapshot"],
                "release": prov["snapshot"],
                "html_context": {"ixathaldex_provenance": prov},
                "ixathaldex_pdf": prov.get("pdf", ""),
                "html_theme_options": {
                    # relative to the version's root (the theme resolves it so): the site's switcher.json
                    "switcher": {"json_url": "../switcher.json", "version_match": prov["snapshot"]},
                    "check_switcher": False,
                },
            },
        },
    })
    return cfg


# ---- staging ---------------------------------------------------------------------------------

def stage_version(stage: Path, project: Path, chapters: dict[str, Path], posts: dict[str, Path],
                  config: dict, results_files: dict[str, Path]) -> Path:
    """Fill a clean staging folder for one version; returns the path of its ``_config.yml``."""
    if stage.exists():
        shutil.rmtree(stage)
    book = project / "book"
    ignore = shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__")
    shutil.copytree(book, stage, ignore=ignore)
    if (book / "chapters").exists():
        raise BuildError("book/chapters/ would collide with the staged chapters; rename it")
    for name, executed in posts.items():
        for ext in (".md", ".ipynb"):
            (stage / f"{name}{ext}").unlink(missing_ok=True)
        shutil.copyfile(executed, stage / f"{name}.ipynb")
    for name, executed in chapters.items():
        dest = stage / f"{name}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(without_table_downloads(executed), ensure_ascii=False), encoding="utf-8")
    if results_files:
        (stage / "_static").mkdir(exist_ok=True)
        for fname, path in results_files.items():
            shutil.copyfile(path, stage / "_static" / fname)
    cfg_path = stage / "_config.yml"
    cfg_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return cfg_path


def jupyter_book_command() -> list[str]:
    exe = Path(sys.executable).parent / "jupyter-book"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "jupyter_book.cli.main"]


def run_jupyter_book(stage: Path, config: Path, toc: Path, out: Path, version: str, fresh: bool = True,
                     zygote: str | None = None) -> Path:
    """``jupyter-book build -W -n --keep-going`` of a staged version (with ``--all`` when ``fresh``:
    every page read and written, else Sphinx's environment in ``out`` is reused); returns the html
    folder. With ``zygote`` (the address of the build's fork server) the same command runs in a
    child forked from it (its imports done once per build), else as a subprocess."""
    args = ["build", str(stage), *(["--all"] if fresh else []), "-W", "-n", "--keep-going",
            "--config", str(Path(config).resolve()), "--toc", str(Path(toc).resolve()),
            "--path-output", str(Path(out).resolve())]
    env = dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning")
    code, stdout, stderr = run_command(args, env, Path(out) / "jupyter-book", zygote)
    html_dir = Path(out) / "_build" / "html"
    if code != 0 or not (html_dir / "index.html").is_file():
        text = re.sub(r"\x1b\[[0-9;]*m", "", stdout + "\n" + stderr)
        text = text.replace(f"{Path(stage).resolve()}/", "")  # paths as in the staged root
        warnings = [ln.strip() for ln in text.splitlines() if "WARNING" in ln or "ERROR" in ln]
        detail = "\n  ".join(warnings[:20]) or text.strip()[-2000:]
        raise BuildError(f"version {version}: jupyter-book build failed "
                         f"({len(warnings)} warning(s)/error(s)):\n  {detail}")
    read = pages_read(stdout)
    logger.info("  %-10s Sphinx (%s) read %d page(s)%s", version, "full" if fresh else "incremental", len(read),
                f": {', '.join(read)}" if read and len(read) < 4 else "")
    return html_dir


def run_command(args: list[str], env: dict, folder: Path, zygote: str | None) -> tuple[int, str, str]:
    """``jupyter-book ARGS``: (exit code, stdout, stderr), in a child of the fork server at ``zygote``
    (its output through files in ``folder``), or as a subprocess when there is none or it cannot fork."""
    if zygote:
        try:
            return run_forked(zygote, "jupyter-book", args, os.getcwd(), env, folder)
        except OSError as exc:
            logger.warning("fork server unavailable for jupyter-book (%s): running it as a subprocess", exc)
    proc = subprocess.run(jupyter_book_command() + args, capture_output=True, text=True, env=env)
    return proc.returncode, proc.stdout, proc.stderr


def pages_read(output: str) -> list[str]:
    """The documents Sphinx read (its "reading sources... [ 50%] name" lines)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", output)
    return re.findall(r"reading sources\.\.\. \[\s*\d+%\] (\S+)", text)


# ---- downloads -------------------------------------------------------------------------------

#: MIME type of the table downloads that chapters emit (DisplayTable's notebook representation)
CSV_MIME = "text/csv"
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.csv$")


def table_downloads(notebook: Path) -> dict[str, str]:
    """``{file name: CSV text}`` of every table a notebook emitted as a ``text/csv`` output."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    found = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            if CSV_MIME not in data:
                continue
            name = ((out.get("metadata") or {}).get(CSV_MIME) or {}).get("filename", "")
            if not SAFE_NAME.match(name):
                raise BuildError(f"{notebook.name}: a table download has no safe file name ({name!r})")
            text = data[CSV_MIME]
            found[name] = "".join(text) if isinstance(text, list) else text
    return found


#: a figure file: SVG, PNG or the CSV of the data it plots (``report.figure_publish``)
SAFE_FIGURE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.(svg|png|csv)$")


def figure_downloads(notebook: Path) -> dict[str, bytes]:
    """``{file name: content}`` of every figure file a notebook emitted under ``FILES_MIME``
    (glued figures included): each panel's SVG, PNG and data CSV."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    found = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            for key in [k for k in data if _is_figure_files(k)]:
                found.update(_figure_files(notebook, data[key]))
    return found


def _is_figure_files(mime: str) -> bool:
    """``FILES_MIME``, also as myst-nb's ``glue(..., display=False)`` stores it (prefixed)."""
    return mime == FILES_MIME or mime.endswith("/" + FILES_MIME)


def _figure_files(notebook: Path, payload: dict) -> dict[str, bytes]:
    found = {}
    for name, b64 in (payload.get("files") or {}).items():
        if payload.get("folder") != FOLDER or not SAFE_FIGURE_FILE.match(name):
            raise BuildError(f"{notebook.name}: a figure file has no safe name "
                             f"({payload.get('folder')!r}/{name!r})")
        try:
            found[name] = base64.b64decode(b64, validate=True)
        except (binascii.Error, TypeError) as exc:
            raise BuildError(f"{notebook.name}: figure file {name} is not base64 ({exc})") from exc
    return found


def without_table_downloads(notebook: Path) -> dict:
    """The notebook minus its ``text/csv`` and figure-file outputs: the build writes those as
    files, and myst-nb would warn about a MIME type it cannot render (a warning fails the build)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            for part in (out.get("data") or {}, out.get("metadata") or {}):
                for mime in [k for k in part if k == CSV_MIME or _is_figure_files(k)]:
                    part.pop(mime)
    return nb


def write_downloads(html_dir: Path, notebooks: dict[str, Path], extra_files: list[Path]) -> None:
    """Put the downloads beside the pages: each chapter's table CSVs in ``chapters/tables/``
    (linked from the tables as ``tables/<name>.csv``), its figure files (SVG, PNG, data CSV of
    each panel) in ``chapters/figures/`` (linked as ``figures/<name>``) and ``extra_files``
    (results.json, claims.json) at the version's root."""
    for label, executed in notebooks.items():
        tables = table_downloads(executed)
        if tables:
            folder = html_dir / Path(label).parent / "tables"
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in tables.items():
                (folder / name).write_text(text, encoding="utf-8")
        figures = figure_downloads(executed)
        if figures:
            folder = html_dir / Path(label).parent / FOLDER
            folder.mkdir(parents=True, exist_ok=True)
            for name, content in figures.items():
                (folder / name).write_bytes(content)
    for path in extra_files:
        if Path(path).is_file():
            shutil.copyfile(path, html_dir / Path(path).name)


# ---- checks ----------------------------------------------------------------------------------

def find_subject_ids(folder: Path, ids: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """``path: id`` for every subject id of ``ids`` (whole tokens) and every string shaped like
    our USUBJIDs (``SUBJECT_ID``) in the site's text files (every file that is not binary)."""
    return leaks.find_ids(folder, leaks.IdMatcher(set(ids)), SUBJECT_ID)


def check_no_patient_rows(folder: Path, version: str, allow: bool,
                          ids: set[str] | frozenset[str] = frozenset(), find=None) -> None:
    """Refuse a built version that shows subject ids (the actual ids of every snapshot, ``ids``,
    or id-shaped strings), unless the config allows patient-level data. ``find(folder, ids,
    pattern)`` searches (default :func:`find_subject_ids`; the build's remembers the clean files)."""
    if allow:
        return
    hits = find(folder, frozenset(ids), SUBJECT_ID) if find else find_subject_ids(folder, ids)
    if hits:
        shown = "\n  ".join(hits[:10])
        raise BuildError(
            f"version {version}: the site would show patient-level data ({len(hits)} subject id(s)); "
            f"show aggregates only, or set `ixathaldex: allow_patient_level: true` in _config.yml:\n  {shown}")


def check_no_local_paths(folder: Path, version: str, paths: list[str], files: list[Path] | None = None) -> None:
    """Refuse a built version whose files (all, or ``files``) name a folder of the building machine
    (``paths``: the project root, the home folder, the stage and temporary folders)."""
    hits = leaks.find_local_paths(folder, paths, files)
    if hits:
        shown = "\n  ".join(hits[:10])
        raise BuildError(f"version {version}: {len(hits)} published file(s) name a folder of the "
                         f"building machine; publish relative paths only:\n  {shown}")


# ---- switcher, redirect, publishing ----------------------------------------------------------

def preferred_version(versions: list[str], synthetic: dict[str, bool] | None = None) -> str | None:
    """The version the site opens on: the newest one built from the trial's data, if any; else the newest."""
    synthetic = synthetic or {}
    real = [v for v in versions if not synthetic.get(v, False)]
    return max(real) if real else (max(versions) if versions else None)


def switcher_entries(versions: list[str], base_url: str, synthetic: dict[str, bool] | None = None) -> list[dict]:
    """pydata-sphinx-theme switcher entries, newest first; each synthetic version is labelled so
    (``synthetic``: version -> its manifest's flag), and :func:`preferred_version` is ``preferred``."""
    synthetic = synthetic or {}
    newest = max(versions) if versions else None
    preferred = preferred_version(versions, synthetic)
    entries = []
    for v in sorted(versions, reverse=True):
        tags = (["synthetic"] if synthetic.get(v, False) else []) + (["latest"] if v == newest else [])
        entry = {"name": v + (f" ({', '.join(tags)})" if tags else ""), "version": v, "url": f"{base_url}{v}/"}
        if v == preferred:
            entry["preferred"] = True
        entries.append(entry)
    return entries


def redirect_html(target_version: str) -> str:
    """The site root's ``index.html``: a redirect to the preferred version."""
    target = f"{target_version}/index.html"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>IxaThalDex: redirecting to {target_version}</title>\n"
        f"<link rel=\"canonical\" href=\"{target}\">\n"
        f"<meta http-equiv=\"refresh\" content=\"0; url={target}\">\n"
        f"<script>window.location.replace(\"{target}\" + window.location.hash);</script>\n"
        "</head>\n<body>\n"
        f"<p>The current version is <a href=\"{target}\">{target_version}</a>.</p>\n"
        "</body>\n</html>\n"
    )


def write_site_index(site: Path, versions: list[str], base_url: str,
                     synthetic: dict[str, bool] | None = None) -> None:
    """``switcher.json`` and the ``index.html`` at the site's root that redirects to the preferred version."""
    site.mkdir(parents=True, exist_ok=True)
    entries = switcher_entries(versions, base_url, synthetic)
    write_if_changed(site / "switcher.json", json.dumps(entries, indent=2) + "\n")
    if versions:
        write_if_changed(site / "index.html", redirect_html(preferred_version(versions, synthetic)))


def read_stamp(folder: Path) -> dict:
    try:
        return json.loads((Path(folder) / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def publish(site: Path, built: dict[str, Path]) -> None:
    """Move every built version into ``site/<version>`` (replacing the old one by renames)."""
    site.mkdir(parents=True, exist_ok=True)
    for version, folder in built.items():
        dest = site / version
        old = None
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".old-{version}-", dir=site.parent))
            os.rename(dest, old / version)
        os.rename(folder, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def now_utc() -> str:
    """The wall-clock time of a build (kept in the version's stamp file, never on a page)."""
    return _utc(dt.datetime.now(dt.timezone.utc).timestamp())
