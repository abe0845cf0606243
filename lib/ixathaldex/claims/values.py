"""Claim values: the mapping from computed frames to the ids of the claims registry.

``derive_claim_values_<chapter>(snap)`` returns ``{claim id: value}`` for every claim of
``data/published/claims.yaml`` whose ``chapter`` is that chapter; a chapter glues the dict with
:func:`glue_values`. Values are unrounded plain Python numbers (counts ``int``, percentages in
percent, months ``float``), ``"NR"`` for a median or limit not reached (see docs/paper-readings.md §2).

Readings used by the patients, response and safety chapters (decided here; the chapters say them
in a sentence and the reviewer page gives the details):

- Stopped before two full cycles = not per-protocol, split by ``DCSREAS``; "toxicity" is
  ``ADVERSE EVENT``. Percentages over ITT.
- ``flow.mnt.n`` = entered maintenance (``MNTFL``); ``flow.mnt.n_discussion`` = received maintenance
  (``MNTSAFFL``, the maintenance safety set). Completed maintenance as % of those who entered.
- Maintenance duration = last dose (or the cut-off when ongoing) − first maintenance day + 1 day,
  in the maintenance safety set; thalidomide exposure = time on induction (start of treatment to
  the day before maintenance, else last dose or cut-off). The paper defines neither.
- High risk = any of t(4;14), t(14;16), del(17p) (the paper's methods; its Table 1 label names two).
- IMiD split for response = prior lenalidomide or thalidomide (gives the paper's 37 / 53).
- Upgrade rate: maintenance safety set as denominator; the abstract's figure gets the same value.
- Any-infection rates = sums of Table 3's infection rows (URI, LRI, viral, UTI, unspecified,
  VZV, sepsis) over ITT; the discussion's restatements get the same computed values.
- Not computable from the data model (no value glued): screening duration, baseline neuropathy.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ixathaldex.analysis.populations import (
    POPULATIONS,
    derive_population,
    table_characteristics,
    table_flow,
    table_treatment_exposure,
)
from ixathaldex.analysis.response import table_response, table_response_by_group, table_upgrade_summary
from ixathaldex.analysis.safety import (
    INFECTION_TERMS,  # the infection rows of Table 3
    table_adverse_events,
)
from ixathaldex.exceptions import ClaimsError
from ixathaldex.log import logger


def plain(value: Any) -> Any:
    """A claim value as a plain Python scalar: int, float, or "NR" (+inf and "NR" are not reached)."""
    if isinstance(value, str):
        if value.strip().upper() in ("NR", "NC"):
            return "NR"
        raise ClaimsError(f"claim value {value!r}: a string must be 'NR'")
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isinf(v) and v > 0:
            return "NR"
        return v
    raise ClaimsError(f"claim value {value!r} of type {type(value).__name__}: not a number")


def glue_values(values: Mapping[str, Any], strict: bool = True) -> None:
    """Glue every ``{claim id: value}`` with ``myst_nb.glue(id, value, display=False)``.

    Values are converted with :func:`plain` first (numpy scalars become Python numbers; +inf
    becomes "NR"); a NaN is glued as NaN and later read as "not computable". With
    ``strict=False`` (page context such as the snapshot id, not claims) other strings are glued
    as they are.
    """
    from myst_nb import glue  # imported here: the library must not need myst-nb outside notebooks

    for key, value in values.items():
        if not strict and isinstance(value, str):
            glue(key, value, display=False)
        else:
            glue(key, plain(value), display=False)
    logger.debug("glued %d value(s)", len(values))


def derive_page_context(snap, page: str) -> dict[str, Any]:
    """Numbers a page states that are not claims: snapshot id, cut-off date and population sizes.

    Keys are prefixed with ``page`` (``"<page>.snapshot"``, ``"<page>.cutoff"``,
    ``"<page>.n.itt"``, ``.n.pp``, ``.n.fish``, ``.n.maint`` (maintenance safety set),
    ``.n.mntenter`` (entered maintenance), ``.n.nonpp``), so two pages never glue the same name;
    ``"<page>.data_note"`` says whether the snapshot is synthetic (from its manifest).
    """
    out: dict[str, Any] = {f"{page}.snapshot": snap.cut,
                           f"{page}.cutoff": str(snap.manifest.get("cutoff_date", snap.cut))}
    for name in POPULATIONS:
        out[f"{page}.n.{name.lower()}"] = int(len(derive_population(snap.adsl, name)))
    out[f"{page}.n.nonpp"] = out[f"{page}.n.itt"] - out[f"{page}.n.pp"]
    out[f"{page}.data_note"] = ("synthetic data (artificial patients, not real ones)" if snap.synthetic
                                else "the trial data of this snapshot")
    return out


# --------------------------------------------------------------------------- helpers
def _nonpp_reason_ids() -> dict[str, str]:
    """DCSREAS of patients who stopped before two full cycles -> claim id stem."""
    return {"PROGRESSIVE DISEASE": "pd", "ADVERSE EVENT": "toxicity",
            "WITHDRAWAL BY SUBJECT": "withdrawal", "PHYSICIAN DECISION": "physician"}


def _count(out: dict, stem: str, n, denominator) -> None:
    out[f"{stem}.n"] = int(n)
    out[f"{stem}.pct"] = 100.0 * float(n) / float(denominator) if denominator else float("nan")


# --------------------------------------------------------------------------- patients
#: Table 1 rows (section, item) -> claim id stem
_T1_ROWS = {
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


def derive_claim_values_patients(snap) -> dict[str, Any]:
    """Claims of the patients chapter: flow, FISH, treatment exposure and Table 1.

    Readings (docs/paper-readings.md, docs/statistics.md): stopped before two full cycles = not
    per-protocol, by DCSREAS (toxicity = ADVERSE EVENT); ``flow.mnt.n`` = entered maintenance
    (MNTFL, 43), ``flow.mnt.n_discussion`` = received maintenance (MNTSAFFL, 41); completed
    maintenance as a percentage of those who entered; durations as in
    ``populations.table_treatment_exposure``. The screening duration is not in the data model.
    """
    adsl = snap.adsl
    out: dict[str, Any] = {}
    t1 = table_characteristics(adsl)
    ex = table_treatment_exposure(adsl, snap.cutoff).set_index("quantity")
    flow = table_flow(adsl).set_index("step")
    N = int(flow.loc["enrolled", "n"])
    out["flow.itt.n"] = N
    out["flow.pp.n"] = int(flow.loc["pp", "n"])
    for reason, stem in _nonpp_reason_ids().items():
        key = f"nonpp:{reason}"
        _count(out, f"flow.early_stop.{stem}", flow.loc[key, "n"] if key in flow.index else 0, N)
    for (section, item), stem in _T1_ROWS.items():
        r = t1[(t1["section"] == section) & (t1["item"] == item)]
        if len(r) != 1:
            raise ClaimsError(f"Table 1 row {section!r} / {item!r} not found")
        _count(out, stem, r["n"].iloc[0], r["denominator"].iloc[0])
    out["fish.missing.pct"] = 100.0 - out["fish.available.pct"]
    t1416 = t1[(t1["section"] == "Cytogenetics") & (t1["item"] == "t(14;16)")]
    out["fish.t1416.n"] = int(t1416["n"].iloc[0])
    age = t1[t1["item"] == "Age"].iloc[0]
    out["t1.age.median"], out["t1.age.min"], out["t1.age.max"] = (float(age["value"]), float(age["low"]),
                                                                   float(age["high"]))
    mos = t1[t1["item"] == "Months"].iloc[0]
    out["t1.months_since_first_line.median"] = float(mos["value"])
    out["t1.months_since_first_line.q1"] = float(mos["low"])
    out["t1.months_since_first_line.q3"] = float(mos["high"])
    lines = ex.loc["prior lines, median (range)"]
    out["flow.prior_lines.median"] = float(lines["value"])
    out["flow.prior_lines.min"] = int(lines["low"])
    out["flow.prior_lines.max"] = int(lines["high"])
    _count(out, "flow.prior_lines_4plus", ex.loc["prior lines 4 or more", "n"], N)
    _count(out, "flow.induction_complete", ex.loc["completed induction", "n"], N)
    out["flow.induction.cycles.median"] = float(ex.loc["induction cycles, median (range)", "value"])
    out["flow.mnt.n"] = int(ex.loc["entered maintenance", "n"])
    out["flow.mnt.n_discussion"] = int(ex.loc["received maintenance (maintenance safety set)", "n"])
    _count(out, "flow.mnt_complete", ex.loc["completed maintenance (of entered)", "n"],
           ex.loc["completed maintenance (of entered)", "denominator"])
    out["flow.mnt.duration.median"] = float(ex.loc["maintenance duration, months, median (range)", "value"])
    out["flow.thal_exposure.median"] = float(
        ex.loc["induction (thalidomide) duration, months, median (range)", "value"])
    out["flow.ongoing.n"] = int(ex.loc["on therapy at cut-off", "n"])
    return out


# --------------------------------------------------------------------------- response
_T2A = {"CR": "cr", "VGPR": "vgpr", "PR": "pr", "MR": "mr", "ORR": "orr", "CBR": "cbr"}
_T2B = {"hr_cyto": "hr", "gain1q": "gain1q", "hr_or_1q": "hr_or_gain1q"}


def derive_claim_values_response(snap) -> dict[str, Any]:
    """Claims of the response chapter: Table 2A, ≥VGPR, IMiD split, Table 2B and the upgrades.

    The abstract's upgrade rate (``mnt.upgrade.pct_abstract``) is glued with the same computed
    rate as the results text (the printed 12.4 % fits no denominator; docs/paper-readings.md).
    """
    adsl, adrs = snap.adsl, snap.adrs
    out: dict[str, Any] = {}
    t2a = table_response(adsl, adrs).set_index(["population", "category"])
    for pop in ("ITT", "PP"):
        for cat, stem in _T2A.items():
            r = t2a.loc[(pop, cat)]
            out[f"t2a.{pop.lower()}.{stem}.n"] = int(r["n"])
            out[f"t2a.{pop.lower()}.{stem}.pct"] = float(r["pct"])
        out[f"resp.{pop.lower()}.vgpr_or_better.pct"] = float(t2a.loc[(pop, "≥VGPR"), "pct"])
    grp = table_response_by_group(adsl, adrs).set_index(["factor", "level"])
    for factor, stem in _T2B.items():
        out[f"t2b.{stem}.pos.orr.pct"] = float(grp.loc[(factor, "Y"), "pct"])
        out[f"t2b.{stem}.neg.orr.pct"] = float(grp.loc[(factor, "N"), "pct"])
        out[f"t2b.{stem}.p"] = float(grp.loc[(factor, "Y"), "p_value"])
    out["resp.imid_naive.n"] = int(grp.loc[("imid", "Y"), "N"])
    out["resp.imid_exposed.n"] = int(grp.loc[("imid", "N"), "N"])
    out["resp.imid_naive.orr.pct"] = float(grp.loc[("imid", "Y"), "pct"])
    out["resp.imid_exposed.orr.pct"] = float(grp.loc[("imid", "N"), "pct"])
    out["resp.imid.p"] = float(grp.loc[("imid", "Y"), "p_value"])
    up = table_upgrade_summary(adsl, adrs)
    anyr = up[up["from"] == "any"].iloc[0]
    out["mnt.upgrade.n"] = int(anyr["n"])
    out["mnt.upgrade.pct"] = float(anyr["pct"])
    out["mnt.upgrade.pct_abstract"] = float(anyr["pct"])
    for a, b in (("VGPR", "CR"), ("PR", "VGPR"), ("PR", "CR")):
        r = up[(up["from"] == a) & (up["to"] == b)]
        out[f"mnt.upgrade.{a.lower()}_to_{b.lower()}.n"] = int(r["n"].iloc[0]) if len(r) else 0
    out["mnt.upgrade.time.min"] = float(anyr["min_months"])
    out["mnt.upgrade.time.max"] = float(anyr["max_months"])
    return out


# --------------------------------------------------------------------------- safety
#: Table 3 terms -> claim id stem
T3_TERMS = {
    "Upper respiratory infection": "uri", "Lower respiratory infection": "lri",
    "Viral infection": "viral", "Urinary tract infection": "uti",
    "Infection unspecified": "infection_other", "Varicella zoster virus infection": "vzv",
    "Sepsis": "sepsis", "Polyneuropathy": "polyneuropathy", "Fatigue": "fatigue",
    "Constipation": "constipation", "Diarrhoea": "diarrhoea", "Nausea": "nausea", "Oedema": "oedema",
    "Pain": "pain", "Renal disorders": "renal", "Cardiac disorders": "cardiac",
    "Secondary malignancies": "second_malignancy", "Anaemia": "anaemia", "Leukopenia": "leukopenia",
    "Neutropenia": "neutropenia", "Thrombocytopenia": "thrombocytopenia",
}


def derive_claim_values_safety(snap) -> dict[str, Any]:
    """Claims of the safety chapter: every Table 3 cell and the infection / neuropathy text.

    "Any infection" grade 1/2 and 3/4 = the sums of Table 3's infection rows over the ITT
    denominator (the reading of docs/paper-readings.md §4.1, item 6: the printed 61.1 % equals
    the row sum). Baseline neuropathy is not in the data model.
    """
    t = table_adverse_events(snap.adsl, snap.adae).set_index(["term", "phase", "grade"])
    out: dict[str, Any] = {}
    Ns = t.groupby(level="phase")["N"].first()
    out["t3.mnt.n"] = int(Ns["MAINTENANCE"])
    for term, stem in T3_TERMS.items():
        for ph, pk in (("ALL", "all"), ("MAINTENANCE", "mnt")):
            for band, bk in (("1-2", "g12"), (">=3", "g3plus")):
                r = t.loc[(term, ph, band)]
                out[f"t3.{pk}.{stem}.{bk}.n"] = int(r["n"])
                out[f"t3.{pk}.{stem}.{bk}.pct"] = float(r["pct"])
    N = int(Ns["ALL"])
    for band, bk in (("1-2", "g12"), (">=3", "g34")):
        k = sum(int(t.loc[(term, "ALL", band), "n"]) for term in INFECTION_TERMS)
        out[f"safety.infection.{bk}.pct"] = 100.0 * k / N
    out["safety.infection.g34.pct_discussion"] = out["safety.infection.g34.pct"]
    out["safety.neuropathy.g34.pct_discussion"] = out["t3.all.polyneuropathy.g3plus.pct"]
    return out
