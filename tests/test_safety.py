"""Table 3 counting rules on a hand-made adverse-event list."""

import pandas as pd
import pytest

from ixathaldex.exceptions import AnalysisError
from ixathaldex.analysis.safety import TERMS_HAEM, TERMS_NON_HAEM, table_adverse_events, table_adverse_events_wide

import reference_data as ref


def cell(t, term, phase, grade):
    r = t[(t["term"] == term) & (t["phase"] == phase) & (t["grade"] == grade)]
    assert len(r) == 1
    return r.iloc[0]


def test_worst_grade_once_per_patient():
    adsl, _, _, adae = ref.toy_frames()
    t = table_adverse_events(adsl, adae)
    # Anaemia, all phases: P1 worst 3 (>=3 only), P2 worst 2
    assert cell(t, "Anaemia", "ALL", ">=3")["n"] == 1
    assert cell(t, "Anaemia", "ALL", "1-2")["n"] == 1
    assert cell(t, "Anaemia", "ALL", "1-2")["N"] == 8
    # Fatigue, all phases: P2 worst 4; P3 2; P4 two grade-1 episodes counted once
    assert cell(t, "Fatigue", "ALL", "1-2")["n"] == 2
    assert cell(t, "Fatigue", "ALL", ">=3")["n"] == 1
    assert cell(t, "Fatigue", "ALL", "1-2")["pct"] == pytest.approx(25.0)


def test_maintenance_phase_and_denominator():
    adsl, _, _, adae = ref.toy_frames()
    t = table_adverse_events(adsl, adae)
    a = cell(t, "Anaemia", "MAINTENANCE", "1-2")  # P1's grade 2 in maintenance only
    assert (a["n"], a["N"]) == (1, 2)
    assert cell(t, "Anaemia", "MAINTENANCE", ">=3")["n"] == 0
    assert cell(t, "Fatigue", "MAINTENANCE", ">=3")["n"] == 1
    assert cell(t, "Fatigue", "MAINTENANCE", "1-2")["n"] == 0


def test_row_order_and_unknown_terms():
    adsl, _, _, adae = ref.toy_frames()
    t = table_adverse_events(adsl, adae)
    terms = list(dict.fromkeys(t["term"]))
    assert terms[: len(TERMS_NON_HAEM)] == list(TERMS_NON_HAEM)
    assert terms[len(TERMS_NON_HAEM)] == "Hiccups"  # not in the paper: after its category block
    assert terms[-len(TERMS_HAEM):] == list(TERMS_HAEM)
    assert len(t) == (len(TERMS_NON_HAEM) + 1 + len(TERMS_HAEM)) * 4
    assert cell(t, "Sepsis", "ALL", ">=3")["n"] == 0


def test_wide_layout():
    adsl, _, _, adae = ref.toy_frames()
    w = table_adverse_events_wide(adsl, adae)
    assert w.loc[("HAEMATOLOGICAL", "Anaemia"), ("ALL", ">=3", "n")] == 1
    assert w.index[0] == ("NON-HAEMATOLOGICAL", "Upper respiratory infection")


def test_missing_grade_raises():
    adsl, _, _, adae = ref.toy_frames()
    bad = adae.copy()
    bad["AETOXGR"] = bad["AETOXGR"].astype("Int64")
    bad.loc[0, "AETOXGR"] = pd.NA
    with pytest.raises(AnalysisError):
        table_adverse_events(adsl, bad)


def test_publication_cut_reproduces_printed_table3_counts():
    from ixathaldex.data.snapshot import load_snapshot

    s = load_snapshot("2018-06-30", validate=False)
    t = table_adverse_events(s.adsl, s.adae).set_index(["term", "phase", "grade"])["n"]
    printed = {  # Table 3: all phases 1-2, >=3; maintenance 1-2, >=3
        "Upper respiratory infection": (24, 1, 8, 1), "Polyneuropathy": (33, 4, 7, 1),
        "Pain": (22, 6, 9, 0), "Anaemia": (66, 16, 34, 4), "Thrombocytopenia": (36, 7, 17, 3),
    }
    for term, (a12, a3, m12, m3) in printed.items():
        got = (t[(term, "ALL", "1-2")], t[(term, "ALL", ">=3")],
               t[(term, "MAINTENANCE", "1-2")], t[(term, "MAINTENANCE", ">=3")])
        assert got == (a12, a3, m12, m3), term
