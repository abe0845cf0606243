"""Claim values: the values each chapter glues under the ids of the claims registry.

``derive_claim_values_<chapter>(snap)`` returns ``{claim id: value}`` for every claim of
``data/published/claims.yaml`` whose ``chapter`` is that chapter; a chapter glues the dict with
:func:`glue_values`. Values are unrounded plain Python numbers (counts ``int``, percentages in
percent, months ``float``), ``"NR"`` for a median or limit not reached (see docs/paper-readings.md §2).

The values are read from the page's rows of the analysis-results dataset (ARD, ``ard.csv``:
:mod:`ixathaldex.claims.ard_rows`), so a glued value is the ARD's value. The readings of the
patients, response and safety chapters are stated where their rows are made
(:mod:`ixathaldex.claims.ard_patients`, :mod:`~ixathaldex.claims.ard_response`,
:mod:`~ixathaldex.claims.ard_safety`; those of the survival pages in
:mod:`ixathaldex.claims.values_survival`); the chapters say them in a sentence and the reviewer page
gives the details. Not computable from the data model (no value glued): screening duration,
baseline neuropathy.

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

from ixathaldex.analysis.populations import POPULATIONS, derive_cytogenetics, derive_population
from ixathaldex.claims.ard_patients import table_ard_patients
from ixathaldex.claims.ard_response import table_ard_response
from ixathaldex.claims.ard_rows import derive_ard_claim_values, read_computed
from ixathaldex.claims.ard_safety import table_ard_safety
from ixathaldex.claims.notice import derive_data_notice
from ixathaldex.claims.values_survival import OS_CLAIMS, PFS_CLAIMS
from ixathaldex.exceptions import ClaimsError
from ixathaldex.log import logger


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
    v = read_computed(value, f"claim value {value!r}")
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
    pp = derive_population(snap.adsl, "PP")
    ctx["n.fish_pp"] = int((pp["FISHFL"] == "Y").sum())
    # GAIN1QFL as derive_adsl adds it, without deriving (and keeping) every other column
    ctx["n.gain1q_known_pp"] = int(derive_cytogenetics(pp)["GAIN1QFL"].notna().sum())
    del pp
    ctx["n.gain1q_known"] = int(derive_cytogenetics(derive_population(snap.adsl, "ITT"))["GAIN1QFL"].notna().sum())
    ctx["data_note"] = derive_data_notice(snap.manifest)["data_note"]
    return {f"{page}.{k}": v for k, v in ctx.items()}


# --------------------------------------------------------------------------- claim values
def derive_claim_values_patients(snap) -> dict[str, Any]:
    """Claims of the patients chapter (flow, FISH, treatment exposure and Table 1), read from the
    page's ARD rows (:func:`ixathaldex.claims.ard_patients.table_ard_patients`, where the readings
    are stated)."""
    return derive_ard_claim_values(table_ard_patients(snap, claims=()))


def derive_claim_values_response(snap) -> dict[str, Any]:
    """Claims of the response chapter (Table 2A, ≥VGPR, IMiD split, Table 2B, upgrades), read from
    the page's ARD rows (:func:`ixathaldex.claims.ard_response.table_ard_response`)."""
    return derive_ard_claim_values(table_ard_response(snap, claims=()))


def derive_claim_values_safety(snap) -> dict[str, Any]:
    """Claims of the safety chapter (every Table 3 cell and the infection / neuropathy text), read
    from the page's ARD rows (:func:`ixathaldex.claims.ard_safety.table_ard_safety`)."""
    return derive_ard_claim_values(table_ard_safety(snap, claims=()))
