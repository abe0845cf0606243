"""The build's one Chromium (site.pdf.Printer): the PDFs of two versions, asked for from two threads,
printed by one browser, each from its own document; a printer never asked starts nothing."""

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
    from playwright.sync_api import BrowserType

    launches = []
    real_launch = BrowserType.launch
    monkeypatch.setattr(BrowserType, "launch", lambda self, **kw: launches.append(1) or real_launch(self, **kw))
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
        threads = [threading.Thread(target=one, args=(v,)) for v in documents]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors and len(launches) == 1
    from pypdf import PdfReader

    for v, path in out.items():
        assert Path(path).read_bytes().startswith(b"%PDF")
        assert f"Version {v}" in PdfReader(str(path)).pages[0].extract_text()
