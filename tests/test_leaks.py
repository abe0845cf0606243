"""No subject id of any snapshot and no local folder of the building machine reaches a version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ixathaldex.exceptions import BuildError
from ixathaldex.site import leaks
from ixathaldex.site import stage as st


def _snapshot(folder: Path, rows: list[tuple[str, str]], subjid: bool = True) -> Path:
    folder.mkdir(parents=True)
    header = "STUDYID,USUBJID,SUBJID,AGE\n" if subjid else "STUDYID,USUBJID,AGE\n"
    lines = [f"S,{u},{s},60" if subjid else f"S,{u},60" for u, s in rows]
    (folder / "adsl.csv").write_text(header + "\n".join(lines) + "\n")
    return folder


def test_actual_ids_of_any_format_are_found_in_every_text_file(tmp_path):
    ids = leaks.load_subject_ids([_snapshot(tmp_path / "a", [("204.01.0007", "0007A"), ("204.01.0012", "12")]),
                                  _snapshot(tmp_path / "b", [("310-99-X1", "X1")], subjid=False)])
    assert ids == {"204.01.0007", "0007A", "204.01.0012", "310-99-X1"}  # "12" is too short to search
    site = tmp_path / "site"
    (site / "chapters").mkdir(parents=True)
    (site / "index.html").write_text("<p>90 patients, 12 sites, 2007 results, 204.01 and X0007AB</p>")
    (site / "logo.png").write_bytes(b"\x89PNG\0\0204.01.0007")  # binary: not a page
    st.check_no_patient_rows(site, "2019-01-31", allow=False, ids=ids)  # absent ids pass
    planted = {"chapters/x.html": "<td>patient 204.01.0007.</td>", "y.svg": "<text>id=0007A;</text>",
               "data.csv": "n,310-99-X1-b\n", "z.ipynb": '{"t": "IXATHALDEX-01-001"}',
               "w.js": "var a='204.01.0012'"}
    for name, text in planted.items():
        (site / name).write_text(text)
    hits = st.find_subject_ids(site, ids)
    assert hits == ["chapters/x.html: 204.01.0007", "data.csv: 310-99-X1", "w.js: 204.01.0012",
                    "y.svg: 0007A", "z.ipynb: IXATHALDEX-01-001"]
    with pytest.raises(BuildError, match=r"(?s)patient-level data \(5 subject id.*chapters/x.html: 204.01.0007"):
        st.check_no_patient_rows(site, "2019-01-31", allow=False, ids=ids)
    st.check_no_patient_rows(site, "2019-01-31", allow=True, ids=ids)


def test_matcher_takes_whole_tokens_only():
    m = leaks.IdMatcher({"204.01.0007", "0007A", "AB-12"})
    assert m.find("x 204.01.0007 y") == {"204.01.0007"}
    assert m.find("1204.01.0007 204.01.00071 0007AB A0007A") == set()
    assert m.find("9.204.01.0007.5 and CD-AB-12-EF") == {"204.01.0007", "AB-12"}
    assert leaks.IdMatcher(set()).find("anything") == set()


def test_ids_inside_longer_runs_are_found_whatever_part_they_start_at():
    m = leaks.IdMatcher({"AB-01-001", "01-002", "7.7"})
    assert m.find("x Q-AB-01-001-Z y") == {"AB-01-001"}
    assert m.find("see X-01-002 and 3-7.7-k") == {"01-002", "7.7"}
    assert m.find("Z-02-001 AB-01 01-003 AB-01-0010 7.70") == set()  # no id as a whole token


def test_local_paths_are_found_and_papermill_paths_stripped(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home" / "ann"))
    root = tmp_path / "proj"
    paths = leaks.local_paths(root, root / "_build" / "stage", "/tmp")
    assert str(tmp_path / "home" / "ann") in paths and str(root) in paths and "/tmp" not in paths
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(f"<p>{tmp_path}/home/anne and proj</p>")
    st.check_no_local_paths(site, "v", paths)  # a longer sibling name is not the home folder
    (site / "x.ipynb").write_text(json.dumps({"metadata": {"papermill": {
        "input_path": "in.ipynb", "output_path": f"{root}/_build/cache/notebooks/k.ipynb"}}, "cells": []}))
    with pytest.raises(BuildError, match=r"building machine.*\n  x.ipynb: .*proj"):
        st.check_no_local_paths(site, "v", paths)
    leaks.strip_staged_notebooks(site)
    meta = json.loads((site / "x.ipynb").read_text())["metadata"]["papermill"]
    assert "output_path" not in meta and "input_path" not in meta
    st.check_no_local_paths(site, "v", paths)


def test_plain_number_subjids_do_not_raise_false_alarms(tmp_path):
    """A SUBJID that is a short plain number (``1007``, ``2018``) is not searched, since pages are
    full of such numbers; the USUBJID holding it still is. A longer numeric SUBJID is found as a
    whole token or beside letters, but not inside a decimal number."""
    ids = leaks.load_subject_ids([_snapshot(tmp_path / "a", [("204.01.1007", "1007"), ("204.01.2018", "2018"),
                                                             ("204.02.12345", "12345"), ("9999", "A123")])])
    assert ids == {"204.01.1007", "204.01.2018", "204.02.12345", "12345", "9999", "A123"}
    m = leaks.IdMatcher(ids)
    page = "<p>In 2018, 1007 patient-days; p = 0.12345; HR 12345.6; 3.0.12345</p>"
    assert m.find(page) == set()
    assert m.find("<td>12345</td> and id patient-12345") == {"12345"}
    assert m.find("subject 204.01.1007 and 204.02.12345.") == {"204.01.1007", "204.02.12345"}
    assert m.find("<td>9999</td>") == {"9999"}  # a USUBJID is searched whatever it looks like
    assert leaks.is_searched_id("00071", "SUBJID") and not leaks.is_searched_id("0007", "SUBJID")


def test_a_check_given_the_files_listed_before_reads_none_written_since(tmp_path):
    """The build lists a version's files, then prints its PDF into the same folder while the checks
    read the listed files: the print document (which names the folder: file URLs) written meanwhile
    is neither read nor reported, a listed file still is."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>no path here</p>")
    (site / "page.html").write_text(f"<img src='file://{tmp_path}/x.svg'>")
    listed = leaks.published_files(site)
    (site / "_print.html").write_text(f"<base href='file://{site}/'>")
    assert leaks.find_local_paths(site, [str(tmp_path)], listed) == [f"page.html: {tmp_path}"]
    assert len(leaks.find_local_paths(site, [str(tmp_path)])) == 2  # the whole folder, as listed now
    (site / "page.html").unlink()  # a listed file gone meanwhile is an error, not a silent pass
    with pytest.raises(FileNotFoundError):
        leaks.find_local_paths(site, [str(tmp_path)], listed)
