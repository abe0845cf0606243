"""The PDF of a version (site/pdf.py): the print document, and the PDF the build publishes."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from ixathaldex.site.pdf import HEADING, derive_print_document, derive_print_document_headings, pdf_name

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "site"
PROV = {"snapshot": "2018-06-30", "cutoff_date": "2018-06-30", "checksum": "abc123", "commit": "1234567",
        "code_date": "2026-11-30", "data": "synthetic"}


def _page(title: str, body: str) -> str:
    return (f'<html><head><link rel="stylesheet" href="_static/site.css"></head><body>'
            f'<article class="bd-article"><section id="top"><h1>{title}<a class="headerlink" href="#top">#</a></h1>'
            f"{body}</section></article></body></html>")


@pytest.fixture()
def version(tmp_path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "index.html").write_text(_page("Front", '<p id="a">see <a href="chapters/02_x.html#fig">Figure 1</a> '
                                                        'and <a href="reviewer.html#claim-x">8.4</a></p>'))
    (tmp_path / "chapters" / "02_x.html").write_text(_page(
        "Chapter <b>2</b>", '<figure id="fig"><img src="../_images/k.svg" alt="KM"></figure>'
                            '<a href="#fig">here</a><a href="tables/t.csv">csv</a><script>alert(1)</script>'))
    return tmp_path


def test_print_document_joins_pages_with_unique_ids_and_inner_links(version):
    doc = derive_print_document(version, ["index.html", "chapters/02_x.html"], PROV, "Synthetic <data>", "Book")
    soup = BeautifulSoup(doc, "html.parser")
    ids = [n["id"] for n in soup.find_all(id=True)]
    assert len(ids) == len(set(ids))
    assert {"p1", "p2", "p1-top", "p2-top", "p2-fig", "p1-a"} <= set(ids)
    hrefs = [a.get("href") for a in soup.find_all("a")]
    assert "#p2-fig" in hrefs                       # a link to a printed page lands inside the PDF
    assert not any(h and ("reviewer.html" in h or h.endswith(".csv")) for h in hrefs)  # not printed: plain text
    assert "8.4" in soup.get_text() and "csv" in soup.get_text()
    assert soup.find("img")["src"] == "_images/k.svg"  # relative to the version's folder
    assert not soup.find("script") and not soup.select(".headerlink")
    contents = [a.get_text() for a in soup.select(".ixd-print-contents a")]
    assert contents == ["Front", "Chapter 2"]
    first = soup.select_one(".ixd-print-facts").get_text(" ")
    for fact in ("2018-06-30", "abc123", "1234567", "2026-11-30", "Synthetic <data>"):
        assert fact in first                           # escaped in the markup, read back as text
    assert "Synthetic &lt;data&gt;" in doc


def test_links_to_unprinted_pages_go_online_when_the_address_is_absolute(version):
    doc = derive_print_document(version, ["index.html"], PROV, "n", "Book", "https://example.org/ixd/2018-06-30/")
    hrefs = [a.get("href") for a in BeautifulSoup(doc, "html.parser").find_all("a")]
    assert "https://example.org/ixd/2018-06-30/reviewer.html#claim-x" in hrefs
    assert "https://example.org/ixd/2018-06-30/chapters/02_x.html#fig" in hrefs  # page not printed here



def test_headings_collected_while_printing_are_those_the_document_shows(version):
    doc, headings = derive_print_document_headings(version, ["index.html", "chapters/02_x.html"], PROV, "n", "Book")
    read = [h.get_text(" ", strip=True) for h in BeautifulSoup(doc, "html.parser").find_all(HEADING)]
    assert headings == read
    assert headings[:2] == ["Book", "Contents"] and "Chapter 2" in headings

def _built_pdfs():
    return sorted(SITE.glob("*/ixathaldex-*.pdf"))


@pytest.mark.slow
def test_every_built_version_has_its_pdf():
    if not (SITE / "switcher.json").is_file():
        pytest.skip("no built site (run `make site`)")
    import json
    from pypdf import PdfReader

    versions = [v["version"] for v in json.loads((SITE / "switcher.json").read_text())]
    for version in versions:
        path = SITE / version / pdf_name(version)
        if not path.is_file():
            # the build prints a PDF whenever Chromium is there, and then every page links to it
            assert "PDF of this version" not in (SITE / version / "index.html").read_text(encoding="utf-8")
            pytest.skip(f"no PDF for {version} (no browser on this machine)")
        reader = PdfReader(str(path))
        text = [unicodedata.normalize("NFKC", page.extract_text()) for page in reader.pages]  # ligatures
        assert len(reader.pages) >= 20, len(reader.pages)
        first = text[0]
        assert version in first and "Data cut-off" in first and "Code commit" in first and "checksum" in first
        assert re.search(r"page 1 of \d+", first)                         # numbered pages
        whole = "\n".join(text)
        for needle in ("Table 1", "Table 2A", "Table 3", "Figure 1", "Kaplan", "Methods"):
            assert needle in whole, needle
        titles = [item.title for item in reader.outline if not isinstance(item, list)]
        for chapter in ("Methods", "Patients", "Response", "Survival", "Prognostic factors", "Safety"):
            assert chapter in titles, (chapter, titles)
        raw = path.read_bytes()
        assert b"file:" not in raw and str(ROOT).encode() not in raw      # no path of the building machine
        index = (SITE / version / "index.html").read_text(encoding="utf-8")
        assert pdf_name(version) in index                                 # linked from the pages
        chapter = (SITE / version / "chapters" / "03_survival.html").read_text(encoding="utf-8")
        assert f"../{pdf_name(version)}" in chapter
