"""The PDF of a version: its front page, methods and every chapter, printed by Chromium.

Choice (docs/decisions.md): Jupyter Book's ``pdfhtml`` builder downloads a browser and a LaTeX
toolchain is heavy and renders the HTML tables and SVG figures differently; the build already has
Debian's Chromium (the browser tests use it) and Playwright's Python package, so the PDF is printed
by Chromium from the version's own built HTML (``page.pdf`` with an outline and tagged PDF).

How: :func:`derive_print_document` joins the article of each page (in the order of the table of
contents) into one HTML document beside the version's pages: a title page with the facts of the
provenance banner and the version's data notice, a contents page whose entries link to the chapters,
then the pages, each starting on a new sheet. Ids are made unique per page (``p<k>-<id>``), links
between printed pages become links inside the PDF, links to pages that are not printed (the
reviewer and what-changed pages, downloads) point at the version's address when ``base_url`` is
absolute and otherwise become plain text. :func:`write_pdf` prints it (A4, numbered pages in the
footer, PDF bookmarks from the headings). The print document is removed after printing.
"""

from __future__ import annotations

import asyncio
import html
import os
import queue
import re
import shutil
import threading
from concurrent.futures import Future
from pathlib import Path, PurePosixPath
from urllib.parse import urldefrag, urlparse

from ixathaldex.exceptions import BuildError
from ixathaldex.files import sha256_bytes, tree_digest

