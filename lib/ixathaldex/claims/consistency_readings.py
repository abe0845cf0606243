"""docs/paper-readings.md, section 4: the recheck's findings and the readings chosen, generated.

The section between :data:`BEGIN` and :data:`END` is written from :func:`table_consistency`'s findings
(counts per family and verdict, then every finding that is not consistent, with its recomputation,
explanation and reading); ``scripts/paper_readings.py`` rewrites it, and a test fails when the
document and the findings disagree.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ixathaldex.claims.printed import RECHECK_VERDICTS
from ixathaldex.exceptions import ClaimsError
from ixathaldex.files import write_if_changed

BEGIN = "<!-- BEGIN GENERATED: findings (scripts/paper_readings.py; do not edit by hand) -->"
END = "<!-- END GENERATED: findings -->"


def _cell(text) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def format_counts_markdown(findings: pd.DataFrame) -> str:
    """Findings per family and verdict as a Markdown table (families in order of first appearance)."""
    head = "| family | " + " | ".join(RECHECK_VERDICTS) + " | total |"
    lines = [head, "|" + "---|" * (len(RECHECK_VERDICTS) + 2)]
    for fam in dict.fromkeys(findings["family"]):
        sub = findings[findings["family"] == fam]
        counts = [int((sub["verdict"] == v).sum()) for v in RECHECK_VERDICTS]
        lines.append(f"| {fam} | " + " | ".join(map(str, counts)) + f" | {len(sub)} |")
    counts = [int((findings["verdict"] == v).sum()) for v in RECHECK_VERDICTS]
    lines.append("| **all** | " + " | ".join(map(str, counts)) + f" | {len(findings)} |")
    return "\n".join(lines)


def format_findings_markdown(findings: pd.DataFrame) -> str:
    """The generated section: counts, then every finding that is not consistent, by verdict and family."""
    out = [BEGIN, "", "Generated from `table_consistency()`: every verdict is computed from "
           "`data/published/claims.yaml` and `data/published/assertions.yaml`.", "",
           format_counts_markdown(findings), ""]
    for verdict in RECHECK_VERDICTS[1:]:
        sub = findings[findings["verdict"] == verdict]
        if not len(sub):
            continue
        out += [f"### Findings: {verdict} ({len(sub)})", ""]
        for r in sub.to_dict("records"):
            out.append(f"- **`{r['id']}`** ({r['family']}; {r['section']}). Printed: {_cell(r['published'])}. "
                       f"Recomputed: {_cell(r['recomputed'])}. {_cell(r['explanation'])}"
                       + (f" *Reading:* {_cell(r['reading'])}." if r["reading"] else "")
                       + f" Claims: {', '.join(f'`{c}`' for c in r['claims'])}.")
        out.append("")
    out.append(END)
    return "\n".join(out)


def update_readings_text(text: str, findings: pd.DataFrame) -> str:
    """``text`` with its generated section replaced by the current findings."""
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < start:
        raise ClaimsError("docs/paper-readings.md: the generated findings markers are missing or out of order")
    return text[:start] + format_findings_markdown(findings) + text[stop + len(END):]


def write_paper_readings(path: str | Path, findings: pd.DataFrame) -> bool:
    """Rewrite the generated section of docs/paper-readings.md; True when the file changed."""
    path = Path(path)
    return write_if_changed(path, update_readings_text(path.read_text(encoding="utf-8"), findings))
