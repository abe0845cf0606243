"""What-changed page, at a glance: the survival curves of two versions and the estimates that moved.

The page (``book/changes.md``) compares a version with the one before it. This module makes the tidy
frames its figures draw (``report.figures_changes``) and the sentences it states:

- :func:`derive_version_tte` and :func:`table_km_versions` / :func:`table_at_risk_versions`: the
  Kaplan–Meier steps and numbers at risk of one population in both versions (PFS and OS, ITT);
- :func:`table_estimates_moved`: the registered medians, hazard ratios and p-values whose value
  moved between the two versions' analysis-results datasets (``claims.ard.table_ard_changes``),
  largest change first within each kind;
- :func:`derive_data_comparison`: whether the two versions' data come from different sources or
  from different runs of the synthetic-data generator, read from their manifests;
- :func:`derive_changes_context`: the numbers the figures' captions glue.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from ixathaldex.analysis.survival import at_risk_counts, derive_tte, km_curve
from ixathaldex.claims.ard_rows import P_STATS
from ixathaldex.claims.notice import derive_source_comparison, is_synthetic
from ixathaldex.exceptions import ClaimsError

#: the two versions of a comparison, in drawing order (the previous one under this one)
ROLES = ("previous", "current")
ROLE_NAMES = {"previous": "Previous version", "current": "This version"}
#: the kinds of estimate of the before-and-after plot: ARD stat names -> kind, and the kinds' order
KIND_OF_STAT = {"median": "median", "hr": "hr", **{p: "p" for p in P_STATS}}
KINDS = ("median", "hr", "p")
KIND_TITLES = {"median": "Medians (months)", "hr": "Hazard ratios", "p": "p-values"}
#: at most this many estimates of one kind are drawn (the largest changes); the rest are in the table
MAX_ROWS = 25
KM_COLUMNS = ["param", "population", "role", "version", "cutoff", "label", "n", "events", "time", "survival",
              "censored"]
AT_RISK_COLUMNS = ["param", "role", "label", "time", "at_risk"]
MOVED_COLUMNS = ["kind", "label", "population", "variable", "previous", "current", "previous_display",
                 "current_display", "kind_changed", "size", "rank", "shown", "claim_id"]


# --------------------------------------------------------------------------- survival curves
def version_label(role: str, version: str, cutoff: str, n: int) -> str:
    """The legend entry of one version: "This version (cut-off 2019-12-31), n = 90"; the snapshot id
    is named too when it differs from the cut-off date."""
    which = ROLE_NAMES[role] + (f" {version}" if version and version != cutoff else "")
    return f"{which} (cut-off {cutoff}), n = {n}"


def derive_version_tte(previous, current, params: Iterable[str] = ("PFS", "OS"),
                       population: str = "ITT") -> pd.DataFrame:
    """What changed, survival figure: the time to event of every patient of ``population`` in both
    snapshots (``data.snapshot.Snapshot``), one row per patient, endpoint and version.

    Columns ``param``, ``population``, ``role`` (previous / current), ``version`` (snapshot id),
    ``cutoff``, ``time`` (months), ``event`` (1 = event).
    """
    parts = []
    for role, snap in zip(ROLES, (previous, current)):
        cutoff = str(snap.manifest.get("cutoff_date") or snap.cut)
        for param in params:
            tte = derive_tte(snap.adsl, snap.adtte, param, population)
            parts.append(pd.DataFrame({"param": param, "population": population, "role": role,
                                       "version": snap.cut, "cutoff": cutoff, "time": tte["time"].to_numpy(float),
                                       "event": tte["event"].to_numpy(int)}))
    return pd.concat(parts, ignore_index=True)


def _check_tte(tte: pd.DataFrame) -> None:
    need = {"param", "population", "role", "version", "cutoff", "time", "event"}
    missing = sorted(need - set(tte.columns))
    if missing:
        raise ClaimsError(f"what-changed survival frame: missing column(s) {', '.join(missing)}")
    unknown = sorted(set(tte["role"]) - set(ROLES))
    if unknown:
        raise ClaimsError(f"what-changed survival frame: column role: unknown value(s) {unknown} "
                          f"(rule: one of {', '.join(ROLES)})")


def _groups(tte: pd.DataFrame):
    """(param, role, rows) in the frame's endpoint order, previous before current."""
    for param in dict.fromkeys(tte["param"]):
        for role in ROLES:
            g = tte[(tte["param"] == param) & (tte["role"] == role)]
            if len(g):
                yield param, role, g


