"""Reviewer page of a synthetic version, "Calibration of the synthetic cohort": how closely the
generated cohort reproduces the paper, in three figures, and the numbers it was allowed to miss.

The figures are read from the version's claims.json (the reviewer frame), whose verdicts were decided
once by :func:`ixathaldex.claims.precision.is_exact` and the claim's tolerance rule when the build
collected the values; nothing here re-decides "exact". The misses are the ``misses`` list of the
snapshot's ``calibration.json`` (written by the generator), when it has one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ixathaldex.claims.registry import VERDICTS
from ixathaldex.exceptions import ClaimsError
from ixathaldex.values import read_value

#: rules of the survival and inferential numbers (a p-value only when a number is printed, not a bound)
INFERENTIAL_RULES = ("median", "ci_limit", "pvalue", "hr")
GROUPS = ("counts", "survival and inferential")


def calibration_group(rule: str, published) -> str:
    """The calibration group of a claim: 'counts' (rule exact), 'survival and inferential' (a median,
    confidence limit, hazard ratio or a p-value printed as a number, not as a bound), else ''."""
    if rule == "exact":
        return "counts"
    if rule in INFERENTIAL_RULES:
        value = read_value(published)
        if value is not None and not value.is_missing and not value.is_bound and not value.is_not_reached:
            return "survival and inferential"
    return ""


def table_calibration_summary(reviewer: pd.DataFrame) -> pd.DataFrame:
    """Reviewer page, calibration of the synthetic cohort: claims per group by verdict.

    ``reviewer`` needs the columns rule, published and verdict. One row per group of ``GROUPS``
    (counts; survival and inferential numbers printed as plain values); columns group, claims, exact,
    within tolerance, differs, not computable. A group without claims has zeros.
    """
    groups = [calibration_group(r, p) for r, p in zip(reviewer["rule"], reviewer["published"])]
    rows = []
    for group in GROUPS:
        verdicts = [v for g, v in zip(groups, reviewer["verdict"]) if g == group]
        row = {"group": group, "claims": len(verdicts)}
        row.update({v: sum(1 for x in verdicts if x == v) for v in VERDICTS})
        rows.append(row)
    return pd.DataFrame(rows, columns=["group", "claims", *VERDICTS])


def load_calibration_misses(snapshot_dir: str | Path) -> pd.DataFrame:
    """The numbers the synthetic cohort misses, from ``<snapshot>/calibration.json`` ``misses``.

    Columns claim and reason (other fields of an entry are kept as columns). An absent file or an
    absent ``misses`` key, or an empty list (a cut with nothing missed), gives an empty frame; a file that is not JSON, a ``misses`` that is not a
    list, or an entry without a non-empty ``claim`` and ``reason`` is a ClaimsError naming the file
    and the entry.
    """
    path = Path(snapshot_dir) / "calibration.json"
    empty = pd.DataFrame(columns=["claim", "reason"])
    if not path.is_file():
        return empty
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClaimsError(f"{path}: cannot read calibration.json: {exc}") from None
    misses = data.get("misses") if isinstance(data, dict) else None
    if misses is None:
        return empty
    if not isinstance(misses, list):
        raise ClaimsError(f"{path}: 'misses' must be a list of objects with 'claim' and 'reason'")
    for i, entry in enumerate(misses):
        bad = [k for k in ("claim", "reason") if not isinstance(entry, dict) or not str(entry.get(k) or "").strip()]
        if bad:
            raise ClaimsError(f"{path}: misses[{i}]: missing or empty field(s) {', '.join(bad)}")
    if not misses:
        return empty
    frame = pd.DataFrame(misses)
    return frame[["claim", "reason"] + [c for c in frame.columns if c not in ("claim", "reason")]]
