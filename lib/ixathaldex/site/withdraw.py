"""`ixathaldex withdraw CUT --reason TEXT`: a version taken off the site, with a notice in its place.

The record is ``data/withdrawn.yaml`` in the project (committed; cut, date, reason, no patient
data). A withdrawn version leaves the switcher and the redirect; every former page of it (and its
``index.html`` and ``404.html``) becomes a short notice saying when and why, linking to the current
version; its notebooks, tables and JSON files are deleted. The build skips withdrawn cuts and keeps
(rewrites) their notices.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from pathlib import Path

import yaml

from ixathaldex.claims.notice import is_synthetic
from ixathaldex.data.manifest import check_cut_id, read_manifest
from ixathaldex.exceptions import BuildError, IxaThalDexError
from ixathaldex.files import write_if_changed
from ixathaldex.log import logger
from ixathaldex.paths import Project
from ixathaldex.site import stage as st

RECORD = Path("data") / "withdrawn.yaml"
NOTICE_PAGES = ("index.html", "404.html")
CUT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def load_withdrawn(root: Path) -> dict[str, dict]:
    """``{cut: {"cut", "date", "reason"}}`` from the project's ``data/withdrawn.yaml`` (empty if none)."""
    path = Path(root) / RECORD
    if not path.is_file():
        return {}
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not {"cut", "date", "reason"} <= set(entry):
            raise BuildError(f"{path}: entry {i + 1} needs cut, date and reason")
        out[str(entry["cut"])] = {"cut": str(entry["cut"]), "date": str(entry["date"]),
                                  "reason": str(entry["reason"])}
    return out


def record_withdrawal(root: Path, cut: str, reason: str, date: str) -> dict:
    """Append the withdrawal of ``cut`` to ``data/withdrawn.yaml``; returns the record."""
    check_cut_id(cut)
    if not reason.strip():
        raise BuildError("--reason must say why the version is withdrawn")
    withdrawn = load_withdrawn(root)
    if cut in withdrawn:
        raise BuildError(f"version {cut} was already withdrawn on {withdrawn[cut]['date']}")
    withdrawn[cut] = {"cut": cut, "date": date, "reason": reason.strip()}
    header = "# Versions taken off the site (`ixathaldex withdraw`): cut, date, reason. No patient data.\n"
    text = header + yaml.safe_dump(sorted(withdrawn.values(), key=lambda r: r["cut"]), sort_keys=False,
                                   allow_unicode=True)
    (Path(root) / RECORD).parent.mkdir(parents=True, exist_ok=True)
    write_if_changed(Path(root) / RECORD, text)
    return withdrawn[cut]


def notice_html(record: dict, current: str | None, to_site_root: str) -> str:
    """The page left where a withdrawn version was: when, why, and a link to the current version."""
    e = html.escape
    if current:
        link = (f'<p>The current version is <a href="{e(to_site_root + current)}/index.html">'
                f'{e(current)}</a>.</p>')
    else:
        link = "<p>No version is published at the moment.</p>"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>IxaThalDex {e(record['cut'])}: withdrawn</title>\n"
            "<meta name=\"robots\" content=\"noindex\">\n</head>\n<body>\n"
            f"<h1>Version {e(record['cut'])} was withdrawn</h1>\n"
            f"<p>Withdrawn on {e(record['date'])}. Reason: {e(record['reason'])}</p>\n"
            f"{link}\n</body>\n</html>\n")


def write_notices(folder: Path, record: dict, current: str | None) -> None:
    """Replace a version's folder by notices: at every former page, ``index.html`` and ``404.html``;
    every other file (notebooks, tables, JSON, images) is removed."""
    folder = Path(folder)
    pages = {p.relative_to(folder) for p in folder.rglob("*.html")} if folder.is_dir() else set()
    pages |= {Path(name) for name in NOTICE_PAGES}
    if folder.is_dir():
        for path in sorted(folder.rglob("*"), reverse=True):
            rel = path.relative_to(folder)
            if path.is_dir() and not any(p.parts[:len(rel.parts)] == rel.parts for p in pages):
                shutil.rmtree(path)
            elif path.is_file() and rel not in pages:
                path.unlink()
    for rel in sorted(pages):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        write_if_changed(folder / rel, notice_html(record, current, "../" * len(rel.parts)))


def refresh_site(site: Path, versions: list[str], withdrawn: dict[str, dict], base_url: str,
                 synthetic: dict[str, bool] | None = None) -> None:
    """Switcher and redirect over the published ``versions`` (never a withdrawn one), and the
    notices of every withdrawn version, linking to the preferred published one."""
    live = sorted(v for v in versions if v not in withdrawn)
    st.write_site_index(site, live, base_url, synthetic)
    for cut, record in withdrawn.items():
        write_notices(site / cut, record, st.preferred_version(live, synthetic) if live else None)


# ---- command line ----------------------------------------------------------------------------

def configure_parser(parser) -> None:
    parser.add_argument("cut", metavar="CUT", help="the version (snapshot cut, YYYY-MM-DD) to withdraw")
    parser.add_argument("--reason", required=True, help="why it is withdrawn (shown on its notice page)")
    parser.add_argument("--out", type=Path, default=None, help="site folder (default _build/site)")


def run(args) -> int:
    project = Project.current(out=args.out)
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    try:
        record = record_withdrawal(project.root, args.cut, args.reason, today)
    except IxaThalDexError as exc:
        raise BuildError(f"withdraw: {exc}") from None
    settings = st.project_settings(yaml.safe_load(project.config_path.read_text(encoding="utf-8")) or {})
    site = project.out
    versions = [p.name for p in site.iterdir() if CUT.match(p.name) and (p / "index.html").is_file()] \
        if site.is_dir() else []
    synthetic = {v: is_synthetic(read_manifest(project.snapshot_root / v)) for v in versions
                 if (project.snapshot_root / v / "manifest.json").is_file()}
    refresh_site(site, versions, load_withdrawn(project.root), settings["base_url"], synthetic)
    logger.info("version %s withdrawn (%s); recorded in %s; the site keeps a notice at %s",
                args.cut, record["reason"], RECORD, site / args.cut / "index.html")
    return 0