def table_km_versions(tte: pd.DataFrame) -> pd.DataFrame:
    """What changed, survival figure: the Kaplan–Meier step points of each endpoint in both versions.

    ``tte`` as :func:`derive_version_tte` returns it. One row per distinct time of a version's curve,
    with a first row at time 0 (survival 1): ``param``, ``population``, ``role``, ``version``,
    ``cutoff``, ``label`` (legend entry), ``n``, ``events``, ``time``, ``survival`` (just after the
    time) and ``censored`` (patients censored at that time).
    """
    _check_tte(tte)
    rows = []
    for param, role, g in _groups(tte):
        curve = km_curve(g["time"], g["event"])
        first = g.iloc[0]
        n, events = len(g), int(g["event"].sum())
        head = {"param": param, "population": first["population"], "role": role, "version": first["version"],
                "cutoff": first["cutoff"], "label": version_label(role, first["version"], first["cutoff"], n),
                "n": n, "events": events}
        steps = pd.concat([pd.DataFrame({"time": [0.0], "survival": [1.0], "censored": [0]}),
                           curve[["time", "survival", "censored"]]], ignore_index=True)
        steps = steps.groupby("time", as_index=False, sort=True).agg({"survival": "last", "censored": "sum"})
        rows.append(steps.assign(**head))
    return pd.concat(rows, ignore_index=True)[KM_COLUMNS]


def table_at_risk_versions(tte: pd.DataFrame, step: float = 6) -> pd.DataFrame:
    """What changed, survival figure: numbers at risk (T ≥ t) of both versions, every ``step`` months
    from 0 to the longer version's last time (rounded up to the step), per endpoint.

    Columns ``param``, ``role``, ``label`` (as :func:`table_km_versions`), ``time``, ``at_risk``.
    """
    _check_tte(tte)
    rows = []
    for param in dict.fromkeys(tte["param"]):
        last = float(tte.loc[tte["param"] == param, "time"].max())
        grid = list(np.arange(0.0, math.ceil(last / step) * step + 1e-9, step))
        for p, role, g in _groups(tte[tte["param"] == param]):
            first = g.iloc[0]
            label = version_label(role, first["version"], first["cutoff"], len(g))
            rows += [{"param": p, "role": role, "label": label, "time": t, "at_risk": n}
                     for t, n in zip(grid, at_risk_counts(g["time"], grid))]
    return pd.DataFrame(rows, columns=AT_RISK_COLUMNS)


# --------------------------------------------------------------------------- estimates that moved
def _label(claim_ids: list[str], registry: Mapping[str, Mapping], population: str) -> str:
    """The registry's name of the first claim (without a trailing remark in parentheses) and the
    population the estimate was computed in."""
    claim = registry.get(claim_ids[0]) if claim_ids else None
    quantity = str(claim.get("quantity") or claim_ids[0]) if claim else (claim_ids[0] if claim_ids else "")
    if quantity.endswith(")") and " (" in quantity:
        quantity = quantity[: quantity.rindex(" (")]
    return f"{quantity} ({population})" if population else quantity


def _size(kind: str, previous: float, current: float) -> float:
    """How far an estimate moved: months for a median, |ln(current / previous)| for a ratio or a
    p-value (a halving and a doubling are as far); infinite when one side has no number."""
    if not (np.isfinite(previous) and np.isfinite(current)):
        return math.inf
    if kind == "median":
        return abs(current - previous)
    if previous <= 0 or current <= 0:
        return math.inf
    return abs(math.log(current / previous))


