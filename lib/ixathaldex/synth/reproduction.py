"""The calibration report's three figures, read the way the build reads a cut: through the claims layer.

After the search, each generated cut is loaded as a snapshot (``data.snapshot.load_snapshot``), its
analysis-results dataset computed with the build's own function (``claims.ard.table_ard``), every
claim's value read from it (``claims.ard_rows.derive_ard_claim_values``, what the chapters glue) and
judged by the registry (``claims.registry.compare``: "exact" is ``claims.precision.is_exact``). The
figures are counted per ``claims.calibration_summary.calibration_group``, so ``calibration.md``, the
reviewer page's calibration box and ``docs/calibration.md`` give the same numbers by construction.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd

from ixathaldex.claims.ard import table_ard
from ixathaldex.claims.ard_rows import derive_ard_claim_values
from ixathaldex.claims.calibration_summary import calibration_group, table_calibration_summary
from ixathaldex.claims.registry import compare, load_claims
from ixathaldex.data.snapshot import load_snapshot

COLUMNS = ["id", "rule", "published", "reproduced", "verdict", "group"]


def table_cut_claims(folder: str | Path, cut_id: str, claims: list | None = None) -> pd.DataFrame:
    """Every claim of the registry on the cut in ``folder``: id, rule, published, reproduced, verdict,
    group (``calibration_group``). ``folder`` may be a staged folder of any name: it is read as the
    snapshot ``cut_id`` from a temporary copy."""
    registry = load_claims() if claims is None else claims
    with tempfile.TemporaryDirectory(prefix="ixathaldex-claims-") as root:
        shutil.copytree(folder, Path(root) / cut_id)
        snap = load_snapshot(cut_id, root=Path(root), validate=False)
        values = derive_ard_claim_values(table_ard(snap, registry))
    rows = []
    for c in registry:
        value = values.get(c["id"])
        verdict = compare(c, value)[0] if value is not None else "not computable"
        rows.append({"id": c["id"], "rule": c["rule"], "published": c["published"], "reproduced": value,
                     "verdict": verdict, "group": calibration_group(c["rule"], c["published"])})
    return pd.DataFrame(rows, columns=COLUMNS)


def derive_figures(frame: pd.DataFrame) -> dict:
    """The three figures, as [number, of]: counts exact; survival and inferential numbers exact at
    the printed precision; survival and inferential numbers within tolerance (exact included)."""
    s = table_calibration_summary(frame).set_index("group")
    counts, inf = s.loc["counts"], s.loc["survival and inferential"]
    return {"counts_exact": [int(counts["exact"]), int(counts["claims"])],
            "survival_exact_printed_precision": [int(inf["exact"]), int(inf["claims"])],
            "survival_within_tolerance": [int(inf["exact"] + inf["within tolerance"]), int(inf["claims"])]}


def derive_headline(figures: dict) -> str:
    """The three figures in one line (the command's last line and the report's headline)."""
    c, e, w = (figures[k] for k in ("counts_exact", "survival_exact_printed_precision", "survival_within_tolerance"))
    return (f"counts exact: {c[0]}/{c[1]}; survival and inferential numbers exact at the printed precision: "
            f"{e[0]}/{e[1]}; within tolerance: {w[0]}/{w[1]}")
