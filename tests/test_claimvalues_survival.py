"""Survival and prognostic claims on the committed publication snapshot vs independent recomputation.

The reference values are recomputed here from the snapshot's CSVs with plain pandas (groups built
from the raw ADSL columns, not from ``derive_adsl``), lifelines (Kaplan–Meier median and its
log-log CI, log-rank) and statsmodels ``PHReg`` (Breslow Cox) called directly. Nothing is copied
from the code under test.
"""

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ixathaldex.claims.values_survival import (derive_claim_values_prognostic,
                                             derive_claim_values_survival)
from ixathaldex.data.snapshot import load_snapshot

ROOT = Path(__file__).resolve().parents[1]
CUT = "2018-06-30"
SNAP_DIR = ROOT / "data" / "snapshots" / CUT
MONTH = 30.4375


# ---- the code under test, once ----------------------------------------------------------------

@pytest.fixture(scope="module")
def values():
    snap = load_snapshot(CUT, validate=False)
    surv = derive_claim_values_survival(snap)
    prog = derive_claim_values_prognostic(snap)
    return surv, prog


@pytest.fixture(scope="module")
def merged(values):
    return {**values[0], **values[1]}


# ---- independent recomputation from the CSVs ---------------------------------------------------

@pytest.fixture(scope="module")
def raw():
    adsl = pd.read_csv(SNAP_DIR / "adsl.csv", dtype=str, keep_default_na=False)
    adtte = pd.read_csv(SNAP_DIR / "adtte.csv", dtype=str, keep_default_na=False)
    for c in ("AGE", "GFR", "HGB", "ALB", "PRLINES"):
        adsl[c] = pd.to_numeric(adsl[c].replace("", np.nan))
    adsl = adsl[adsl["ITTFL"] == "Y"].set_index("USUBJID")
    out = {}
    for param in ("PFS", "OS"):
        p = adtte[adtte["PARAMCD"] == param].set_index("USUBJID")
        out[param] = pd.DataFrame({"t": p["AVAL"].astype(float) / MONTH,
                                   "e": 1 - p["CNSR"].astype(int)}).reindex(adsl.index)
    return adsl, out


def groups(adsl):
    """Plain-pandas masks of every subgroup, from the raw ADSL columns."""
    fish = adsl["FISHFL"] == "Y"
    hr = fish & ((adsl["T414"] == "Y") | (adsl["T1416"] == "Y") | (adsl["DEL17P"] == "Y"))
    gain = fish & (adsl["GAIN1Q"] == "Y")
    nogain = fish & (adsl["GAIN1Q"] == "N")
    lenthal = (adsl["LENEXPFL"] == "Y") | (adsl["THALEXFL"] == "Y")
    return {
        "iss.I": adsl["ISS"] == "I", "iss.II-III": adsl["ISS"].isin(["II", "III"]),
        "iss.I-II": adsl["ISS"].isin(["I", "II"]), "iss.III": adsl["ISS"] == "III",
        "lines.1": adsl["PRLINES"] == 1, "lines.>1": adsl["PRLINES"] > 1,
        "age.<75": adsl["AGE"] < 75, "age.>=75": adsl["AGE"] >= 75,
        "fit": adsl["FRAILTY"] == "FIT", "unfit": adsl["FRAILTY"].isin(["UNFIT", "FRAIL"]),
        "gfr.>=60": adsl["GFR"] >= 60, "gfr.<60": adsl["GFR"] < 60,
        "hr": hr, "sr": fish & ~hr, "naive": ~lenthal, "exposed": lenthal,
        "gain": gain, "nogain": nogain, "any": hr | gain, "neither": fish & ~hr & ~gain,
        "isolated": gain & ~hr, "gain_detected": gain, "gain_not_detected": fish & ~gain,
        "hb<100": adsl["HGB"] < 100, "hb>=100": adsl["HGB"] >= 100,
        "alb<35": adsl["ALB"] < 35, "alb>=35": adsl["ALB"] >= 35,
    }


