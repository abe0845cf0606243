"""Pages that tell the truth: what a version's data are comes from its manifest, on every page."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from ixathaldex.claims import notice
from ixathaldex.data.manifest import read_manifest, write_manifest
from ixathaldex.site import stage as st

SYNTH = {"cut": "2018-06-30", "cutoff_date": "2018-06-30", "label": "Synthetic cut", "synthetic": True}
REAL = {"cut": "2021-06-30", "cutoff_date": "2021-06-30", "label": "Sponsor transfer June 2021",
        "synthetic": False}


def test_notice_of_synthetic_data_says_so_everywhere():
    texts = notice.derive_data_notice(SYNTH)
    for key in ("data_title", "data_notice", "data_note", "data_scope", "data_methods", "data_review",
                "data_cite", "data_calibration"):
        assert "synthetic" in texts[key].lower(), key
    assert "Synthetic data" in notice.format_data_notice_html(SYNTH)


def test_notice_of_real_data_never_says_synthetic_and_names_cut_and_label():
    texts = notice.derive_data_notice(REAL)
    assert not any("synthetic" in t.lower() for t in texts.values())
    assert "2021-06-30" in texts["data_notice"] and "Sponsor transfer June 2021" in texts["data_notice"]
    assert texts["data_notice"].startswith("Data: the trial's patient-level data")
    assert texts["data_calibration"] == ""
    assert "synthetic" not in notice.format_data_notice_html(REAL).lower()


def test_missing_flag_is_not_synthetic_and_label_is_escaped():
    html = notice.format_data_notice_html({"cutoff_date": "2021-06-30", "label": "<b>x</b>"})
    assert "<b>x</b>" not in html and "&lt;b&gt;" in html


def test_source_comparison_only_between_different_sources():
    assert notice.derive_source_comparison(REAL, None) == ""
    assert notice.derive_source_comparison(REAL, REAL) == ""
    assert notice.derive_source_comparison(SYNTH, SYNTH) == ""
    forward = notice.derive_source_comparison(REAL, SYNTH)
    assert "two different data sources" in forward and forward.startswith("The previous version's data were synthetic")
    assert "two different data sources" in notice.derive_source_comparison(SYNTH, REAL)


def test_switcher_labels_synthetic_versions_and_prefers_newest_real():
    versions = ["2018-06-30", "2019-12-31", "2021-06-30", "2022-01-31"]
    synthetic = {"2018-06-30": True, "2019-12-31": True, "2021-06-30": False, "2022-01-31": True}
    entries = {e["version"]: e for e in st.switcher_entries(versions, "/", synthetic)}
    assert entries["2018-06-30"]["name"] == "2018-06-30 (synthetic)"
    assert entries["2021-06-30"]["name"] == "2021-06-30"
    assert "synthetic" in entries["2022-01-31"]["name"]
    assert [v for v, e in entries.items() if e.get("preferred")] == ["2021-06-30"]


def test_switcher_without_real_version_prefers_newest():
    entries = st.switcher_entries(["2018-06-30", "2019-12-31"], "/", {"2018-06-30": True, "2019-12-31": True})
    assert [e["version"] for e in entries if e.get("preferred")] == ["2019-12-31"]


def test_root_redirects_to_preferred_version(tmp_path):
    st.write_site_index(tmp_path, ["2020-06-30", "2021-06-30", "2022-01-31"], "/",
                        {"2020-06-30": True, "2021-06-30": False, "2022-01-31": True})
    html = (tmp_path / "index.html").read_text()
    assert 'url=2021-06-30/index.html"' in html and "2022-01-31" not in html


def test_banner_of_real_version_does_not_say_synthetic():
    prov = st.provenance("2021-06-30", REAL, "abc", "def", "today")
    assert "synthetic" not in (json.dumps(prov) + st.provenance_html(prov)).lower()
    assert "Synthetic data" in st.provenance_html(st.provenance("2018-06-30", SYNTH, "abc", "def", "today"))


@pytest.mark.slow
def test_real_version_never_says_synthetic(tmp_path, fixture_project):
    """A synthetic cut and a later real one: the real version's pages and files never say synthetic
    (but its what-changed page says the previous data were), the synthetic one's do."""
    proj = fixture_project(tmp_path)
    synth_cut, real_cut = "2019-01-31", "2020-06-30"
    snap = proj / "data" / "snapshots" / real_cut
    old = read_manifest(snap)
    write_manifest(snap, real_cut, "Sponsor transfer", False, {"source": "test"})
    assert read_manifest(snap)["synthetic"] is False and old["synthetic"] is True
    env = {k: v for k, v in os.environ.items() if k != "IXATHALDEX_PROJECT"}
    proc = subprocess.run([sys.executable, "-m", "ixathaldex.cli", "build", "--jobs", "2"], cwd=proj, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = proj / "_build" / "site"
    allowed = "The previous version's data were synthetic"
    leaks = []
    for path in sorted((site / real_cut).rglob("*")):
        if path.suffix not in (".html", ".ipynb", ".json") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace").replace("\u2019", "'")  # smart quotes
        if path.name.startswith("changes"):
            assert allowed in text, path
            text = text.replace(allowed, "")
        if "synthetic" in text.lower():
            leaks.append(f"{path.relative_to(site)}: …{text[max(0, text.lower().index('synthetic') - 80):][:160]}…")
    assert not leaks, "\n".join(leaks)
    assert "Data</strong>: the trial's patient-level data" in (site / real_cut / "index.html").read_text()
    synth_pages = [p for p in (site / synth_cut).rglob("*.html") if "_static" not in p.parts]
    assert synth_pages and all("Synthetic data" in p.read_text() for p in synth_pages)
    switcher = {e["version"]: e for e in json.loads((site / "switcher.json").read_text())}
    assert switcher[synth_cut]["name"].startswith(f"{synth_cut} (synthetic")
    assert "synthetic" not in switcher[real_cut]["name"] and switcher[real_cut].get("preferred")
    assert re.search(rf"url={real_cut}/index\.html", (site / "index.html").read_text())
