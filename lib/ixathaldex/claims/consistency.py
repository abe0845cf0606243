"""Reviewer page, second section (consistency.json): the paper's own arithmetic rechecked from its printed numbers.

Like statcheck and GRIM, every verdict is computed from the registries alone (no patient data):
``data/published/claims.yaml`` (the printed numbers) and ``data/published/assertions.yaml`` (what the
text asserts about them). The families of checks:

- :mod:`ixathaldex.claims.consistency_counts`: percentage, two percentages, rounded total, restatement;
- :mod:`ixathaldex.claims.consistency_sums`: sum, responder split, analysis n;
- :mod:`ixathaldex.claims.consistency_inference`: fisher, hazard ratio;
- :mod:`ixathaldex.claims.consistency_medians`: interval, pooled median, same group;
- :mod:`ixathaldex.claims.consistency_wording`: wording, grouping, definition, selection.

Verdicts (:data:`ixathaldex.claims.printed.RECHECK_VERDICTS`): consistent, rounding (a printing slip:
truncated, rounded twice, summed after rounding, printed coarsely), inconsistent, not checkable. The
findings and the readings the project chose are generated into docs/paper-readings.md
(:mod:`ixathaldex.claims.consistency_readings`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ixathaldex.claims import consistency_counts as counts
from ixathaldex.claims import consistency_inference as inference
from ixathaldex.claims import consistency_medians as medians
from ixathaldex.claims import consistency_sums as sums
from ixathaldex.claims import consistency_wording as wording
from ixathaldex.claims.assertions import load_assertions
from ixathaldex.claims.printed import COLUMNS, index_claims
from ixathaldex.claims.registry import load_claims
from ixathaldex.files import write_atomic

#: every family's check, each a function of the claims by id (and, for the wording, the assertions)
CHECKS = (counts.derive_percentage_checks, counts.derive_two_percentage_checks, counts.derive_rounded_total_checks,
          counts.derive_restatement_checks, sums.derive_sum_checks, sums.derive_responder_checks,
          sums.derive_analysis_n_checks, inference.derive_fisher_checks, inference.derive_hazard_ratio_checks,
          medians.derive_interval_checks, medians.derive_pooled_checks, medians.derive_same_group_checks,
          wording.derive_selection_checks)


def derive_findings(by, assertions) -> list[dict]:
    """Every finding (one dict per row of :func:`table_consistency`) from the claims by id and the assertions."""
    rows: list[dict] = []
    for fn in CHECKS:
        rows += fn(by)
    rows += wording.derive_assertion_checks(by, assertions)
    seen: set[str] = set()
    for r in rows:
        if r["id"] in seen:
            raise ValueError(f"two findings share the id {r['id']!r}")
        seen.add(r["id"])
    return rows


def table_consistency(claims=None, assertions=None) -> pd.DataFrame:
    """Reviewer page, arithmetic recheck: one row per finding about the paper's printed numbers.

    Columns (:data:`ixathaldex.claims.printed.COLUMNS`): id (stable, dotted), family, section (of the
    first claim's first location), verdict (consistent / rounding / inconsistent / not checkable),
    claims (list of ids, subject first), published, recomputed, explanation, reading. ``claims`` is the
    registry (list of dicts or DataFrame; default the project's), ``assertions`` the assertions
    registry (default: the project's). A check none of whose claims is in a partial registry is
    skipped; one missing some of them is "not checkable".
    """
    by = index_claims(load_claims() if claims is None else claims)
    if assertions is None:
        assertions = load_assertions(claim_ids=set(by) if claims is None else None)
    return pd.DataFrame(derive_findings(by, assertions), columns=COLUMNS)


def write_consistency_json(path: str | Path, findings: pd.DataFrame) -> Path:
    """consistency.json: the findings as a JSON list of records (claims as lists); returns the path."""
    records = [{k: (list(v) if k == "claims" else v) for k, v in row.items()} for row in findings.to_dict("records")]
    path = Path(path)
    write_atomic(path, json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    return path
