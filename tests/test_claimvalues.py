"""Claim values of the patients, response and safety chapters, recomputed independently.

Every expectation here is recomputed with plain pandas / scipy from the committed publication
snapshot's CSV files (no function of the package under test), then compared with
``derive_claim_values_*``. A last group checks that every registry claim of these chapters gets a
value.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from ixathaldex.claims.registry import load_claims
from ixathaldex.claims.values import (CLAIM_GROUPS, derive_claim_values_patients, derive_claim_values_response,
                                      derive_claim_values_safety, glued_form, select_claims)
from ixathaldex.exceptions import ClaimsError
from ixathaldex.data.snapshot import load_snapshot

SNAPSHOT_ROOT = Path(__file__).resolve().parents[1] / "data" / "snapshots"

CUT = "2018-06-30"
MONTH = 30.4375
RANK = {c: i for i, c in enumerate(["NE", "PD", "SD", "MR", "PR", "VGPR", "CR"])}


@pytest.fixture(scope="module")
def csv():
    folder = Path(SNAPSHOT_ROOT) / CUT
    return {n: pd.read_csv(folder / f"{n}.csv", dtype=str, keep_default_na=False)
            for n in ("adsl", "adrs", "adae")}


@pytest.fixture(scope="module")
def snap():
    return load_snapshot(CUT, validate=False)


@pytest.fixture(scope="module")
def patients(snap):
    return derive_claim_values_patients(snap)


@pytest.fixture(scope="module")
def response(snap):
    return derive_claim_values_response(snap)


@pytest.fixture(scope="module")
def safety(snap):
    return derive_claim_values_safety(snap)


def pct(k, n):
    return 100.0 * k / n


# ------------------------------------------------------------------ patients
def test_flow_counts(csv, patients):
    a = csv["adsl"]
    itt = a[a.ITTFL == "Y"]
    N = len(itt)
    assert patients["flow.itt.n"] == N
    assert patients["flow.pp.n"] == (itt.PPROTFL == "Y").sum()
    nonpp = itt[itt.PPROTFL != "Y"]
    for reason, stem in (("PROGRESSIVE DISEASE", "pd"), ("ADVERSE EVENT", "toxicity"),
                         ("WITHDRAWAL BY SUBJECT", "withdrawal"), ("PHYSICIAN DECISION", "physician")):
        k = (nonpp.DCSREAS == reason).sum()
        assert patients[f"flow.early_stop.{stem}.n"] == k
        assert patients[f"flow.early_stop.{stem}.pct"] == pytest.approx(pct(k, N))
    assert patients["flow.mnt.n"] == (itt.MNTFL == "Y").sum()
    assert patients["flow.mnt.n_discussion"] == (itt.MNTSAFFL == "Y").sum()
    ent = itt[itt.MNTFL == "Y"]
    assert patients["flow.mnt_complete.pct"] == pytest.approx(pct((ent.MNTCMPFL == "Y").sum(), len(ent)))
    assert patients["flow.ongoing.n"] == (itt.EOTSTT == "ONGOING").sum()
    assert patients["flow.induction_complete.n"] == (itt.INDCMPFL == "Y").sum()
    assert patients["flow.induction.cycles.median"] == itt.INDCYC.astype(int).median()
    lines = itt.PRLINES.astype(int)
    assert (patients["flow.prior_lines.min"], patients["flow.prior_lines.max"]) == (lines.min(), lines.max())
    assert patients["flow.prior_lines_4plus.n"] == (lines >= 4).sum()


def test_durations(csv, patients):
    a = csv["adsl"]
    itt = a[a.ITTFL == "Y"]
    cut = pd.Timestamp(CUT)
    last = pd.to_datetime(itt.TRTEDT.replace("", None)).fillna(cut)
    ms = itt.MNTSAFFL == "Y"
    start = pd.to_datetime(itt.MNTSDT.replace("", None))
    dur = ((last - start).dt.days + 1)[ms] / MONTH
    assert patients["flow.mnt.duration.median"] == pytest.approx(dur.median())
    ind_end = (start - pd.Timedelta(days=1)).where(start.notna(), last)
    ind = ((ind_end - pd.to_datetime(itt.TRTSDT)).dt.days + 1) / MONTH
    assert patients["flow.thal_exposure.median"] == pytest.approx(ind.median())


def test_table1(csv, patients):
    a = csv["adsl"]
    itt = a[a.ITTFL == "Y"]
    N = len(itt)
    age = itt.AGE.astype(float)
    assert (patients["t1.age.median"], patients["t1.age.min"], patients["t1.age.max"]) == \
        pytest.approx((age.median(), age.min(), age.max()))
    for col, val, stem in (("SEX", "M", "t1.sex.male"), ("SEX", "F", "t1.sex.female"),
                           ("ISS", "III", "t1.iss.iii"), ("MMTYPE", "Light chain only", "t1.type.light_chain"),
                           ("LENREFFL", "Y", "t1.len.refractory"), ("BTZEXPFL", "Y", "t1.btz.exposed"),
                           ("ASCTFL", "Y", "t1.asct"), ("THALREFL", "Y", "t1.thal.refractory")):
        k = (itt[col] == val).sum()
        assert patients[f"{stem}.n"] == k, stem
        assert patients[f"{stem}.pct"] == pytest.approx(pct(k, N)), stem
    assert patients["t1.ecog.2.n"] == (itt.ECOG.astype(int) >= 2).sum()
    both = ((itt.PIEXPFL == "Y") & (itt.IMIDEXFL == "Y")).sum()
    assert patients["t1.prior.pi_and_imid.n"] == both
    lines = itt.PRLINES.astype(int)
    assert patients["t1.lines.3_4.n"] == lines.between(3, 4).sum()
    assert patients["t1.lines.5plus.n"] == (lines >= 5).sum()
    mos = (pd.to_datetime(itt.TRTSDT) - pd.to_datetime(itt.FLTSTDT)).dt.days / MONTH
    assert patients["t1.months_since_first_line.median"] == pytest.approx(mos.median())
    assert patients["t1.months_since_first_line.q1"] == pytest.approx(np.percentile(mos, 25))
    assert patients["t1.months_since_first_line.q3"] == pytest.approx(np.percentile(mos, 75))


def test_fish_rows(csv, patients):
    a = csv["adsl"]
    f = a[(a.ITTFL == "Y") & (a.FISHFL == "Y")]
    nf = len(f)
    assert patients["fish.available.n"] == nf
    assert patients["fish.missing.pct"] == pytest.approx(100 - pct(nf, (a.ITTFL == "Y").sum()))
    hr = (f.T414 == "Y") | (f.T1416 == "Y") | (f.DEL17P == "Y")
    gain = f.GAIN1Q == "Y"
    assert patients["t1.cyto.hr.n"] == hr.sum()
    assert patients["t1.cyto.gain1q.pct"] == pytest.approx(pct(gain.sum(), nf))
    assert patients["fish.hr_or_gain1q.n"] == (hr | gain).sum()
    assert patients["t1.cyto.none.n"] == (~(hr | gain)).sum()
    assert patients["fish.t414.n"] == (f.T414 == "Y").sum()
    assert patients["fish.t1416.n"] == (f.T1416 == "Y").sum()


# ------------------------------------------------------------------ response
def _bor(a, adrs, code="BOR"):
    r = adrs[adrs.PARAMCD == code].set_index("USUBJID").AVALC
    return a.USUBJID.map(r).fillna("NE")


def test_table_2a(csv, response):
    a, adrs = csv["adsl"], csv["adrs"]
    for pop, flag in (("itt", "ITTFL"), ("pp", "PPROTFL")):
        p = a[(a.ITTFL == "Y") & (a[flag] == "Y")]
        bor = _bor(p, adrs)
        N = len(p)
        for cat in ("CR", "VGPR", "PR", "MR"):
            assert response[f"t2a.{pop}.{cat.lower()}.n"] == (bor == cat).sum()
        orr = bor.isin(["CR", "VGPR", "PR"]).sum()
        cbr = bor.isin(["CR", "VGPR", "PR", "MR"]).sum()
        assert response[f"t2a.{pop}.orr.n"] == orr
        assert response[f"t2a.{pop}.orr.pct"] == pytest.approx(pct(orr, N))
        assert response[f"t2a.{pop}.cbr.pct"] == pytest.approx(pct(cbr, N))
        assert response[f"resp.{pop}.vgpr_or_better.pct"] == pytest.approx(
            pct(bor.isin(["CR", "VGPR"]).sum(), N))


def _fisher(resp, mask):
    t = [[(resp & mask).sum(), (~resp & mask).sum()], [(resp & ~mask).sum(), (~resp & ~mask).sum()]]
    return fisher_exact(t)[1]


def test_table_2b_and_imid(csv, response):
    a, adrs = csv["adsl"], csv["adrs"]
    itt = a[a.ITTFL == "Y"]
    resp = _bor(itt, adrs).isin(["CR", "VGPR", "PR"])
    f = itt.FISHFL == "Y"
    hr = (itt.T414 == "Y") | (itt.T1416 == "Y") | (itt.DEL17P == "Y")
    assert response["t2b.hr.pos.orr.pct"] == pytest.approx(pct((resp & f & hr).sum(), (f & hr).sum()))
    assert response["t2b.hr.neg.orr.pct"] == pytest.approx(pct((resp & f & ~hr).sum(), (f & ~hr).sum()))
    assert response["t2b.hr.p"] == pytest.approx(_fisher(resp[f], hr[f]))
    g = f & itt.GAIN1Q.isin(["Y", "N"])
    gain = itt.GAIN1Q == "Y"
    assert response["t2b.gain1q.neg.orr.pct"] == pytest.approx(pct((resp & g & ~gain).sum(), (g & ~gain).sum()))
    assert response["t2b.gain1q.p"] == pytest.approx(_fisher(resp[g], gain[g]))
    anyab = hr | gain
    assert response["t2b.hr_or_gain1q.p"] == pytest.approx(_fisher(resp[f], anyab[f]))
    naive = (itt.LENEXPFL != "Y") & (itt.THALEXFL != "Y")
    assert response["resp.imid_naive.n"] == naive.sum()
    assert response["resp.imid_exposed.orr.pct"] == pytest.approx(pct((resp & ~naive).sum(), (~naive).sum()))
    assert response["resp.imid.p"] == pytest.approx(_fisher(resp, naive))


def test_upgrades(csv, response):
    a, adrs = csv["adsl"], csv["adrs"]
    m = a[(a.ITTFL == "Y") & (a.MNTSAFFL == "Y")]
    eoi, mnt = _bor(m, adrs, "EOIRESP"), _bor(m, adrs, "MNTBOR")
    up = (eoi != "NE") & (mnt != "NE") & (mnt.map(RANK) > eoi.map(RANK))
    assert response["mnt.upgrade.n"] == up.sum()
    assert response["mnt.upgrade.pct"] == pytest.approx(pct(up.sum(), len(m)))
    assert response["mnt.upgrade.vgpr_to_cr.n"] == (up & (eoi == "VGPR") & (mnt == "CR")).sum()
    assert response["mnt.upgrade.pr_to_cr.n"] == (up & (eoi == "PR") & (mnt == "CR")).sum()
    dates = adrs[adrs.PARAMCD == "MNTBOR"].set_index("USUBJID").ADT
    t = (pd.to_datetime(m.USUBJID.map(dates)) - pd.to_datetime(m.MNTSDT)).dt.days[up] / MONTH
    assert response["mnt.upgrade.time.min"] == pytest.approx(t.min())
    assert response["mnt.upgrade.time.max"] == pytest.approx(t.max())


# ------------------------------------------------------------------ safety
def test_table_3_cells(csv, safety):
    a, ae = csv["adsl"], csv["adae"]
    itt = a[a.ITTFL == "Y"].USUBJID
    mnt = a[(a.ITTFL == "Y") & (a.MNTSAFFL == "Y")].USUBJID
    ae = ae.assign(G=ae.AETOXGR.astype(int))
    allw = ae[ae.USUBJID.isin(itt)].groupby(["AEDECOD", "USUBJID"]).G.max()
    mw = ae[ae.USUBJID.isin(mnt) & (ae.APHASE == "MAINTENANCE")].groupby(["AEDECOD", "USUBJID"]).G.max()
    assert safety["t3.mnt.n"] == len(mnt)
    checked = 0
    for term, stem in (("Anaemia", "anaemia"), ("Pain", "pain"), ("Sepsis", "sepsis"),
                       ("Thrombocytopenia", "thrombocytopenia"), ("Upper respiratory infection", "uri"),
                       ("Infection unspecified", "infection_other")):
        for w, key, N in ((allw, "all", len(itt)), (mw, "mnt", len(mnt))):
            g = w[term] if term in w.index.get_level_values(0) else pd.Series([], dtype=int)
            assert safety[f"t3.{key}.{stem}.g12.n"] == (g <= 2).sum(), (term, key)
            assert safety[f"t3.{key}.{stem}.g3plus.n"] == (g >= 3).sum(), (term, key)
            assert safety[f"t3.{key}.{stem}.g3plus.pct"] == pytest.approx(pct((g >= 3).sum(), N))
            checked += 1
    assert checked == 12


def test_infection_sums(csv, safety):
    a, ae = csv["adsl"], csv["adae"]
    itt = a[a.ITTFL == "Y"].USUBJID
    inf = ["Upper respiratory infection", "Lower respiratory infection", "Viral infection",
           "Urinary tract infection", "Infection unspecified", "Varicella zoster virus infection", "Sepsis"]
    w = ae[ae.USUBJID.isin(itt) & ae.AEDECOD.isin(inf)].assign(G=lambda x: x.AETOXGR.astype(int)) \
        .groupby(["AEDECOD", "USUBJID"]).G.max()
    assert safety["safety.infection.g12.pct"] == pytest.approx(pct((w <= 2).sum(), len(itt)))
    assert safety["safety.infection.g34.pct"] == pytest.approx(pct((w >= 3).sum(), len(itt)))


# ------------------------------------------------------------------ completeness, types
def test_every_claim_of_these_chapters_gets_a_plain_value(patients, response, safety):
    claims = load_claims(as_frame=True)
    for chapter, values in (("patients", patients), ("response", response), ("safety", safety)):
        mine = claims[claims["chapter"] == chapter]
        expected = {c for c, ok in zip(mine["id"], mine["expected_computable"]) if ok is not False}
        assert expected <= set(values), (chapter, sorted(expected - set(values)))
        assert set(values) <= set(claims["id"]), (chapter, sorted(set(values) - set(claims["id"])))
        for k, v in values.items():
            assert type(v) in (int, float, str), (k, type(v))
            assert isinstance(v, str) or np.isfinite(v), k


def test_every_value_is_computed_on_the_later_cut_too():
    snap = load_snapshot("2019-12-31", validate=False)
    for fn in (derive_claim_values_patients, derive_claim_values_response, derive_claim_values_safety):
        assert fn(snap)


def test_glued_form():
    assert glued_form(np.int64(3)) == 3 and type(glued_form(np.int64(3))) is int
    assert type(glued_form(np.float64(2.5))) is float
    assert type(glued_form(3.0)) is float  # a float stays a float (results.json keeps 3.0)
    assert glued_form(float("inf")) == "NR" and glued_form("nr") == "NR"
    assert np.isnan(glued_form(float("nan")))  # glued as NaN, read back as not computable
    for bad in ("abc", "< 0.05", True):
        with pytest.raises(ClaimsError):
            glued_form(bad)


def test_every_claim_is_glued_in_exactly_one_display(patients, response, safety):
    for values in (patients, response, safety):
        parts = [select_claims(values, g) for g in CLAIM_GROUPS]
        assert sum(len(p) for p in parts) == len(values)
        assert set().union(*parts) == set(values)
    assert set(select_claims(patients, "flow")) == {k for k in patients if k.startswith(
        ("flow.itt.", "flow.pp.", "flow.early_stop."))}
    with pytest.raises(ClaimsError):
        select_claims(patients, "no such display")


def test_page_context(snap):
    from ixathaldex.claims.values import derive_page_context
    ctx = derive_page_context(snap, "p")
    a = pd.read_csv(Path(SNAPSHOT_ROOT) / CUT / "adsl.csv", dtype=str, keep_default_na=False)
    assert ctx["p.snapshot"] == CUT
    assert ctx["p.n.itt"] == (a.ITTFL == "Y").sum()
    assert ctx["p.n.maint"] == ((a.ITTFL == "Y") & (a.MNTSAFFL == "Y")).sum()
    assert ctx["p.n.nonpp"] == ((a.ITTFL == "Y") & (a.PPROTFL != "Y")).sum()
    assert ctx["p.data_note"].startswith("synthetic")  # the committed snapshots are synthetic
    itt, pp = a[a.ITTFL == "Y"], a[(a.ITTFL == "Y") & (a.PPROTFL == "Y")]
    assert ctx["p.n.fish_pp"] == (pp.FISHFL == "Y").sum()
    assert ctx["p.n.gain1q_known"] == ((itt.FISHFL == "Y") & itt.GAIN1Q.isin(["Y", "N"])).sum()
    assert ctx["p.n.gain1q_known_pp"] == ((pp.FISHFL == "Y") & pp.GAIN1Q.isin(["Y", "N"])).sum()
    assert all(k.startswith("p.") for k in ctx)


def test_toy_snapshot_hand_computed():
    """Eight hand-made patients (tests/reference_data.py); every expectation computed by hand."""
    from types import SimpleNamespace

    import reference_data as ref

    adsl, adtte, adrs, adae = ref.toy_frames()
    toy = SimpleNamespace(adsl=adsl, adtte=adtte, adrs=adrs, adae=adae, cut="2017-01-01",
                          cutoff=pd.Timestamp("2017-01-01").date(), manifest={}, synthetic=True)
    p = derive_claim_values_patients(toy)
    # not per-protocol: P5 (progressive disease) and P6 (adverse event) of 8
    assert (p["flow.pp.n"], p["flow.early_stop.pd.n"], p["flow.early_stop.toxicity.n"]) == (6, 1, 1)
    assert (p["flow.early_stop.withdrawal.n"], p["flow.early_stop.physician.n"]) == (0, 0)
    assert p["flow.early_stop.pd.pct"] == pytest.approx(12.5)
    # no TRTEDT in the toy: durations fall back to cycles x 28 days; entered maintenance P1, P2, P3
    # with 12, 5, 0 cycles (median 5); induction cycles 1,1,3,4,8,8,8,8 (median 6)
    assert p["flow.mnt.duration.median"] == pytest.approx(5 * 28 / MONTH)
    assert p["flow.thal_exposure.median"] == pytest.approx(6 * 28 / MONTH)
    assert (p["flow.mnt.n"], p["flow.mnt.n_discussion"], p["flow.mnt_complete.n"]) == (3, 2, 1)
    r = derive_claim_values_response(toy)
    # maintenance set P1, P2: P1 VGPR -> CR on 2016-11-01, 92 days after 2016-08-01
    assert (r["mnt.upgrade.n"], r["mnt.upgrade.vgpr_to_cr.n"], r["mnt.upgrade.pr_to_cr.n"]) == (1, 1, 0)
    assert r["mnt.upgrade.pct"] == pytest.approx(50.0)
    assert r["mnt.upgrade.time.min"] == pytest.approx(92 / MONTH) == r["mnt.upgrade.time.max"]
    assert (r["t2a.itt.orr.n"], r["t2a.itt.cbr.n"]) == (4, 5)  # CR, VGPR, PR, PR; + MR
    s = derive_claim_values_safety(toy)
    assert s["t3.mnt.n"] == 2
    assert (s["t3.all.anaemia.g3plus.n"], s["t3.all.anaemia.g12.n"]) == (1, 1)  # P1 worst 3, P2 worst 2
    assert s["t3.mnt.fatigue.g3plus.pct"] == pytest.approx(50.0)  # P2 grade 4 in maintenance
    assert s["safety.infection.g34.pct"] == pytest.approx(12.5)  # P3 URI grade 3
    assert s["safety.infection.g12.pct"] == 0.0
