"""Support for the browser tests: the built site, a local static server, and headless Chromium.

The browser is Debian's Chromium at /usr/bin/chromium driven by Playwright's Python package (never
`playwright install`, which cannot download here). Where Chromium is absent the browser tests skip
with the reason, except under CI (``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("IXATHALDEX_SITE") or ROOT / "_build" / "site")
SCREENSHOTS = ROOT / "_build" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}


#: the browser's patience, in ms: a page's load and each condition waited on. It scales with how busy
#: the machine is (the load average per core, at least 1), so a loaded two-core CI runner waits longer
#: instead of failing; ``IXATHALDEX_BROWSER_TIMEOUT`` (seconds) sets the base.
BASE_TIMEOUT_S = float(os.environ.get("IXATHALDEX_BROWSER_TIMEOUT", "60"))


def browser_timeout_ms() -> int:
    """The timeout for one browser action now: the base × max(1, load average per core)."""
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # pragma: no cover - no load average on this platform
        load = 1.0
    return int(1000 * BASE_TIMEOUT_S * max(1.0, load))


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition_reason: str | None) -> None:
    """Skip the test for ``condition_reason`` (fail under CI, where the browser must be there)."""
    if condition_reason is None:
        return
    if under_ci():
        pytest.fail(f"browser tests cannot run under CI: {condition_reason}")
    pytest.skip(condition_reason)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".ipynb": "application/x-ipynb+json",
        ".csv": "text/csv",
        ".json": "application/json",
        ".svg": "image/svg+xml",
        ".js": "text/javascript",
        ".pdf": "application/pdf",
    }

    def log_message(self, *args):  # keep pytest output clean
        pass


class StaticServer:
    """A static file server for the built site on 127.0.0.1 with an ephemeral port."""

    def __init__(self, directory: Path):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def versions(site: Path = SITE) -> list[dict]:
    """The entries of the site's version switcher (pydata-sphinx-theme format)."""
    return json.loads((site / "switcher.json").read_text(encoding="utf-8"))


class _PageParser(HTMLParser):
    """Collects ids, links, headings, images and tables of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.headings: list[int] = []
        self.in_main = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


@functools.lru_cache(maxsize=None)
def parse_page(path: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser
