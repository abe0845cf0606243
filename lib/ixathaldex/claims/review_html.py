"""Reviewer page and what-changed page, HTML: the interactive tables of ``book/reviewer.md`` and
``book/changes.md``.

``format_*_html`` render the frames of :mod:`ixathaldex.claims.review` (``table_reviewer``,
``table_changes``, the consistency findings, verdict or status counts) as HTML;
``book/_static/reviewer.js`` makes every ``table.ixathaldex-interactive`` sortable and filterable.
The DOM contract (ids, classes, data attributes) is in docs/reviewer.md.
"""

from __future__ import annotations

import html
import numbers
import re
from typing import Any, Iterable, Mapping

import pandas as pd

from ixathaldex.claims.registry import VERDICTS
from ixathaldex.claims.review import (
    CHANGE_STATUSES,
    chapter_anchor,
    claim_anchor,
    claims_list,
    format_difference,
    format_value,
    section_key,
)
from ixathaldex.values import bound_text, read_value


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _breakable(claim_id: str) -> str:
    """A claim id that may wrap after its dots (long ids would widen the column)."""
    return ".<wbr>".join(_e(part) for part in str(claim_id).split("."))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def _sort_number(value: Any) -> str:
    """``data-sort`` of a numeric cell: the number, +inf for not reached, '' when missing."""
    v = read_value(value)
    if v is None or v.is_missing:
        return ""
    if v.is_not_reached:
        return "Infinity"
    if v.is_bound:
        return bound_text(v.number)
    return repr(v.number)


def _select(table_id: str, key: str, label: str, options: list[str]) -> str:
    opts = "".join(f'<option value="{_e(o)}">{_e(o)}</option>' for o in options)
    return (f'<label class="ixathaldex-filter">{_e(label)} '
            f'<select id="{table_id}-filter-{key}" data-filter="{key}">'
            f'<option value="">all</option>{opts}</select></label>')


def _controls(table_id: str, selects: list[tuple[str, str, list[str]]], noun: str, total: int) -> str:
    parts = [_select(table_id, k, lbl, opts) for k, lbl, opts in selects]
    parts.append(f'<label class="ixathaldex-filter">Search <input type="search" id="{table_id}-filter-text" '
                 f'data-filter="text" placeholder="id, quantity, reason…"></label>')
    parts.append(f'<button type="button" id="{table_id}-filter-reset" class="ixathaldex-reset">Show all</button>')
    parts.append(f'<span class="ixathaldex-count" id="{table_id}-count" aria-live="polite">'
                 f'{total} of {total} {noun} shown</span>')
    # hidden until reviewer.js wires it: without the script the controls would do nothing
    return (f'<div class="ixathaldex-filters" id="{table_id}-filters" data-table="{table_id}" '
            f'data-noun="{_e(noun)}" hidden>' + "".join(parts) + "</div>")


def _header(columns: list[tuple[str, str, str]]) -> str:
    cells = "".join(f'<th scope="col" data-sort-type="{typ}" data-column="{key}" aria-sort="none">'
                    f'<button type="button" class="ixathaldex-sort">{_e(label)}</button></th>'
                    for key, label, typ in columns)
    return f"<thead><tr>{cells}</tr></thead>"


def _badge(kind: str, value: str, sort: str, inner: str | None = None) -> str:
    """A cell holding a verdict/status badge (``ixathaldex-<kind> ixathaldex-<kind>-<value>``)."""
    return (f'<td data-sort="{_e(sort)}"><span class="ixathaldex-{kind} ixathaldex-{kind}-{_slug(value)}">'
            f'{inner if inner is not None else _e(value)}</span></td>')


def _num(value: Any, claim: Mapping, difference: bool = False) -> str:
    """A right-aligned number cell at the claim's precision, sorted by its numeric value."""
    shown = format_difference(value, claim) if difference else format_value(value, claim)
    return f'<td class="ixathaldex-num" data-sort="{_sort_number(value)}">{_e(shown)}</td>'


def _id_cell(claim_id: str, href: str) -> str:
    return f'<td data-sort="{_e(claim_id)}"><a href="{_e(href)}"><code>{_breakable(claim_id)}</code></a></td>'


