"""Front page, "How to cite": a citation of this version (BibTeX and plain text), with its address.

The ``version-citation`` directive renders, for the version being built, a plain-text citation and a
BibTeX entry naming the version, its data cut-off, the code commit and the date of that code, with the
version's permanent address (``<base_url><version>/``, from ``ixathaldex.base_url`` in
``_config.yml``). The facts come from the provenance the build puts into the version's Sphinx config
(``html_context.ixathaldex_provenance``), the same facts as the banner; nothing is typed by hand. A
page built without them (a plain ``jupyter-book build``) gets a warning and a sentence saying so.

The data of a real-data version are described by the manifest alone: the note says "synthetic" only
for a version whose manifest says so.

The citation is made when Sphinx reads the page, and the provenance is an ``html``-level config
value, which Sphinx does not count as a reason to read a page again. So each page that cites records
the digest of the provenance it was read with (:data:`CITING_PAGES`), and an incremental build reads
it again when the provenance differs (``env-get-outdated``): a new commit or ``+modified`` never
leaves the front page's citation behind the banner.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Mapping

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

DIRECTIVE = "version-citation"
#: the build environment's record of the pages that cite: page -> digest of the provenance read
CITING_PAGES = "ixathaldex_citing_pages"
REQUIRED = ("snapshot", "cutoff_date", "commit", "code_date", "data")
_BIB_SPECIAL = re.compile(r"([&%#_$])")


def bibtex_text(s: str) -> str:
    """A value as BibTeX field text: braces dropped, TeX specials escaped."""
    return _BIB_SPECIAL.sub(r"\\\1", str(s).replace("{", "").replace("}", "").replace("\\", ""))


def bibtex_key(snapshot: str) -> str:
    """A BibTeX key for a version: ``ixathaldex_<version with non-alphanumerics as _>``."""
    return "ixathaldex_" + re.sub(r"[^A-Za-z0-9]+", "_", snapshot).strip("_")


def derive_citation(prov: Mapping, title: str, author: str) -> dict[str, str]:
    """The citation of one version: ``text`` (plain), ``bibtex``, ``url`` and ``key``.

    ``prov`` holds the banner's facts (snapshot, cutoff_date, commit, code_date, data and the
    version's ``url``); ``title`` and ``author`` are the book's.
    """
    missing = [k for k in REQUIRED if not prov.get(k)]
    if missing:
        raise ValueError(f"provenance lacks {', '.join(missing)}")
    url = str(prov.get("url") or "")
    year = str(prov["code_date"])[:4]
    data = ("synthetic cohort calibrated to the published results" if prov["data"] == "synthetic"
            else "trial patient-level data")
    facts = (f"version {prov['snapshot']}, data cut-off {prov['cutoff_date']} ({data}), "
             f"code commit {prov['commit']} of {prov['code_date']}")
    text = f"{author}. {title}, {facts}." + (f" {url}" if url else "")
    fields = [
        ("author", "{" + bibtex_text(author) + "}"),
        ("title", bibtex_text(f"{title}, version {prov['snapshot']}")),
        ("year", bibtex_text(year)),
        ("version", bibtex_text(prov["snapshot"])),
        ("note", bibtex_text(f"Data cut-off {prov['cutoff_date']} ({data}); code commit "
                             f"{prov['commit']} of {prov['code_date']}")),
    ]
    if url:
        fields.append(("url", url.replace("}", "%7D").replace("{", "%7B")))
    body = ",\n".join(f"  {name:<7} = {{{value}}}" for name, value in fields)
    key = bibtex_key(str(prov["snapshot"]))
    return {"text": text, "bibtex": f"@misc{{{key},\n{body}\n}}", "url": url, "key": key}


class VersionCitation(SphinxDirective):
    """``{version-citation}``: this version's citation, plain text and BibTeX, and its address."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        config = self.env.config
        prov = provenance(config)
        if not hasattr(self.env, CITING_PAGES):
            setattr(self.env, CITING_PAGES, {})
        getattr(self.env, CITING_PAGES)[self.env.docname] = provenance_digest(config)
        try:
            title = str(getattr(config, "html_title", "") or config.project)  # Jupyter Book sets html_title
            cite = derive_citation(prov, title, str(config.author))
        except ValueError as exc:
            logger.warning("version-citation: %s (build with `ixathaldex build`)", exc,
                           location=(self.env.docname, self.lineno))
            return [nodes.paragraph(text="This page was built without the facts of a version, so it "
                                         "cannot give a citation of one.")]
        out: list[nodes.Node] = []
        para = nodes.paragraph(text="Permanent address of this version: ")
        if cite["url"]:
            para += nodes.reference(cite["url"], cite["url"], refuri=cite["url"])
        else:
            para += nodes.Text("none configured (set ixathaldex.base_url in _config.yml)")
        out.append(para)
        out.append(nodes.paragraph(text="Plain text:"))
        text_block = nodes.literal_block(cite["text"], cite["text"], classes=["ixathaldex-citation-text"])
        text_block["language"] = "text"
        out.append(text_block)
        out.append(nodes.paragraph(text="BibTeX:"))
        bib_block = nodes.literal_block(cite["bibtex"], cite["bibtex"], classes=["ixathaldex-citation-bibtex"])
        bib_block["language"] = "bibtex"
        out.append(bib_block)
        container = nodes.container(classes=["ixathaldex-citation"])
        container["ids"].append("cite-this-version")
        container.extend(out)
        return [container]


def provenance(config) -> dict:
    """The version's facts the build put into the Sphinx config (``html_context``)."""
    return (getattr(config, "html_context", None) or {}).get("ixathaldex_provenance") or {}


def provenance_digest(config) -> str:
    return hashlib.sha256(json.dumps(provenance(config), sort_keys=True, default=str).encode()).hexdigest()


def outdated_citations(app: Sphinx, env, added: set, changed: set, removed: set) -> list[str]:
    """The pages citing the version that were read with other facts than those of this build."""
    now = provenance_digest(app.config)
    return sorted(doc for doc, digest in (getattr(env, CITING_PAGES, None) or {}).items() if digest != now)


def purge_citing(app: Sphinx, env, docname: str) -> None:
    (getattr(env, CITING_PAGES, None) or {}).pop(docname, None)


def merge_citing(app: Sphinx, env, docnames, other) -> None:
    if not hasattr(env, CITING_PAGES):
        setattr(env, CITING_PAGES, {})
    theirs = getattr(other, CITING_PAGES, None) or {}
    getattr(env, CITING_PAGES).update({d: v for d, v in theirs.items() if d in docnames})


def setup(app: Sphinx) -> dict:
    """Register the ``version-citation`` directive, and read a citing page again when the facts changed."""
    app.add_directive(DIRECTIVE, VersionCitation)
    app.connect("env-get-outdated", outdated_citations)
    app.connect("env-purge-doc", purge_citing)
    app.connect("env-merge-info", merge_citing)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
