"""The build's one Chromium (site.pdf.Printer): the PDFs of two versions, asked for from two threads,
printed by one browser, each from its own document in a browser context of its own (its own renderer
process: the two print at once); a printer warmed up early still launches one browser; a printer
never asked starts nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ixathaldex.site import pdf


def test_a_printer_never_asked_starts_no_browser():
    printer = pdf.Printer()
    printer.close()
    assert printer.thread is None


@pytest.mark.slow
def test_one_browser_prints_the_pdfs_asked_for_by_two_threads(tmp_path, monkeypatch):
    reason = pdf.browser_unavailable_reason()
    if reason:
        pytest.skip(reason)
    from playwright.async_api import Browser, BrowserType

    launches, contexts = [], []
    real_launch, real_context = BrowserType.launch, Browser.new_context

    async def launch(self, **kw):
        launches.append(1)
        return await real_launch(self, **kw)

    async def new_context(self, **kw):
        contexts.append(1)
        return await real_context(self, **kw)

    monkeypatch.setattr(BrowserType, "launch", launch)
    monkeypatch.setattr(Browser, "new_context", new_context)
    documents = {}
    for v in ("2018-06-30", "2019-12-31"):
        documents[v] = tmp_path / f"{v}.html"
        documents[v].write_text(f"<!doctype html><html><body><h1>Version {v}</h1><p>text</p></body></html>")
    out, errors = {}, []

    def one(v):
        try:
            out[v] = pdf.write_pdf(documents[v], tmp_path / f"{v}.pdf", f"T {v}", printer)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    with pdf.Printer() as printer:
        printer.warm_up()
        printer.warm_up()  # asked twice, launched once
        threads = [threading.Thread(target=one, args=(v,)) for v in documents]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors and len(launches) == 1 and len(contexts) == 2
    from pypdf import PdfReader

    for v, path in out.items():
        assert Path(path).read_bytes().startswith(b"%PDF")
        assert f"Version {v}" in PdfReader(str(path)).pages[0].extract_text()
