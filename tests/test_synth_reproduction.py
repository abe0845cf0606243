"""The calibration report's three figures are the build's: counted over the registry's claims, read
through the claims layer, the same in calibration.md, calibration.json, the reviewer box and
docs/calibration.md.

The build's own reading (``_build/runs/<cut>/claims.json``, when a build is present) is compared with
the report; the report's figures are recounted here from claim verdicts with plain Python.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ixathaldex.claims.calibration_summary import calibration_group, table_calibration_summary
from ixathaldex.synth import reproduction

ROOT = Path(__file__).resolve().parents[1]
PUB = ROOT / "data" / "snapshots" / "2018-06-30"
BUILT = ROOT / "_build" / "runs" / "2018-06-30" / "claims.json"


@pytest.fixture(scope="module")
def frame():
    return reproduction.table_cut_claims(PUB, "2018-06-30")


def _recount(rows) -> dict:
    inf = [r["verdict"] for r in rows if calibration_group(r["rule"], r["published"]) == "survival and inferential"]
    counts = [r["verdict"] for r in rows if r["rule"] == "exact"]
    return {"counts_exact": [counts.count("exact"), len(counts)],
            "survival_exact_printed_precision": [inf.count("exact"), len(inf)],
            "survival_within_tolerance": [inf.count("exact") + inf.count("within tolerance"), len(inf)]}


def test_report_figures_are_the_claims_layer_reading(frame):
    rep = json.loads((PUB / "calibration.json").read_text())
    assert rep["figures"] == _recount(frame.to_dict("records"))
    assert rep["figures"]["survival_exact_printed_precision"][1] == 71  # the registry's plain-valued numbers


def test_report_agrees_with_the_build(frame):
    if not BUILT.is_file():
        pytest.skip("no build of the publication cut in _build/")
    built = json.loads(BUILT.read_text())
    rep = json.loads((PUB / "calibration.json").read_text())
    if {r["id"]: r["verdict"] for r in built} != dict(zip(frame["id"], frame["verdict"])):
        pytest.skip("the build in _build/ is of other snapshot data")
    assert _recount(built) == rep["figures"]
    s = table_calibration_summary(frame).set_index("group")
    assert int(s.loc["survival and inferential", "exact"]) == rep["figures"]["survival_exact_printed_precision"][0]


def test_every_miss_is_listed_with_a_reason(frame):
    rep = json.loads((PUB / "calibration.json").read_text())
    not_exact = set(frame.loc[(frame["group"] != "") & (frame["verdict"] != "exact"), "id"])
    assert {m["claim"] for m in rep["misses"]} == not_exact
    assert all(m["reason"].strip() and m["kind"] in ("conflict", "search", "not computable") for m in rep["misses"])


def test_markdown_and_docs_lead_with_the_same_three_figures():
    rep = json.loads((PUB / "calibration.json").read_text())
    c, e, w = (rep["figures"][k] for k in ("counts_exact", "survival_exact_printed_precision",
                                           "survival_within_tolerance"))
    md = (PUB / "calibration.md").read_text()
    lines = [f"counts exact: {c[0]}/{c[1]}", f"exact at the printed precision: {e[0]}/{e[1]}",
             f"within tolerance: {w[0]}/{w[1]}"]
    pos = [md.find(x) for x in lines]
    assert all(p > 0 for p in pos) and pos == sorted(pos) and pos[-1] < md.find("##")
    docs = re.sub(r"\s+", " ", (ROOT / "docs" / "calibration.md").read_text())
    assert all(x in docs for x in lines)


def test_later_cut_reads_as_more_follow_up(frame):
    """The later cut, read the way the build reads it: the OS median becomes reached and the printed
    hazard ratios drift toward 1 (events rising is checked on the tables in test_synthetic)."""
    import math

    later = reproduction.table_cut_claims(ROOT / "data" / "snapshots" / "2019-12-31", "2019-12-31")
    pub, lat = (dict(zip(f["id"], f["reproduced"])) for f in (frame, later))
    assert pub["os.itt.median"] == "NR" and isinstance(lat["os.itt.median"], float)
    for cid in ("pfs.cox.gain1q.hr", "os.cox.gain1q.hr", "os.cox.hb100.hr"):
        assert abs(math.log(lat[cid])) < abs(math.log(pub[cid])), cid