def _page_cell(page: str, chapter: str, anchor: str = "") -> str:
    if not page:
        return (f'<td data-sort="{_e(chapter)}">{_e(chapter)} '
                f'<span class="ixathaldex-muted">(not in this book)</span></td>')
    return f'<td data-sort="{_e(chapter)}"><a href="{_e(page)}{_e(anchor)}">{_e(chapter)}</a></td>'


def _wrap(table_id: str, controls: str, noun: str, caption: str, cols, body: list[str]) -> str:
    return (f'<div class="ixathaldex-review">{controls}<div class="ixathaldex-scroll">'
            f'<table class="ixathaldex-interactive" id="{table_id}" data-noun="{noun}">'
            f'<caption>{_e(caption)}</caption>' + _header(cols) + "<tbody>" + "".join(body)
            + "</tbody></table></div></div>")


def _registry(claims) -> dict[str, dict]:
    return {c["id"]: c for c in claims_list(claims)}


REVIEWER_TABLE_ID = "ixathaldex-claims"
CHANGES_TABLE_ID = "ixathaldex-changes"
CONSISTENCY_TABLE_ID = "ixathaldex-consistency"


def format_reviewer_html(reviewer: pd.DataFrame, claims: Iterable[Mapping] | pd.DataFrame | None = None,
                         table_id: str = REVIEWER_TABLE_ID) -> str:
    """Reviewer page: the interactive claims table (filters, sortable header, one row per claim).

    ``reviewer`` is :func:`table_reviewer`'s frame; ``claims`` the registry it was made from (for the
    printed precision). Every row has ``id="claim-<id>"`` and data attributes for the filters; see
    docs/reviewer.md for the DOM contract driven by book/_static/reviewer.js.
    """
    reg = _registry(claims)
    sections = sorted({s for ss in reviewer["sections"] for s in ss.split("; ") if s}, key=section_key)
    chapters = list(dict.fromkeys(reviewer["chapter"]))
    verdicts = [v for v in VERDICTS if v in set(reviewer["verdict"])]
    controls = _controls(table_id, [("section", "Table or section", sections), ("chapter", "Chapter", chapters),
                                    ("verdict", "Verdict", verdicts)], "claims", len(reviewer))
    cols = [("id", "Claim", "text"), ("location", "Printed at", "text"), ("quantity", "Quantity", "text"),
            ("population", "Population", "text"), ("published", "Published", "number"),
            ("reproduced", "Reproduced", "number"), ("difference", "Difference", "number"),
            ("verdict", "Verdict", "text"), ("chapter", "Computed in", "text")]
    body = []
    for r in reviewer.to_dict("records"):
        c = reg.get(r["id"], {"rule": r.get("rule"), "published": r["published"]})
        more = r["locations"].split("; ")[1:]
        loc = _e(r["location"])
        if more:
            loc += (f'<details class="ixathaldex-more"><summary>also printed in {len(more)} more '
                    f'place{"s" if len(more) > 1 else ""}</summary>{_e("; ".join(more))}</details>')
        reason = (f'<div class="ixathaldex-reason"><strong>Why:</strong> {_e(r["reason"])}</div>'
                  if r["reason"] else "")
        body.append(
            f'<tr id="{_e(r["anchor"])}" data-claim="{_e(r["id"])}" data-section="{_e(r["sections"])}" '
            f'data-chapter="{_e(r["chapter"])}" data-verdict="{_e(r["verdict"])}">'
            + _id_cell(r["id"], "#" + r["anchor"])
            + f'<td data-sort="{_e(r["location"])}">{loc}</td><td>{_e(r["quantity"])}{reason}</td>'
            f'<td>{_e(r["population"])}</td>'
            + _num(r["published"], c) + _num(r["reproduced"], c) + _num(r["difference"], c, difference=True)
            + _badge("verdict", r["verdict"], r["verdict"])
            + _page_cell(r["page"], r["chapter"], chapter_anchor(r)) + "</tr>")
    return _wrap(table_id, controls, "claims", "Every registered number of the paper: published vs reproduced "
                 "in this version. Click a column header to sort; the controls above filter the rows.", cols, body)


def format_changes_html(changes: pd.DataFrame, claims: Iterable[Mapping] | pd.DataFrame | None = None,
                        table_id: str = CHANGES_TABLE_ID, reviewer_page: str = "reviewer.html") -> str:
    """What changed: the interactive table of :func:`table_changes` (same machinery as the reviewer's)."""
    reg = _registry(claims)
    statuses = [s for s in CHANGE_STATUSES if s in set(changes["status"])]
    sections = sorted(dict.fromkeys(changes["section"]), key=section_key)
    chapters = list(dict.fromkeys(changes["chapter"]))
    verdicts = [v for v in VERDICTS if v in set(changes["verdict"])]
    controls = _controls(table_id, [("status", "Change", statuses), ("section", "Table or section", sections),
                                    ("chapter", "Chapter", chapters), ("verdict", "Verdict now", verdicts)],
                         "claims", len(changes))
    cols = [("id", "Claim", "text"), ("location", "Printed at", "text"), ("quantity", "Quantity", "text"),
            ("published", "Published", "number"), ("previous", "Previous version", "number"),
            ("reproduced", "This version", "number"), ("change", "Change", "number"),
            ("status", "Status", "text"), ("verdict", "Verdict (before → now)", "text"),
            ("chapter", "Computed in", "text")]
    body = []
    for rank, r in enumerate(changes.to_dict("records")):
        c = reg.get(r["id"], {"rule": "printed", "published": r["published"]})
        verdict = _e(r["verdict"])
        if r["previous_verdict"] != r["verdict"]:
            verdict = f'{_e(r["previous_verdict"])} → <strong>{_e(r["verdict"])}</strong>'
        body.append(
            f'<tr data-claim="{_e(r["id"])}" data-status="{_e(r["status"])}" data-section="{_e(r["section"])}" '
            f'data-chapter="{_e(r["chapter"])}" data-verdict="{_e(r["verdict"])}">'
            + _id_cell(r["id"], f'{reviewer_page}#{r["anchor"]}')
            + f'<td data-sort="{_e(r["location"])}">{_e(r["location"])}</td><td>{_e(r["quantity"])}</td>'
            + _num(r["published"], c) + _num(r["previous"], c) + _num(r["reproduced"], c)
            + _num(r["change"], c, difference=True)
            + _badge("status", r["status"], f"{rank:05d}") + _badge("verdict", r["verdict"], r["verdict"], verdict)
            + _page_cell(r["page"], r["chapter"], chapter_anchor(r)) + "</tr>")
    return _wrap(table_id, controls, "claims", "Every registered number: reproduced value in the previous "
                 "version and in this one, changed values first.", cols, body)


def format_consistency_html(consistency: pd.DataFrame, table_id: str = CONSISTENCY_TABLE_ID,
                            link_claims: bool = True) -> str:
    """Reviewer page, arithmetic recheck: every finding (family, claims, published, recomputed, verdict,
    explanation and reading).

    Findings that are not "consistent" come first; claim ids link to their row of the claims table.
    """
    order = {"inconsistent": 0, "rounding": 1, "not checkable": 2, "consistent": 3}
    frame = consistency.assign(_o=consistency["verdict"].map(lambda v: order.get(v, 4))) \
        .sort_values("_o", kind="stable")
    families = list(dict.fromkeys(frame["family"]))
    verdicts = [v for v in order if v in set(frame["verdict"])]
    controls = _controls(table_id, [("family", "Check", families), ("verdict", "Verdict", verdicts)],
                         "findings", len(frame))
    cols = [("family", "Check", "text"), ("claims", "Claims", "text"), ("published", "Printed", "text"),
            ("recomputed", "Recomputed", "text"), ("verdict", "Verdict", "text"), ("reading", "Reading used", "text")]
    body = []
    for rank, r in enumerate(frame.to_dict("records")):
        ids = list(r["claims"])
        codes = [f"<code>{_breakable(i)}</code>" for i in ids]
        if link_claims:
            codes = [f'<a href="#{_e(claim_anchor(i))}">{code}</a>' for i, code in zip(ids, codes)]
        body.append(
            f'<tr id="finding-{_e(r["id"])}" data-family="{_e(r["family"])}" data-verdict="{_e(r["verdict"])}">'
            f'<td>{_e(r["family"])}</td><td data-sort="{_e(", ".join(ids))}">{", ".join(codes)}</td>'
            f'<td>{_e(r["published"])}</td><td>{_e(r["recomputed"])}<div class="ixathaldex-reason">'
            f'{_e(r["explanation"])}</div></td>'
            + _badge("verdict", r["verdict"], f"{rank:05d}") + f'<td>{_e(r["reading"])}</td></tr>')
    return _wrap(table_id, controls, "findings", "The paper's printed numbers checked against each other "
                 "(no patient data used); contradictions first.", cols, body)


