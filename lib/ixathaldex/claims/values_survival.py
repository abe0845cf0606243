"""Survival and prognostic-factor claims: the values the survival pages glue under registry ids.

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

import pandas as pd

from ixathaldex.analysis.cox import (
    table_cox_multivariate,
    table_pfs_gain1q_hr,
    table_univariate_screen,
)
from ixathaldex.analysis.populations import PAPER_MULTIVARIATE_FACTORS
from ixathaldex.analysis.survival import (
    OS_SUBGROUP_FACTORS,
    PFS_SUBGROUP_POPULATIONS,
    derive_tte,
    table_followup,
    table_km_summary,
    table_subgroup_survival,
)
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
#: the same for OS (os.gfr has only its p-value in the registry)
OS_CLAIMS = (
    ("os.iss", "iss_12_vs_3", {"I–II": "i_ii", "III": "iii"}),
    ("os.gfr", "gfr60", {}),
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


def _median_claims(out: dict, prefix: str, summary: pd.DataFrame, ci: bool = False) -> None:
    r = summary.iloc[0]
    out[f"{prefix}.median"] = months(r["median"])
    if ci:
        out[f"{prefix}.median.ci_low"] = months(r["ci_lower"])
        out[f"{prefix}.median.ci_high"] = months(r["ci_upper"])


def _subgroup_claims(out: dict, table: pd.DataFrame, spec) -> None:
    for prefix, factor, levels in spec:
        rows = table[table["factor"] == factor].set_index("level")
        for level, suffix in levels.items():
            out[f"{prefix}.{suffix}.median"] = months(rows.loc[level, "median"])
        out[f"{prefix}.p"] = float(rows["p_value"].iloc[0])


def derive_subgroup_tables(snap) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Survival page, subgroup table: (PFS, OS) frames of ``table_subgroup_survival`` with the
    populations stated above (PFS per ``PFS_SUBGROUP_POPULATIONS``, OS ITT)."""
    pfs = table_subgroup_survival(snap.adsl, snap.adtte, "PFS", tuple(PFS_SUBGROUP_POPULATIONS),
                                  population=PFS_SUBGROUP_POPULATIONS)
    os_ = table_subgroup_survival(snap.adsl, snap.adtte, "OS", OS_SUBGROUP_FACTORS, population="ITT")
    return pfs, os_


def derive_claim_values_survival(snap) -> dict[str, float | int | str]:
    """Survival page: claim id -> value (Figure 1, PP medians, follow-up, every subgroup comparison)."""
    a, t = snap.adsl, snap.adtte
    out: dict[str, float | int | str] = {}
    out["followup.median"] = months(table_followup(a, t, "OS", "ITT")["median"].iloc[0])
    for param in ("PFS", "OS"):
        key = param.lower()
        _median_claims(out, f"{key}.itt", table_km_summary(derive_tte(a, t, param, "ITT")), ci=True)
        _median_claims(out, f"{key}.pp", table_km_summary(derive_tte(a, t, param, "PP")))
    pfs, os_ = derive_subgroup_tables(snap)
    _subgroup_claims(out, pfs, PFS_CLAIMS)
    _subgroup_claims(out, os_, OS_CLAIMS)
    return out


def derive_claim_values_prognostic(snap) -> dict[str, float | int | str]:
    """Prognostic page: claim id -> value (univariate screen, multivariate OS Cox, PFS HR of 1q21)."""
    a, t = snap.adsl, snap.adtte
    out: dict[str, float | int | str] = {}
    screen = table_univariate_screen(a, t, "OS").set_index("factor")
    for suffix, factor in SCREEN_CLAIMS.items():
        out[f"os.univ.{suffix}.p"] = float(screen.loc[factor, "logrank_p"])
    multi = table_cox_multivariate(a, t, "OS", factors=PAPER_MULTIVARIATE_FACTORS).set_index("factor")
    out["os.cox.n"] = int(multi["n"].iloc[0])
    for suffix, factor in COX_CLAIMS.items():
        r = multi.loc[factor]
        out[f"os.cox.{suffix}.hr"] = float(r["hr"])
        out[f"os.cox.{suffix}.hr.ci_low"] = float(r["hr_lower"])
        out[f"os.cox.{suffix}.hr.ci_high"] = float(r["hr_upper"])
        out[f"os.cox.{suffix}.p"] = float(r["p_value"])
    printed = table_pfs_gain1q_hr(a, t).iloc[1]
    out["pfs.cox.gain1q.hr"] = float(printed["hr"])
    out["pfs.cox.gain1q.hr.ci_low"] = float(printed["hr_lower"])
    out["pfs.cox.gain1q.hr.ci_high"] = float(printed["hr_upper"])
    out["pfs.cox.gain1q.p"] = float(printed["p_value"])
    return out


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
