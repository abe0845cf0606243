"""Response tables: Fisher's tea-tasting p, exact CIs, and hand-counted toy tables."""

import pytest
from scipy import stats

from ixathaldex.exceptions import AnalysisError
from ixathaldex.analysis.response import (best_response, clopper_pearson, fisher_exact_p, table_response,
                                 table_response_by_group, table_response_upgrades,
                                 table_upgrade_summary)

import reference_data as ref


def test_fisher_tea_tasting():
    assert fisher_exact_p(ref.TEA_TABLE) == pytest.approx(ref.TEA_P_TWO_SIDED, abs=5e-5)
    with pytest.raises(AnalysisError):
        fisher_exact_p([[1, 2, 3], [4, 5, 6]])


def test_clopper_pearson_closed_forms():
    # 0/n: upper = 1 - (alpha/2)^(1/n); n/n: lower = (alpha/2)^(1/n)
    lo, hi = clopper_pearson(0, 10)
    assert lo == 0 and hi == pytest.approx(1 - 0.025 ** (1 / 10))
    lo, hi = clopper_pearson(10, 10)
    assert lo == pytest.approx(0.025 ** (1 / 10)) and hi == 1
    lo, hi = clopper_pearson(46, 90)  # beta quantiles, independently
    assert lo == pytest.approx(stats.beta.ppf(0.025, 46, 45))
    assert hi == pytest.approx(stats.beta.ppf(0.975, 47, 44))


def test_table_2a_toy():
    adsl, _, adrs, _ = ref.toy_frames()
    t = table_response(adsl, adrs).set_index(["population", "category"])
    assert t.loc[("ITT", "CR"), "n"] == 1 and t.loc[("ITT", "CR"), "N"] == 8
    assert t.loc[("ITT", "ORR"), "n"] == 4  # CR, VGPR, PR, PR
    assert t.loc[("ITT", "CBR"), "n"] == 5  # + MR
    assert t.loc[("ITT", "ORR"), "pct"] == pytest.approx(50.0)
    assert t.loc[("PP", "ORR"), "N"] == 6 and t.loc[("PP", "ORR"), "n"] == 4
    assert t.loc[("PP", "NE"), "n"] == 0
    assert t.loc[("ITT", "≥VGPR"), "n"] == 2
    lo, hi = clopper_pearson(4, 6)
    assert t.loc[("PP", "ORR"), "ci_lower"] == pytest.approx(100 * lo)
    assert t.loc[("PP", "ORR"), "ci_upper"] == pytest.approx(100 * hi)


def test_missing_bor_is_ne_and_bad_value_raises():
    adsl, _, adrs, _ = ref.toy_frames()
    bor = best_response(adsl, adrs[adrs["USUBJID"] != "P1"])
    assert bor.iloc[0] == "NE"
    bad = adrs.copy()
    bad.loc[0, "AVALC"] = "sCR"
    with pytest.raises(AnalysisError):
        best_response(adsl, bad)


def test_table_2b_toy():
    adsl, _, adrs, _ = ref.toy_frames()
    t = table_response_by_group(adsl, adrs).set_index(["factor", "level"])
    # high risk: P1 CR, P3 PR, P6 NE -> 2/3; standard risk: P2 VGPR, P4 MR, P8 PR -> 2/3
    assert (t.loc[("hr_cyto", "Y"), "n"], t.loc[("hr_cyto", "Y"), "N"]) == (2, 3)
    assert (t.loc[("hr_cyto", "N"), "n"], t.loc[("hr_cyto", "N"), "N"]) == (2, 3)
    assert t.loc[("hr_cyto", "Y"), "p_value"] == pytest.approx(1.0)
    # IMiD-naive (no len, no thal): P1 CR, P4 MR, P7 SD, P8 PR -> 2/4; exposed P2, P3, P5, P6 -> 2/4
    assert (t.loc[("imid", "Y"), "n"], t.loc[("imid", "Y"), "N"]) == (2, 4)
    assert (t.loc[("imid", "N"), "n"], t.loc[("imid", "N"), "N"]) == (2, 4)
    # gain 1q21 with P8's probe missing: gain P1, P2, P6 -> 2/3; no gain P3 PR, P4 MR -> 1/2
    assert (t.loc[("gain1q", "Y"), "n"], t.loc[("gain1q", "Y"), "N"]) == (2, 3)
    assert (t.loc[("gain1q", "N"), "n"], t.loc[("gain1q", "N"), "N"]) == (1, 2)


def test_table_2b_fisher_on_unbalanced_groups():
    adsl, _, adrs, _ = ref.toy_frames()
    t = table_response_by_group(adsl, adrs, factors=["gfr60"]).set_index("level")
    # GFR >=60: P1 CR, P4 MR, P6 NE, P7 SD, P8 PR -> 2/5; <60: P2 VGPR, P3 PR, P5 PD -> 2/3
    assert t.loc["≥60", "n"] == 2 and t.loc["<60", "n"] == 2
    assert t.loc["≥60", "p_value"] == pytest.approx(stats.fisher_exact([[2, 3], [2, 1]])[1])


def test_upgrades_toy():
    adsl, _, adrs, _ = ref.toy_frames()
    u = table_response_upgrades(adsl, adrs)
    assert list(u["USUBJID"]) == ["P1"]
    assert (u.loc[0, "from"], u.loc[0, "to"]) == ("VGPR", "CR")
    assert u.loc[0, "months_after_start"] == pytest.approx(92 / 30.4375)  # 1 Aug -> 1 Nov 2016
    s = table_upgrade_summary(adsl, adrs)
    total = s[s["from"] == "any"].iloc[0]
    assert (total["n"], total["N"]) == (1, 2)
    assert total["pct"] == pytest.approx(50.0)


def _publication_cut():
    from ixathaldex.data.snapshot import load_snapshot

    return load_snapshot("2018-06-30", validate=False)


def test_publication_cut_reproduces_printed_response_counts():
    """Counts printed in the paper's Table 2A/2B and text (by construction of the synthetic cut)."""
    s = _publication_cut()
    t = table_response(s.adsl, s.adrs).set_index(["population", "category"])["n"]
    assert [t[("ITT", c)] for c in ("CR", "VGPR", "PR", "MR", "ORR", "CBR")] == [8, 13, 25, 9, 46, 55]
    assert [t[("PP", c)] for c in ("CR", "VGPR", "PR", "MR", "ORR", "CBR")] == [8, 13, 25, 6, 46, 52]
    b = table_response_by_group(s.adsl, s.adrs).set_index(["factor", "level"])
    assert b.loc[("hr_cyto", "Y"), "p_value"] == pytest.approx(0.5778, abs=5e-5)
    assert b.loc[("gain1q", "Y"), "p_value"] == pytest.approx(0.1133, abs=5e-5)
    assert b.loc[("hr_or_1q", "Y"), "p_value"] == pytest.approx(0.1158, abs=5e-5)
    assert (b.loc[("imid", "Y"), "N"], b.loc[("imid", "N"), "N"]) == (37, 53)
    u = table_upgrade_summary(s.adsl, s.adrs)
    assert u.iloc[-1]["n"] == 5 and u.iloc[-1]["N"] == 41
