"""Adverse events: Table 3 (grade 1–2 and ≥ 3, all phases and maintenance only).

Counting rule (CTCAE convention): within a phase, each patient is counted once per term, at the
worst grade of that term; a patient whose worst grade is ≥ 3 appears in the ≥ 3 column only.
Phase "ALL" = induction + maintenance, denominator = ITT; phase "MAINTENANCE" = events with
APHASE = MAINTENANCE among the maintenance safety set (MNTSAFFL = Y), denominator = that set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ixathaldex.analysis.populations import derive_population
from ixathaldex.exceptions import AnalysisError

#: the infection rows of Table 3 (its first seven), term -> short id; summed for the "any
#: infection" rates of the results text
INFECTION_TERMS = {
    "Upper respiratory infection": "uri", "Lower respiratory infection": "lri",
    "Viral infection": "viral", "Urinary tract infection": "uti",
    "Infection unspecified": "infection_other", "Varicella zoster virus infection": "vzv",
    "Sepsis": "sepsis",
}
#: the other non-haematological rows of Table 3, term -> short id
OTHER_NON_HAEM_TERMS = {
    "Polyneuropathy": "polyneuropathy", "Fatigue": "fatigue", "Constipation": "constipation",
    "Diarrhoea": "diarrhoea", "Nausea": "nausea", "Oedema": "oedema", "Pain": "pain",
    "Renal disorders": "renal", "Cardiac disorders": "cardiac", "Secondary malignancies": "second_malignancy",
}
#: the haematological rows of Table 3, term -> short id
HAEM_TERMS = {"Anaemia": "anaemia", "Leukopenia": "leukopenia", "Neutropenia": "neutropenia",
              "Thrombocytopenia": "thrombocytopenia"}
#: every row of Table 3 in the paper's order (non-haematological, then haematological), term -> short id
TERMS = {**INFECTION_TERMS, **OTHER_NON_HAEM_TERMS, **HAEM_TERMS}
TERMS_NON_HAEM = (*INFECTION_TERMS, *OTHER_NON_HAEM_TERMS)
TERMS_HAEM = tuple(HAEM_TERMS)
CATEGORY = {**{t: "NON-HAEMATOLOGICAL" for t in TERMS_NON_HAEM},
            **{t: "HAEMATOLOGICAL" for t in TERMS_HAEM}}
PHASES = ("ALL", "MAINTENANCE")
#: the grade bands of Table 3 (worst CTCAE grade 1–2, and 3 or higher) and their column labels
GRADE_BANDS = ("1-2", ">=3")
GRADE_BAND_LABELS = {"1-2": "Grade 1–2", ">=3": "Grade ≥3"}


def grade_band(grade: int) -> str:
    """The Table 3 band of a worst CTCAE grade: "1-2" or ">=3" (grade 5 included)."""
    return GRADE_BANDS[0] if grade <= 2 else GRADE_BANDS[1]


def worst_grades(adae: pd.DataFrame, patients, phase: str) -> pd.DataFrame:
    """Worst grade per (patient, term) among ``patients`` for ``phase`` ('ALL'/'MAINTENANCE')."""
    a = adae[adae["USUBJID"].isin(set(patients))]
    if phase == "MAINTENANCE":
        a = a[a["APHASE"] == "MAINTENANCE"]
    elif phase != "ALL":
        raise AnalysisError(f"unknown phase {phase!r} (known: {PHASES})")
    if a["AETOXGR"].isna().any():
        row = a[a["AETOXGR"].isna()].iloc[0]
        raise AnalysisError(f"adae: subject {row['USUBJID']} term {row['AEDECOD']!r}: AETOXGR missing")
    cols = ["USUBJID", "AEDECOD"] + (["AECAT"] if "AECAT" in a else [])
    return a.groupby(cols, as_index=False)["AETOXGR"].max().astype({"AETOXGR": int})


def _term_order(adae: pd.DataFrame) -> list[tuple[str, str]]:
    """(term, category) in the paper's order; unknown terms after, alphabetically per category."""
    seen = {}
    for _, r in adae[["AEDECOD"] + (["AECAT"] if "AECAT" in adae else [])].drop_duplicates().iterrows():
        seen.setdefault(r["AEDECOD"], r.get("AECAT", CATEGORY.get(r["AEDECOD"], "NON-HAEMATOLOGICAL")))
    order = [(t, "NON-HAEMATOLOGICAL") for t in TERMS_NON_HAEM]
    order += sorted((t, c) for t, c in seen.items() if t not in CATEGORY and c != "HAEMATOLOGICAL")
    order += [(t, "HAEMATOLOGICAL") for t in TERMS_HAEM]
    order += sorted((t, c) for t, c in seen.items() if t not in CATEGORY and c == "HAEMATOLOGICAL")
    return order


def table_adverse_events(adsl: pd.DataFrame, adae: pd.DataFrame) -> pd.DataFrame:
    """Table 3: patients per term, phase (ALL / MAINTENANCE) and grade band (1-2 / >=3), n and %.

    Long frame, rows in the paper's order (terms not in the paper follow their category's
    block): ``term``, ``category``, ``phase``, ``grade``, ``n``, ``N``, ``pct``. Every paper term
    appears, with 0 when nobody had it. Grade 5 events count in the ≥ 3 band.
    """
    denominators = {"ALL": derive_population(adsl, "ITT"), "MAINTENANCE": derive_population(adsl, "MAINT")}
    order = _term_order(adae)
    rows = []
    counts = {}  # (phase, term, band) -> patients: one pass over each phase's worst grades
    for ph, pop in denominators.items():
        w = worst_grades(adae, pop["USUBJID"], ph)
        bands = w["AETOXGR"].map({g: grade_band(g) for g in w["AETOXGR"].unique()})
        for (term, band), k in w.groupby([w["AEDECOD"], bands]).size().items():
            counts[ph, term, band] = int(k)
    for term, cat in order:
        for ph in PHASES:
            N = len(denominators[ph])
            for band in GRADE_BANDS:
                k = counts.get((ph, term, band), 0)
                rows.append({"term": term, "category": cat, "phase": ph, "grade": band, "n": k, "N": N,
                             "pct": 100.0 * k / N if N else np.nan})
    return pd.DataFrame(rows)


def table_adverse_events_wide(adsl: pd.DataFrame, adae: pd.DataFrame) -> pd.DataFrame:
    """Table 3 in the paper's layout: one row per term, columns (phase, grade) × (n, pct)."""
    t = table_adverse_events(adsl, adae)
    w = t.pivot_table(index=["category", "term"], columns=["phase", "grade"], values=["n", "pct"],
                      sort=False)
    w = w.reorder_levels([1, 2, 0], axis=1).sort_index(axis=1, level=[0, 1], sort_remaining=False)
    order = list(dict.fromkeys(zip(t["category"], t["term"])))
    return w.reindex(order)
