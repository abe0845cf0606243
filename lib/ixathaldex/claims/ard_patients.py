"""ard.csv, patients page: patient flow, treatment exposure and Table 1, one row per statistic.

Readings (docs/paper-readings.md, docs/statistics.md; the page says them in a sentence): stopped
before two full cycles = not per-protocol, by DCSREAS (toxicity = ADVERSE EVENT), percentages over
ITT; ``flow.mnt.n`` = entered maintenance (MNTFL), ``flow.mnt.n_discussion`` = received maintenance
(MNTSAFFL); completed maintenance as a percentage of those who entered; durations as in
``populations.table_treatment_exposure``. The screening duration is not in the data model.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from ixathaldex.analysis.populations import table_characteristics, table_flow, table_treatment_exposure
from ixathaldex.claims.ard_rows import ArdRows, registry_by_id
from ixathaldex.exceptions import ClaimsError

#: DCSREAS of patients who stopped before two full cycles -> claim id stem (a reason nobody gave
#: is a row with n = 0)
NONPP_REASONS = {"PROGRESSIVE DISEASE": "pd", "ADVERSE EVENT": "toxicity",
                 "WITHDRAWAL BY SUBJECT": "withdrawal", "PHYSICIAN DECISION": "physician"}

#: Table 1 rows (section, item) -> claim id stem
T1_ROWS = {
    ("Sex", "Male"): "t1.sex.male", ("Sex", "Female"): "t1.sex.female",
    ("ISS stage", "I"): "t1.iss.i", ("ISS stage", "II"): "t1.iss.ii", ("ISS stage", "III"): "t1.iss.iii",
    ("ECOG status", "0–1"): "t1.ecog.0_1", ("ECOG status", "≥2"): "t1.ecog.2",
    ("Type of MM", "IgG"): "t1.type.igg", ("Type of MM", "IgA"): "t1.type.iga",
    ("Type of MM", "Light chain only"): "t1.type.light_chain",
    ("Cytogenetics", "FISH evaluable"): "fish.available",
    ("Cytogenetics", "t(4;14)"): "fish.t414", ("Cytogenetics", "del(17p)"): "fish.del17p",
    ("Cytogenetics", "High risk (any of t(4;14), t(14;16), del(17p))"): "t1.cyto.hr",
    ("Cytogenetics", "Gain of 1q21"): "t1.cyto.gain1q",
    ("Cytogenetics", "High risk and/or gain of 1q21"): "fish.hr_or_gain1q",
    ("Cytogenetics", "None"): "t1.cyto.none",
    ("Prior treatment lines", "1–2"): "t1.lines.1_2", ("Prior treatment lines", "3–4"): "t1.lines.3_4",
    ("Prior treatment lines", "≥5"): "t1.lines.5plus",
    ("Prior exposure", "PI"): "t1.prior.pi", ("Prior exposure", "IMiD"): "t1.prior.imid",
    ("Prior exposure", "PI and IMiD"): "t1.prior.pi_and_imid",
    ("Prior exposure", "Len exposed"): "t1.len.exposed", ("Prior exposure", "Len refractory"): "t1.len.refractory",
    ("Prior exposure", "Thal exposed"): "t1.thal.exposed", ("Prior exposure", "Thal refractory"): "t1.thal.refractory",
    ("Prior exposure", "Btz exposed"): "t1.btz.exposed", ("Prior exposure", "Btz refractory"): "t1.btz.refractory",
    ("Prior ASCT", "Autologous stem cell transplantation"): "t1.asct",
}
#: Table 1 items with one claim only (the count)
T1_COUNT_ONLY = {("Cytogenetics", "t(14;16)"): "fish.t1416"}
#: Table 1 summary rows (item) -> the claim stem of their three numbers
T1_SUMMARIES = {"Age": "t1.age", "Months": "t1.months_since_first_line"}
#: the stat names of a summary row's ``value``, ``low``, ``high`` (by its ``stat``)
SUMMARY_STATS = {"median (range)": ("median", "min", "max"), "median (IQR)": ("median", "q1", "q3")}

#: treatment-exposure quantities -> claims (stat -> claim id)
EXPOSURE_CLAIMS = {
    "prior lines, median (range)": {"median": "flow.prior_lines.median", "min": "flow.prior_lines.min",
                                    "max": "flow.prior_lines.max"},
    "prior lines 4 or more": {"n": "flow.prior_lines_4plus.n", "pct": "flow.prior_lines_4plus.pct"},
    "completed induction": {"n": "flow.induction_complete.n", "pct": "flow.induction_complete.pct"},
    "induction cycles, median (range)": {"median": "flow.induction.cycles.median"},
    "entered maintenance": {"n": "flow.mnt.n"},
    "received maintenance (maintenance safety set)": {"n": "flow.mnt.n_discussion"},
    "completed maintenance (of entered)": {"n": "flow.mnt_complete.n", "pct": "flow.mnt_complete.pct"},
    "maintenance duration, months, median (range)": {"median": "flow.mnt.duration.median"},
    "induction (thalidomide) duration, months, median (range)": {"median": "flow.thal_exposure.median"},
    "on therapy at cut-off": {"n": "flow.ongoing.n"},
}
#: exposure summaries whose range is a count of lines (integers)
INTEGER_RANGES = ("prior lines, median (range)",)


def add_flow(ard: ArdRows, flow: pd.DataFrame) -> int:
    """Patient flow: every step's n and % of ITT; returns N (enrolled = ITT)."""
    flow = flow.set_index("step")
    N = int(flow.loc["enrolled", "n"])
    steps = {step: int(n) for step, n in flow["n"].items()}
    steps.update({f"nonpp:{r}": 0 for r in NONPP_REASONS if f"nonpp:{r}" not in steps})
    stems = {"enrolled": "flow.itt", "pp": "flow.pp"}
    stems.update({f"nonpp:{r}": f"flow.early_stop.{s}" for r, s in NONPP_REASONS.items()})
    for step, n in steps.items():
        claimed = ("n",) if step in ("enrolled", "pp") else ("n", "pct")
        ard.add_count("flow", "ITT", "patient flow", step, n, N, stems.get(step), claimed)
    return N


