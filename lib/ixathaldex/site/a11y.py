"""Every page: accessibility repairs of the HTML that docutils and the theme write.

The axe-core audit of the built site (tests/test_accessibility.py) found what this module repairs:

- The bibliography: docutils writes the list of citations as ``role="list"`` whose entries carry
  the deprecated ``role="doc-biblioentry"``, so the list has no list items and its back-links sit
  directly in it (axe: aria-required-children, critical; aria-deprecated-role). Each entry becomes
  a ``role="listitem"``.

The theme's search field and version switcher are repaired by the templates in ``book/_templates``
(their accessible names now contain their visible text).
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx

_BIBLIOENTRY = re.compile(r'(<div class="citation"[^>]*?) role="doc-biblioentry"')


def repair_body(body: str) -> str:
    """The page body with citation entries given the list-item role their list requires."""
    return _BIBLIOENTRY.sub(r'\1 role="listitem"', body)


def repair_page(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: repair the page body before the template writes it."""
    if isinstance(context.get("body"), str):
        context["body"] = repair_body(context["body"])


def setup(app: Sphinx) -> dict:
    """Register the page repairs."""
    app.connect("html-page-context", repair_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
