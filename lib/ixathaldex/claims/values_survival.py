"""Survival and prognostic-factor claims: the values the survival pages glue under registry ids.

``derive_claim_values_survival(snap)`` returns every claim shown on the Survival page
(chapters/03_survival.md): the registry's ``survival`` claims (Figure 1, PP medians, follow-up)
**and** the subgroup comparisons of the results text (``pfs.iss.*`` … ``os.risk3.*``, which the
registry files under ``prognostic``; the page shows them beside Figures 2 and 3).
``derive_claim_values_prognostic(snap)`` returns the Cox claims shown on the Prognostic factors
page (chapters/04_prognostic.md): the univariate screen (``os.univ.*.p``), the multivariate model
(``os.cox.*``) and the PFS hazard ratio of gain of 1q21 (``pfs.cox.gain1q.*``).

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

import math

import pandas as pd

from ixathaldex.analysis.populations import PAPER_MULTIVARIATE_FACTORS, derive_adsl, derive_population
from ixathaldex.analysis.survival import (
    OS_SUBGROUP_FACTORS,
    PFS_SUBGROUP_POPULATIONS,
    derive_tte,
    invert_hr,
    table_cox_multivariate,
    table_cox_univariate,
    table_followup,
    table_km_summary,
    table_subgroup_survival,
    table_univariate_screen,
)
from ixathaldex.claims.registry import load_claims
from ixathaldex.claims.review import format_value
from ixathaldex.report.tables import DisplayTable, fmt_p, format_cox

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


#: claim-id prefixes of each display on the two pages (the claims are glued in the cell that shows
#: them, so that the reviewer page's link lands on that table or figure)
CLAIM_GROUPS = {
    "followup": ("followup.",),
    "figure1": ("pfs.itt.", "pfs.pp.", "os.itt.", "os.pp."),
    "pfs_subgroups": tuple(f"{prefix}." for prefix, _, _ in PFS_CLAIMS),
    "os_subgroups": tuple(f"{prefix}." for prefix, _, _ in OS_CLAIMS),
    "screen": ("os.univ.",),
    "multivariate": ("os.cox.",),
    "pfs_hr": ("pfs.cox.",),
}


def select_claims(values: dict, group: str) -> dict:
    """The entries of ``values`` whose id starts with one of ``CLAIM_GROUPS[group]``."""
    prefixes = CLAIM_GROUPS[group]
    return {k: v for k, v in values.items() if k.startswith(prefixes)}


def months(v):
    """A median or CI limit as a claim value: float months, or "NR" when not reached (NaN)."""
    v = float(v)
    return "NR" if not math.isfinite(v) else v


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


def derive_pfs_gain1q_hr(snap) -> pd.DataFrame:
    """Prognostic page: univariate PFS Cox model of gain of 1q21 (PP, FISH with a 1q21 result),
    two rows: gain vs no gain (ours) and no gain vs gain (the paper's printed orientation)."""
    pop = PFS_SUBGROUP_POPULATIONS["gain1q"]
    ours = table_cox_univariate(snap.adsl, snap.adtte, "PFS", ["gain1q"], population=pop)
    both = pd.concat([ours, invert_hr(ours)], ignore_index=True)
    both["orientation"] = ["ours (gain vs no gain)", "as printed (no gain vs gain)"]
    both["population"] = pop
    return both


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
    printed = derive_pfs_gain1q_hr(snap).iloc[1]
    out["pfs.cox.gain1q.hr"] = float(printed["hr"])
    out["pfs.cox.gain1q.hr.ci_low"] = float(printed["hr_lower"])
    out["pfs.cox.gain1q.hr.ci_high"] = float(printed["hr_upper"])
    out["pfs.cox.gain1q.p"] = float(printed["p_value"])
    return out


# ---- prose and display helpers of the two pages -------------------------------------------------

def derive_claim_texts(values: dict, claims=None) -> dict[str, str]:
    """``{claim id + ".text": display string}`` for prose: each value at its claim's printed
    precision ("not reached" for NR), as the reviewer page shows it (``review.format_value``);
    p-values come with their relation ("p = 0.319", "p < 0.0001") and medians with their unit
    ("9.4 months", "not reached"); CI limits are bare numbers."""
    registry = {c["id"]: c for c in (claims if claims is not None else load_claims())}
    out = {}
    for k, v in values.items():
        claim = registry.get(k, {})
        text = format_value(v, claim)
        if claim.get("unit") == "months" and text not in ("not reached", "not computed"):
            text = f"{float(v):.1f}"  # one decimal even where the paper printed "NR" (no decimals)
        if claim.get("rule") == "pvalue":  # "p = 0.319" or "p < 0.0001", ready for prose
            text = f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"
        elif k.endswith("median") and claim.get("unit") == "months" and text != "not reached":
            text += " months"  # a median carries its unit ("9.4 months" / "not reached")
        out[f"{k}.text"] = text
    return out


def format_univariate_screen(screen: pd.DataFrame, caption: str, name: str = "") -> "DisplayTable":
    """Prognostic page, univariate OS screen display from ``survival.table_univariate_screen``:
    the Cox columns of ``format_cox`` plus the log-rank p and whether the factor is selected."""
    dt = format_cox(screen, caption, name=name)
    thr = float(screen["threshold"].iloc[0])
    dt.frame["Log-rank p"] = [fmt_p(p) for p in screen["logrank_p"]]
    dt.frame[f"Selected (log-rank p < {thr:g})"] = ["yes" if s else "no" for s in screen["selected"]]
    dt.footnote += (f" Selection for the multivariate model: log-rank p < {thr:g}. Gain of 1q21 is "
                    "coded detected vs not detected (a missing probe counts as not detected).")
    return dt


def format_cox_directions(cox: pd.DataFrame, caption: str, name: str = "",
                          event: str = "death") -> "DisplayTable":
    """Prognostic page, Cox display: level vs reference, n (events), HR (CI), Wald p, and the
    reading of each HR in words ("higher hazard of <event> with <level> than with <reference>")."""
    dt = format_cox(cox, caption, name=name)
    dt.frame = dt.frame.drop(columns=["Factor"])
    if "orientation" in cox:
        dt.frame.insert(0, "Orientation", list(cox["orientation"]))
    dt.frame["Reading"] = [_reading(r, event) for _, r in cox.iterrows()]
    return dt


def _reading(row, event: str) -> str:
    if not row.get("estimable", True) or not math.isfinite(row["hr"]):
        return "not estimable (monotone likelihood)"
    word = "higher" if row["hr"] > 1 else "lower"
    return f"{word} hazard of {event} with {row['level']} than with {row['reference']}"


def derive_page_numbers(snap, prefix: str) -> dict[str, object]:
    """Non-claim numbers of the survival pages, keyed ``<prefix>.<name>``: snapshot id, cut-off
    date, N of ITT, PP, FISH-evaluable (all and within PP), and the FISH patients with a 1q21
    result (PP) — the populations of Figures 1–3 and the subgroup tables."""
    itt = derive_adsl(derive_population(snap.adsl, "ITT"))
    pp = derive_adsl(derive_population(snap.adsl, "PP"))
    nums = {"snapshot": snap.cut, "cutoff": snap.cutoff.isoformat(), "n_itt": len(itt),
            "n_pp": len(pp), "n_fish": int((itt["FISHFL"] == "Y").sum()),
            "n_fish_pp": int((pp["FISHFL"] == "Y").sum()),
            "n_gain1q_known_pp": int(pp["GAIN1QFL"].notna().sum()),
            "n_gain1q_known": int(itt["GAIN1QFL"].notna().sum())}
    return {f"{prefix}.{k}": v for k, v in nums.items()}


def derive_screen_text(screen: pd.DataFrame) -> dict[str, str]:
    """Prognostic page prose: the factors the univariate screen selects and those it leaves out,
    each named by its adverse (non-reference) level, joined with commas; keyed
    ``s04.screen.selected`` / ``s04.screen.not_selected``."""
    lab = screen.drop_duplicates("factor")
    sel = lab.loc[lab["selected"], "level"]
    out = lab.loc[~lab["selected"], "level"]
    return {"s04.screen.selected": ", ".join(sel) or "none",
            "s04.screen.not_selected": ", ".join(out) or "none"}
