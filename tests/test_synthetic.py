"""The synthetic cohort: committed snapshots reproduce the paper; generator is deterministic.

Expected values below are typed from the paper (numbers only), never taken from the generator.
Counts are recomputed from the committed CSVs with plain pandas; survival with lifelines.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from ixathaldex.synth import fastsurv

SNAPSHOT_ROOT = Path(__file__).resolve().parents[1] / "data" / "snapshots"

PUB = SNAPSHOT_ROOT / "2018-06-30"
LATER = SNAPSHOT_ROOT / "2019-12-31"
MONTH = 30.4375


def _load(folder: Path) -> dict:
    return {n: pd.read_csv(folder / f"{n}.csv", dtype=str, keep_default_na=False)
            for n in ("adsl", "adtte", "adrs", "adae")}


@pytest.fixture(scope="module")
def pub():
    return _load(PUB)


@pytest.fixture(scope="module")
def later():
    return _load(LATER)


# ---- fast statistics equal lifelines / statsmodels --------------------------------------------

def _random_survival(seed, n=80):
    rng = np.random.default_rng(seed)
    t = rng.integers(1, 900, n)
    e = rng.random(n) < 0.6
    g = rng.integers(0, 3, n)
    return t, e, g


@pytest.mark.parametrize("seed", range(6))
def test_km_median_and_ci_equal_lifelines(seed):
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    t, e, _ = _random_survival(seed)
    kmf = KaplanMeierFitter().fit(t, e)
    ci = median_survival_times(kmf.confidence_interval_)
    med, lo, hi = fastsurv.median_ci(t, e)[:3]
    assert med == kmf.median_survival_time_
    assert lo == ci.iloc[0, 0]
    assert hi == ci.iloc[0, 1]


def test_km_median_gehan_reference():
    # Gehan 6-MP data (weeks), control arm: median 8, log-log CI (4, 11) as in R conf.type="log-log"
    t = np.array([1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23])
    med, lo, hi = fastsurv.median_ci(t, np.ones(len(t), bool))[:3]
    assert (med, lo, hi) == (8, 4, 11)


@pytest.mark.parametrize("seed", range(6))
def test_logrank_equals_lifelines(seed):
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    t, e, g = _random_survival(seed)
    two = g < 2
    ref2 = logrank_test(t[two & (g == 0)], t[two & (g == 1)], e[two & (g == 0)], e[two & (g == 1)])
    assert fastsurv.logrank(t[two], e[two], g[two])[1] == pytest.approx(ref2.p_value, rel=1e-9)
    ref3 = multivariate_logrank_test(t, g, e)
    assert fastsurv.logrank(t, e, g)[1] == pytest.approx(ref3.p_value, rel=1e-9)


def test_cox_breslow_equals_statsmodels():
    from statsmodels.duration.hazard_regression import PHReg

    rng = np.random.default_rng(3)
    n = 60
    X = (rng.random((n, 3)) < 0.4).astype(float)
    t = np.ceil(rng.exponential(300 / np.exp(X @ [0.8, -0.5, 0.3]))).astype(int)
    t[::7] = t[1::7][: len(t[::7])] if len(t[1::7]) >= len(t[::7]) else t[::7]  # some ties
    e = rng.random(n) < 0.7
    b, se, p = fastsurv.cox_breslow(t, e, X)
    ref = PHReg(t, X, status=e.astype(int), ties="breslow").fit()
    np.testing.assert_allclose(b, ref.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-5)
    np.testing.assert_allclose(p, ref.pvalues, rtol=1e-4)


# ---- the committed snapshots ------------------------------------------------------------------

def test_committed_snapshots_pass_validation():
    from ixathaldex.data.validate import check_snapshot

    for folder in (PUB, LATER):
        check_snapshot(folder)


def test_table1_counts(pub):
    a = pub["adsl"]
    assert len(a) == 90 and (a.ITTFL == "Y").all()
    assert (a.SEX == "M").sum() == 46 and (a.SEX == "F").sum() == 44
    assert a.ISS.value_counts().to_dict() == {"I": 37, "II": 30, "III": 23}
    ecog = a.ECOG.astype(int)
    assert (ecog <= 1).sum() == 86 and (ecog == 2).sum() == 4
    assert a.MMTYPE.value_counts().to_dict() == {"IgG": 47, "Light chain only": 23, "IgA": 20}
    age = a.AGE.astype(float)
    assert round(age.median(), 1) == 67.3
    assert round(age.min()) == 44 and round(age.max()) == 84
    fish = a.FISHFL == "Y"
    assert fish.sum() == 61
    assert (fish & ((a.T414 == "Y") | (a.DEL17P == "Y"))).sum() == 18
    assert (a.GAIN1Q == "Y").sum() == 32
    assert (fish & (a.T414 != "Y") & (a.DEL17P != "Y") & (a.T1416 != "Y") & (a.GAIN1Q != "Y")).sum() == 22
    lines = a.PRLINES.astype(int)
    assert ((lines <= 2).sum(), lines.between(3, 4).sum(), (lines >= 5).sum()) == (66, 15, 9)
    assert lines.median() == 1 and lines.min() == 1 and lines.max() == 8
    Y = lambda c: (a[c] == "Y").sum()  # noqa: E731
    assert (Y("PIEXPFL"), Y("IMIDEXFL"), ((a.PIEXPFL == "Y") & (a.IMIDEXFL == "Y")).sum()) == (85, 54, 50)
    assert (Y("LENEXPFL"), Y("LENREFFL"), Y("THALEXFL"), Y("THALREFL")) == (42, 14, 12, 0)
    assert (Y("BTZEXPFL"), Y("BTZREFFL"), Y("ASCTFL")) == (79, 9, 61)
    months = (pd.to_datetime(a.TRTSDT) - pd.to_datetime(a.FLTSTDT)).dt.days / MONTH
    for method in ("linear", "lower", "higher", "midpoint", "nearest"):
        q = months.quantile([0.25, 0.5, 0.75], interpolation=method).round().tolist()
        assert q == [31, 49, 87], method


def test_fish_details(pub):
    a = pub["adsl"]
    assert ((a.T414 == "Y").sum(), (a.DEL17P == "Y").sum()) == (13, 6)
    t1416 = a[a.T1416 == "Y"]
    assert len(t1416) == 1 and (t1416.GAIN1Q == "Y").all()
    fish = a.FISHFL == "Y"
    assert (a.loc[~fish, ["T414", "T1416", "DEL17P", "GAIN1Q"]] == "").all().all()


def _bor(pub):
    r = pub["adrs"]
    return pub["adsl"].USUBJID.map(r[r.PARAMCD == "BOR"].set_index("USUBJID").AVALC)


def test_table2a_itt_and_pp(pub):
    a = pub["adsl"]
    bor = _bor(pub)
    pp = a.PPROTFL == "Y"
    assert pp.sum() == 76
    for mask, expected in ((pp | ~pp, (8, 13, 25, 9)), (pp, (8, 13, 25, 6))):
        got = tuple(int((bor[mask] == r).sum()) for r in ("CR", "VGPR", "PR", "MR"))
        assert got == expected


def test_table2b_cells_and_fisher(pub):
    a = pub["adsl"]
    resp = _bor(pub).isin(["CR", "VGPR", "PR"])
    fish = a.FISHFL == "Y"
    hr = fish & ((a.T414 == "Y") | (a.DEL17P == "Y"))
    g1 = a.GAIN1Q == "Y"
    g0 = a.GAIN1Q == "N"
    anyr = hr | g1
    for pos, neg, cells, p in ((hr, fish & ~hr, (11, 18, 22, 43), 0.5778),
                               (g1, g0, (15, 32, 18, 26), 0.1133),
                               (anyr, fish & ~anyr, (18, 39, 15, 22), 0.1158)):
        got = (resp[pos].sum(), pos.sum(), resp[neg].sum(), neg.sum())
        assert got == cells
        tab = [[got[0], got[1] - got[0]], [got[2], got[3] - got[2]]]
        assert round(fisher_exact(tab)[1], 4) == p


def test_imid_split(pub):
    a = pub["adsl"]
    resp = _bor(pub).isin(["CR", "VGPR", "PR"])
    exposed = (a.LENEXPFL == "Y") | (a.THALEXFL == "Y")
    assert (exposed.sum(), resp[exposed].sum()) == (53, 22)
    assert ((~exposed).sum(), resp[~exposed].sum()) == (37, 24)
    assert round(100 * 24 / 37, 1) == 64.9 and round(100 * 22 / 53, 1) == 41.5


def test_patient_flow(pub):
    a = pub["adsl"]
    non = a[a.PPROTFL == "N"]
    assert non.DCSREAS.value_counts().to_dict() == {
        "PROGRESSIVE DISEASE": 9, "ADVERSE EVENT": 2, "PHYSICIAN DECISION": 2, "WITHDRAWAL BY SUBJECT": 1}
    assert (non.INDCYC.astype(int) < 2).all()
    Y = lambda c: int((a[c] == "Y").sum())  # noqa: E731
    assert (Y("INDCMPFL"), Y("MNTFL"), Y("MNTSAFFL"), Y("MNTCMPFL")) == (43, 43, 41, 13)
    assert (a.EOTSTT == "ONGOING").sum() == 10
    assert a.INDCYC.astype(int).median() == 6
    m = a[a.MNTSAFFL == "Y"]
    end = pd.to_datetime(m.TRTEDT.replace("", None)).fillna(pd.Timestamp("2018-06-30"))
    dur = ((end - pd.to_datetime(m.MNTSDT)).dt.days + 1) / MONTH
    assert round(dur.median()) == 7
    r = pub["adrs"]
    eoi = r[r.PARAMCD == "EOIRESP"].set_index("USUBJID")
    mb = r[r.PARAMCD == "MNTBOR"].set_index("USUBJID")
    order = ["CR", "VGPR", "PR", "MR", "SD", "PD", "NE"]
    j = mb.join(eoi, rsuffix="_eoi", how="inner")
    up = j[j.AVALC.map(order.index) < j.AVALC_eoi.map(order.index)]
    pairs = sorted(zip(up.AVALC_eoi, up.AVALC))
    assert pairs == sorted([("VGPR", "CR")] * 3 + [("PR", "VGPR"), ("PR", "CR")])
    start = pd.to_datetime(a.set_index("USUBJID").MNTSDT.reindex(up.index))
    months = (pd.to_datetime(up.ADT) - start).dt.days / MONTH
    assert months.min() >= 0.5 and months.max() < 9.5
    assert round(100 * 5 / 41, 1) == 12.2
    # thalidomide (induction) exposure: median about 6 months (discussion)
    ind_end = pd.to_datetime(a.MNTSDT.replace("", None)) - pd.Timedelta(days=1)
    ind_end = ind_end.where(a.INDCMPFL == "Y", pd.to_datetime(a.TRTEDT.replace("", None)))
    exposure = ((ind_end - pd.to_datetime(a.TRTSDT)).dt.days + 1) / MONTH
    assert round(exposure.median()) == 6


# Table 3 as printed: term -> (all 1-2, all >=3, maintenance 1-2, maintenance >=3)
TABLE3 = {
    "Upper respiratory infection": (24, 1, 8, 1), "Lower respiratory infection": (13, 8, 1, 0),
    "Viral infection": (7, 3, 2, 0), "Urinary tract infection": (1, 2, 0, 1),
    "Infection unspecified": (10, 2, 2, 0), "Varicella zoster virus infection": (0, 1, 0, 0),
    "Sepsis": (0, 1, 0, 0), "Polyneuropathy": (33, 4, 7, 1), "Fatigue": (33, 2, 4, 0),
    "Constipation": (26, 1, 1, 0), "Diarrhoea": (8, 3, 1, 1), "Nausea": (16, 0, 3, 0),
    "Oedema": (26, 0, 4, 0), "Pain": (22, 6, 9, 0), "Renal disorders": (2, 2, 0, 0),
    "Cardiac disorders": (4, 2, 0, 1), "Secondary malignancies": (1, 2, 0, 0),
    "Anaemia": (66, 16, 34, 4), "Leukopenia": (46, 5, 28, 1), "Neutropenia": (35, 2, 17, 0),
    "Thrombocytopenia": (36, 7, 17, 3),
}


def test_table3_every_cell(pub):
    ae = pub["adae"].copy()
    ae["g"] = ae.AETOXGR.astype(int)
    maint_ids = set(pub["adsl"].loc[pub["adsl"].MNTSAFFL == "Y", "USUBJID"])
    assert len(maint_ids) == 41
    worst = ae.groupby(["AEDECOD", "USUBJID"]).g.max()
    m = ae[(ae.APHASE == "MAINTENANCE")]
    assert m.USUBJID.isin(maint_ids).all()
    worst_m = m.groupby(["AEDECOD", "USUBJID"]).g.max()
    assert set(ae.AEDECOD) == set(TABLE3)
    for term, (a12, a3, m12, m3) in TABLE3.items():
        w = worst.loc[term]
        wm = worst_m.loc[term] if term in worst_m.index.get_level_values(0) else pd.Series(dtype=int)
        assert ((w <= 2).sum(), (w >= 3).sum(), (wm <= 2).sum(), (wm >= 3).sum()) == (a12, a3, m12, m3), term
    assert ae.g.between(1, 4).all()


def test_publication_cut_survival_with_lifelines(pub):
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    t = pub["adtte"]
    a = pub["adsl"]

    def fit(param, ids=None, flip=False):
        d = t[t.PARAMCD == param]
        if ids is not None:
            d = d[d.USUBJID.isin(ids)]
        ev = 1 - d.CNSR.astype(int)
        return KaplanMeierFitter().fit(d.AVAL.astype(int) / MONTH, ev if not flip else 1 - ev)

    k = fit("PFS")
    ci = median_survival_times(k.confidence_interval_)
    assert abs(k.median_survival_time_ - 8.5) <= 0.3
    assert abs(ci.iloc[0, 0] - 6.4) <= 0.5 and abs(ci.iloc[0, 1] - 10.3) <= 0.5
    assert abs(fit("PFS", a.USUBJID[a.PPROTFL == "Y"]).median_survival_time_ - 9.4) <= 0.3
    # the median and its CI by statsmodels (another rule for a flat S = 0.5 stretch)
    from statsmodels.duration.survfunc import SurvfuncRight

    for ids in (None, a.USUBJID[a.PPROTFL == "Y"]):
        d = t[t.PARAMCD == "PFS"] if ids is None else t[(t.PARAMCD == "PFS") & t.USUBJID.isin(ids)]
        sf = SurvfuncRight(d.AVAL.astype(int).to_numpy() / MONTH, 1 - d.CNSR.astype(int).to_numpy())
        target = 8.5 if ids is None else 9.4
        # statsmodels takes the end of a flat S = 0.5 stretch, lifelines its start: both within 0.3
        assert abs(sf.quantile(0.5) - target) <= 0.3
        lo, hi = sf.quantile_ci(0.5, method="cloglog")
        ref = median_survival_times(fit("PFS", ids).confidence_interval_).iloc[0]
        assert (lo, hi) == pytest.approx((ref.iloc[0], ref.iloc[1]))
    o = fit("OS")
    assert math.isinf(o.median_survival_time_)
    assert abs(median_survival_times(o.confidence_interval_).iloc[0, 0] - 22.9) <= 0.5
    assert abs(fit("OS", flip=True).median_survival_time_ - 19.1) <= 0.3


def test_calibration_report_is_green():
    rep = json.loads((PUB / "calibration.json").read_text())
    assert all(c["ok"] for c in rep["counts"]), [c["id"] for c in rep["counts"] if not c["ok"]]
    ok = sum(s["ok"] for s in rep["survival"])
    assert ok >= 0.9 * len(rep["survival"])
    md = (PUB / "calibration.md").read_text()
    inside, total = rep["figures"]["survival_within_tolerance"]
    assert f"within tolerance: {inside}/{total}" in md and inside == total
    manifest = json.loads((PUB / "manifest.json").read_text())
    assert "calibration.md" not in manifest["files"] and manifest["synthetic"] is True


def test_later_cut_keeps_every_earlier_event(pub, later):
    assert pub["adsl"].USUBJID.tolist() == later["adsl"].USUBJID.tolist()
    base = ["AGE", "SEX", "ISS", "FISHFL", "GAIN1Q", "PRLINES", "TRTSDT", "HGB", "ALB", "GFR"]
    pd.testing.assert_frame_equal(pub["adsl"][base], later["adsl"][base])
    key = ["USUBJID", "PARAMCD"]
    j = pub["adtte"].merge(later["adtte"], on=key, suffixes=("_1", "_2"))
    assert len(j) == 180
    ev1 = j.CNSR_1 == "0"
    assert (j.loc[ev1, "ADT_1"] == j.loc[ev1, "ADT_2"]).all()
    assert (j.loc[ev1, "CNSR_2"] == "0").all()
    assert (j.AVAL_2.astype(int) >= j.AVAL_1.astype(int)).all()
    assert (j.CNSR_2 == "0").sum() > ev1.sum()
    assert (later["adsl"].EOTSTT != "ONGOING").all()
    # adverse events of the publication cut are all still there, unchanged
    cols = ["USUBJID", "AEDECOD", "AETOXGR", "APHASE", "ASTDT"]
    m = pub["adae"][cols].merge(later["adae"][cols], how="left", indicator=True)
    assert (m["_merge"] == "both").all()


def test_readme_says_synthetic():
    text = (SNAPSHOT_ROOT / "README.md").read_text()
    assert "synthetic" in text.lower() and "ixathaldex synth" in text


# ---- the generator ------------------------------------------------------------------------------

def _tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow  # runs the generator
def test_short_run_is_byte_identical(tmp_path):
    from ixathaldex import cli

    for d in ("a", "b"):
        assert cli.main(["-q", "synth", "--moves", "150", "--out", str(tmp_path / d)]) == 0
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert sorted(a) == sorted(b) and len(a) == 14
    assert a == b


@pytest.mark.slow  # runs the generator
def test_large_cohort_has_the_same_structure(tmp_path):
    from ixathaldex import cli

    assert cli.main(["-q", "synth", "--n", "3000", "--out", str(tmp_path)]) == 0
    a = pd.read_csv(tmp_path / "2018-06-30" / "adsl.csv", dtype=str, keep_default_na=False)
    assert len(a) == 3000 and a.USUBJID.is_unique
    assert list(a.columns) == list(pd.read_csv(PUB / "adsl.csv", nrows=0).columns)
    t = pd.read_csv(tmp_path / "2019-12-31" / "adtte.csv")
    assert len(t) == 6000


@pytest.mark.slow  # runs the generator
def test_changed_cut_is_refused_without_force(tmp_path):
    from ixathaldex import cli

    assert cli.main(["-q", "synth", "--moves", "60", "--out", str(tmp_path)]) == 0
    before = _tree(tmp_path)
    assert cli.main(["-q", "synth", "--moves", "61", "--out", str(tmp_path)]) == 1
    assert _tree(tmp_path) == before  # nothing written, no temporary folder left
    assert cli.main(["-q", "synth", "--moves", "61", "--force", "--out", str(tmp_path)]) == 0
    assert _tree(tmp_path) != before


@pytest.mark.parametrize("seed", range(4))
def test_batched_tables_equal_one_group_at_a_time(seed):
    t, e, g = _random_survival(seed, n=90)
    rng = np.random.default_rng(seed + 10)
    masks = np.array([g == 0, g == 1, g == 2, rng.random(90) < 0.3, np.ones(90, bool)])
    b = fastsurv.Batch(t, e, masks)
    for row, m in zip(b.median_ci(), masks):
        assert row == pytest.approx(fastsurv.median_ci(t[m], e[m]))
    sel = g <= 1
    p2 = fastsurv.logrank(t[sel], e[sel], g[sel])[1]
    assert b.logrank_pairs([(0, 1)])[0] == pytest.approx(p2) and b.logrank((0, 1)) == pytest.approx(p2)
    assert b.logrank((0, 1, 2)) == pytest.approx(fastsurv.logrank(t, e, g)[1])