def format_counts_html(counts: pd.DataFrame, caption: str, first_label: str | None = None) -> str:
    """A small static summary table (verdict or status counts) as HTML."""
    cols = list(counts.columns)
    head = "".join(f'<th scope="col">{_e(first_label if (i == 0 and first_label) else c)}</th>'
                   for i, c in enumerate(cols))
    rows = []
    for r in counts.itertuples(index=False):
        cells = "".join(f'<td class="{"ixathaldex-num" if isinstance(v, numbers.Number) else ""}">{_e(v)}</td>'
                        for v in r)
        rows.append(f"<tr>{cells}</tr>")
    return (f'<table class="ixathaldex-summary"><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


ARD_CHANGES_TABLE_ID = "ixathaldex-ard-changes"


def _ard_label(name: str, level: str) -> str:
    return f"{name} = {level}" if name and level else (name or level)


def format_ard_changes_html(changes: pd.DataFrame, table_id: str = ARD_CHANGES_TABLE_ID,
                            reviewer_page: str = "reviewer.html") -> str:
    """What changed, every statistic that moved: the interactive table of
    :func:`ixathaldex.claims.ard.table_ard_changes` (statistics as each ARD displays them; every
    value escaped)."""
    statuses = list(dict.fromkeys(changes["status"]))
    chapters = list(dict.fromkeys(changes["chapter"]))
    populations = sorted(dict.fromkeys(changes["population"]))
    controls = _controls(table_id, [("status", "Change", statuses), ("chapter", "Page", chapters),
                                    ("population", "Population", populations)], "statistics", len(changes))
    cols = [("chapter", "Page", "text"), ("population", "Population", "text"), ("groups", "Group", "text"),
            ("variable", "Variable", "text"), ("stat_name", "Statistic", "text"),
            ("previous", "Previous version", "number"), ("stat", "This version", "number"),
            ("relative_change", "Relative change", "number"), ("status", "Status", "text"),
            ("claim_id", "Claim", "text")]
    body = []
    for rank, r in enumerate(changes.to_dict("records")):
        groups = "; ".join(x for x in (_ard_label(r["group1"], r["group1_level"]),
                                       _ard_label(r["group2"], r["group2_level"])) if x)
        rel = r["relative_change"]
        rel_text = "" if pd.isna(rel) else ("kind changed" if rel == float("inf") else f"{100 * rel:.1f}%")
        claims = [c for c in str(r["claim_id"]).split("; ") if c]
        claim_cell = " ".join(f'<a href="{_e(reviewer_page)}#{_e(claim_anchor(c))}"><code>{_breakable(c)}</code></a>'
                              for c in claims)
        body.append(
            f'<tr data-claim="{_e(r["claim_id"])}" data-status="{_e(r["status"])}" data-chapter="{_e(r["chapter"])}" '
            f'data-population="{_e(r["population"])}">'
            f'<td>{_e(r["chapter"])}</td><td>{_e(r["population"])}</td><td>{_e(groups)}</td>'
            f'<td>{_e(_ard_label(r["variable"], r["variable_level"]))}</td><td><code>{_e(r["stat_name"])}</code></td>'
            f'<td class="ixathaldex-num" data-sort="{_sort_number(r["previous"])}">{_e(r["previous_display"])}</td>'
            f'<td class="ixathaldex-num" data-sort="{_sort_number(r["stat"])}">{_e(r["stat_display"])}</td>'
            f'<td class="ixathaldex-num" data-sort="{_sort_number(rel)}">{_e(rel_text)}</td>'
            + _badge("status", r["status"], f"{rank:05d}") + f'<td data-sort="{_e(r["claim_id"])}">{claim_cell}</td></tr>')
    return _wrap(table_id, controls, "statistics", "Every statistic of the analysis-results dataset whose value "
                 "moved between the previous version and this one, the largest relative change first.", cols, body)
