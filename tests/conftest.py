"""Shared test hygiene."""

import os
import shutil
from pathlib import Path

import pytest

from browser_support import SITE, StaticServer, require, versions
from ixathaldex.site.pdf import CHROMIUM, CHROMIUM_ARGS, browser_unavailable_reason
from ixathaldex.paths import ENV_VAR
from snapshot_factory import write_valid_snapshot


@pytest.fixture(autouse=True)
def _project_environment_restored():
    """`ixathaldex --project DIR` names the project in the process environment (so that the kernels
    and Sphinx it starts find it); a test that calls the CLI in-process must not leave it set for the
    next test."""
    saved = os.environ.get(ENV_VAR)
    yield
    if saved is None:
        os.environ.pop(ENV_VAR, None)
    else:
        os.environ[ENV_VAR] = saved


FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]
#: the cuts of the small fixture project
FIXTURE_CUTS = ("2019-01-31", "2020-06-30")


def make_fixture_project(tmp_path: Path, chapters=("01_smoke",), cuts=FIXTURE_CUTS) -> Path:
    """A small project folder under ``tmp_path``: the fixture book and ``chapters`` (files of
    tests/fixtures), the project's _config.yml, lock file and claims registry, and one small valid
    snapshot per cut (tests/snapshot_factory.py). Returns the project folder."""
    proj = tmp_path / "proj"
    shutil.copytree(FIXTURES / "book", proj / "book")
    (proj / "chapters").mkdir(parents=True)
    for name in chapters:
        shutil.copyfile(FIXTURES / f"{name}.md", proj / "chapters" / f"{name}.md")
    toc = (FIXTURES / "_toc.yml").read_text()
    toc = toc.replace("      - file: chapters/01_smoke\n",
                      "".join(f"      - file: chapters/{n}\n" for n in chapters))
    (proj / "_toc.yml").write_text(toc)
    shutil.copyfile(ROOT / "_config.yml", proj / "_config.yml")
    shutil.copyfile(ROOT / "requirements.lock", proj / "requirements.lock")
    shutil.copytree(ROOT / "data" / "published", proj / "data" / "published")
    for cut in cuts:
        write_valid_snapshot(proj / "data" / "snapshots", cut)
    return proj


@pytest.fixture
def fixture_project():
    """:func:`make_fixture_project`, for tests that build a small project folder."""
    return make_fixture_project


# ---- the built site in a browser (the browser tests' shared fixtures) -------------------------------

@pytest.fixture(scope="module")
def site() -> Path:
    """The built site (``_build/site``, or ``IXATHALDEX_SITE``); skips (fails under CI) without it."""
    if not (SITE / "switcher.json").is_file():
        require(f"no built site at {SITE} (run `make site` first)")
    return SITE


@pytest.fixture(scope="module")
def server(site):
    """A static server of the built site on 127.0.0.1."""
    with StaticServer(site) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by Playwright."""
    require(browser_unavailable_reason())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def all_versions(site) -> list[str]:
    """The versions of the site's switcher, newest first."""
    return [v["version"] for v in versions(site)]
