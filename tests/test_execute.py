"""The executed-notebook cache key, parameter checks, site tagging and glued-value collection."""

from __future__ import annotations

import json

import nbformat
import pytest

from ixathaldex.site import execute as ex
from ixathaldex.exceptions import BuildError

BASE = dict(source=b"# chapter\n", package="p" * 64, manifest=b'{"files": {}}', parameters={"snapshot": "2019-01-31"},
            lock=b"pandas==2.3.0\n")


def test_cache_key_is_stable_for_equal_inputs():
    assert ex.cache_key(**BASE) == ex.cache_key(**dict(BASE, parameters={"snapshot": "2019-01-31"}))


@pytest.mark.parametrize("field,value", [
    ("source", b"# chapter edited\n"),
    ("package", "q" * 64),
    ("manifest", b'{"files": {"adsl.csv": {}}}'),
    ("parameters", {"snapshot": "2020-06-30"}),
    ("lock", b"pandas==2.3.1\n"),
])
def test_cache_key_changes_with_every_input(field, value):
    assert ex.cache_key(**dict(BASE, **{field: value})) != ex.cache_key(**BASE)


def test_parameter_order_does_not_change_the_key():
    a = ex.cache_key(**dict(BASE, parameters={"snapshot": "2019-01-31", "results_json": ""}))
    b = ex.cache_key(**dict(BASE, parameters={"results_json": "", "snapshot": "2019-01-31"}))
    assert a == b


def test_package_digest_follows_source_files(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    first = ex.package_digest(pkg)
    assert ex.package_digest(pkg) == first
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    assert ex.package_digest(pkg) == first, "bytecode is not source"
    (pkg / "a.py").write_text("x = 2\n")
    assert ex.package_digest(pkg) != first
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "b.py").write_text("")
    assert ex.package_digest(pkg) != first


def test_key_parameters_use_file_content_not_path(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text('{"x": 1}')
    b.write_text('{"x": 1}')
    ka = ex.key_parameters({"snapshot": "2019-01-31", "results_json": str(a)})
    kb = ex.key_parameters({"snapshot": "2019-01-31", "results_json": str(b)})
    assert ka == kb
    b.write_text('{"x": 2}')
    assert ex.key_parameters({"snapshot": "2019-01-31", "results_json": str(b)}) != ka
    assert ex.key_parameters({"snapshot": "2019-01-31", "previous_results_json": ""})["previous_results_json"] == ""


KNOWN = ["2019-01-31", "2020-06-30"]


def test_valid_parameters_pass(tmp_path):
    (tmp_path / "runs").mkdir()
    for name in ("results.json", "claims.json"):
        (tmp_path / "runs" / name).write_text("{}")
    params = {"snapshot": "2020-06-30", "results_json": "runs/results.json", "previous_results_json": "",
              "claims_json": "runs/claims.json", "previous_claims_json": ""}
    assert ex.validate_parameters(params, KNOWN, base=tmp_path) == params


def test_absolute_path_parameter_is_refused(tmp_path):
    """A local path would be published in the downloadable notebook: paths are relative to its folder."""
    r = tmp_path / "results.json"
    r.write_text("{}")
    with pytest.raises(BuildError, match="must be relative"):
        ex.validate_parameters({"snapshot": "2020-06-30", "results_json": str(r)}, KNOWN, base=tmp_path)


@pytest.mark.parametrize("params,fragment", [
    ({"snapshot": "2018-01-01"}, "not a known snapshot"),
    ({"snapshot": "../../etc"}, "not a path"),
    ({"snapshot": "data/snapshots/2019-01-31"}, "not a path"),
    ({"snapshot": 20190131}, "must be a string"),
    ({"snapshot": "2019-02-30"}, "calendar"),
    ({}, "required"),
    ({"snapshot": "2019-01-31", "root": "/tmp"}, "not allowed"),
    ({"snapshot": "2019-01-31", "results_json": "no/such/results.json"}, "not an existing"),
    ({"snapshot": "2019-01-31", "results_json": ""}, "must name"),
    ({"snapshot": "2019-01-31", "claims_json": ""}, "must name this version's claims.json"),
    ({"snapshot": "2019-01-31", "previous_claims_json": 3}, "must be a string"),
])
def test_bad_parameters_are_refused(params, fragment):
    with pytest.raises(BuildError, match=fragment):
        ex.validate_parameters(params, KNOWN)


def _code(source, tags=()):
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def test_tag_for_site_hides_inputs_and_removes_parameters():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# t"),
        _code('snapshot = "x"', ["parameters"]),
        _code('snapshot = "y"', ["injected-parameters"]),
        _code("a = 1"),
        _code("b = 2", ["remove-input"]),
    ])
    ex.tag_for_site(nb)
    tags = [c.metadata.get("tags") for c in nb.cells]
    assert tags[0] is None
    assert "remove-cell" in tags[1] and "remove-cell" in tags[2]
    assert tags[3] == ["hide-input"]
    assert tags[4] == ["remove-input"], "an author's own choice is kept"


def test_cached_jobs_are_reported_without_executing(tmp_path):
    out = tmp_path / "k.ipynb"
    out.write_text(json.dumps(nbformat.v4.new_notebook()))
    job = ex.NotebookJob(version="2019-01-31", label="chapters/x.md", source=tmp_path / "missing.md",
                         parameters={"snapshot": "2019-01-31"}, key="k", output=out, cwd=tmp_path)
    seen = []
    ex.run_jobs([job], 2, seen.append)
    assert seen == [job] and job.status == "cached"


def test_has_parameters_cell_is_remembered_per_content(tmp_path, monkeypatch):
    page = tmp_path / "p.md"
    page.write_text("```{code-cell} ipython3\n:tags: [parameters]\n\nsnapshot = \"\"\n```\n", encoding="utf-8")
    other = tmp_path / "o.md"
    other.write_text("```{code-cell} ipython3\n:tags: [remove-cell]\n\nparameters = 1\n```\n", encoding="utf-8")
    memo = tmp_path / "cache" / "memo.json"
    assert ex.has_parameters_cell(page, memo) and not ex.has_parameters_cell(other, memo)
    assert len(json.loads(memo.read_text())) == 2

    def no_jupytext(path):
        raise AssertionError("read again")

    monkeypatch.setattr(ex, "read_myst", no_jupytext)
    assert ex.has_parameters_cell(page, memo) and not ex.has_parameters_cell(other, memo)
    page.write_text(page.read_text() + "\nedited\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="read again"):
        ex.has_parameters_cell(page, memo)  # new content: read with jupytext
