"""ard.csv, response page: Table 2A, Table 2B and the IMiD split, and the maintenance upgrades.

Readings (docs/paper-readings.md): IMiD split = prior lenalidomide or thalidomide; the upgrade rate's
denominator is the maintenance safety set, and the abstract's upgrade rate
(``mnt.upgrade.pct_abstract``) names the same statistic as the results text (the printed 12.4 % fits
no denominator).
"""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from ixathaldex.analysis.response import table_response, table_response_by_group, table_upgrade_summary
from ixathaldex.claims.ard_rows import ArdRows, registry_by_id

#: Table 2A categories -> claim id part (``t2a.<population>.<part>.n`` / ``.pct``)
T2A = {"CR": "cr", "VGPR": "vgpr", "PR": "pr", "MR": "mr", "ORR": "orr", "CBR": "cbr"}
#: response-by-group factors -> claim stem and the claim part of its levels
GROUP_CLAIMS = {"hr_cyto": ("t2b.hr", {"Y": "pos", "N": "neg"}),
                "gain1q": ("t2b.gain1q", {"Y": "pos", "N": "neg"}),
                "hr_or_1q": ("t2b.hr_or_gain1q", {"Y": "pos", "N": "neg"}),
                "imid": ("resp.imid", {"Y": "naive", "N": "exposed"})}
#: the upgrade transitions the results text names (a transition nobody made is a row with n = 0)
TRANSITIONS = (("VGPR", "CR"), ("PR", "VGPR"), ("PR", "CR"))
BOR = "best overall response"
UPGRADE = "response upgrade in maintenance"


def add_table_2a(ard: ArdRows, t2a: pd.DataFrame) -> None:
    """Table 2A: each population's categories (n, pct and the exact 95 % CI limits)."""
    for r in t2a.to_dict("records"):
        pop, cat = r["population"], r["category"]
        stem = f"t2a.{pop.lower()}.{T2A[cat]}" if cat in T2A else None
        pct_claim = f"resp.{pop.lower()}.vgpr_or_better.pct" if cat == "≥VGPR" else (f"{stem}.pct" if stem else ())
        for stat, value, claim in (("n", int(r["n"]), f"{stem}.n" if stem else ()), ("pct", float(r["pct"]), pct_claim),
                                   ("ci_low", float(r["ci_lower"]), ()), ("ci_high", float(r["ci_upper"]), ())):
            ard.add("table2a", pop, BOR, stat, value, r["N"], level=cat, claim=claim)


def _group_claim(factor: str, level: str, stat: str) -> str | tuple:
    if factor not in GROUP_CLAIMS or level not in GROUP_CLAIMS[factor][1]:
        return ()
    stem, parts = GROUP_CLAIMS[factor]
    part = parts[level]
    if factor == "imid":
        return {"N": f"resp.imid_{part}.n", "pct": f"resp.imid_{part}.orr.pct"}.get(stat, ())
    return f"{stem}.{part}.orr.pct" if stat == "pct" else ()


def add_response_by_group(ard: ArdRows, grp: pd.DataFrame) -> None:
    """Table 2B and the IMiD split: per level the group size, responders, rate and CI; per factor
    the Fisher exact p."""
    for r in grp.to_dict("records"):
        f, lv = r["factor"], r["level"]
        context = "imid" if f == "imid" else "table2b"
        ard.add(context, "ITT", "patients", "n", int(r["N"]), r["N"], group1=f, group1_level=lv,
                claim=_group_claim(f, lv, "N"))
        for stat, value in (("n", int(r["n"])), ("pct", float(r["pct"])), ("ci_low", float(r["ci_lower"])),
                            ("ci_high", float(r["ci_upper"]))):
            ard.add(context, "ITT", BOR, stat, value, r["N"], level=r["rate"], group1=f, group1_level=lv,
                    claim=_group_claim(f, lv, stat))
    for f, rows in grp.groupby("factor", sort=False):
        stem = GROUP_CLAIMS.get(f, (None,))[0]
        ard.add("imid" if f == "imid" else "table2b", "ITT", BOR, "p_fisher", float(rows["p_value"].iloc[0]),
                int(rows["N"].sum()), level=rows["rate"].iloc[0], group1=f, claim=f"{stem}.p" if stem else ())


def add_upgrades(ard: ArdRows, up: pd.DataFrame) -> None:
    """Maintenance upgrades: each transition's n and % of the maintenance safety set; the total's
    n, %, and first and last time (months after the start of maintenance)."""
    anyr = up[up["from"] == "any"].iloc[0]
    N = int(anyr["N"])
    for a, b in dict.fromkeys([*zip(up["from"], up["to"]), *TRANSITIONS]):
        if a == "any":
            continue
        r = up[(up["from"] == a) & (up["to"] == b)]
        n = int(r["n"].iloc[0]) if len(r) else 0
        pct = float(r["pct"].iloc[0]) if len(r) else 0.0
        claim = f"mnt.upgrade.{a.lower()}_to_{b.lower()}.n" if (a, b) in TRANSITIONS else ()
        ard.add("upgrades", "MAINT", UPGRADE, "n", n, N, level=f"{a}→{b}", claim=claim)
        ard.add("upgrades", "MAINT", UPGRADE, "pct", pct, N, level=f"{a}→{b}")
        if len(r):
            ard.add("upgrades", "MAINT", UPGRADE, "time_min", float(r["min_months"].iloc[0]), N, level=f"{a}→{b}")
            ard.add("upgrades", "MAINT", UPGRADE, "time_max", float(r["max_months"].iloc[0]), N, level=f"{a}→{b}")
    ard.add("upgrades", "MAINT", UPGRADE, "n", int(anyr["n"]), N, level="any", claim="mnt.upgrade.n")
    ard.add("upgrades", "MAINT", UPGRADE, "pct", float(anyr["pct"]), N, level="any",
            claim=("mnt.upgrade.pct", "mnt.upgrade.pct_abstract"))
    ard.add("upgrades", "MAINT", UPGRADE, "time_min", float(anyr["min_months"]), N, level="any",
            claim="mnt.upgrade.time.min")
    ard.add("upgrades", "MAINT", UPGRADE, "time_max", float(anyr["max_months"]), N, level="any",
            claim="mnt.upgrade.time.max")


def table_ard_response(snap, claims: Iterable[Mapping] | None = None) -> pd.DataFrame:
    """ard.csv, response page: Table 2A (ITT, PP), response by group with Fisher p, upgrades."""
    ard = ArdRows("response", registry_by_id(claims))
    add_table_2a(ard, table_response(snap.adsl, snap.adrs))
    add_response_by_group(ard, table_response_by_group(snap.adsl, snap.adrs))
    add_upgrades(ard, table_upgrade_summary(snap.adsl, snap.adrs))
    return ard.frame()
