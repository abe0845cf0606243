"""Derived columns, populations, subgroup registry, Table 1 and flow counts on toy data."""

import pandas as pd
import pytest

from ixathaldex.exceptions import AnalysisError
from ixathaldex.analysis.populations import (COX_FACTORS, RESPONSE_FACTORS, SUBGROUPS, SURVIVAL_FACTORS,
                                    derive_adsl, derive_population, get_subgroup, split_by,
                                    table_characteristics, table_flow, table_treatment_exposure)

import reference_data as ref


@pytest.fixture
def d():
    adsl, *_ = ref.toy_frames()
    return derive_adsl(adsl).set_index("USUBJID")


def test_cytogenetic_groups(d):
    assert d["HRCYTOFL"].tolist()[:4] == ["Y", "N", "Y", "N"]
    assert d.loc["P6", "HRCYTOFL"] == "Y"  # t(14;16) counts as high risk
    assert pd.isna(d.loc["P5", "HRCYTOFL"]) and pd.isna(d.loc["P7", "GAIN1QFL"])
    assert d.loc["P2", "HR1QFL"] == "Y" and d.loc["P8", "HR1QFL"] == "N"
    assert d.loc["P1", "CYTOGR3"] == "High risk"  # HR with gain 1q stays in the HR group
    assert d.loc["P2", "CYTOGR3"] == "Isolated gain 1q21"
    assert d.loc["P4", "CYTOGR3"] == "Neither"
    assert pd.isna(d.loc["P5", "CYTOGR3"])
    # P8: FISH-evaluable, 1q21 probe not done -> excluded from the 1q21 comparison only
    assert pd.isna(d.loc["P8", "GAIN1QFL"]) and d.loc["P8", "GAIN1QDFL"] == "N"
    assert d.loc["P8", "HR1QFL"] == "N" and d.loc["P8", "CYTOGR3"] == "Neither"


def test_cut_points(d):
    assert d.loc["P3", "GFRGR"] == "<60" and d.loc["P4", "GFRGR"] == "≥60"  # 59.9 / 60.0
    assert d.loc["P7", "HGBLOFL"] == "Y" and d.loc["P3", "HGBLOFL"] == "N"  # 99.9 / 100
    assert d.loc["P7", "ALBLOFL"] == "Y" and d.loc["P3", "ALBLOFL"] == "N"  # 34.9 / 35
    assert d.loc["P4", "AGEGR"] == "<75" and d.loc["P2", "AGEGR"] == "≥75"
    assert d.loc["P1", "PRLINGR"] == "1" and d.loc["P2", "PRLINGR"] == ">1"
    assert d.loc["P5", "PRLINGR3"] == "≥5" and d.loc["P6", "PRLINGR3"] == "3–4"
    assert d.loc["P1", "ISSGR1"] == "I" and d.loc["P2", "ISSGR1"] == "II–III"
    assert d.loc["P2", "ISSGR2"] == "I–II" and d.loc["P3", "ISSGR2"] == "III"
    assert d.loc["P1", "FITGR"] == "Fit" and d.loc["P3", "FITGR"] == "Unfit/frail"
    assert d.loc["P1", "IMIDNAFL"] == "Y" and d.loc["P2", "IMIDNAFL"] == "N"  # P2 thal-exposed
    assert d.loc["P8", "IMIDNAFL"] == "Y"  # IMiD-exposed, but neither len nor thal
    assert d.loc["P1", "MOSFL"] == pytest.approx((pd.Timestamp("2016-01-01") - pd.Timestamp("2012-01-01")).days / 30.4375)


def test_populations():
    adsl, *_ = ref.toy_frames()
    assert len(derive_population(adsl, "ITT")) == 8
    assert set(derive_population(adsl, "PP")["USUBJID"]) == {"P1", "P2", "P3", "P4", "P7", "P8"}
    assert len(derive_population(adsl, "FISH")) == 6
    assert set(derive_population(adsl, "MAINT")["USUBJID"]) == {"P1", "P2"}
    assert len(derive_population(adsl, "mntenter")) == 3
    with pytest.raises(AnalysisError):
        derive_population(adsl, "mITT")


def test_registry_is_consistent(d):
    for sg in SUBGROUPS.values():
        assert sg.column in d.columns, sg.id
        assert sg.reference in sg.levels and len(sg.labels) == len(sg.levels)
        observed = set(d[sg.column].dropna())
        assert observed <= set(sg.levels), (sg.id, observed)
    for f in (*SURVIVAL_FACTORS, *COX_FACTORS, *RESPONSE_FACTORS):
        get_subgroup(f)
    with pytest.raises(AnalysisError):
        get_subgroup("eye_colour")
    assert split_by(d, "hr_cyto").isna().sum() == 2


def test_table_characteristics(d):
    adsl, *_ = ref.toy_frames()
    t = table_characteristics(adsl).set_index(["section", "item"])
    assert t.loc[("Sex", "Male"), "n"] == 4
    assert t.loc[("ISS stage", "III"), "pct"] == pytest.approx(25.0)
    assert t.loc[("Age, years", "Age"), "value"] == pytest.approx(67.5)
    assert (t.loc[("Age, years", "Age"), "low"], t.loc[("Age, years", "Age"), "high"]) == (50, 80)
    assert t.loc[("Cytogenetics", "Gain of 1q21"), "denominator"] == 6
    assert t.loc[("Cytogenetics", "None"), "n"] == 2
    assert t.loc[("Prior exposure", "PI and IMiD"), "n"] == 5
    assert t.loc[("Prior exposure", "Len exposed"), "n"] == 3
    assert t.loc[("Prior treatment lines", "1–2"), "n"] == 5


def test_flow_and_exposure():
    adsl, *_ = ref.toy_frames()
    f = table_flow(adsl).set_index("step")["n"]
    assert f["enrolled"] == 8 and f["pp"] == 6 and f["nonpp"] == 2
    assert f["nonpp:ADVERSE EVENT"] == 1 and f["nonpp:PROGRESSIVE DISEASE"] == 1
    assert (f["indcmp"], f["mnt"], f["mntcmp"], f["ongoing"]) == (4, 3, 1, 1)
    e = table_treatment_exposure(adsl).set_index("quantity")
    assert e.loc["induction cycles, median (range)", "value"] == 6.0  # 1,1,3,4,8,8,8,8
    assert e.loc["entered maintenance", "n"] == 3
    assert e.loc["prior lines 4 or more", "n"] == 2  # P5 (5 lines), P6 (4 lines)
