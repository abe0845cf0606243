"""The ARD handed over by the chapters (claims.ard.glue_ard / collect_ard): each chapter computes its
page's rows in its kernel and puts them in its executed notebook; the build assembles the version's
ARD from those notebooks. The assembled ARD must be the one ``table_ard`` computes in one go, and a
page that hands over nothing, too much, or another page's rows is a readable error."""

from __future__ import annotations

import json

import IPython.display
import pytest

from ixathaldex.claims import ard as A
from ixathaldex.data.snapshot import load_snapshot
from ixathaldex.exceptions import ClaimsError

CUT = "2018-06-30"


@pytest.fixture(scope="module")
def snap():
    return load_snapshot(CUT, validate=False)


def handed_over(frame, monkeypatch) -> dict:
    """The display bundle ``glue_ard`` publishes for ``frame`` (captured, as a kernel would send it)."""
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    A.glue_ard(frame)
    assert len(shown) == 1 and shown[0][1] is True
    return shown[0][0]


def notebook(tmp_path, name: str, *bundles) -> str:
    """An executed notebook (nbformat 4 as JSON) whose one code cell displayed ``bundles``, as
    written by nbformat (the bundle passes through JSON)."""
    outputs = [{"output_type": "display_data", "data": json.loads(json.dumps(b)), "metadata": {}} for b in bundles]
    nb = {"cells": [{"cell_type": "markdown", "source": "x", "metadata": {}},
                    {"cell_type": "code", "source": "", "metadata": {}, "outputs": outputs, "execution_count": 1}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / f"{name}.ipynb"
    path.write_text(json.dumps(nb))
    return str(path)


def test_the_pages_handed_over_assemble_to_the_ard_computed_in_one_go(snap, tmp_path, monkeypatch):
    notebooks = {page: notebook(tmp_path, page, handed_over(A.table_ard(snap, pages=[page]), monkeypatch))
                 for page in reversed(list(A.PAGES))}  # the order of the mapping is not the book's
    assembled = A.collect_ard(notebooks, notebooks)
    whole = A.table_ard(snap)
    assert len(assembled) == len(whole) > 500
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    A.write_ard(whole, tmp_path / "one")
    A.write_ard(assembled, tmp_path / "two")
    for name in ("ard.csv", "ard.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_only_the_pages_asked_for_are_read(snap, tmp_path, monkeypatch):
    notebooks = {page: notebook(tmp_path, page, handed_over(A.table_ard(snap, pages=[page]), monkeypatch))
                 for page in ("response", "safety")}
    ard = A.collect_ard(notebooks, ["safety"])
    assert set(ard["chapter"]) == {"safety"}


def test_a_page_without_its_ard_names_the_notebook(tmp_path):
    path = notebook(tmp_path, "03_survival")
    with pytest.raises(ClaimsError, match=r"03_survival\.ipynb: the survival page handed over no ARD rows"):
        A.collect_ard({"survival": path}, ["survival"])
    with pytest.raises(ClaimsError, match="no executed notebook serves the page 'survival'"):
        A.collect_ard({}, ["survival"])


def test_two_ard_outputs_in_one_notebook_are_refused(snap, tmp_path, monkeypatch):
    bundle = handed_over(A.table_ard(snap, pages=["response"]), monkeypatch)
    path = notebook(tmp_path, "02_response", bundle, bundle)
    with pytest.raises(ClaimsError, match="2 ARD output"):
        A.collect_ard({"response": path}, ["response"])


def test_rows_of_another_page_are_refused(snap, tmp_path, monkeypatch):
    path = notebook(tmp_path, "02_response", handed_over(A.table_ard(snap, pages=["safety"]), monkeypatch))
    with pytest.raises(ClaimsError, match="rows of page\\(s\\) safety handed over by the response page"):
        A.collect_ard({"response": path}, ["response"])


def test_a_statistic_on_two_pages_is_refused(snap, tmp_path, monkeypatch):
    safety = A.table_ard(snap, pages=["safety"])
    twin = safety.iloc[:1].assign(chapter="response")
    paths = {"response": notebook(tmp_path, "r", handed_over(twin, monkeypatch)),
             "safety": notebook(tmp_path, "s", handed_over(safety, monkeypatch))}
    with pytest.raises(ClaimsError, match="computed on two pages \\(response, safety\\)"):
        A.collect_ard(paths, paths)


def test_an_unreadable_notebook_is_named(tmp_path):
    bad = tmp_path / "01_patients.ipynb"
    bad.write_text("{not json")
    with pytest.raises(ClaimsError, match="01_patients.ipynb: cannot read executed notebook"):
        A.collect_ard({"patients": str(bad)}, ["patients"])
