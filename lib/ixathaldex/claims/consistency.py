"""Reviewer page, second section: the paper's own arithmetic rechecked from its printed numbers alone.

Like statcheck and GRIM: every percentage against its count and denominator, Fisher p-values against
the 2x2 tables the printed percentages imply, hazard-ratio CIs against their p-values and against the
medians, subgroup medians against the pooled median, sums of counts, and quantities printed twice
with two values. Checks are driven by the registry (``numerator`` / ``denominator`` fields) and by
small tables of specifications that name claim ids only: every number comes from
``data/published/claims.yaml``. The two families of checks are
:mod:`ixathaldex.claims.consistency_counts` (counts, percentages, sums, ranges, restatements) and
:mod:`ixathaldex.claims.consistency_inference` (Fisher p-values, hazard ratios, medians, Cox
selection, wording); how a check reads a printed number is :mod:`ixathaldex.claims.printed`. The
readings chosen are documented in docs/paper-readings.md.
"""

from __future__ import annotations

import pandas as pd

from ixathaldex.claims import consistency_counts as counts
from ixathaldex.claims import consistency_inference as inference
from ixathaldex.claims.printed import COLUMNS, index_claims
from ixathaldex.claims.registry import load_claims


def table_consistency(claims=None) -> pd.DataFrame:
    """Reviewer page, arithmetic recheck: one row per check of the paper's printed numbers.

    Columns: check, claims (comma-separated ids), printed, implied, verdict (consistent /
    inconsistent / note), reading (the reading the reproduction uses when they disagree). ``claims``
    is the registry (list of dicts or DataFrame); default: the project's registry. A check whose
    claims are missing from a partial registry is skipped.
    """
    by = index_claims(load_claims() if claims is None else claims)
    rows: list[dict] = []
    for fn in (counts.derive_percentage_checks, inference.derive_fisher_checks,
               inference.derive_responder_total_checks, inference.derive_hazard_ratio_checks,
               inference.derive_median_checks, counts.derive_sum_checks, counts.derive_range_checks,
               inference.derive_cox_selection_checks, counts.derive_restatement_checks,
               inference.derive_wording_checks):
        rows += fn(by)
    return pd.DataFrame(rows, columns=COLUMNS)
