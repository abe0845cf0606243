"""The site build: switcher and redirect, patient-level check, safety on failure, one real build.

Every test that executes a notebook or runs jupyter-book is marked slow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ixathaldex.site import build as b
from ixathaldex.site import stage as st
from ixathaldex.exceptions import BuildError
from ixathaldex.files import tree_digest
from ixathaldex.paths import Project, toc_files
from snapshot_factory import write_valid_snapshot

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]
CUTS = ("2019-01-31", "2020-06-30")


# ---- switcher and redirect -------------------------------------------------------------------

def test_switcher_lists_newest_first_and_prefers_it_only():
    entries = st.switcher_entries(["2020-06-30", "2019-01-31", "2021-03-01"], "/")
    assert [e["version"] for e in entries] == ["2021-03-01", "2020-06-30", "2019-01-31"]
    assert [e.get("preferred", False) for e in entries] == [True, False, False]
    # the theme appends the current page's path to url: each url is a version root ending in "/"
    assert [e["url"] for e in entries] == ["/2021-03-01/", "/2020-06-30/", "/2019-01-31/"]
    assert st.switcher_entries(["2019-01-31"], "/ixathaldex/")[0]["url"] == "/ixathaldex/2019-01-31/"


def test_site_index_files(tmp_path):
    st.write_site_index(tmp_path, ["2019-01-31", "2020-06-30"], "/")
    data = json.loads((tmp_path / "switcher.json").read_text())
    assert {e["version"] for e in data} == set(CUTS)
    html = (tmp_path / "index.html").read_text()
    assert 'url=2020-06-30/index.html"' in html and "2019-01-31" not in html


def test_version_config_has_switcher_provenance_and_no_execution():
    prov = st.provenance("2019-01-31", {"cutoff_date": "2019-01-31", "synthetic": True}, "abcdef123456",
                         "1a2b3c4", "2026-01-01 00:00 UTC")
    cfg = st.version_config({"title": "t", "ixathaldex": {"base_url": "/"},
                             "execute": {"execute_notebooks": "force"}}, prov, "/")
    assert "ixathaldex" not in cfg
    assert cfg["execute"]["execute_notebooks"] == "off"
    opts = cfg["sphinx"]["config"]["html_theme_options"]
    assert opts["switcher"]["version_match"] == "2019-01-31"
    banner = cfg["html"]["announcement"]
    for text in ("Synthetic data", "2019-01-31", "abcdef123456", "1a2b3c4", "2026-01-01"):
        assert text in banner
    real = st.provenance("2019-01-31", {"cutoff_date": "2019-01-31", "synthetic": False}, "abcdef123456",
                         "1a2b3c4", "2026-01-01 00:00 UTC")
    assert "synthetic" not in json.dumps(real).lower() + st.provenance_html(real).lower()


def test_toc_files_in_order():
    toc = {"format": "jb-book", "root": "index", "parts": [
        {"caption": "R", "chapters": [{"file": "chapters/01_a"}, {"file": "chapters/02_b.md",
                                                                   "sections": [{"file": "reviewer"}]}]}]}
    assert toc_files(toc) == ["index", "chapters/01_a", "chapters/02_b", "reviewer"]


# ---- no patient-level rows -------------------------------------------------------------------

def test_subject_id_check_catches_a_planted_id(tmp_path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "index.html").write_text("<p>90 patients</p>")
    st.check_no_patient_rows(tmp_path, "2019-01-31", allow=False)  # clean: passes
    (tmp_path / "chapters" / "x.html").write_text("<td>IXATHALDEX-03-017</td>")
    with pytest.raises(BuildError, match=r"(?s)patient-level.*chapters/x.html: IXATHALDEX-03-017"):
        st.check_no_patient_rows(tmp_path, "2019-01-31", allow=False)
    st.check_no_patient_rows(tmp_path, "2019-01-31", allow=True)
    (tmp_path / "chapters" / "x.html").unlink()
    (tmp_path / "_sources").mkdir()
    (tmp_path / "_sources" / "x.ipynb").write_text('{"text": "IXATHALDEX-01-001"}')
    assert st.find_subject_ids(tmp_path) == ["_sources/x.ipynb: IXATHALDEX-01-001"]


# ---- safety ----------------------------------------------------------------------------------

def _published_site(proj: Path) -> Path:
    site = proj / "_build" / "site"
    for cut in CUTS:
        (site / cut).mkdir(parents=True)
        (site / cut / "index.html").write_text(f"<p>published {cut}</p>")
    (site / "switcher.json").write_text("[]")
    return site


def test_edited_snapshot_is_refused_with_new_cut_advice(tmp_path, fixture_project):
    proj = fixture_project(tmp_path)
    snap = proj / "data" / "snapshots" / CUTS[0]
    (snap / "adsl.csv").write_text((snap / "adsl.csv").read_text().replace("67.3", "67.4"))
    site = _published_site(proj)
    before = tree_digest(site)
    with pytest.raises(BuildError, match=r"(?s)immutable.*new cut.*adsl.csv"):
        b.build_site(Project(proj))
    assert tree_digest(site) == before


def test_unknown_snapshot_option_is_refused(tmp_path, fixture_project):
    proj = fixture_project(tmp_path)
    with pytest.raises(BuildError, match="not a known snapshot"):
        b.build_site(Project(proj), snapshots=["2018-12-31"])
    with pytest.raises(BuildError, match="not a path"):
        b.build_site(Project(proj), snapshots=["../2019-01-31"])


@pytest.mark.slow
def test_failing_chapter_gives_one_readable_message_and_leaves_site_identical(tmp_path, capsys, fixture_project):
    proj = fixture_project(tmp_path, chapters=("99_fails",), cuts=CUTS[:1])
    site = _published_site(proj)
    before = tree_digest(site)
    proc = subprocess.run([sys.executable, "-m", "ixathaldex.cli", "build"], cwd=proj, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode != 0
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    message = errors[0]
    for part in ("2019-01-31", "chapters/99_fails.md", "cell 3", "ratio = 1 / denominator",
                 "ZeroDivisionError"):
        assert part in message, message
    assert re.search(r"line \d+", message)
    assert tree_digest(site) == before
    assert "Traceback" not in proc.stderr


# ---- one real build (slow) -------------------------------------------------------------------

@pytest.mark.slow
def test_end_to_end_two_versions(tmp_path, fixture_project):
    """Two cuts of the fixture project: pages, switcher, redirect, provenance, download, cache, safety."""
    proj = fixture_project(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "IXATHALDEX_PROJECT"}  # the project is the folder

    def build(*args):
        return subprocess.run([sys.executable, "-m", "ixathaldex.cli", "build", *args], cwd=proj, env=env,
                              capture_output=True, text=True, timeout=600)

    proc = build("--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = proj / "_build" / "site"
    assert len(re.findall(r"chapters/01_smoke\.md\s+executed", proc.stderr)) == 2
    assert len(re.findall(r"book/changes\.md\s+executed", proc.stderr)) == 2

    switcher = json.loads((site / "switcher.json").read_text())
    assert [e["version"] for e in switcher] == ["2020-06-30", "2019-01-31"]
    assert switcher[0]["preferred"] is True and "preferred" not in switcher[1]
    assert "2020-06-30/index.html" in (site / "index.html").read_text()

    for cut in CUTS:
        vdir = site / cut
        pages = sorted(p for p in vdir.rglob("*.html") if p.relative_to(vdir).parts[0] != "_static")
        assert {"index.html", "chapters/01_smoke.html"} <= {p.relative_to(vdir).as_posix() for p in pages}
        manifest = json.loads((proj / "data" / "snapshots" / cut / "manifest.json").read_text())
        from ixathaldex.data.manifest import short_checksum
        checksum = short_checksum(manifest)
        for page in pages:
            html = page.read_text()
            for text in (f"snapshot <code>{cut}</code>", checksum, "Synthetic data", "code <code>", "</code> of 20"):  # the inputs' date
                assert text in html, (page, text)
            assert "version-switcher" in html
            assert f"theme_switcher_version_match = '{cut}'" in html
        chapter = (vdir / "chapters" / "01_smoke.html").read_text()
        assert 'snapshot = "' not in chapter, "parameters cells must not show"
        assert "../_sources/chapters/01_smoke.ipynb" in chapter, "download of the executed notebook"
        nb = json.loads((vdir / "_sources" / "chapters" / "01_smoke.ipynb").read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c["execution_count"] for c in code), "the offered notebook is the executed one"
        assert any(f'snapshot = "{cut}"' in "".join(c["source"]) for c in code
                   if "injected-parameters" in c["metadata"].get("tags", []))
        # no local path is a parameter of any published notebook (chapters or post pages)
        for offered in (vdir / "_sources").rglob("*.ipynb"):
            cells = json.loads(offered.read_text())["cells"]
            injected = "".join("".join(c["source"]) for c in cells
                               if "injected-parameters" in c["metadata"].get("tags", []))
            assert str(tmp_path) not in injected and not re.search(r'= "/', injected), (offered, injected)
        # claims.json is staged for the {claim} role and offered beside results.json
        assert json.loads((vdir / "claims.json").read_text()) == \
            json.loads((proj / "_build" / "runs" / cut / "claims.json").read_text())
        assert st.find_subject_ids(vdir) == []
        results = json.loads((proj / "_build" / "runs" / cut / "results.json").read_text())
        assert results["snapshot_id"] == cut and results["n_itt"] == 8
        assert '<span class="pasted-text">8</span>' in (vdir / "index.html").read_text()

    # the post page got this version's results and the previous version's
    changes = {cut: (site / cut / "changes.html").read_text() for cut in CUTS}
    assert "the previous version is\n<span class=\"pasted-text\">none</span>" in changes["2019-01-31"]
    assert "the previous version is\n<span class=\"pasted-text\">2019-01-31</span>" in changes["2020-06-30"]

    # no-op rebuild: nothing executed, nothing rebuilt, site unchanged
    before = tree_digest(site)
    proc = build("--jobs", "2")
    assert proc.returncode == 0 and "0 version(s) built, 2 unchanged" in proc.stderr, proc.stderr
    assert tree_digest(site) == before
    assert "no input changed since the last build" in proc.stderr  # answered by site.uptodate

    # an edited chapter: re-executed in each version; unchanged results keep the post pages cached
    with open(proj / "chapters" / "01_smoke.md", "a") as fh:
        fh.write("\n<!-- edited -->\n")
    proc = build("--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    assert len(re.findall(r"chapters/01_smoke\.md\s+executed", proc.stderr)) == 2
    assert len(re.findall(r"book/changes\.md\s+cached", proc.stderr)) == 2
    assert "2 version(s) built" in proc.stderr
    before = tree_digest(site)

    # a broken chapter: one message, exit 1, site byte-identical
    shutil.copyfile(FIXTURES / "99_fails.md", proj / "chapters" / "99_fails.md")
    with open(proj / "_toc.yml", "a") as fh:
        fh.write("      - file: chapters/99_fails\n")
    proc = build("--jobs", "2")
    assert proc.returncode == 1
    assert "chapters/99_fails.md" in proc.stderr and "ZeroDivisionError" in proc.stderr
    assert tree_digest(site) == before

    # a chapter that shows a subject id: the build refuses to publish it
    (proj / "_toc.yml").write_text((proj / "_toc.yml").read_text().replace("      - file: chapters/99_fails\n", ""))
    with open(proj / "chapters" / "01_smoke.md", "a") as fh:
        fh.write("\n```{code-cell} ipython3\nprint(snap.adsl['USUBJID'].iloc[0])\n```\n")
    proc = build("--snapshot", "2019-01-31")
    assert proc.returncode == 1
    assert "patient-level" in proc.stderr and "chapters/01_smoke.html: IXATHALDEX-" in proc.stderr, proc.stderr
    assert tree_digest(site) == before

    # the author's workflow: `snapshot add` a folder of CSVs, then build -> a third version beside the
    # others, whose what-changed page compares it with the newest earlier cut
    with open(proj / "chapters" / "01_smoke.md") as fh:
        text = fh.read()
    (proj / "chapters" / "01_smoke.md").write_text(text[:text.index("\n```{code-cell} ipython3\nprint(snap")])
    incoming = tmp_path / "incoming"
    write_valid_snapshot(tmp_path / "scratch", "2021-01-31")
    incoming.mkdir()
    for name in ("adsl.csv", "adtte.csv", "adrs.csv", "adae.csv"):
        shutil.copyfile(tmp_path / "scratch" / "2021-01-31" / name, incoming / name)
    add = subprocess.run([sys.executable, "-m", "ixathaldex.cli", "snapshot", "add", str(incoming),
                          "--cut", "2021-01-31", "--label", "Extended follow-up",
                          "--root", str(proj / "data" / "snapshots")],
                         cwd=proj, env=env, capture_output=True, text=True, timeout=120)
    assert add.returncode == 0, add.stderr
    proc = build("--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    switcher = json.loads((site / "switcher.json").read_text())
    assert [e["version"] for e in switcher] == ["2021-01-31", "2020-06-30", "2019-01-31"]
    assert "2021-01-31/index.html" in (site / "index.html").read_text()
    assert "the previous version is\n<span class=\"pasted-text\">2020-06-30</span>" in \
        (site / "2021-01-31" / "changes.html").read_text()
    # added without --synthetic: its pages carry the provenance but no synthetic-data notice
    new_index = (site / "2021-01-31" / "index.html").read_text()
    assert "snapshot <code>2021-01-31</code>" in new_index and "Synthetic data" not in new_index


# ---- paths: the project is a folder; the installed package builds it ------------------------------

def test_post_pages_get_the_cut_and_relative_paths_chapters_only_the_cut(tmp_path, fixture_project):
    proj = fixture_project(tmp_path)
    build = b.Build.prepare(Project(proj))
    assert build.selected == list(CUTS) and build.executed_versions == list(CUTS)
    assert set(build.posts) == {"changes"}
    build.results = {c: proj / "_build" / "runs" / c / "results.json" for c in CUTS}
    params = build.post_parameters(CUTS[1], proj / "book" / "changes.md")
    assert params == {"snapshot": CUTS[1],
                      "results_json": "../_build/runs/2020-06-30/results.json",
                      "previous_results_json": "../_build/runs/2019-01-31/results.json",
                      "claims_json": "../_build/runs/2020-06-30/claims.json",
                      "previous_claims_json": "../_build/runs/2019-01-31/claims.json",
                      "ard_json": "../_build/runs/2020-06-30/ard.json",
                      "previous_ard_json": "../_build/runs/2019-01-31/ard.json"}
    first = build.post_parameters(CUTS[0], proj / "book" / "changes.md")
    assert first["previous_results_json"] == "" and first["previous_claims_json"] == ""
    assert first["previous_ard_json"] == ""
    assert [j.parameters for j in [build.job(CUTS[0], "chapters/01_smoke.md", proj / "chapters" / "01_smoke.md",
                                             {"snapshot": CUTS[0]})]] == [{"snapshot": CUTS[0]}]


def test_a_notebook_key_follows_the_snapshots_calibration_report(tmp_path, fixture_project):
    """The reviewer page lists the calibration's misses (calibration.json, not in the manifest):
    a changed report must re-execute the notebooks of that version, an unchanged one must not."""
    proj = fixture_project(tmp_path)
    build = b.Build.prepare(Project(proj))
    source = proj / "chapters" / "01_smoke.md"

    def key():
        return build.job(CUTS[0], "chapters/01_smoke.md", source, {"snapshot": CUTS[0]}).key

    without = key()
    report = proj / "data" / "snapshots" / CUTS[0] / "calibration.json"
    report.write_text('{"misses": []}')
    with_report = key()
    assert with_report != without and key() == with_report
    report.write_text('{"misses": [{"claim": "x.y", "reason": "r"}]}')
    assert key() not in (without, with_report)


def test_selecting_one_version_also_executes_the_one_before(tmp_path, fixture_project):
    build = b.Build.prepare(Project(fixture_project(tmp_path)), snapshots=[CUTS[1]])
    assert build.selected == [CUTS[1]] and build.executed_versions == list(CUTS)


def test_bench_copies_a_project_without_the_package(tmp_path, fixture_project):
    from ixathaldex.site.bench import copy_project

    proj = fixture_project(tmp_path)
    (proj / "lib" / "ixathaldex").mkdir(parents=True)
    (proj / "lib" / "ixathaldex" / "__init__.py").write_text("")
    copy = copy_project(tmp_path / "copy", proj, snapshots=[CUTS[1]])
    assert not (copy / "lib").exists()
    assert sorted(p.name for p in (copy / "data" / "snapshots").iterdir()) == [CUTS[1]]
    assert (copy / "data" / "published" / "claims.yaml").is_file()
    assert Project(copy).toc_files() == Project(proj).toc_files()


@pytest.mark.slow
def test_an_installed_package_builds_a_project_folder(tmp_path, fixture_project):
    """A non-editable install, with no lib/ of a checkout on the path, builds the project it runs in."""
    source = tmp_path / "source"  # a clean copy: pip would write build files into the checkout
    shutil.copytree(ROOT / "lib", source / "lib", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copyfile(ROOT / "pyproject.toml", source / "pyproject.toml")
    installed = tmp_path / "installed"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--target", str(installed), str(source)], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    shutil.rmtree(source)  # the build can only use the installed copy
    proj = fixture_project(tmp_path, cuts=CUTS[:1])
    env = {k: v for k, v in os.environ.items() if k != "IXATHALDEX_PROJECT"}
    env["PYTHONPATH"] = str(installed)
    where = subprocess.run([sys.executable, "-c", "import ixathaldex; print(ixathaldex.__file__)"], cwd=proj,
                           env=env, capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(installed), where.stdout + where.stderr
    proc = subprocess.run([sys.executable, "-m", "ixathaldex.cli", "-q", "build"], cwd=proj, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((proj / "_build" / "runs" / CUTS[0] / "results.json").read_text())
    assert results["snapshot_id"] == CUTS[0] and results["n_itt"] == 8  # the project folder's data
    index = (proj / "_build" / "site" / CUTS[0] / "index.html").read_text()
    assert '<span class="pasted-text">8</span>' in index
    assert not list(installed.rglob("_build")), "nothing is written beside the installed package"


# ---- downloads: table CSVs emitted by chapters, results/claims at the version root ---------------

def _nb_with_outputs(path, outputs):
    nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": outputs}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_table_csvs_are_extracted_beside_the_chapter(tmp_path):
    from ixathaldex.site import stage as st

    nb = _nb_with_outputs(tmp_path / "a.ipynb", [
        {"output_type": "display_data", "metadata": {"text/csv": {"filename": "table-2a.csv"}},
         "data": {"text/html": "<table></table>", "text/csv": ["a,b\n", "1,2\n"]}},
        {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "x"}},
    ])
    html = tmp_path / "html"
    (html / "chapters").mkdir(parents=True)
    extra = tmp_path / "claims.json"
    extra.write_text("[]")
    st.write_downloads(html, {"chapters/02_response.md": nb}, [extra, tmp_path / "absent.json"])
    assert (html / "chapters" / "tables" / "table-2a.csv").read_text() == "a,b\n1,2\n"
    assert (html / "claims.json").read_text() == "[]"
    assert not (html / "absent.json").exists()


def test_table_csv_with_unsafe_name_is_refused(tmp_path):
    from ixathaldex.site import stage as st
    from ixathaldex.exceptions import BuildError

    nb = _nb_with_outputs(tmp_path / "a.ipynb", [
        {"output_type": "display_data", "metadata": {"text/csv": {"filename": "../../evil.csv"}},
         "data": {"text/csv": "a\n"}}])
    with pytest.raises(BuildError, match="safe file name"):
        st.table_downloads(nb)


def test_staged_notebooks_carry_no_csv_outputs(tmp_path):
    from ixathaldex.site import stage as st

    nb = _nb_with_outputs(tmp_path / "a.ipynb", [
        {"output_type": "execute_result", "metadata": {"text/csv": {"filename": "t.csv"}},
         "data": {"text/html": "<table></table>", "text/csv": "a\n", "text/plain": "t"}, "execution_count": 1}])
    out = st.without_table_downloads(nb)["cells"][0]["outputs"][0]
    assert set(out["data"]) == {"text/html", "text/plain"}
    assert "text/csv" not in out["metadata"]


def test_publication_cut_must_compute_every_claim(tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"flow.itt.n": 90}))
    settings = {"publication_cuts": ["2018-06-30"]}
    with pytest.raises(BuildError, match=r"2018-06-30.*publication cut(?s:.*)flow\.pp\.n"):
        b.check_complete("2018-06-30", results, settings)
    b.check_complete("2019-12-31", results, settings)  # a later cut may lack values


def test_bench_reference_toc_drops_post_pages_and_emptied_parts():
    from ixathaldex.site.reference import drop_from_toc

    toc = {"root": "index", "parts": [
        {"caption": "About", "chapters": [{"file": "methods"}]},
        {"caption": "Results", "chapters": [{"file": "chapters/01_patients"}, {"file": "reviewer"}]}]}
    out = drop_from_toc(toc, {"methods", "reviewer"})
    assert out == {"root": "index", "parts": [{"caption": "Results", "chapters": [{"file": "chapters/01_patients"}]}]}


def test_a_snapshot_that_fails_validation_runs_no_notebook(tmp_path, fixture_project, monkeypatch):
    """The validation of a cut (which parses it whole) runs before the first notebook, not beside
    it: a broken cut stops the build with its own error and no kernel is ever started for it."""
    from snapshot_factory import set_cell

    from ixathaldex.site import execute as ex

    proj = fixture_project(tmp_path)
    snap = proj / "data" / "snapshots" / CUTS[-1]
    assert set_cell(snap, "adsl.csv", "003", "AGE", "-4") > 1  # breaks a rule; manifest rewritten
    started = []
    monkeypatch.setattr(ex, "execute_job", lambda job: started.append(job.label) or {"ok": True, "seconds": 0})
    site = _published_site(proj)
    before = tree_digest(site)
    with pytest.raises(BuildError, match=rf"(?s)snapshot {CUTS[-1]} is not valid.*column AGE"):
        b.build_site(Project(proj), jobs=1)
    assert started == [] and tree_digest(site) == before
