"""The collect step (site.collect): what makes a version's results be collected again, the consistency
checks computed once, and which notebook hands over each page's ARD rows."""

from __future__ import annotations

from ixathaldex.paths import Project
from ixathaldex.site import collect as co
from ixathaldex.site.execute import NotebookJob

def jobs(tmp_path, *keys):
    return [NotebookJob(version="v", label=f"chapters/{k}.md", source=tmp_path / f"{k}.md", parameters={}, key=k,
                        output=tmp_path / f"{k}.ipynb", cwd=tmp_path) for k in keys]


def test_the_results_key_follows_every_chapter_key(tmp_path):
    assert co.results_key(jobs(tmp_path, "a", "b")) != co.results_key(jobs(tmp_path, "a", "c"))
    assert co.results_key(jobs(tmp_path, "a", "b")) == co.results_key(jobs(tmp_path, "a", "b"))


def test_a_collected_version_needs_every_run_file_and_its_key(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for name in co.RUN_FILES:
        (runs / name).write_text("{}")
    assert not co.is_collected(runs, "k")
    (runs / "results.key").write_text("k\n")
    assert co.is_collected(runs, "k") and not co.is_collected(runs, "other")
    (runs / "ard.json").unlink()
    assert not co.is_collected(runs, "k")


def test_the_consistency_checks_are_computed_once_per_build(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(co, "table_consistency", lambda claims: calls.append(claims) or "checks")
    monkeypatch.setattr(co.claims, "load_claims", lambda path=None: ["the registry"])
    pre = co.Precomputed(Project(tmp_path))
    try:
        pre.prefetch()
        pre.prefetch()
        assert pre.consistency() == "checks" and pre.consistency() == "checks"
        assert calls == [["the registry"]]
    finally:
        pre.close()


def test_the_checks_are_kept_for_the_same_registry_assertions_and_code(tmp_path, monkeypatch):
    project = Project(tmp_path)
    project.claims_path.parent.mkdir(parents=True)
    project.claims_path.write_text("claims: []\n")
    assertions = project.claims_path.with_name("assertions.yaml")
    assertions.write_text("assertions: []\n")
    calls = []
    monkeypatch.setattr(co, "table_consistency", lambda claims: calls.append(1) or {"checks": len(calls)})
    monkeypatch.setattr(co.claims, "load_claims", lambda path=None: [])

    def checks(package="code"):
        pre = co.Precomputed(project, package)
        try:
            return pre.consistency()
        finally:
            pre.close()

    assert checks() == {"checks": 1}
    assert checks() == {"checks": 1} and calls == [1]                  # read back
    assertions.write_text("assertions: [x]\n")
    assert checks() == {"checks": 2}                                   # another input: computed
    assert checks(package="other code") == {"checks": 3}
    assert checks() == {"checks": 2} and len(calls) == 3


def test_each_ard_page_is_read_from_the_chapter_of_the_toc_that_serves_it(tmp_path):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n- file: chapters/03_survival\n"
                                       "- file: chapters/01_patients_and_flow\n- file: book/reviewer\n")
    project = Project(tmp_path)
    js = jobs(tmp_path, "01_patients_and_flow", "03_survival", "99_extra")
    assert co.chapter_notebooks(project, js) == {"survival": tmp_path / "03_survival.ipynb",
                                                 "patients": tmp_path / "01_patients_and_flow.ipynb"}
    assert co.chapter_notebooks(project, js[:1]) == {"patients": tmp_path / "01_patients_and_flow.ipynb"}
