"""ard.csv, safety page: every Table 3 cell (term × phase × grade band) and the infection rates.

"Any infection" grade 1–2 and ≥3 = the sums of Table 3's infection rows over the ITT denominator
(docs/paper-readings.md §4.1, item 6: the printed 61.1 % equals the row sum); the discussion's
restatements name the same statistics. Baseline neuropathy is not in the data model.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from ixathaldex.analysis.safety import GRADE_BANDS, INFECTION_TERMS, TERMS, table_adverse_events
from ixathaldex.claims.ard_rows import ArdRows, registry_by_id

#: grade band -> claim id part of the Table 3 cells and of the "any infection" rates (the results
#: text calls the upper band "grade 3/4")
BAND_IDS = dict(zip(GRADE_BANDS, ("g12", "g3plus")))
INFECTION_BAND_IDS = dict(zip(GRADE_BANDS, ("g12", "g34")))
#: Table 3 phase -> (population of its denominator, claim id part)
PHASES = {"ALL": ("ITT", "all"), "MAINTENANCE": ("MAINT", "mnt")}
#: further claims that restate one Table 3 cell
RESTATED = {"t3.all.polyneuropathy.g3plus.pct": "safety.neuropathy.g34.pct_discussion"}
ANY_INFECTION = "any infection (sum of the Table 3 infection rows)"


def add_table_3(ard: ArdRows, t: pd.DataFrame) -> None:
    """Table 3: per phase its safety set's size, and per term and grade band n and pct."""
    for phase, rows in t.groupby("phase", sort=False):
        pop, part = PHASES.get(phase, (phase, phase.lower()))
        N = int(rows["N"].iloc[0])
        ard.add("table3", pop, "patients", "n", N, N, group1="phase", group1_level=phase,
                claim="t3.mnt.n" if phase == "MAINTENANCE" else ())
    for r in t.to_dict("records"):
        pop, part = PHASES.get(r["phase"], (r["phase"], r["phase"].lower()))
        stem = f"t3.{part}.{TERMS[r['term']]}.{BAND_IDS[r['grade']]}" if r["term"] in TERMS else None
        for stat, value in (("n", int(r["n"])), ("pct", float(r["pct"]))):
            ids = (f"{stem}.{stat}", RESTATED.get(f"{stem}.{stat}")) if stem else ()
            ard.add("table3", pop, r["term"], stat, value, r["N"], level=r["grade"], group1="phase",
                    group1_level=r["phase"], claim=tuple(i for i in ids if i))


def add_infections(ard: ArdRows, t: pd.DataFrame) -> None:
    """The "any infection" rates: per grade band the summed count of the infection rows and its
    percentage of the ITT denominator."""
    t = t.set_index(["term", "phase", "grade"])
    N = int(t.xs("ALL", level="phase")["N"].iloc[0])
    for band, part in INFECTION_BAND_IDS.items():
        k = sum(int(t.loc[(term, "ALL", band), "n"]) for term in INFECTION_TERMS)
        claims = (f"safety.infection.{part}.pct",) + (("safety.infection.g34.pct_discussion",) if part == "g34" else ())
        ard.add("infections", "ITT", ANY_INFECTION, "n_summed", k, N, level=band, group1="phase", group1_level="ALL")
        ard.add("infections", "ITT", ANY_INFECTION, "pct", 100.0 * k / N, N, level=band, group1="phase",
                group1_level="ALL", claim=claims)


def table_ard_safety(snap, claims: Iterable[Mapping] | None = None) -> pd.DataFrame:
    """ard.csv, safety page: Table 3 (all phases, ITT; maintenance, maintenance safety set) and the
    any-infection rates."""
    ard = ArdRows("safety", registry_by_id(claims))
    t = table_adverse_events(snap.adsl, snap.adae)
    add_table_3(ard, t)
    add_infections(ard, t)
    return ard.frame()
