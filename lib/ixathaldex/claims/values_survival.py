"""ard.csv, survival and prognostic pages: their statistics as ARD rows, and the claim values glued
from those rows.

``table_ard_survival(snap)`` / ``table_ard_prognostic(snap)`` give every statistic the two pages
compute, one row each (columns: :mod:`ixathaldex.claims.ard_rows`, docs/ard.md); the claim values
below are read from those rows (``ard_rows.derive_ard_claim_values``).
``derive_claim_values_survival(snap)`` returns every claim shown on the Survival page
(chapters/03_survival.md): the registry's ``survival`` claims (Figure 1, PP medians, follow-up)
**and** the subgroup comparisons of the results text (``pfs.iss.*`` … ``os.risk3.*``, which the
registry files under ``prognostic``; the page shows them beside Figures 2 and 3).
``derive_claim_values_prognostic(snap)`` returns the Cox claims shown on the Prognostic factors
page (chapters/04_prognostic.md): the univariate screen (``os.univ.*.p``), the multivariate model
(``os.cox.*``) and the PFS hazard ratio of gain of 1q21 (``pfs.cox.gain1q.*``). Which cell of a
page glues which claims is ``values.CLAIM_GROUPS``; the page context is ``values.derive_page_context``.

Value conventions (docs/paper-readings.md §2): months and p-values as plain floats, counts as int,
a median or CI limit that is not reached / not calculable as the string ``"NR"``, hazard ratios in
the orientation the paper prints. Readings:

- PFS subgroup comparisons use the population of ``survival.PFS_SUBGROUP_POPULATIONS`` (per-protocol
  except IMiD exposure, ITT); OS comparisons are ITT; FISH-based splits keep the FISH-evaluable
  patients of that population.
- Three groups = isolated gain of 1q21 / high risk (± gain) / neither (``cyto3``).
- Univariate screen p = log-rank p (ITT; gain of 1q21 coded detected vs not detected, as in the
  multivariate model).
- Multivariate OS model = the paper's six factors (``PAPER_MULTIVARIATE_FACTORS``) on complete
  cases, Breslow ties; gain 1q21 vs none and Hb < 100 vs ≥ 100 g/L, as printed.
- PFS HR of gain of 1q21: univariate Cox in the PP FISH patients with a 1q21 result, glued as
  **no gain vs gain** (the printed orientation, 0.61); the page also shows gain vs no gain.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from ixathaldex.analysis.cox import (
    selected_factors,
    table_cox_multivariate,
    table_pfs_gain1q_hr,
    table_subgroup_hr,
    table_univariate_screen,
)
from ixathaldex.analysis.framecache import ResultCache
from ixathaldex.analysis.populations import PAPER_MULTIVARIATE_FACTORS
from ixathaldex.analysis.survival import (
    OS_SUBGROUP_FACTORS,
    PFS_SUBGROUP_FACTORS,
    PFS_SUBGROUP_POPULATIONS,
    table_endpoint_summary,
    table_followup,
    table_subgroup_survival,
)
from ixathaldex.claims.ard_rows import ArdRows, derive_ard_claim_values, registry_by_id
from ixathaldex.values import Value

#: (claim prefix, factor, {level: claim suffix}) of the PFS subgroup comparisons
PFS_CLAIMS = (
    ("pfs.iss", "iss_1_vs_23", {"I": "i", "II–III": "ii_iii"}),
    ("pfs.lines", "prior_lines", {"1": "one", ">1": "more"}),
    ("pfs.age", "age75", {"<75": "lt75", "≥75": "ge75"}),
    ("pfs.frailty", "frailty", {"Fit": "fit", "Unfit/frail": "unfit_frail"}),
    ("pfs.gfr", "gfr60", {"≥60": "ge60", "<60": "lt60"}),
    ("pfs.hrcyto", "hr_cyto", {"Y": "hr", "N": "sr"}),
    ("pfs.imid", "imid", {"Y": "naive", "N": "exposed"}),
    ("pfs.gain1q", "gain1q", {"Y": "pos", "N": "neg"}),
    ("pfs.hr_or_gain1q", "hr_or_1q", {"Y": "pos", "N": "neg"}),
    ("pfs.risk3", "cyto3", {"Isolated gain 1q21": "gain1q", "High risk": "hr", "Neither": "neither"}),
)
#: the same for OS (OS by GFR has no claim: the paper prints neither its medians nor its p-value,
#: only that OS was shorter below 60 mL/min — an assertion, data/published/assertions.yaml)
OS_CLAIMS = (
    ("os.iss", "iss_12_vs_3", {"I–II": "i_ii", "III": "iii"}),
    ("os.lines", "prior_lines", {"1": "one", ">1": "more"}),
    ("os.frailty", "frailty", {"Fit": "fit", "Unfit/frail": "unfit_frail"}),
    ("os.age", "age75", {"<75": "lt75", "≥75": "ge75"}),
    ("os.hrcyto", "hr_cyto", {"Y": "hr", "N": "sr"}),
    ("os.gain1q", "gain1q", {"Y": "pos", "N": "neg"}),
    ("os.hr_or_gain1q", "hr_or_1q", {"Y": "pos", "N": "neg"}),
    ("os.risk3", "cyto3", {"Isolated gain 1q21": "gain1q", "High risk": "hr", "Neither": "neither"}),
)
#: univariate-screen claim suffix -> factor
SCREEN_CLAIMS = {"gain1q": "gain1q_detected", "lines": "prior_lines", "iss": "iss_1_vs_23",
                 "hb100": "hgb100", "alb35": "alb35", "gfr60": "gfr60"}
#: multivariate claim suffix -> factor
COX_CLAIMS = {"gain1q": "gain1q_detected", "hb100": "hgb100"}


def months(v) -> float | str:
    """A median or CI limit as a claim value: float months, or "NR" when not reached (the
    analysis layer's NaN, or +inf)."""
    value = Value.parse(v)
    return value.number if value.is_number else "NR"


#: the subgroup tables of the snapshots seen in this process (the page and its claim values use
#: the same pair: computed once per snapshot)
SUBGROUP_TABLES = ResultCache(size=4)


def derive_subgroup_tables(snap) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Survival page, subgroup table: (PFS, OS) frames of ``table_subgroup_survival`` with the
    populations stated above (PFS per ``PFS_SUBGROUP_POPULATIONS``, OS ITT); kept per content
    of ``snap.adsl`` and ``snap.adtte`` (``SUBGROUP_TABLES``), each call a copy."""
    return SUBGROUP_TABLES.derive((snap.adsl, snap.adtte), _subgroup_tables)


def _subgroup_tables(adsl: pd.DataFrame, adtte: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    pfs = table_subgroup_survival(adsl, adtte, "PFS", tuple(PFS_SUBGROUP_POPULATIONS),
                                  population=PFS_SUBGROUP_POPULATIONS)
    os_ = table_subgroup_survival(adsl, adtte, "OS", OS_SUBGROUP_FACTORS, population="ITT")
    return pfs, os_


# ---- ARD rows ----------------------------------------------------------------------------------

def add_km(ard: ArdRows, context: str, population: str, variable: str, r: Mapping, claim_stem: str | None = None,
           ci_claims: bool = False, **groups) -> None:
    """One Kaplan–Meier summary: n, events, median and its 95 % CI limits (months; "NR" when not
    reached; missing for a group with no patient, whose median is not computable rather than not
    reached); claims ``<stem>.median`` (and ``.median.ci_low`` / ``.ci_high`` with ``ci_claims``)."""
    n = int(r["n"])
    ard.add(context, population, variable, "n", n, n, **groups)
    ard.add(context, population, variable, "events", int(r["events"]), n, **groups)
    for stat, col, suffix in (("median", "median", ".median"), ("ci_low", "ci_lower", ".median.ci_low"),
                              ("ci_high", "ci_upper", ".median.ci_high")):
        claimed = claim_stem and (stat == "median" or ci_claims)
        ard.add(context, population, variable, stat, months(r[col]) if n > 0 else None, n,
                claim=f"{claim_stem}{suffix}" if claimed else (), **groups)


def add_subgroups(ard: ArdRows, context: str, table: pd.DataFrame, spec=()) -> None:
    """A subgroup table: per level its KM summary, per factor the log-rank p (over the patients
    of the comparison); the claims of ``spec`` (``PFS_CLAIMS`` / ``OS_CLAIMS``)."""
    claims = {factor: (prefix, levels) for prefix, factor, levels in spec}
    for factor, rows in table.groupby("factor", sort=False):
        prefix, levels = claims.get(factor, (None, {}))
        pop, param = rows["population"].iloc[0], rows["param"].iloc[0]
        for r in rows.to_dict("records"):
            stem = f"{prefix}.{levels[r['level']]}" if r["level"] in levels else None
            add_km(ard, context, pop, param, r, stem, group1=factor, group1_level=r["level"])
        ard.add(context, pop, param, "p_logrank", float(rows["p_value"].iloc[0]), int(rows["n"].sum()),
                group1=factor, claim=f"{prefix}.p" if prefix else ())


def add_cox(ard: ArdRows, context: str, model: str, table: pd.DataFrame, param: str, claims=None,
            logrank: Mapping | None = None) -> None:
    """A Cox table: per compared level (``level vs reference``) HR, its 95 % CI and Wald p, each on
    the model's n; ``claims``: factor -> claim stem (``<stem>.hr`` …); ``logrank``: factor -> claim id
    of the factor's log-rank p (a univariate screen)."""
    claims, groups = claims or {}, {"group2": "model", "group2_level": model}
    for r in table.to_dict("records"):
        stem, pop = claims.get(r["factor"]), r.get("population", "ITT")
        level = {"group1": r["factor"], "group1_level": f"{r['level']} vs {r['reference']}"}
        for stat, col, suffix in (("hr", "hr", ".hr"), ("hr_ci_low", "hr_lower", ".hr.ci_low"),
                                  ("hr_ci_high", "hr_upper", ".hr.ci_high"), ("p_wald", "p_value", ".p")):
            ard.add(context, pop, param, stat, float(r[col]), r["n"], claim=f"{stem}{suffix}" if stem else (),
                    **level, **groups)
        ard.add(context, pop, param, "events", int(r["events"]), r["n"], **level, **groups)
        if logrank is not None:  # once per factor: the rows of a factor's levels merge
            ard.add(context, pop, param, "p_logrank", float(r["logrank_p"]), r["n"], group1=r["factor"],
                    claim=logrank.get(r["factor"], ()), **groups)


def table_ard_survival(snap, claims: Iterable[Mapping] | None = None, supplementary: bool = True) -> pd.DataFrame:
    """ard.csv, survival page: follow-up, Figure 1 (PFS and OS, ITT and PP), every subgroup
    comparison (PFS per ``PFS_SUBGROUP_POPULATIONS``, OS ITT) and, with ``supplementary``, the
    supplementary displays that no claim names (PFS subgroups in ITT, the PFS subgroup HRs)."""
    a, t = snap.adsl, snap.adtte
    ard = ArdRows("survival", registry_by_id(claims))
    fu = table_followup(a, t, "OS", "ITT").iloc[0]
    for stat, col in (("median", "median"), ("ci_low", "ci_lower"), ("ci_high", "ci_upper")):
        ard.add("followup", "ITT", "OS follow-up (reverse Kaplan-Meier)", stat, months(fu[col]), fu["n"],
                claim="followup.median" if stat == "median" else ())
    for r in table_endpoint_summary(a, t).to_dict("records"):
        add_km(ard, "figure1", r["population"], r["param"], r, f"{r['param'].lower()}.{r['population'].lower()}",
               ci_claims=r["population"] == "ITT")
    pfs, os_ = derive_subgroup_tables(snap)
    add_subgroups(ard, "pfs_subgroups", pfs, PFS_CLAIMS)
    add_subgroups(ard, "os_subgroups", os_, OS_CLAIMS)
    if not supplementary:
        return ard.frame()
    add_subgroups(ard, "pfs_subgroups_itt", table_subgroup_survival(a, t, "PFS", PFS_SUBGROUP_FACTORS,
                                                                    population="ITT"))
    add_cox(ard, "pfs_subgroup_hr", "univariate Cox per subgroup factor",
            table_subgroup_hr(a, t, "PFS", PFS_SUBGROUP_FACTORS, population=PFS_SUBGROUP_POPULATIONS), "PFS")
    return ard.frame()


def table_ard_prognostic(snap, claims: Iterable[Mapping] | None = None, supplementary: bool = True) -> pd.DataFrame:
    """ard.csv, prognostic page: the univariate OS screen (Cox and log-rank), the paper's
    multivariate OS model, the PFS HR of 1q21 and, with ``supplementary``, the model of the factors
    the screen selects (no claim names it)."""
    a, t = snap.adsl, snap.adtte
    ard = ArdRows("prognostic", registry_by_id(claims))
    screen = table_univariate_screen(a, t, "OS", population="ITT")
    add_cox(ard, "screen", "univariate screen", screen, "OS",
            logrank={factor: f"os.univ.{suffix}.p" for suffix, factor in SCREEN_CLAIMS.items()})
    models = [("multivariate, the paper's six factors", PAPER_MULTIVARIATE_FACTORS,
               {f: f"os.cox.{s}" for s, f in COX_CLAIMS.items()})]
    if supplementary:
        models.append(("multivariate, the factors the screen selects", selected_factors(screen), {}))
    for model, factors, stems in models:
        multi = table_cox_multivariate(a, t, "OS", factors=factors)
        add_cox(ard, "multivariate", model, multi, "OS", stems)
        if len(multi):
            ard.add("multivariate", "ITT", "OS", "n", int(multi["n"].iloc[0]), int(multi["n"].iloc[0]),
                    group2="model", group2_level=model, claim="os.cox.n" if stems else ())
    hr = table_pfs_gain1q_hr(a, t)
    add_cox(ard, "pfs_hr", "univariate Cox, gain of 1q21", hr.iloc[[0]], "PFS")
    add_cox(ard, "pfs_hr", "univariate Cox, gain of 1q21", hr.iloc[[1]], "PFS", {"gain1q": "pfs.cox.gain1q"})
    return ard.frame()


def derive_claim_values_survival(snap) -> dict[str, float | int | str]:
    """Survival page: claim id -> value (Figure 1, PP medians, follow-up, every subgroup comparison),
    read from the page's ARD rows (the rows that claims name: no supplementary display, no registry
    needed for the display texts)."""
    return derive_ard_claim_values(table_ard_survival(snap, claims=(), supplementary=False))


def derive_claim_values_prognostic(snap) -> dict[str, float | int | str]:
    """Prognostic page: claim id -> value (univariate screen, multivariate OS Cox, PFS HR of 1q21),
    read from the page's ARD rows (those that claims name, as for the survival page)."""
    return derive_ard_claim_values(table_ard_prognostic(snap, claims=(), supplementary=False))


# ---- prose of the prognostic page ------------------------------------------------------------

def derive_screen_text(screen: pd.DataFrame, page: str = "prognostic") -> dict[str, str]:
    """Prognostic page prose: the factors the univariate screen selects and those it leaves out,
    each named by its adverse (non-reference) level, joined with commas; keyed
    ``<page>.screen.selected`` / ``<page>.screen.not_selected`` (the page-context scheme of
    ``values.derive_page_context``)."""
    lab = screen.drop_duplicates("factor")
    sel = lab.loc[lab["selected"], "level"]
    out = lab.loc[~lab["selected"], "level"]
    return {f"{page}.screen.selected": ", ".join(sel) or "none",
            f"{page}.screen.not_selected": ", ".join(out) or "none"}
