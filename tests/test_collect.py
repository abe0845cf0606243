"""The collect step's keys (site.collect): what makes a version's results and its ARD be done again."""

from __future__ import annotations

import pytest

from ixathaldex.paths import Project
from ixathaldex.site import collect as co
from ixathaldex.site.execute import NotebookJob

BASE = dict(version="2019-12-31", package="p" * 64, manifest=b'{"files": {"adsl.csv": "abc"}}', lock=b"pandas==2.3.0\n")


@pytest.mark.parametrize("field,value", [
    ("version", "2018-06-30"),
    ("package", "q" * 64),
    ("manifest", b'{"files": {"adsl.csv": "abd"}}'),
    ("lock", b"pandas==2.3.1\n"),
])
def test_the_ard_key_follows_each_of_its_inputs(field, value):
    assert co.ard_key(**dict(BASE, **{field: value})) != co.ard_key(**BASE)
    assert co.ard_key(**BASE) == co.ard_key(**dict(BASE))


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


def test_an_unchanged_ard_is_read_back_and_a_changed_one_computed(tmp_path, monkeypatch):
    project = Project(tmp_path)
    runs = project.runs("2019-12-31")
    runs.mkdir(parents=True)
    computed = []
    monkeypatch.setattr(co, "compute_ard", lambda project, version, registry: computed.append(version) or "fresh")
    monkeypatch.setattr(co, "load_ard", lambda path: f"read {path.name}")
    monkeypatch.setattr(co.claims, "load_claims", lambda path=None: [])
    monkeypatch.setattr(co, "table_consistency", lambda: "checks")
    ards = co.Precomputed(project)
    try:
        (runs / "ard.json").write_text("[]")
        (runs / "ard.key").write_text("old\n")
        ards.want("2019-12-31", "new")
        ards.prefetch()  # the key changed: computed in the thread
        assert ards.ard("2019-12-31") == ("fresh", True) and computed == ["2019-12-31"]
        assert ards.consistency() == "checks"
        ards.written("2019-12-31")
        assert (runs / "ard.key").read_text().strip() == "new"
    finally:
        ards.close()
    again = co.Precomputed(project)
    try:
        again.want("2019-12-31", "new")
        again.prefetch()  # same key: nothing computed, ard.json read back
        assert again.ard("2019-12-31") == ("read ard.json", False) and computed == ["2019-12-31"]
    finally:
        again.close()


def test_an_ard_that_cannot_be_read_back_is_computed_again(tmp_path, monkeypatch):
    project = Project(tmp_path)
    runs = project.runs("2019-12-31")
    runs.mkdir(parents=True)
    (runs / "ard.json").write_text("[\n\n]\n")  # an ARD without a row, as written for a project without ARD pages
    (runs / "ard.key").write_text("k\n")
    monkeypatch.setattr(co, "compute_ard", lambda project, version, registry: "fresh")
    monkeypatch.setattr(co.claims, "load_claims", lambda path=None: [])
    pre = co.Precomputed(project)
    try:
        pre.want("2019-12-31", "k")
        assert pre.ard("2019-12-31") == ("fresh", True)
    finally:
        pre.close()
