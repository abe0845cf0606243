"""The analysis-results dataset (ARD, claims/ard*.py): its shape, its coverage of the registry, a few
statistics recomputed here from the snapshot's CSVs with pandas/lifelines directly, and the checks
and comparisons the build and the what-changed page make with it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ixathaldex.claims import ard as A
from ixathaldex.claims.ard_rows import COLUMNS, KEY, ArdRows, derive_ard_claim_values, format_stat
from ixathaldex.claims.review_html import format_ard_changes_html
from ixathaldex.claims.values import (derive_claim_values_patients, derive_claim_values_response,
                                      derive_claim_values_safety, glued_form)
from ixathaldex.claims.values_survival import derive_claim_values_prognostic, derive_claim_values_survival
from ixathaldex.data.snapshot import load_snapshot
from ixathaldex.exceptions import ClaimsError
from ixathaldex.values import Value

ROOT = Path(__file__).resolve().parents[1]
CUT = "2019-12-31"
SNAP_DIR = ROOT / "data" / "snapshots" / CUT
MONTH = 30.4375


@pytest.fixture(scope="module")
def snap():
    return load_snapshot(CUT, validate=False)


@pytest.fixture(scope="module")
def ard(snap):
    return A.table_ard(snap)


@pytest.fixture(scope="module")
def registry():
    return yaml.safe_load((ROOT / "data" / "published" / "claims.yaml").read_text())["claims"]


def row(ard, **key) -> pd.Series:
    """The one ARD row with these key values (unnamed key columns empty)."""
    full = {k: "" for k in KEY} | key
    hit = ard[np.logical_and.reduce([ard[k] == v for k, v in full.items()])]
    assert len(hit) == 1, f"{len(hit)} rows for {full}"
    return hit.iloc[0]


# ---- shape --------------------------------------------------------------------------------------

def test_columns_and_types(ard):
    assert list(ard.columns) == COLUMNS
    assert ard["stat"].dtype == float and str(ard["n"].dtype) == "Int64" and ard["stat_integer"].dtype == bool
    assert set(ard["stat_kind"]) <= {"number", "not reached", "missing"}
    assert (ard["stat"].isna() == (ard["stat_kind"] != "number")).all()
    assert ard["n"].notna().all() and (ard["n"] >= 0).all()
    counts = ard[ard["stat_integer"]]
    assert (counts["stat"] == counts["stat"].round()).all() and (counts["stat_kind"] == "number").all()
    assert (ard.loc[ard["stat_kind"] == "not reached", "stat_display"] == "NR").all()
    for col in ("population", "variable", "stat_name", "chapter", "context"):
        assert (ard[col] != "").all(), col
    assert list(dict.fromkeys(ard["chapter"])) == ["patients", "response", "survival", "prognostic", "safety"]


def test_no_duplicate_keys(ard):
    dup = ard[ard.duplicated(KEY, keep=False)]
    assert dup.empty, dup[KEY].head().to_string()


def test_every_computable_registry_claim_appears_once(ard, registry):
    ids = [i for c in ard["claim_id"] if c for i in c.split("; ")]
    assert len(ids) == len(set(ids))
    known = {c["id"] for c in registry}
    assert set(ids) <= known, sorted(set(ids) - known)[:5]
    computable = {c["id"] for c in registry if c.get("expected_computable", True) is not False}
    assert computable - set(ids) == set(), sorted(computable - set(ids))[:10]


def test_chapter_claim_values_are_the_ard_values(snap, ard):
    from_ard = derive_ard_claim_values(ard)
    pages = {}
    for f in (derive_claim_values_patients, derive_claim_values_response, derive_claim_values_survival,
              derive_claim_values_prognostic, derive_claim_values_safety):
        pages.update(f(snap))
    assert set(pages) == set(from_ard)
    for k, v in pages.items():
        a, b = glued_form(v), glued_form(from_ard[k])
        assert type(a) is type(b) and (a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))), k


# ---- independent recomputation from the CSVs ----------------------------------------------------

@pytest.fixture(scope="module")
def raw():
    read = (lambda name: pd.read_csv(SNAP_DIR / f"{name}.csv", dtype=str, keep_default_na=False))
    adsl = read("adsl")
    adsl["GFR"] = pd.to_numeric(adsl["GFR"].replace("", np.nan))
    return adsl[adsl["ITTFL"] == "Y"].set_index("USUBJID"), read("adtte"), read("adrs"), read("adae")


def km_frame(adtte, param, index):
    p = adtte[adtte["PARAMCD"] == param].set_index("USUBJID").reindex(index)
    return pd.DataFrame({"t": p["AVAL"].astype(float) / MONTH, "e": 1 - p["CNSR"].astype(int)})


def test_itt_pfs_median_recomputed_with_lifelines(ard, raw):
    from lifelines import KaplanMeierFitter

    adsl, adtte, _, _ = raw
    d = km_frame(adtte, "PFS", adsl.index)
    kmf = KaplanMeierFitter().fit(d["t"], d["e"])
    sf = kmf.survival_function_.iloc[:, 0]
    median = float(sf.index[(sf <= 0.5 + 1e-12).values][0])  # first time S(t) <= 1/2 (float-safe)
    r = row(ard, population="ITT", variable="PFS", stat_name="median")
    assert r["stat"] == pytest.approx(median, rel=1e-12)
    assert r["claim_id"] == "pfs.itt.median" and r["stat_display"] == f"{median:.1f}"
    assert int(row(ard, population="ITT", variable="PFS", stat_name="events")["stat"]) == int(d["e"].sum())
    assert int(r["n"]) == len(adsl)


def test_itt_orr_count_and_pct_recomputed(ard, raw):
    adsl, _, adrs, _ = raw
    bor = adrs[adrs["PARAMCD"] == "BOR"].set_index("USUBJID")["AVALC"].reindex(adsl.index)
    k = int(bor.isin(["CR", "VGPR", "PR"]).sum())
    n = row(ard, population="ITT", variable="best overall response", variable_level="ORR", stat_name="n")
    pct = row(ard, population="ITT", variable="best overall response", variable_level="ORR", stat_name="pct")
    assert int(n["stat"]) == k and n["stat_integer"] and n["claim_id"] == "t2a.itt.orr.n"
    assert pct["stat"] == pytest.approx(100.0 * k / len(adsl), rel=1e-12) and int(pct["n"]) == len(adsl)


def test_table_3_cell_recomputed(ard, raw):
    adsl, _, _, adae = raw
    mnt = adsl.index[adsl["MNTSAFFL"] == "Y"]
    a = adae[(adae["APHASE"] == "MAINTENANCE") & adae["USUBJID"].isin(mnt) & (adae["AEDECOD"] == "Neutropenia")]
    worst = a.groupby("USUBJID")["AETOXGR"].apply(lambda g: g.astype(int).max())
    k = int((worst >= 3).sum())
    r = row(ard, population="MAINT", group1="phase", group1_level="MAINTENANCE", variable="Neutropenia",
            variable_level=">=3", stat_name="pct")
    assert r["stat"] == pytest.approx(100.0 * k / len(mnt), rel=1e-12) and int(r["n"]) == len(mnt)
    assert r["claim_id"] == "t3.mnt.neutropenia.g3plus.pct"


def test_logrank_p_recomputed(ard, raw):
    from lifelines.statistics import multivariate_logrank_test

    adsl, adtte, _, _ = raw
    d = km_frame(adtte, "OS", adsl.index)
    group = np.where(adsl["GFR"] >= 60, "ge60", "lt60")
    ok = adsl["GFR"].notna().values
    p = multivariate_logrank_test(d["t"][ok], group[ok], d["e"][ok]).p_value
    r = row(ard, population="ITT", group1="gfr60", variable="OS", stat_name="p_logrank")
    assert r["stat"] == pytest.approx(p, rel=1e-9) and r["claim_id"] == "" and int(r["n"]) == ok.sum()


# ---- rows, display, files ----------------------------------------------------------------------

def test_stat_display_follows_the_house_formats():
    assert format_stat(Value.parse(0.00004), "p_logrank") == "<0.001"
    assert format_stat(Value.parse(0.0342), "p_fisher", {"published": 0.0342}) == "0.0342"
    assert format_stat(Value.parse("NR"), "median") == "NR" and format_stat(Value.parse(None), "pct") == ""
    assert format_stat(Value.parse(12), "n") == "12"
    assert format_stat(Value.parse(8.449), "median") == "8.4"
    assert format_stat(Value.parse(1.5864), "hr") == "1.59"
    assert format_stat(Value.parse(51.1111), "pct", {"published": 51.11}) == "51.11"


def test_a_statistic_computed_twice_with_two_values_is_refused():
    rows = ArdRows("survival")
    rows.add("a", "ITT", "PFS", "median", 8.4, 90, claim="x.median")
    rows.add("b", "ITT", "PFS", "median", 8.4, 90, claim="y.median")
    assert rows.frame()["claim_id"].tolist() == ["x.median; y.median"]
    rows.add("c", "ITT", "PFS", "median", 9.0, 90)
    with pytest.raises(ClaimsError, match="two values for one statistic"):
        rows.frame()


def test_csv_and_json_round_trip(ard, tmp_path):
    csv_path, json_path = A.write_ard(ard, tmp_path)
    pd.testing.assert_frame_equal(A.load_ard(csv_path), ard)
    pd.testing.assert_frame_equal(A.load_ard(json_path), ard)
    first = json.loads(json_path.read_text())[0]
    assert first["stat_name"] == "n" and isinstance(first["stat"], int)
    assert csv_path.read_text().splitlines()[1].split(",")[10] == str(int(ard["stat"].iloc[0]))
    with pytest.raises(ClaimsError, match="missing column"):
        (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
        A.load_ard(tmp_path / "bad.csv")


# ---- the build's check: results.json against the ARD --------------------------------------------

def small_ard():
    rows = ArdRows("response")
    rows.add("table2a", "ITT", "best overall response", "n", 46, 90, level="ORR", claim="t2a.itt.orr.n")
    rows.add("table2a", "ITT", "best overall response", "pct", 46 / 90 * 100, 90, level="ORR",
             claim=("t2a.itt.orr.pct", "x.restated.pct"))
    rows.add("figure1", "ITT", "OS", "median", "NR", 90, claim="os.itt.median")
    rows.add("screen", "ITT", "OS", "p_logrank", float("nan"), 90, claim="os.univ.x.p")
    return rows.frame()


def test_results_equal_to_the_ard_pass():
    results = {"t2a.itt.orr.n": 46, "t2a.itt.orr.pct": 46 / 90 * 100, "x.restated.pct": 46 / 90 * 100,
               "os.itt.median": "NR", "os.univ.x.p": None, "response.snapshot": "2019-12-31"}
    A.check_ard_results(results, small_ard(), ["t2a.itt.orr.n", "os.itt.median"])


@pytest.mark.parametrize("claim, glued", [("t2a.itt.orr.n", 47), ("x.restated.pct", 51.2),
                                          ("os.itt.median", 30.1), ("os.univ.x.p", 0.2)])
def test_a_glued_value_that_differs_from_the_ard_names_the_claim(claim, glued):
    results = {"t2a.itt.orr.n": 46, "x.restated.pct": 46 / 90 * 100, "os.itt.median": "NR", "os.univ.x.p": None}
    results[claim] = glued
    with pytest.raises(ClaimsError, match=rf"1 glued claim value.*{claim.replace('.', '[.]')}: glued"):
        A.check_ard_results(results, small_ard())


def test_a_registered_claim_without_an_ard_row_is_an_error():
    with pytest.raises(ClaimsError, match="t3.all.x.n: glued 3, no ARD row"):
        A.check_ard_results({"t3.all.x.n": 3}, small_ard(), ["t3.all.x.n"])


# ---- the what-changed page: every statistic that moved ------------------------------------------

def hand_ard(values: dict) -> pd.DataFrame:
    rows = ArdRows("survival")
    for (variable, stat), value in values.items():
        rows.add("figure1", "ITT", variable, stat, value, 90, claim=f"{variable.lower()}.{stat}" if stat == "median" else ())
    return rows.frame()


def test_ard_changes_rank_by_relative_change_and_keep_only_moved_statistics():
    prev = hand_ard({("PFS", "median"): 8.0, ("OS", "median"): "NR", ("PFS", "events"): 40,
                     ("PFS", "n"): 90, ("OS", "events"): 20, ("DOR", "median"): 5.0})
    cur = hand_ard({("PFS", "median"): 8.8, ("OS", "median"): 28.1, ("PFS", "events"): 60,
                    ("PFS", "n"): 90, ("OS", "events"): 20, ("TTP", "median"): 7.0})
    ch = A.table_ard_changes(prev, cur)
    assert list(ch.columns) == A.CHANGE_COLUMNS
    got = list(zip(ch["variable"], ch["stat_name"], ch["status"]))
    assert got == [("OS", "median", "changed"), ("PFS", "events", "changed"), ("PFS", "median", "changed"),
                   ("TTP", "median", "new"), ("DOR", "median", "no longer computed")]
    assert ch["relative_change"].iloc[0] == math.inf and ch["previous_display"].iloc[0] == "NR"
    assert ch["change"].iloc[1] == 20 and ch["relative_change"].iloc[1] == pytest.approx(0.5)
    assert ch["relative_change"].iloc[2] == pytest.approx(0.1) and ch["claim_id"].iloc[2] == "pfs.median"
    assert ch["stat_display"].iloc[4] == "" and ch["previous_display"].iloc[4] == "5.0"
    assert A.table_ard_changes(cur, cur).empty


def test_ard_changes_table_is_escaped():
    prev = hand_ard({("<b>PFS</b>", "median"): 8.0})
    cur = hand_ard({("<b>PFS</b>", "median"): 9.0})
    html = format_ard_changes_html(A.table_ard_changes(prev, cur))
    assert "<b>PFS</b>" not in html and "&lt;b&gt;PFS&lt;/b&gt;" in html
    assert 'data-status="changed"' in html and "12.5%" in html