def add_exposure(ard: ArdRows, ex: pd.DataFrame) -> None:
    """Treatment exposure: counts (n, % of the row's denominator) and summaries (median, min, max)."""
    for r in ex.to_dict("records"):
        q, claims = r["quantity"], EXPOSURE_CLAIMS.get(r["quantity"], {})
        if "median" in q:
            cast = int if q in INTEGER_RANGES else float
            for stat, value in (("median", float(r["value"])), ("min", cast(r["low"])), ("max", cast(r["high"]))):
                ard.add("exposure", "ITT", "treatment exposure", stat, value, r["n"], level=q,
                        claim=claims.get(stat, ()))
            continue
        for stat, value in (("n", int(r["n"])), ("pct", 100.0 * float(r["n"]) / float(r["denominator"]))):
            ard.add("exposure", "ITT", "treatment exposure", stat, value, r["denominator"], level=q,
                    claim=claims.get(stat, ()))


def add_characteristics(ard: ArdRows, t1: pd.DataFrame) -> None:
    """Table 1: each n (%) row (n, pct) and each summary row (median and range or IQR)."""
    found = set(zip(t1["section"], t1["item"]))
    absent = [k for k in (*T1_ROWS, *T1_COUNT_ONLY) if k not in found]
    if absent:
        raise ClaimsError(f"Table 1 row {absent[0][0]!r} / {absent[0][1]!r} not found")
    for r in t1.to_dict("records"):
        key = (r["section"], r["item"])
        if r["stat"] in SUMMARY_STATS:
            stem = T1_SUMMARIES.get(r["item"])
            for stat, col in zip(SUMMARY_STATS[r["stat"]], ("value", "low", "high")):
                ard.add("table1", "ITT", r["section"], stat, float(r[col]), r["n"], level=r["item"],
                        claim=f"{stem}.{stat}" if stem else ())
        elif key in T1_COUNT_ONLY:
            ard.add_count("table1", "ITT", r["section"], r["item"], r["n"], r["denominator"], T1_COUNT_ONLY[key],
                          ("n",))
        else:
            ard.add_count("table1", "ITT", r["section"], r["item"], r["n"], r["denominator"], T1_ROWS.get(key))
    available = t1[(t1["section"] == "Cytogenetics") & (t1["item"] == "FISH evaluable")].iloc[0]
    N = int(available["denominator"])
    missing_pct = 100.0 - 100.0 * float(available["n"]) / float(N)
    ard.add("table1", "ITT", "Cytogenetics", "n", N - int(available["n"]), N, level="FISH not evaluable")
    ard.add("table1", "ITT", "Cytogenetics", "pct", missing_pct, N, level="FISH not evaluable",
            claim="fish.missing.pct")


def table_ard_patients(snap, claims: Iterable[Mapping] | None = None) -> pd.DataFrame:
    """ard.csv, patients page: flow, treatment exposure and Table 1 (``claims``: the registry,
    default ``data/published/claims.yaml``, for the printed precision of ``stat_display``)."""
    ard = ArdRows("patients", registry_by_id(claims))
    add_flow(ard, table_flow(snap.adsl))
    add_exposure(ard, table_treatment_exposure(snap.adsl, snap.cutoff))
    add_characteristics(ard, table_characteristics(snap.adsl))
    return ard.frame()