#: Debian's Chromium and its headless flags: the browser that prints the PDF and runs the browser tests
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PRINT_NAME = "_print.html"
#: pages of a version that are not printed: interactive review tools and Sphinx's own pages
NOT_PRINTED = ("reviewer.html", "changes.html", "search.html", "genindex.html")
#: elements of a page that have no place on paper
DROP = (".headerlink", "script", "button", ".ixathaldex-controls", ".toggle-details__summary",
        ".ixathaldex-downloads", "dialog", "#jb-print-docs-body", ".onlyprint")
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555;">'
          '{title} · page <span class="pageNumber"></span> of <span class="totalPages"></span></div>')
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
html, body { background: #fff !important; color: #111; }
body { font-size: 10.5pt; }
.ixd-print-page { break-before: page; }
.ixd-print-title h1 { font-size: 24pt; margin-top: 30mm; }
.ixd-print-facts { border: 1px solid #999; padding: 4mm; margin: 8mm 0; }
.ixd-print-facts dt { font-weight: 600; } .ixd-print-facts dd { margin: 0 0 2mm 0; }
.ixd-print-contents { break-before: page; }
.ixd-print-contents li { margin: 1.5mm 0; }
img { max-width: 100% !important; height: auto !important; break-inside: avoid; }
figure, table { break-inside: avoid; }
table { font-size: 8.5pt; }
a { color: inherit; text-decoration: none; }
pre { white-space: pre-wrap; font-size: 8pt; }
"""


def pdf_name(version: str) -> str:
    """The file name of a version's PDF: ``ixathaldex-<version>.pdf``."""
    return f"ixathaldex-{version}.pdf"


def browser_unavailable_reason() -> str | None:
    """Why this machine has no browser to drive (Debian's Chromium and playwright), None when it has;
    the PDF and the browser tests ask the same question."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent (install Debian's chromium: apt-get install chromium, as `make site` does)"
    try:
        import playwright.sync_api  # noqa: F401  (only to test that it can be imported)
    except ImportError as exc:  # pragma: no cover - the lock installs it
        return f"playwright's Python package is missing ({exc})"
    return None


def pdf_unavailable_reason() -> str | None:
    """Why this machine cannot print a PDF (None when it can)."""
    if os.environ.get("IXATHALDEX_NO_PDF"):
        return "IXATHALDEX_NO_PDF is set"
    return browser_unavailable_reason()


def _page_id(k: int, anchor: str) -> str:
    return f"p{k}-{anchor}" if anchor else f"p{k}"


def _relink(a, page: PurePosixPath, printed: dict[str, int], k: int, version_url: str) -> None:
    """One link of page ``k``: inside the PDF, to the version's address, or plain text."""
    href = a.get("href", "")
    if not href or urlparse(href).scheme or href.startswith("//"):
        return
    path, frag = urldefrag(href)
    target = str(PurePosixPath(os.path.normpath(str(page.parent / path)))) if path else str(page)
    if target in printed:
        a["href"] = "#" + _page_id(printed[target], frag)
    elif version_url.startswith(("http://", "https://")):
        a["href"] = version_url + target + (f"#{frag}" if frag else "")
    else:
        a.unwrap()


def _page_article(html_dir: Path, rel: str, k: int, printed: dict[str, int], version_url: str):
    """The article of one built page, made ready for the print document."""
    from bs4 import BeautifulSoup  # deferred: a no-op build never prints (docs/pipeline.md)
    soup = BeautifulSoup((html_dir / rel).read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article.bd-article") or soup.body
    if article is None:
        raise BuildError(f"{rel}: no article to print")
    for selector in DROP:
        for node in article.select(selector):
            node.decompose()
    page = PurePosixPath(rel)
    for node in article.find_all(id=True):
        node["id"] = _page_id(k, node["id"])
    for img in article.find_all("img"):
        src = img.get("src", "")
        if src and not urlparse(src).scheme:
            img["src"] = str(PurePosixPath(os.path.normpath(str(page.parent / src))))
    for a in article.find_all("a"):
        _relink(a, page, printed, k, version_url)
    heading = article.find(["h1", "h2"])
    title = heading.get_text(" ", strip=True).rstrip("#").strip() if heading else rel
    return article, title


def derive_print_document(html_dir: Path, pages: list[str], prov: dict, notice: str, title: str,
                          version_url: str = "") -> str:
    """One HTML document of the version's printed pages (title page, contents, pages)."""
    return derive_print_document_headings(html_dir, pages, prov, notice, title, version_url)[0]


def derive_print_document_headings(html_dir: Path, pages: list[str], prov: dict, notice: str, title: str,
                                   version_url: str = "") -> tuple[str, list[str]]:
    """:func:`derive_print_document` and the text of its every heading, in order (what the
    bookmarks should say), collected while the document is made rather than parsed from it again."""
    printed = {rel: k for k, rel in enumerate(pages, start=1)}
    articles = [_page_article(html_dir, rel, k, printed, version_url) for rel, k in printed.items()]
    styles = "".join(f'<link rel="stylesheet" href="{html.escape(href)}">' for href in _stylesheets(html_dir))
    e = html.escape
    facts = [("Version (data snapshot)", prov.get("snapshot", "")), ("Data cut-off", prov.get("cutoff_date", "")),
             ("Data", notice), ("Snapshot checksum", prov.get("checksum", "")),
             ("Code commit", f"{prov.get('commit', '')} of {prov.get('code_date', '')}")]
    if version_url:
        facts.append(("Online", version_url))
    parts = [f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)} — {e(prov.get("snapshot", ""))}'
             f'</title>{styles}<style>{PRINT_CSS}</style></head><body>',
             f'<section class="ixd-print-title"><h1>{e(title)}</h1>'
             f'<p>Version {e(prov.get("snapshot", ""))}, data cut-off {e(prov.get("cutoff_date", ""))}</p>'
             '<dl class="ixd-print-facts">'
             + "".join(f"<dt>{e(k)}</dt><dd>{e(str(v))}</dd>" for k, v in facts) + "</dl>",
             '<nav class="ixd-print-contents" aria-label="Contents"><h2>Contents</h2><ol>'
             + "".join(f'<li><a href="#{_page_id(k, "")}">{e(t)}</a></li>'
                       for k, (_, t) in enumerate(articles, start=1)) + "</ol></nav></section>"]
    headings = [title, "Contents"]  # the title page's h1 and the contents' h2
    for k, (article, _) in enumerate(articles, start=1):
        parts.append(f'<section class="ixd-print-page" id="{_page_id(k, "")}">{article.decode_contents()}</section>')
        headings += [h.get_text(" ", strip=True) for h in article.find_all(HEADING)]
    parts.append("</body></html>")
    return "".join(parts), headings


def _stylesheets(html_dir: Path) -> list[str]:
    """The stylesheets of the version's front page (relative to the version's folder)."""
    from bs4 import BeautifulSoup  # deferred: a no-op build never prints (docs/pipeline.md)
    soup = BeautifulSoup((html_dir / "index.html").read_text(encoding="utf-8"), "html.parser")
    return [link["href"] for link in soup.find_all("link", rel="stylesheet") if link.get("href")
            and not urlparse(link["href"]).scheme]


async def print_page(browser, document: Path, pdf: Path, title: str) -> Path:
    """Print ``document`` (an HTML file) to ``pdf`` in a page of its own browser context of
    ``browser`` (Playwright's async API): A4, page numbers, bookmarks. A context of its own gives the
    document a renderer process of its own, so two documents print at once on two cores (two pages
    of one context share one renderer and print one after the other)."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        page.set_default_timeout(600_000)
        await page.goto(document.resolve().as_uri(), wait_until="load")
        await page.emulate_media(media="print")
        await page.pdf(path=str(pdf), format="A4", print_background=True, outline=True, tagged=True,
                       display_header_footer=True, header_template="<div></div>",
                       footer_template=FOOTER.format(title=html.escape(title)),
                       margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})
    finally:
        await context.close()
    return pdf


def write_pdf(document: Path, pdf: Path, title: str, printer: "Printer | None" = None) -> Path:
    """Print ``document`` (an HTML file) to ``pdf`` with Chromium: A4, page numbers, bookmarks; in
    the build's one browser (``printer``) or, without one, in a browser started for this PDF alone."""
    if printer is not None:
        return printer.print(document, pdf, title)
    with Printer() as alone:
        return alone.print(document, pdf, title)


#: the job that asks the printer's thread to start Chromium before the first document arrives
WARM_UP = "warm up"


class Printer:
    """One Chromium for every PDF of a build (started at the first PDF or by :meth:`warm_up`, stopped
    by :meth:`close`). One thread owns Playwright (its event loop) and the browser; the versions'
    threads queue their documents (:meth:`print`), which are printed at once, each in a browser
    context of its own (:func:`print_page`)."""

    def __init__(self):
        self.jobs: queue.Queue = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def _put(self, job) -> None:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self.serve, name="pdf-printer", daemon=True)
                self.thread.start()
            self.jobs.put(job)

    def warm_up(self) -> None:
        """Start Chromium now (beside other work), so that the first PDF does not wait for its launch
        (~0.5 s); a launch that fails here is tried again, and reported, by the first :meth:`print`."""
        self._put(WARM_UP)

    def print(self, document: Path, pdf: Path, title: str) -> Path:
        """Print ``document`` to ``pdf`` (waits for it); a BuildError when Chromium cannot."""
        done: Future = Future()
        self._put((document, pdf, title, done))
        return done.result()

    def serve(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        from playwright.async_api import async_playwright  # deferred: only a build that prints needs it

        loop = asyncio.get_running_loop()
        browser, printing, launching = None, set(), asyncio.Lock()
        async with async_playwright() as pw:
            async def launched():  # one browser, whichever job asks first
                nonlocal browser
                async with launching:
                    browser = browser or await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                return browser

            while (job := await loop.run_in_executor(None, self.jobs.get)) is not None:
                task = asyncio.ensure_future(self._job(job, launched))
                printing.add(task)
                task.add_done_callback(printing.discard)
            await asyncio.gather(*printing)
            if browser is not None:
                await browser.close()

    async def _job(self, job, launched) -> None:
        from playwright.async_api import Error as PlaywrightError

        if job == WARM_UP:
            try:
                await launched()
            except PlaywrightError:
                pass  # the first print launches it again and reports why it cannot
            return
        document, pdf, title, done = job
        try:
            done.set_result(await print_page(await launched(), document, pdf, title))
        except PlaywrightError as exc:
            done.set_exception(BuildError(f"PDF {pdf.name}: Chromium could not print it: {exc}"))
        except BaseException as exc:  # noqa: BLE001 - raised in the thread that asked
            done.set_exception(exc)

    def close(self) -> None:
        """Stop the browser (after the PDFs queued); a no-op when none was started."""
        with self.lock:
            thread, self.thread = self.thread, None
        if thread is not None:
            self.jobs.put(None)
            thread.join()

    def __enter__(self) -> "Printer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


#: an HTML heading's tag name
HEADING = re.compile(r"^h[1-6]$")


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def repair_outline(pdf: Path, headings: list[str]) -> int:
    """Give each PDF bookmark its heading's text; returns how many titles were repaired.

    Chromium (156) writes the first line of some headings twice into a bookmark's title
    ("MethodsMethods") and drops the space where a heading wraps; the bookmarks come in the
    document's order, so each title is matched to the next heading whose text (spaces aside) ends
    it, and replaced by that text. The repaired bookmarks are appended to the file as an
    incremental update (:func:`append_objects`): the printed pages are not read or written again.
    """
    from pypdf import PdfReader  # deferred, as bs4 above
    from pypdf.generic import NameObject, TextStringObject

    reader = PdfReader(str(pdf))
    root = reader.trailer["/Root"].get_object().get("/Outlines")
    if root is None:
        return 0
    def ref(node, key):  # the reference of an outline link, not the object it points to
        return node.raw_get(key) if key in node else None

    items, stack = [], [ref(root.get_object(), "/First")]
    while stack:  # depth first, in document order; each node with its reference
        link = stack.pop()
        if link is None:
            continue
        node = link.get_object()
        items.append((link, node))
        stack.append(ref(node, "/Next"))
        stack.append(ref(node, "/First"))
    changed, at = {}, 0
    for link, node in items:
        title = _squeeze(str(node.get("/Title", "")))
        for k in range(at, len(headings)):
            if headings[k] and title.endswith(_squeeze(headings[k])):
                if str(node["/Title"]) != headings[k]:
                    node[NameObject("/Title")] = TextStringObject(headings[k])
                    changed[(link.idnum, link.generation)] = node
                at = k + 1
                break
    if changed:
        append_objects(pdf, reader, changed)
    return len(changed)


def append_objects(pdf: Path, reader, objects: dict) -> None:
    """Append ``objects`` ({(object number, generation): pypdf object}, each replacing the object of
    that number) to ``pdf`` as an incremental update (PDF 1.7, 7.5.6): the objects, a cross-reference
    section for them and a trailer whose ``/Prev`` points to the file's last one. A file whose last
    cross-reference is a stream (not Chromium's) is rewritten whole by pypdf instead."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, NumberObject

    data = pdf.read_bytes()
    found = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data[-1024:])
    if found is None or not data[int(found.group(1)):].startswith(b"xref"):
        writer = PdfWriter(clone_from=reader)
        with open(pdf, "wb") as out:
            writer.write(out)
        return
    update, offsets = bytearray(b"\n" if not data.endswith(b"\n") else b""), {}
    for (num, gen), obj in sorted(objects.items()):
        offsets[num] = (len(data) + len(update), gen)
        body = io.BytesIO()
        obj.write_to_stream(body)
        update += f"{num} {gen} obj\n".encode() + body.getvalue() + b"\nendobj\n"
    xref_at = len(data) + len(update)
    update += b"xref\n0 1\n0000000000 65535 f\r\n" + b"".join(f"{num} 1\n{off:010d} {gen:05d} n\r\n".encode()
                                    for num, (off, gen) in sorted(offsets.items()))
    trailer = DictionaryObject({k: v for k, v in reader.trailer.items() if k not in ("/Prev", "/XRefStm")})
    trailer[NameObject("/Prev")] = NumberObject(int(found.group(1)))
    body = io.BytesIO()
    trailer.write_to_stream(body)
    update += b"trailer\n" + body.getvalue() + f"\nstartxref\n{xref_at}\n%%EOF\n".encode()
    with open(pdf, "ab") as out:
        out.write(update)


def make_pdf(html_dir: Path, pages: list[str], prov: dict, notice: str, title: str,
             version_url: str = "", kept: Path | None = None, printer: Printer | None = None) -> Path:
    """Write ``<html_dir>/<pdf_name>`` from the built version in ``html_dir``; returns its path.
    With ``kept`` (a folder kept between builds), the PDF printed from the same print document
    (the pages' HTML, the banner) and the same images and styles is copied from there, not printed
    again; a PDF printed is kept there. ``printer``: the build's one browser (default: one for this PDF)."""
    printed = [p for p in pages if p not in NOT_PRINTED and (html_dir / p).is_file()]
    if not printed:
        raise BuildError(f"version {prov.get('snapshot')}: no page to print")
    document, out = html_dir / PRINT_NAME, html_dir / pdf_name(str(prov.get("snapshot")))
    text, headings = derive_print_document_headings(html_dir, printed, prov, notice, title, version_url)
    key = sha256_bytes("\n".join([text, title, tree_digest(html_dir / "_images"),
                                  tree_digest(html_dir / "_static")]).encode())
    if kept is not None and (kept / out.name).is_file() and (kept / "pdf.key").is_file() \
            and (kept / "pdf.key").read_text(encoding="utf-8").strip() == key:
        shutil.copyfile(kept / out.name, out)
        return out
    document.write_text(text, encoding="utf-8")
    try:
        out = write_pdf(document, out, title, printer)
    finally:
        document.unlink(missing_ok=True)
    repair_outline(out, headings)
    if kept is not None:
        kept.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, kept / out.name)
        (kept / "pdf.key").write_text(key + "\n", encoding="utf-8")
    return out