def table_estimates_moved(ard_changes: pd.DataFrame, claims: Iterable[Mapping] = (),
                          max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """What changed, before-and-after plot: every registered median, hazard ratio and p-value whose
    value moved between the two versions.

    ``ard_changes`` is :func:`ixathaldex.claims.ard.table_ard_changes` of the two versions' ARDs;
    only its rows with status "changed", a claim id and a stat name of ``KIND_OF_STAT`` are kept.
    ``claims`` (the registry) names each estimate. Columns ``MOVED_COLUMNS``: ``kind`` (median, hr,
    p), ``label``, ``population``, ``variable``, ``previous`` / ``current`` (NaN = not reached),
    their display texts, ``kind_changed`` (one side has no number, e.g. a median now reached),
    ``size`` (see :func:`_size`), ``rank`` (0 = the largest change of its kind), ``shown`` (rank <
    ``max_rows``) and ``claim_id``. One statistic printed on two pages (same population, variable,
    grouping and both values) is one row, its claim ids joined. Rows: kind by kind, largest change first.
    """
    need = {"status", "claim_id", "stat_name", "population", "variable", "group1", "group1_level",
            "previous", "stat", "previous_display", "stat_display"}
    missing = sorted(need - set(ard_changes.columns))
    if missing:
        raise ClaimsError(f"what-changed estimates: the ARD changes lack column(s) {', '.join(missing)}")
    registry = {c["id"]: c for c in claims}
    keep = ard_changes[(ard_changes["status"] == "changed") & (ard_changes["claim_id"].astype(str) != "")
                       & ard_changes["stat_name"].isin(list(KIND_OF_STAT))]
    rows: dict[tuple, dict] = {}
    for r in keep.to_dict("records"):
        kind = KIND_OF_STAT[r["stat_name"]]
        prev, cur = float(r["previous"]), float(r["stat"])
        key = (kind, r["population"], r["variable"], r["group1"], r["group1_level"], r["previous_display"],
               r["stat_display"])
        ids = [c for c in str(r["claim_id"]).split("; ") if c]
        if key in rows:
            rows[key]["claim_id"] += "; " + "; ".join(ids)
            continue
        rows[key] = {"kind": kind, "label": _label(ids, registry, r["population"]), "population": r["population"],
                     "variable": r["variable"], "previous": prev, "current": cur,
                     "previous_display": r["previous_display"], "current_display": r["stat_display"],
                     "kind_changed": not (np.isfinite(prev) and np.isfinite(cur)), "size": _size(kind, prev, cur),
                     "claim_id": "; ".join(ids)}
    frame = pd.DataFrame(list(rows.values()), columns=[c for c in MOVED_COLUMNS if c not in ("rank", "shown")])
    frame["_kind"] = frame["kind"].map(KINDS.index)
    frame = frame.sort_values(["_kind", "size"], ascending=[True, False], kind="stable").reset_index(drop=True)
    frame["rank"] = frame.groupby("kind").cumcount().astype(int)
    frame["shown"] = frame["rank"] < max_rows
    frame[["previous", "current", "size"]] = frame[["previous", "current", "size"]].astype(float)
    frame["kind_changed"] = frame["kind_changed"].astype(bool)
    return frame[MOVED_COLUMNS]


# --------------------------------------------------------------------------- data sources
def _release(text: str) -> tuple | None:
    """A generator version as numbers ("1.10.0" -> (1, 10, 0)); None when it is not dotted numbers."""
    parts = str(text).split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def _generator(manifest: Mapping) -> tuple[str, str]:
    prov = manifest.get("provenance") or {}
    return str(prov.get("generator") or ""), str(prov.get("generator_version") or "")


def derive_data_comparison(manifest: Mapping, previous: Mapping | None) -> str:
    """What changed, first paragraph: what the two versions' data are, compared from their manifests.

    Different sources (synthetic vs the trial's data): the sentence of
    :func:`ixathaldex.claims.notice.derive_source_comparison`. Both synthetic, from a different
    generator or generator version (``provenance.generator`` / ``generator_version``): the cohort was
    regenerated, so the differences mix new follow-up and the new calibration. Both synthetic with the
    same generator version but other settings (``seed``, ``moves``): likewise. Both synthetic, same run:
    the differences come from the data cut. Both the trial's data, or no previous version: empty.
    """
    if previous is None:
        return ""
    source = derive_source_comparison(dict(manifest), dict(previous))
    if source or not is_synthetic(manifest):
        return source
    (name, version), (prev_name, prev_version) = _generator(manifest), _generator(previous)
    now, before = f"{name} {version}".strip() or "unknown", f"{prev_name} {prev_version}".strip() or "unknown"
    if (name, version) != (prev_name, prev_version):
        a, b = _release(version), _release(prev_version)
        how = ("a different generator" if name != prev_name else
               "a newer version of the generator" if a and b and a > b else
               "an older version of the generator" if a and b and a < b else "another version of the generator")
        return (f"The synthetic cohort of this version was regenerated by {how} ({before} before, {now} now): "
                "the differences below mix new follow-up and the new calibration, they are not the effect "
                "of new follow-up alone.")
    settings = [k for k in ("seed", "moves") if (manifest.get("provenance") or {}).get(k)
                != (previous.get("provenance") or {}).get(k)]
    if settings:
        return (f"Both versions' synthetic data come from {now}, but with different settings "
                f"({', '.join(settings)}): the cohort was regenerated, so the differences below mix new "
                "follow-up and a new draw of the cohort.")
    return (f"Both versions' synthetic data come from the same generator and settings ({now}): the "
            "differences below come from the later data cut-off.")


# --------------------------------------------------------------------------- captions
def derive_changes_context(km: pd.DataFrame, moved: pd.DataFrame, max_rows: int = MAX_ROWS) -> dict[str, Any]:
    """The numbers the what-changed page's captions glue, under ``changes.``: ``previous`` /
    ``current`` (snapshot ids), ``cutoff.*``, ``n.*`` (patients of the curves' population),
    ``population``, ``moved.total`` (estimates that moved), ``moved.shown`` (drawn) and
    ``moved.left_out`` (not drawn, in the table) and ``moved.max_rows`` (the most drawn per kind)."""
    out: dict[str, Any] = {}
    for role in ROLES:
        first = km[km["role"] == role].iloc[0]
        out[f"changes.{role}"] = str(first["version"])
        out[f"changes.cutoff.{role}"] = str(first["cutoff"])
        out[f"changes.n.{role}"] = int(first["n"])
    out["changes.population"] = str(km["population"].iloc[0])
    out["changes.moved.total"] = int(len(moved))
    out["changes.moved.shown"] = int(moved["shown"].sum())
    out["changes.moved.left_out"] = int(len(moved) - moved["shown"].sum())
    out["changes.moved.max_rows"] = int(max_rows)
    return out
