"""Live numbers in prose: the ``{claim}`` role, linking a reproduced number to its published claim.

``{claim}`t2a.itt.orr.pct``` renders this version's reproduced value of the claim (at the claim's
printed precision; "not reached" for a median not reached) as a link to its row of the reviewer page
(``reviewer.html#claim-t2a.itt.orr.pct``), with a hover title giving the published value and the
verdict, and the CSS classes ``ixathaldex-claim ixathaldex-claim-<verdict>`` (reproduced, differs,
not-computable; styled by book/_static/reviewer.css). The value and the verdict are read from this
version's claims.json, which the build computed once (:mod:`ixathaldex.site.verdicts`); the role
compares nothing itself.

Configuration (``sphinx: config:`` in ``_config.yml``, or conf.py):

- ``ixathaldex_results_json``: this version's results.json (claim id -> value), absolute or relative
  to the source folder. Default "": ``results.json`` in the source folder, else
  ``_static/results.json`` (where the build stages it). It tells which claims a chapter glued.
- ``ixathaldex_claims_json``: this version's claims.json (every claim with its reproduced value and
  verdict), found the same way (default: ``claims.json`` in the source folder, else
  ``_static/claims.json``).
- ``ixathaldex_claims``: the claims registry (default "": the project's data/published/claims.yaml).
- ``ixathaldex_reviewer_page``: the docname of the reviewer page (default ``reviewer``).

The extension also anchors each claim in its own chapter's page (``chapters/NN_<chapter>``), so that
``chapters/02_response.html#claim-t2a.itt.orr.pct`` lands where the number is: on the first
``{claim}`` showing it in that page, else on the code cell that glued it (unless that cell is removed
from the page). The reviewer page links there.

An unknown claim id, a claim that no chapter glued into results.json, a missing results.json or
claims.json, or a claim absent from claims.json is a build warning (an error under ``-W``), never a silent blank. A claim glued as missing (None/NaN)
renders "not computed" with the verdict "not computable".
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole
from myst_nb.ext.glue.utils import PendingGlueReference

from ixathaldex.claims.registry import derive_glued_values, load_claims
from ixathaldex.claims.review import claim_anchor, format_value
from ixathaldex.exceptions import ClaimsError
from ixathaldex.files import file_digest, sha256_bytes
from ixathaldex.paths import Project
from ixathaldex.site.verdicts import load_claims_json

logger = logging.getLogger(__name__)

ROLE = "claim"
STATE = "_ixathaldex_claims_state"


def _slug(verdict: str) -> str:
    return verdict.replace(" ", "-")


def staged_file(app: Sphinx, setting: str, name: str) -> Path | None:
    """A file the role reads: the config value ``setting``, else ``name`` in the source folder, else
    in its ``_static/`` (where the build stages it)."""
    src = Path(app.srcdir)
    value = str(getattr(app.config, setting) or "")
    if value:
        path = Path(value)
        return path if path.is_absolute() else src / path
    for candidate in (src / name, src / "_static" / name):
        if candidate.is_file():
            return candidate
    return None


def results_path(app: Sphinx) -> Path | None:
    """The results.json the role reads (which claims the chapters glued)."""
    return staged_file(app, "ixathaldex_results_json", "results.json")


def claims_json_path(app: Sphinx) -> Path | None:
    """The claims.json the role reads (each claim's reproduced value and verdict)."""
    return staged_file(app, "ixathaldex_claims_json", "claims.json")


def _read_results(path: Path | None, srcdir) -> tuple[dict | None, str]:
    if path is None:
        return None, f"no results.json in {srcdir} or its _static/ (set ixathaldex_results_json)"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object (claim id -> value)")
        return data, ""
    except (OSError, ValueError) as exc:
        return None, f"cannot read results {path}: {exc}"


def _read_verdicts(path: Path | None, srcdir) -> tuple[dict | None, str]:
    if path is None:
        return None, f"no claims.json in {srcdir} or its _static/ (set ixathaldex_claims_json)"
    try:
        return load_claims_json(path), ""
    except ClaimsError as exc:
        return None, str(exc)


def _registry_path(app: Sphinx) -> Path | None:
    value = str(app.config.ixathaldex_claims or "")
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else Path(app.srcdir) / path


def _state(app: Sphinx) -> dict:
    """Results, verdicts (claims.json) and registry, read once per build (on first use)."""
    state = getattr(app, STATE, None)
    if state is not None:
        return state
    state = {"path": results_path(app), "verdicts_path": claims_json_path(app), "claims": None,
             "claims_error": "", "claims_path": None}
    state["results"], state["results_error"] = _read_results(state["path"], app.srcdir)
    state["verdicts"], state["verdicts_error"] = _read_verdicts(state["verdicts_path"], app.srcdir)
    registry = _registry_path(app)
    state["digest"] = inputs_digest(app)
    try:
        state["claims"] = {c["id"]: c for c in load_claims(registry)}
        state["claims_path"] = registry or Project.current().claims_path
    except ClaimsError as exc:
        state["claims_error"] = str(exc)
    setattr(app, STATE, state)
    return state


def inputs_digest(app: Sphinx) -> str:
    """The sha256 of what the role shows: this version's results.json, claims.json and the registry."""
    registry = _registry_path(app) or Project.current().claims_path
    return sha256_bytes("\n".join(file_digest(p) if p else "" for p in
                                  (results_path(app), claims_json_path(app), registry)).encode())


def _reset(app: Sphinx) -> None:
    if hasattr(app, STATE):
        delattr(app, STATE)


def describe(claim: dict, record: dict) -> tuple[str, str, str]:
    """(display text, hover title, verdict) of a claim, from its claims.json ``record``."""
    verdict = record["verdict"]
    shown = format_value(record["reproduced"], claim)
    title = (f"Published {format_value(claim['published'], claim)}; this version {shown}; verdict: {verdict}. "
             f"{claim['quantity']} ({claim['population']}), printed at {claim['locations'][0]}")
    return shown, title, verdict


def problem_of(claim_id: str, state: dict) -> str | None:
    """Why the role cannot show ``claim_id`` (None when it can)."""
    if state["claims_error"]:
        return f"claim {claim_id!r}: the claims registry cannot be read: {state['claims_error']}"
    if claim_id not in state["claims"]:
        return f"unknown claim id {claim_id!r} (not in the claims registry)"
    if state["results_error"]:
        return f"claim {claim_id!r}: {state['results_error']}"
    if claim_id not in state["results"]:
        return f"claim {claim_id!r} has no value in {state['path']} (no chapter glued it)"
    if state["verdicts_error"]:
        return f"claim {claim_id!r}: {state['verdicts_error']}"
    if claim_id not in state["verdicts"]:
        return f"claim {claim_id!r} has no verdict in {state['verdicts_path']} (claims.json is out of date)"
    return None


class ClaimRole(SphinxRole):
    """``{claim}`<claim id>``` -> the reproduced value, linked to the reviewer page's row."""

    def run(self):
        claim_id = self.text.strip()
        state = _state(self.env.app)
        for p in (state["path"], state["verdicts_path"], state["claims_path"]):
            if p is not None and Path(p).is_file():
                self.env.note_dependency(str(Path(p).resolve()))
        problem = problem_of(claim_id, state)
        if problem:
            logger.warning(problem, location=self.get_location(), type="ixathaldex", subtype="claim")
            node = nodes.inline(self.rawtext, f"[claim {claim_id}: no value]",
                                classes=["ixathaldex-claim", "ixathaldex-claim-missing"])
            return [node], []
        readers = getattr(self.env, CLAIM_READERS, None)
        if readers is None:
            readers = {}
            setattr(self.env, CLAIM_READERS, readers)
        readers[self.env.docname] = state["digest"]
        claim = state["claims"][claim_id]
        shown, title, verdict = describe(claim, state["verdicts"][claim_id])
        try:
            page = self.env.app.builder.get_relative_uri(self.env.docname, self.config.ixathaldex_reviewer_page)
        except Exception:  # a builder without page URIs (e.g. text): link by name
            page = f"{self.config.ixathaldex_reviewer_page}.html"
        ref = nodes.reference(self.rawtext, shown, refuri=f"{page}#{claim_anchor(claim_id)}", reftitle=title,
                              internal=True,
                              classes=["ixathaldex-claim", f"ixathaldex-claim-{_slug(verdict)}"])
        if is_chapter_page(self.env.docname, claim["chapter"]):
            # the first time a chapter shows one of its own claims, that spot is the claim's anchor
            anchored = self.env.temp_data.setdefault("ixathaldex_anchored", set())
            if claim_id not in anchored:
                anchored.add(claim_id)
                ref["ids"].append(claim_anchor(claim_id))
        return [ref], []


def is_chapter_page(docname: str, chapter: str) -> bool:
    """True when ``docname`` (``chapters/02_response``) is the page of the registry chapter ``chapter``."""
    m = re.match(r"^chapters/\d+_([a-z0-9_]+)$", docname)
    return bool(m) and (m.group(1) == chapter or m.group(1).startswith(chapter + "_"))


def anchor_glued_cells(app: Sphinx, doctree: nodes.document) -> None:
    """Give each code cell that glued a registered claim the id ``claim-<id>`` (executed notebooks only)."""
    env = app.env
    try:
        source = Path(env.doc2path(env.docname))
    except Exception:  # pragma: no cover - no source path for this document
        return
    if source.suffix != ".ipynb":
        return
    known = _state(app)["claims"] or {}
    try:
        cells = json.loads(source.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return
    names_by_cell: dict[int, list[str]] = {}
    for index, cell in enumerate(cells):
        names = [n for n in derive_glued_values({"cells": [cell]}) if n in known]
        if names:
            names_by_cell[index] = names
    if not names_by_cell:
        return
    taken = set(doctree.ids) | {i for node in doctree.findall(nodes.Element) for i in node["ids"]}
    for node in doctree.findall(nodes.container):
        if node.get("nb_element") != "cell_code":
            continue
        for name in names_by_cell.get(node.get("cell_index"), []):
            anchor = claim_anchor(name)
            if anchor not in taken:
                node["ids"].append(anchor)
                taken.add(anchor)


# ---- the incremental build: the pages that read what changed (docs/pipeline.md) ------------------

CLAIM_READERS = "ixathaldex_claim_readers"   # env attribute: docname -> inputs_digest when it was read
GLUE_READERS = "ixathaldex_glue_readers"     # env attribute: docname -> the docs whose glue it shows


def note_glue_readers(app: Sphinx, doctree: nodes.document) -> None:
    """Remember which documents' glued values this page shows (myst-nb's ``{glue:}`doc#key```)."""
    refdocs = {node["refdoc"] for node in doctree.findall(PendingGlueReference)
               if node.get("refdoc") and node["refdoc"] != app.env.docname}
    readers = getattr(app.env, GLUE_READERS, None)
    if readers is None:
        readers = {}
        setattr(app.env, GLUE_READERS, readers)
    readers.pop(app.env.docname, None)
    if refdocs:
        readers[app.env.docname] = refdocs


def outdated_readers(app: Sphinx, env, added: set, changed: set, removed: set) -> list[str]:
    """The pages to read again although their source did not change: each page showing a
    ``{claim}`` read from other inputs (results.json, claims.json, the registry) than those of now,
    and each page showing a glued value of a page that changed, was added or removed."""
    now = inputs_digest(app)
    stale = [doc for doc, digest in (getattr(env, CLAIM_READERS, None) or {}).items() if digest != now]
    moved = set(added) | set(changed) | set(removed)
    stale += [doc for doc, refdocs in (getattr(env, GLUE_READERS, None) or {}).items() if refdocs & moved]
    return sorted(set(stale))


def purge_readers(app: Sphinx, env, docname: str) -> None:
    for attr in (CLAIM_READERS, GLUE_READERS):
        (getattr(env, attr, None) or {}).pop(docname, None)


def merge_readers(app: Sphinx, env, docnames, other) -> None:
    for attr in (CLAIM_READERS, GLUE_READERS):
        theirs = getattr(other, attr, None) or {}
        if not hasattr(env, attr):
            setattr(env, attr, {})
        getattr(env, attr).update({d: v for d, v in theirs.items() if d in docnames})


def write_every_page(app: Sphinx, env) -> list[str]:
    """Every page is written again (the navigation of each page shows the others; writing is cheap,
    reading the notebooks is not)."""
    return sorted(env.found_docs)


def _is_thebe_asset(asset) -> bool:
    name = str(getattr(asset, "filename", "") or asset)
    body = str((getattr(asset, "attributes", None) or {}).get("body", ""))
    return "thebe" in name or "THEBE_JS_URL" in body


def drop_thebe_assets(app, pagename, templatename, context, doctree) -> None:
    """Remove sphinx-thebe's scripts and style from every page.

    Jupyter Book always loads sphinx-thebe; the site has no live-code buttons, and its inline
    configuration is added twice here, which redeclares a ``const`` and raises a JavaScript error
    on every page (and points at a CDN: a static publication fetches nothing at run time).
    """
    for key in ("script_files", "css_files"):
        if key in context:
            # in place: the list is shared with the builder, and the theme appends to it afterwards
            context[key][:] = [a for a in context[key] if not _is_thebe_asset(a)]


def setup(app: Sphinx) -> dict:
    """Register the ``claim`` role and its configuration values."""
    app.add_config_value("ixathaldex_results_json", "", "env", [str])
    app.add_config_value("ixathaldex_claims_json", "", "env", [str])
    app.add_config_value("ixathaldex_claims", "", "env", [str])
    app.add_config_value("ixathaldex_reviewer_page", "reviewer", "env", [str])
    app.add_role(ROLE, ClaimRole())
    app.connect("builder-inited", _reset)
    app.connect("doctree-read", anchor_glued_cells)
    app.connect("html-page-context", drop_thebe_assets, priority=900)
    app.connect("doctree-read", note_glue_readers)
    app.connect("env-get-outdated", outdated_readers)
    app.connect("env-purge-doc", purge_readers)
    app.connect("env-merge-info", merge_readers)
    app.connect("env-updated", write_every_page)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