def exact_median(d):
    """KM median in exact rational arithmetic: first event time with S(t) <= 1/2, else 'NR'.

    (lifelines' own median misses S = 1/2 exactly when its float product gives 0.5000000000000002,
    which happens in this snapshot; fractions avoid that.)"""
    s = Fraction(1)
    for t, grp in d.groupby("t", sort=True):
        events = int(grp["e"].sum())
        if events:
            s *= 1 - Fraction(events, int((d["t"] >= t).sum()))
            if s <= Fraction(1, 2):
                return float(t)
    return "NR"


def ll_median(d):
    """Exact median and lifelines' log-log 95% CI of the median; NaN / inf -> 'NR'."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    kmf = KaplanMeierFitter().fit(d["t"], d["e"])
    ci = median_survival_times(kmf.confidence_interval_)
    nr = lambda v: "NR" if not np.isfinite(v) else float(v)  # noqa: E731
    return exact_median(d), nr(ci.iloc[0, 0]), nr(ci.iloc[0, 1])


def ll_logrank(d, masks):
    from lifelines.statistics import multivariate_logrank_test

    lab = pd.Series(np.nan, index=d.index, dtype=object)
    for i, m in enumerate(masks):
        lab[m] = str(i)
    ok = lab.notna()
    return multivariate_logrank_test(d.loc[ok, "t"], lab[ok], d.loc[ok, "e"]).p_value


def same(a, b, rel=1e-9):
    if a == "NR" or b == "NR":
        return a == b
    return a == pytest.approx(b, rel=rel, abs=1e-12)


# ---- coverage of the registry -----------------------------------------------------------------

def test_every_registry_claim_of_both_chapters_has_a_value(values):
    surv, prog = values
    claims = yaml.safe_load((ROOT / "data" / "published" / "claims.yaml").read_text())["claims"]
    ids = {c["id"] for c in claims if c["chapter"] in ("survival", "prognostic")}
    assert not set(surv) & set(prog), "a claim would be glued by both pages"
    assert set(surv) | set(prog) == ids
    for k, v in {**surv, **prog}.items():
        assert v == "NR" or (type(v) in (int, float) and math.isfinite(v)), (k, v)


# ---- survival page ----------------------------------------------------------------------------

def test_figure1_medians_and_followup(raw, merged):
    adsl, tte = raw
    pp = adsl["PPROTFL"] == "Y"
    for param in ("PFS", "OS"):
        m, lo, hi = ll_median(tte[param])
        key = param.lower()
        assert same(merged[f"{key}.itt.median"], m)
        assert same(merged[f"{key}.itt.median.ci_low"], lo)
        assert same(merged[f"{key}.itt.median.ci_high"], hi)
        assert same(merged[f"{key}.pp.median"], ll_median(tte[param][pp])[0])
    rev = tte["OS"].assign(e=1 - tte["OS"]["e"])
    assert same(merged["followup.median"], ll_median(rev)[0])


PFS_PAIRS = [  # claim prefix, population, [(suffix, group)]
    ("pfs.iss", "PP", [("i", "iss.I"), ("ii_iii", "iss.II-III")]),
    ("pfs.lines", "PP", [("one", "lines.1"), ("more", "lines.>1")]),
    ("pfs.age", "PP", [("lt75", "age.<75"), ("ge75", "age.>=75")]),
    ("pfs.frailty", "PP", [("fit", "fit"), ("unfit_frail", "unfit")]),
    ("pfs.gfr", "PP", [("ge60", "gfr.>=60"), ("lt60", "gfr.<60")]),
    ("pfs.hrcyto", "PP", [("hr", "hr"), ("sr", "sr")]),
    ("pfs.imid", "ITT", [("naive", "naive"), ("exposed", "exposed")]),
    ("pfs.gain1q", "PP", [("pos", "gain"), ("neg", "nogain")]),
    ("pfs.hr_or_gain1q", "PP", [("pos", "any"), ("neg", "neither")]),
    ("pfs.risk3", "PP", [("gain1q", "isolated"), ("hr", "hr"), ("neither", "neither")]),
    ("os.iss", "ITT", [("i_ii", "iss.I-II"), ("iii", "iss.III")]),
    ("os.lines", "ITT", [("one", "lines.1"), ("more", "lines.>1")]),
    ("os.frailty", "ITT", [("fit", "fit"), ("unfit_frail", "unfit")]),
    ("os.age", "ITT", [("lt75", "age.<75"), ("ge75", "age.>=75")]),
    ("os.hrcyto", "ITT", [("hr", "hr"), ("sr", "sr")]),
    ("os.gain1q", "ITT", [("pos", "gain"), ("neg", "nogain")]),
    ("os.hr_or_gain1q", "ITT", [("pos", "any"), ("neg", "neither")]),
    ("os.risk3", "ITT", [("gain1q", "isolated"), ("hr", "hr"), ("neither", "neither")]),
]


@pytest.mark.parametrize("prefix,pop,levels", PFS_PAIRS, ids=[p[0] for p in PFS_PAIRS])
def test_subgroup_medians_and_logrank(raw, values, prefix, pop, levels):
    surv, _ = values
    adsl, tte = raw
    d = tte[prefix.split(".")[0].upper()]
    g = groups(adsl)
    keep = adsl["PPROTFL"] == "Y" if pop == "PP" else pd.Series(True, index=adsl.index)
    masks = [g[name] & keep for _, name in levels]
    for (suffix, _), m in zip(levels, masks):
        if suffix:
            assert same(surv[f"{prefix}.{suffix}.median"], ll_median(d[m])[0]), suffix
    assert surv[f"{prefix}.p"] == pytest.approx(ll_logrank(d, masks), rel=1e-9)


def test_three_groups_partition_the_fish_patients(raw):
    adsl, _ = raw
    g = groups(adsl)
    total = g["isolated"].astype(int) + g["hr"].astype(int) + g["neither"].astype(int)
    assert (total[adsl["FISHFL"] == "Y"] == 1).all()
    assert (total[adsl["FISHFL"] != "Y"] == 0).all()


# ---- prognostic page --------------------------------------------------------------------------

def cox_breslow(d, X):
    from statsmodels.duration.hazard_regression import PHReg

    res = PHReg(d["t"].to_numpy(float), X.to_numpy(float), status=d["e"].to_numpy(int),
                ties="breslow").fit()
    b, se = np.asarray(res.params), np.asarray(res.bse)
    return np.exp(b), np.exp(b - 1.959964 * se), np.exp(b + 1.959964 * se), np.asarray(res.pvalues)


def test_univariate_screen_logrank(raw, values):
    _, prog = values
    adsl, tte = raw
    g = groups(adsl)
    pairs = {"gain1q": ("gain_detected", "gain_not_detected"), "lines": ("lines.>1", "lines.1"),
             "iss": ("iss.II-III", "iss.I"), "hb100": ("hb<100", "hb>=100"),
             "alb35": ("alb<35", "alb>=35"), "gfr60": ("gfr.<60", "gfr.>=60")}
    for k, (a, b) in pairs.items():
        assert prog[f"os.univ.{k}.p"] == pytest.approx(ll_logrank(tte["OS"], [g[a], g[b]]), rel=1e-9), k


def test_multivariate_cox_complete_cases(raw, values):
    _, prog = values
    adsl, tte = raw
    X = pd.DataFrame({
        "gain": (adsl["GAIN1Q"] == "Y").astype(float),
        "lines": (adsl["PRLINES"] > 1).astype(float),
        "iss": adsl["ISS"].isin(["II", "III"]).astype(float),
        "hb": (adsl["HGB"] < 100).astype(float).where(adsl["HGB"].notna()),
        "alb": (adsl["ALB"] < 35).astype(float).where(adsl["ALB"].notna()),
        "gfr": (adsl["GFR"] < 60).astype(float).where(adsl["GFR"].notna()),
    })
    cc = (adsl["FISHFL"] == "Y") & X.notna().all(axis=1)
    assert prog["os.cox.n"] == int(cc.sum())
    hr, lo, hi, p = cox_breslow(tte["OS"][cc], X[cc])
    for j, k in ((0, "gain1q"), (3, "hb100")):
        assert prog[f"os.cox.{k}.hr"] == pytest.approx(hr[j], rel=1e-6)
        assert prog[f"os.cox.{k}.hr.ci_low"] == pytest.approx(lo[j], rel=1e-5)
        assert prog[f"os.cox.{k}.hr.ci_high"] == pytest.approx(hi[j], rel=1e-5)
        assert prog[f"os.cox.{k}.p"] == pytest.approx(p[j], rel=1e-5)


def test_pfs_gain1q_hr_in_printed_orientation(raw, values):
    _, prog = values
    adsl, tte = raw
    g = groups(adsl)
    sel = (g["gain"] | g["nogain"]) & (adsl["PPROTFL"] == "Y")
    X = pd.DataFrame({"nogain": g["nogain"][sel].astype(float)})  # no gain vs gain, as printed
    hr, lo, hi, p = cox_breslow(tte["PFS"][sel], X)
    assert prog["pfs.cox.gain1q.hr"] == pytest.approx(hr[0], rel=1e-6)
    assert prog["pfs.cox.gain1q.hr.ci_low"] == pytest.approx(lo[0], rel=1e-5)
    assert prog["pfs.cox.gain1q.hr.ci_high"] == pytest.approx(hi[0], rel=1e-5)
    assert prog["pfs.cox.gain1q.p"] == pytest.approx(p[0], rel=1e-5)


# ---- the KM panel layout of Figures 1–3 ------------------------------------------------------

def test_km_panels_draw_nothing_outside_the_figure():
    """Legends above the plots, at-risk labels at the left and at-risk rows below all fit."""
    import matplotlib.pyplot as plt

    from ixathaldex.report.figures import figure_km_panels
    from ixathaldex.analysis.survival import derive_tte

    snap = load_snapshot(CUT, validate=False)
    tte = derive_tte(snap.adsl, snap.adtte, "OS", "ITT")
    fig = figure_km_panels([(tte, "a  three groups", "cyto3"), (tte, "b  three groups", "cyto3"),
                            (tte, "c  two groups", "gfr60")])
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    W, H = fig.bbox.width, fig.bbox.height
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 3
    for ax in visible:
        for artist in [ax.get_legend(), ax.title, *ax.texts]:
            bb = artist.get_window_extent(r)
            assert bb.x0 >= -1 and bb.y0 >= -1 and bb.x1 <= W + 1 and bb.y1 <= H + 1, artist
    # panels of one row share a top edge; the plots do not overlap
    boxes = [a.get_position() for a in visible]
    assert boxes[0].y1 == pytest.approx(boxes[1].y1)
    assert boxes[0].x1 < boxes[1].x0
    assert boxes[2].y1 < boxes[0].y0
    plt.close(fig)


def test_figure1_table_counts_and_medians(raw):
    from ixathaldex.analysis.survival import table_endpoint_summary

    adsl, tte = raw
    snap = load_snapshot(CUT, validate=False)
    t = table_endpoint_summary(snap.adsl, snap.adtte).set_index("label")
    pp = adsl["PPROTFL"] == "Y"
    for param in ("PFS", "OS"):
        for pop, mask in (("ITT", pd.Series(True, index=adsl.index)), ("PP", pp)):
            d = tte[param][mask]
            row = t.loc[f"{param}, {pop}"]
            assert row["n"] == len(d) and row["events"] == int(d["e"].sum())
            m = exact_median(d)
            assert (m == "NR" and not np.isfinite(row["median"])) or row["median"] == pytest.approx(m)


def test_claim_groups_partition_the_claims(merged):
    from ixathaldex.claims.values import CLAIM_GROUPS, select_claims

    parts = [select_claims(merged, g) for g in CLAIM_GROUPS]
    assert sum(len(p) for p in parts) == len(merged)
    assert set().union(*parts) == set(merged)
