"""A version can be withdrawn: off the site and the switcher, a notice in its place, the record kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ixathaldex.cli import main
from ixathaldex.exceptions import BuildError
from ixathaldex.paths import Project
from ixathaldex.site import build as b
from ixathaldex.site import withdraw as w


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for cut in ("2018-06-30", "2019-12-31", "2020-06-30"):
        (root / "data" / "snapshots" / cut).mkdir(parents=True)
    (root / "_config.yml").write_text("title: T\nixathaldex:\n  base_url: /\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    site = root / "_build" / "site"
    for cut in ("2018-06-30", "2019-12-31", "2020-06-30"):
        v = site / cut
        (v / "chapters" / "tables").mkdir(parents=True)
        (v / "_sources").mkdir()
        (v / "index.html").write_text(f"<p>version {cut}: 90 patients</p>")
        (v / "chapters" / "05_safety.html").write_text("<p>Table 3</p>")
        (v / "chapters" / "tables" / "table-3.csv").write_text("term,n\nNausea,3\n")
        (v / "_sources" / "05_safety.ipynb").write_text("{}")
        (v / "results.json").write_text("{}")
    return root


def test_withdraw_command_leaves_notices_and_drops_the_version_from_the_switcher(tmp_path):
    root = _project(tmp_path)
    site = root / "_build" / "site"
    assert main(["--project", str(root), "withdraw", "2020-06-30", "--reason", "a coding error in <ADAE>"]) == 0
    record = yaml.safe_load((root / "data" / "withdrawn.yaml").read_text())
    assert [r["cut"] for r in record] == ["2020-06-30"] and record[0]["reason"] == "a coding error in <ADAE>"
    assert len(record[0]["date"]) == 10
    switcher = json.loads((site / "switcher.json").read_text())
    assert [e["version"] for e in switcher] == ["2019-12-31", "2018-06-30"]
    assert switcher[0]["preferred"] is True
    assert "2019-12-31/index.html" in (site / "index.html").read_text()
    v = site / "2020-06-30"
    notice = (v / "index.html").read_text()
    assert "withdrawn" in notice and record[0]["date"] in notice and "a coding error in &lt;ADAE&gt;" in notice
    assert 'href="../2019-12-31/index.html"' in notice
    page = (v / "chapters" / "05_safety.html").read_text()
    assert 'href="../../2019-12-31/index.html"' in page and "Table 3" not in page
    assert (v / "404.html").is_file()
    assert sorted(p.relative_to(v).as_posix() for p in v.rglob("*") if p.is_file()) == \
        ["404.html", "chapters/05_safety.html", "index.html"]  # data files are gone
    # the other versions are untouched; withdrawing twice is refused
    assert (site / "2019-12-31" / "results.json").is_file()
    assert main(["--project", str(root), "withdraw", "2020-06-30", "--reason", "again"]) == 1


def test_the_build_skips_withdrawn_cuts_and_keeps_their_notices(tmp_path):
    root = _project(tmp_path)
    w.record_withdrawal(root, "2019-12-31", "wrong cut-off date", "2021-01-02")
    project = Project(root)
    known = ["2018-06-30", "2019-12-31", "2020-06-30"]
    assert b.select_versions(project, known, None) == ["2018-06-30", "2020-06-30"]
    with pytest.raises(BuildError, match="2019-12-31: withdrawn on 2021-01-02 .wrong cut-off date"):
        b.select_versions(project, known, ["2019-12-31"])
    build = b.Build(project, ["2020-06-30"], known=known, settings={"base_url": "/"})
    assert build.previous["2020-06-30"] == "2018-06-30"  # the withdrawn version is never compared with
    build.publish()  # nothing built: the switcher and the notices are rewritten
    site = root / "_build" / "site"
    assert [e["version"] for e in json.loads((site / "switcher.json").read_text())] == ["2020-06-30", "2018-06-30"]
    notice = (site / "2019-12-31" / "index.html").read_text()
    assert "wrong cut-off date" in notice and "2021-01-02" in notice and "2020-06-30/index.html" in notice
    assert not (site / "2019-12-31" / "results.json").exists()


def test_a_withdrawn_version_without_a_folder_gets_a_notice_and_bad_records_are_refused(tmp_path):
    site = tmp_path / "site"
    w.refresh_site(site, [], {"2018-06-30": {"cut": "2018-06-30", "date": "d", "reason": "r"}}, "/")
    assert "No version is published" in (site / "2018-06-30" / "index.html").read_text()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "withdrawn.yaml").write_text("- cut: 2018-06-30\n")
    with pytest.raises(BuildError, match="entry 1 needs cut, date and reason"):
        w.load_withdrawn(tmp_path)
    with pytest.raises(BuildError, match="--reason"):
        w.record_withdrawal(tmp_path / "x", "2018-06-30", "  ", "d")
