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

The chapters' dialect (every chapter the same way): package modules are imported as modules and
called qualified (``from ixathaldex.analysis import survival`` … ``survival.derive_tte``), except
``load_snapshot``, imported by name because the parameter cell names the cut ``snapshot``; the
setup cell computes ``claim_values`` once and glues the page context
(``values.derive_page_context(snap, <registry chapter>)``: ``<page>.snapshot``, ``.cutoff``,
``.data_note``, ``.n.<population>``); each display's cell glues its own claims
(``values.glue_values(values.select_claims(claim_values, <display>))``, see ``CLAIM_GROUPS``);
figures are glued as ``<page>.fig.<name>``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ixathaldex.analysis.populations import (
    POPULATIONS,
    derive_adsl,
    derive_population,
    table_characteristics,
    table_flow,
    table_treatment_exposure,
)
from ixathaldex.analysis.response import table_response, table_response_by_group, table_upgrade_summary
from ixathaldex.analysis.safety import GRADE_BANDS, INFECTION_TERMS, TERMS, table_adverse_events
from ixathaldex.claims.notice import derive_data_notice
from ixathaldex.claims.values_survival import OS_CLAIMS, PFS_CLAIMS
from ixathaldex.exceptions import ClaimsError
from ixathaldex.log import logger
from ixathaldex.values import Value

#: the displays of each page and the claim-id prefixes glued in the cell that shows them (so that
#: the reviewer page's link lands on that table or figure); a claim belongs to the first group
#: whose prefix it starts with, in this order
CLAIM_GROUPS = {
    # patients
    "flow": ("flow.itt.", "flow.pp.", "flow.early_stop."),
    "exposure": ("flow.",),
    "table1": ("t1.", "fish."),
    # response
    "table2a": ("t2a.", "resp.itt.", "resp.pp."),
    "table2b": ("t2b.",),
    "imid": ("resp.imid",),
    "upgrades": ("mnt.upgrade.",),
    # survival
    "followup": ("followup.",),
    "figure1": ("pfs.itt.", "pfs.pp.", "os.itt.", "os.pp."),
    "pfs_subgroups": tuple(f"{prefix}." for prefix, _, _ in PFS_CLAIMS),
    "os_subgroups": tuple(f"{prefix}." for prefix, _, _ in OS_CLAIMS),
    # prognostic factors
    "screen": ("os.univ.",),
    "multivariate": ("os.cox.",),
    "pfs_hr": ("pfs.cox.",),
    # safety
    "table3": ("t3.", "safety."),
}


def claim_group(claim_id: str) -> str | None:
    """The display (key of ``CLAIM_GROUPS``) whose cell glues ``claim_id``; None if there is none."""
    return next((g for g, prefixes in CLAIM_GROUPS.items() if claim_id.startswith(prefixes)), None)


def select_claims(values: Mapping[str, Any], group: str) -> dict[str, Any]:
    """The entries of ``values`` glued in the cell of display ``group`` (see ``CLAIM_GROUPS``)."""
    if group not in CLAIM_GROUPS:
        raise ClaimsError(f"unknown display {group!r} (known: {', '.join(CLAIM_GROUPS)})")
    return {k: v for k, v in values.items() if claim_group(k) == group}


def glued_form(value: Any) -> Any:
    """A claim value as it is glued: a plain Python int or float, "NR" when not reached (+inf,
    "NR", "NC"), NaN when not computed (read back as "not computable")."""
    try:
        v = Value.parse(value)
    except ValueError as exc:
        raise ClaimsError(f"claim value {value!r}: {exc}") from None
    if v.is_bound:
        raise ClaimsError(f"claim value {value!r}: a computed value is a number, not a printed bound")
    return math.nan if v.is_missing else v.plain()


def glue_values(values: Mapping[str, Any], strict: bool = True) -> None:
    """Glue every ``{claim id: value}`` with ``myst_nb.glue(id, value, display=False)``.

    Claim values are glued in :func:`glued_form` (numpy scalars become Python numbers; +inf
    becomes "NR"). With ``strict=False`` (page context such as the snapshot id, not claims)
    strings are glued as they are.
    """
    from myst_nb import glue  # imported here: the library must not need myst-nb outside notebooks

    for key, value in values.items():
        if not strict and isinstance(value, str):
            glue(key, value, display=False)
        else:
            glue(key, glued_form(value), display=False)
    logger.debug("glued %d value(s)", len(values))


def derive_page_context(snap, page: str) -> dict[str, Any]:
    """Numbers a chapter states that are not claims: snapshot id, cut-off date, population sizes.

    The one key scheme of every chapter, prefixed with the page (its registry chapter name, so two
    pages never glue the same name): ``<page>.snapshot``, ``.cutoff``, ``.data_note`` (what the data
    are, from the manifest: :func:`ixathaldex.claims.notice.derive_data_notice`) and ``.n.<population>``: ``itt``, ``pp``,
    ``fish`` (FISH-evaluable), ``maint`` (maintenance safety set), ``mntenter`` (entered
    maintenance), ``nonpp`` (ITT − PP), ``fish_pp`` (FISH-evaluable per-protocol) and
    ``gain1q_known`` / ``gain1q_known_pp`` (FISH patients with a 1q21 result, ITT / PP).
    """
    ctx: dict[str, Any] = {"snapshot": snap.cut, "cutoff": str(snap.manifest.get("cutoff_date", snap.cut))}
    for name in POPULATIONS:
        ctx[f"n.{name.lower()}"] = int(len(derive_population(snap.adsl, name)))
    ctx["n.nonpp"] = ctx["n.itt"] - ctx["n.pp"]
    itt = derive_adsl(derive_population(snap.adsl, "ITT"))
    pp = derive_adsl(derive_population(snap.adsl, "PP"))
    ctx["n.fish_pp"] = int((pp["FISHFL"] == "Y").sum())
    ctx["n.gain1q_known"] = int(itt["GAIN1QFL"].notna().sum())
    ctx["n.gain1q_known_pp"] = int(pp["GAIN1QFL"].notna().sum())
    ctx["data_note"] = derive_data_notice(snap.manifest)["data_note"]
    return {f"{page}.{k}": v for k, v in ctx.items()}


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
#: grade band -> claim id part of the Table 3 cells and of the "any infection" rates (the results
#: text calls the upper band "grade 3/4")
_BAND_IDS = dict(zip(GRADE_BANDS, ("g12", "g3plus")))
_INFECTION_BAND_IDS = dict(zip(GRADE_BANDS, ("g12", "g34")))


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
    for term, stem in TERMS.items():
        for ph, pk in (("ALL", "all"), ("MAINTENANCE", "mnt")):
            for band, bk in _BAND_IDS.items():
                r = t.loc[(term, ph, band)]
                out[f"t3.{pk}.{stem}.{bk}.n"] = int(r["n"])
                out[f"t3.{pk}.{stem}.{bk}.pct"] = float(r["pct"])
    N = int(Ns["ALL"])
    for band, bk in _INFECTION_BAND_IDS.items():
        k = sum(int(t.loc[(term, "ALL", band), "n"]) for term in INFECTION_TERMS)
        out[f"safety.infection.{bk}.pct"] = 100.0 * k / N
    out["safety.infection.g34.pct_discussion"] = out["safety.infection.g34.pct"]
    out["safety.neuropathy.g34.pct_discussion"] = out["t3.all.polyneuropathy.g3plus.pct"]
    return out
