"""Every page: the version's own downloads in the page's download menu (the PDF of the version).

The theme's download menu offers the page's notebook, its source and "print this page". This adds,
on every page of a version, a link to the PDF of the whole version (``ixathaldex_pdf``: its file
name in the version's root folder, set by the build only when the build prints the PDF; empty, the
menu is left as it is, so no page links to a PDF that does not exist).
"""

from __future__ import annotations

from sphinx.application import Sphinx

DOWNLOAD_GROUP = "download-buttons"


def add_pdf_button(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` (after the theme's buttons): the version's PDF in the download menu."""
    name = str(app.config.ixathaldex_pdf or "")
    if not name or "pathto" not in context:
        return
    for group in context.get("header_buttons") or []:
        if group.get("label") == DOWNLOAD_GROUP:
            group["buttons"].append({
                "type": "link", "url": context["pathto"](name, 1), "text": "PDF of this version",
                "tooltip": "Download the whole version as a PDF", "icon": "fas fa-file-pdf",
                "label": "download-version-pdf-button",
            })


def setup(app: Sphinx) -> dict:
    """Register ``ixathaldex_pdf`` and the download-menu entry."""
    app.add_config_value("ixathaldex_pdf", "", "html", [str])
    app.connect("html-page-context", add_pdf_button, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
