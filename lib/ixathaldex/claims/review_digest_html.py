"""Reviewer page, HTML of the part read first: the summary tables, "What does not reproduce", "Where
the paper contradicts itself" and, for a synthetic version, the calibration box.

Each ``format_*_html`` renders a frame of :mod:`ixathaldex.claims.review_summary` or
:mod:`ixathaldex.claims.calibration_summary`; these tables are static (no filter, no sort): every row
links to the claim's (``#claim-<id>``) or the finding's (``#finding-<id>``) row in the folded groups
below, which ``book/_static/reviewer.js`` opens. The DOM contract is in docs/reviewer.md.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from ixathaldex.claims.calibration_summary import load_calibration_misses, table_calibration_summary
from ixathaldex.claims.notice import is_synthetic
from ixathaldex.claims.printed import RECHECK_VERDICTS
from ixathaldex.claims.registry import VERDICTS
from ixathaldex.claims.review import claim_anchor, derive_own_reason
from ixathaldex.claims.review_html import (
    REVIEWER_TABLE_ID,
    badge_cell,
    breakable,
    escape,
    finding_anchor,
    number_cell,
    slug,
)
from ixathaldex.claims.review_summary import table_claim_findings


def _claim_link(claim_id: str) -> str:
    return f'<a href="#{escape(claim_anchor(claim_id))}"><code>{breakable(claim_id)}</code></a>'


def _cells(values: Iterable[int]) -> str:
    return "".join(f'<td class="ixathaldex-num">{int(v)}</td>' for v in values)


def format_summary_html(summary: pd.DataFrame, caption: str, first_label: str, *,
                        link_groups: bool = False) -> str:
    """Reviewer page, summary: a small table of :func:`table_review_summary` (one row per chapter or
    section, claims by verdict and findings by recheck verdict, a total row).

    With ``link_groups`` each row's label links to its folded group of claims (``#ixathaldex-claims-<slug>``).
    """
    by = summary.columns[0]
    claim_cols, check_cols = ["claims", *VERDICTS], ["findings", *RECHECK_VERDICTS]
    head = (f'<tr><th scope="col" rowspan="2">{escape(first_label)}</th>'
            f'<th scope="colgroup" colspan="{len(claim_cols)}">Claims, against this version\'s data</th>'
            f'<th scope="colgroup" colspan="{len(check_cols)}">Recheck of the printed numbers</th></tr><tr>'
            + "".join(f'<th scope="col">{escape(c)}</th>' for c in claim_cols + check_cols) + "</tr>")
    rows = []
    for r in summary.to_dict("records"):
        label = escape(r[by])
        if link_groups and r["claims"]:
            label = f'<a href="#{REVIEWER_TABLE_ID}-{slug(r[by])}">{label}</a>'
        rows.append(f'<tr><th scope="row">{label}</th>{_cells(r[c] for c in claim_cols + check_cols)}</tr>')
    total = summary[claim_cols + check_cols].sum()
    foot = f'<tr><th scope="row">all</th>{_cells(total[c] for c in claim_cols + check_cols)}</tr>'
    return (f'<div class="ixathaldex-scroll"><table class="ixathaldex-summary"><caption>{escape(caption)}</caption>'
            f'<thead>{head}</thead><tbody>{"".join(rows)}</tbody><tfoot>{foot}</tfoot></table></div>')


def _colgroup(widths: Iterable[int]) -> str:
    return "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>"


def format_not_reproduced_html(rows: pd.DataFrame, claims: Iterable[Mapping] | pd.DataFrame | None = None,
                               findings: pd.DataFrame | None = None) -> str:
    """Reviewer page, "What does not reproduce": :func:`table_not_reproduced` as a table, each claim
    linked to its row below (with what it is), published and reproduced values, the verdict and the
    written reason; the findings of the recheck that the reason quotes are links to them instead."""
    reg = {c["id"]: c for c in (claims.to_dict("records") if isinstance(claims, pd.DataFrame) else claims or [])}
    links: dict[str, list[dict]] = {}
    if findings is not None:
        for f in table_claim_findings(findings).to_dict("records"):
            if f["verdict"] != "consistent":
                links.setdefault(f["claim"], []).append(f)
    body = []
    for r in rows.to_dict("records"):
        c = reg.get(r["id"], {"rule": r.get("rule"), "published": r["published"]})
        why = escape(derive_own_reason(r["reason"]) if findings is not None else r["reason"])
        found = ", ".join(f'<a href="#{escape(finding_anchor(f["finding"]))}">{escape(f["family"])} '
                          f'({escape(f["verdict"])})</a>' for f in links.get(r["id"], []))
        if found:
            why += (" — " if why else "") + f"the paper's arithmetic: {found}"
        body.append(
            f'<tr data-not-reproduced="{escape(r["id"])}"><td>{_claim_link(r["id"])}'
            f'<div class="ixathaldex-reason">{escape(r["quantity"])} ({escape(r["population"])})</div></td>'
            + number_cell(r["published"], c) + number_cell(r["reproduced"], c)
            + badge_cell("verdict", r["verdict"], r["verdict"]) + f'<td>{why}</td></tr>')
    head = "".join(f'<th scope="col">{h}</th>' for h in ("Claim", "Published", "Reproduced", "Verdict", "Why"))
    return (f'<div class="ixathaldex-scroll"><table class="ixathaldex-summary ixathaldex-digest" '
            f'id="ixathaldex-not-reproduced"><caption>Every claim that differs from the paper or could not be '
            f'computed in this version, in the order of the paper</caption>{_colgroup((26, 8, 9, 10, 47))}'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def format_conflicts_html(conflicts: pd.DataFrame) -> str:
    """Reviewer page, "Where the paper contradicts itself": :func:`table_conflicts` as one table with a
    row group per family (the finding's subject claim, what is printed and its recomputation, the
    verdict, linked to the full finding with every claim it names, and the reading chosen)."""
    head = "".join(f'<th scope="col">{h}</th>' for h in ("Check", "Claim", "Printed; recomputed", "Verdict",
                                                          "Reading this book uses"))
    groups = []
    for family in dict.fromkeys(conflicts["family"]):
        rows = conflicts[conflicts["family"] == family].to_dict("records")
        body = []
        for i, r in enumerate(rows):
            first = f'<th scope="rowgroup" rowspan="{len(rows)}">{escape(family)}</th>' if i == 0 else ""
            subject = _claim_link(r["claims"][0]) if len(r["claims"]) else ""
            body.append(
                f'<tr data-conflict="{escape(r["id"])}">{first}<td>{subject}</td>'
                f'<td><span class="ixathaldex-printed">{escape(r["published"])}</span>; {escape(r["recomputed"])}</td>'
                + badge_cell("verdict", r["verdict"], r["verdict"],
                             f'<a href="#{escape(finding_anchor(r["id"]))}" title="the full check, with every claim '
                             f'it names">{escape(r["verdict"])}</a>')
                + f'<td>{escape(r["reading"])}</td></tr>')
        groups.append("<tbody>" + "".join(body) + "</tbody>")
    return (f'<div class="ixathaldex-scroll"><table class="ixathaldex-summary ixathaldex-digest" '
            f'id="ixathaldex-conflicts"><caption>The printed numbers that disagree with each other, by kind of '
            f'check: what is printed, its recomputation and the reading this book uses</caption>'
            f'{_colgroup((9, 15, 38, 10, 28))}<thead><tr>{head}</tr></thead>{"".join(groups)}</table></div>')


def format_calibration_section(manifest: Mapping, reviewer: pd.DataFrame, snapshot_folder) -> str:
    """The calibration box of a version whose manifest says its data are generated ("" for the
    trial's data: a real-data version has no calibration to show, and its page never says otherwise)."""
    if not is_synthetic(dict(manifest)):
        return ""
    return format_calibration_html(table_calibration_summary(reviewer), load_calibration_misses(snapshot_folder))


def format_calibration_html(summary: pd.DataFrame, misses: pd.DataFrame) -> str:
    """Reviewer page of a synthetic version, "Calibration of the synthetic cohort": the three figures of
    :func:`table_calibration_summary` and the listed misses (none listed when there are none)."""
    s = summary.set_index("group")
    counts, inf = s.loc["counts"], s.loc["survival and inferential"]
    text = (f"Counts: {int(counts['exact'])} of {int(counts['claims'])} exact. Survival and inferential "
            f"numbers printed as plain values (medians, confidence limits, p-values, hazard ratios): "
            f"{int(inf['exact'])} of {int(inf['claims'])} exact at the printed precision, "
            f"{int(inf['within tolerance'])} more within tolerance "
            f"({int(inf['exact'] + inf['within tolerance'])} of {int(inf['claims'])} within tolerance).")
    items = "".join(f'<li>{_claim_link(str(m["claim"]))}: {escape(m["reason"])}</li>'
                    for m in misses.to_dict("records"))
    listed = (f"<p>Numbers the generator does not reproduce, and why:</p><ul>{items}</ul>" if items else "")
    return (f'<div class="admonition note ixathaldex-calibration" id="ixathaldex-calibration">'
            f'<p class="admonition-title">Calibration of the synthetic cohort</p><p>{escape(text)}</p>'
            f'{listed}</div>')
