"""Reviewer page and what-changed page, HTML: the interactive tables of ``book/reviewer.md`` and
``book/changes.md``.

``format_*_html`` render the frames of :mod:`ixathaldex.claims.review` (``table_reviewer``,
``table_changes``) and the recheck's findings as HTML: on the reviewer page every claim in one folded
``<details>`` group per section of the paper and every finding in one group per family, each set of
groups sharing one filter bar; on the what-changed page one table per set. The cell helpers
(``escape``, ``badge_cell``, ``number_cell``, …) are shared with
:mod:`ixathaldex.claims.review_digest_html` (the page's summary and digests).
``book/_static/reviewer.js`` makes every ``table.ixathaldex-interactive`` sortable and filterable and
opens the group of a linked row. The DOM contract (ids, classes, data attributes) is in docs/reviewer.md.
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
from ixathaldex.claims.review_summary import FINDING_ORDER, table_claim_findings, table_recheck_counts
from ixathaldex.values import bound_text, read_value


def escape(x: Any) -> str:
    """``x`` as HTML text (quotes escaped; None is empty)."""
    return html.escape("" if x is None else str(x), quote=True)


def breakable(claim_id: str) -> str:
    """A claim id that may wrap after its dots (long ids would widen the column)."""
    return ".<wbr>".join(escape(part) for part in str(claim_id).split("."))


def slug(text: str) -> str:
    """An HTML-id fragment of a label ('Table 2A' -> 'table-2a')."""
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
    opts = "".join(f'<option value="{escape(o)}">{escape(o)}</option>' for o in options)
    return (f'<label class="ixathaldex-filter">{escape(label)} '
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
            f'data-noun="{escape(noun)}" hidden>' + "".join(parts) + "</div>")


def _header(columns: list[tuple[str, str, str]]) -> str:
    cells = "".join(f'<th scope="col" data-sort-type="{typ}" data-column="{key}" aria-sort="none">'
                    f'<button type="button" class="ixathaldex-sort">{escape(label)}</button></th>'
                    for key, label, typ in columns)
    return f"<thead><tr>{cells}</tr></thead>"


def badge_cell(kind: str, value: str, sort: str, inner: str | None = None) -> str:
    """A cell holding a verdict/status badge (``ixathaldex-<kind> ixathaldex-<kind>-<value>``)."""
    return (f'<td data-sort="{escape(sort)}"><span class="ixathaldex-{kind} ixathaldex-{kind}-{slug(value)}">'
            f'{inner if inner is not None else escape(value)}</span></td>')


def number_cell(value: Any, claim: Mapping, difference: bool = False) -> str:
    """A right-aligned number cell at the claim's precision, sorted by its numeric value."""
    shown = format_difference(value, claim) if difference else format_value(value, claim)
    return f'<td class="ixathaldex-num" data-sort="{_sort_number(value)}">{escape(shown)}</td>'


def _id_cell(claim_id: str, href: str) -> str:
    return f'<td data-sort="{escape(claim_id)}"><a href="{escape(href)}"><code>{breakable(claim_id)}</code></a></td>'


def _page_cell(page: str, chapter: str, anchor: str = "") -> str:
    if not page:
        return (f'<td data-sort="{escape(chapter)}">{escape(chapter)} '
                f'<span class="ixathaldex-muted">(not in this book)</span></td>')
    return f'<td data-sort="{escape(chapter)}"><a href="{escape(page)}{escape(anchor)}">{escape(chapter)}</a></td>'


def _wrap(table_id: str, controls: str, noun: str, caption: str, cols, body: list[str]) -> str:
    return (f'<div class="ixathaldex-review">{controls}<div class="ixathaldex-scroll">'
            f'<table class="ixathaldex-interactive" id="{table_id}" data-noun="{noun}">'
            f'<caption>{escape(caption)}</caption>' + _header(cols) + "<tbody>" + "".join(body)
            + "</tbody></table></div></div>")


def counts_phrase(total: int, noun: str, counts: Mapping[str, int]) -> str:
    """'24 claims: 20 exact, 3 within tolerance, 1 differs' (verdicts with a zero count left out)."""
    parts = [f"{n} {v}" for v, n in counts.items() if n]
    noun = noun[:-1] if total == 1 and noun.endswith("s") else noun
    return f"{total} {noun}" + (": " + ", ".join(parts) if parts else "")


def _grouped(set_id: str, controls: str, noun: str, cols, groups: list[tuple[str, str, str, list[str]]]) -> str:
    """Folded groups sharing one filter bar: ``div.ixathaldex-groups#<set_id>`` holding one
    ``details.ixathaldex-group`` per (title, counts text, caption, rows), each with its own table."""
    parts = []
    for title, counts_text, caption, body in groups:
        gid = f"{set_id}-{slug(title)}"
        parts.append(
            f'<details class="ixathaldex-group" id="{gid}" data-group="{escape(title)}"><summary>'
            f'<span class="ixathaldex-group-title">{escape(title)}</span> '
            f'<span class="ixathaldex-group-counts">{escape(counts_text)}</span> '
            f'<span class="ixathaldex-group-match" hidden></span></summary><div class="ixathaldex-scroll">'
            f'<table class="ixathaldex-interactive" id="{gid}-table" data-noun="{noun}" data-set="{set_id}">'
            f'<caption>{escape(caption)}</caption>' + _header(cols) + "<tbody>" + "".join(body)
            + "</tbody></table></div></details>")
    return (f'<div class="ixathaldex-review">{controls}<div class="ixathaldex-groups" id="{set_id}" '
            f'data-noun="{noun}">' + "".join(parts) + "</div></div>")


def finding_anchor(finding_id: str) -> str:
    """HTML id of a finding's row on the reviewer page (``finding-pct.t1.iss.iii.pct``)."""
    return "finding-" + str(finding_id)


def _finding_links(links: list[dict]) -> str:
    """'Checks: percentage (rounding), sum (consistent) and 3 more': links to the findings naming a claim."""
    if not links:
        return ""
    shown = [f'<a href="#{escape(finding_anchor(f["finding"]))}">{escape(f["family"])} ({escape(f["verdict"])})</a>'
             for f in links[:MAX_FINDING_LINKS]]
    more = len(links) - MAX_FINDING_LINKS
    tail = f" and {more} more check{'s' if more > 1 else ''} that use this number" if more > 0 else ""
    return f'<div class="ixathaldex-checks">Recheck: {", ".join(shown)}{tail}</div>'


def _registry(claims) -> dict[str, dict]:
    return {c["id"]: c for c in claims_list(claims)}


REVIEWER_TABLE_ID = "ixathaldex-claims"
CHANGES_TABLE_ID = "ixathaldex-changes"
CONSISTENCY_TABLE_ID = "ixathaldex-consistency"
MAX_FINDING_LINKS = 4  # links to findings in a claim's row (a denominator is named by a hundred checks)


def _claim_row(r: Mapping, c: Mapping, links: list[dict]) -> str:
    more = r["locations"].split("; ")[1:]
    loc = escape(r["location"])
    if more:
        loc += (f'<details class="ixathaldex-more"><summary>also printed in {len(more)} more '
                f'place{"s" if len(more) > 1 else ""}</summary>{escape("; ".join(more))}</details>')
    reason = (f'<div class="ixathaldex-reason"><strong>Why:</strong> {escape(r["reason"])}</div>'
              if r["reason"] else "")
    return (f'<tr id="{escape(r["anchor"])}" data-claim="{escape(r["id"])}" data-section="{escape(r["sections"])}" '
            f'data-chapter="{escape(r["chapter"])}" data-verdict="{escape(r["verdict"])}">'
            + _id_cell(r["id"], "#" + r["anchor"])
            + f'<td data-sort="{escape(r["location"])}">{loc}</td>'
            f'<td>{escape(r["quantity"])}{reason}{_finding_links(links)}</td><td>{escape(r["population"])}</td>'
            + number_cell(r["published"], c) + number_cell(r["reproduced"], c)
            + number_cell(r["difference"], c, difference=True)
            + badge_cell("verdict", r["verdict"], r["verdict"])
            + _page_cell(r["page"], r["chapter"], chapter_anchor(r)) + "</tr>")


def format_reviewer_html(reviewer: pd.DataFrame, claims: Iterable[Mapping] | pd.DataFrame | None = None,
                         table_id: str = REVIEWER_TABLE_ID, findings: pd.DataFrame | None = None) -> str:
    """Reviewer page, every claim: one folded group per section of the paper (where the claim is first
    printed), each a sortable table, one filter bar for all of them.

    ``reviewer`` is :func:`table_reviewer`'s frame; ``claims`` the registry it was made from (for the
    printed precision); ``findings`` the recheck's findings (each row links to those naming its
    claim). Every row has ``id="claim-<id>"`` and data attributes for the filters; see
    docs/reviewer.md for the DOM contract driven by book/_static/reviewer.js.
    """
    reg = _registry(claims)
    links: dict[str, list[dict]] = {}
    if findings is not None:
        for f in table_claim_findings(findings).to_dict("records"):
            links.setdefault(f["claim"], []).append(f)
    sections = sorted({s for ss in reviewer["sections"] for s in ss.split("; ") if s}, key=section_key)
    chapters = list(dict.fromkeys(reviewer["chapter"]))
    verdicts = [v for v in VERDICTS if v in set(reviewer["verdict"])]
    controls = _controls(table_id, [("section", "Table or section", sections), ("chapter", "Chapter", chapters),
                                    ("verdict", "Verdict", verdicts)], "claims", len(reviewer))
    cols = [("id", "Claim", "text"), ("location", "Printed at", "text"), ("quantity", "Quantity", "text"),
            ("population", "Population", "text"), ("published", "Published", "number"),
            ("reproduced", "Reproduced", "number"), ("difference", "Difference", "number"),
            ("verdict", "Verdict", "text"), ("chapter", "Computed in", "text")]
    groups = []
    for section in sorted(dict.fromkeys(reviewer["section"]), key=section_key):
        rows = reviewer[reviewer["section"] == section].to_dict("records")
        counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in VERDICTS}
        body = [_claim_row(r, reg.get(r["id"], {"rule": r.get("rule"), "published": r["published"]}),
                           links.get(r["id"], [])) for r in rows]
        groups.append((section, counts_phrase(len(rows), "claims", counts),
                       f"Claims first printed in {section}: published vs reproduced in this version", body))
    return _grouped(table_id, controls, "claims", cols, groups)


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
        verdict = escape(r["verdict"])
        if r["previous_verdict"] != r["verdict"]:
            verdict = f'{escape(r["previous_verdict"])} → <strong>{escape(r["verdict"])}</strong>'
        body.append(
            f'<tr data-claim="{escape(r["id"])}" data-status="{escape(r["status"])}" data-section="{escape(r["section"])}" '
            f'data-chapter="{escape(r["chapter"])}" data-verdict="{escape(r["verdict"])}">'
            + _id_cell(r["id"], f'{reviewer_page}#{r["anchor"]}')
            + f'<td data-sort="{escape(r["location"])}">{escape(r["location"])}</td><td>{escape(r["quantity"])}</td>'
            + number_cell(r["published"], c) + number_cell(r["previous"], c) + number_cell(r["reproduced"], c)
            + number_cell(r["change"], c, difference=True)
            + badge_cell("status", r["status"], f"{rank:05d}") + badge_cell("verdict", r["verdict"], r["verdict"], verdict)
            + _page_cell(r["page"], r["chapter"], chapter_anchor(r)) + "</tr>")
    return _wrap(table_id, controls, "claims", "Every registered number: reproduced value in the previous "
                 "version and in this one, changed values first.", cols, body)


def _finding_row(r: Mapping, link_claims: bool) -> str:
    ids = list(r["claims"])
    codes = [f"<code>{breakable(i)}</code>" for i in ids]
    if link_claims:
        codes = [f'<a href="#{escape(claim_anchor(i))}">{code}</a>' for i, code in zip(ids, codes)]
    order = FINDING_ORDER.index(r["verdict"]) if r["verdict"] in FINDING_ORDER else len(FINDING_ORDER)
    return (f'<tr id="{escape(finding_anchor(r["id"]))}" data-finding="{escape(r["id"])}" '
            f'data-family="{escape(r["family"])}" data-verdict="{escape(r["verdict"])}">'
            f'<td data-sort="{escape(", ".join(ids))}">{", ".join(codes)}</td>'
            f'<td>{escape(r["published"])}</td><td>{escape(r["recomputed"])}<div class="ixathaldex-reason">'
            f'{escape(r["explanation"])}</div></td>'
            + badge_cell("verdict", r["verdict"], f"{order}") + f'<td>{escape(r["reading"])}</td></tr>')


def format_consistency_html(consistency: pd.DataFrame, table_id: str = CONSISTENCY_TABLE_ID,
                            link_claims: bool = True) -> str:
    """Reviewer page, arithmetic recheck: every finding, one folded group per family of checks
    (claims, published, recomputed with its explanation, verdict, reading), one filter bar for all.

    Within a family, contradictions first (inconsistent, rounding, not checkable, consistent); rows
    carry ``id="finding-<id>"``; claim ids link to their row of the claims table.
    """
    families = list(dict.fromkeys(consistency["family"]))
    verdicts = [v for v in FINDING_ORDER if v in set(consistency["verdict"])]
    controls = _controls(table_id, [("family", "Check", families), ("verdict", "Verdict", verdicts)],
                         "findings", len(consistency))
    cols = [("claims", "Claims", "text"), ("published", "Printed", "text"), ("recomputed", "Recomputed", "text"),
            ("verdict", "Verdict", "text"), ("reading", "Reading used", "text")]
    counts = table_recheck_counts(consistency).set_index("family")
    groups = []
    for family in families:
        rows = consistency[consistency["family"] == family]
        rows = rows.assign(_o=rows["verdict"].map(lambda v: FINDING_ORDER.index(v) if v in FINDING_ORDER else 9))
        body = [_finding_row(r, link_claims) for r in rows.sort_values("_o", kind="stable").to_dict("records")]
        phrase = counts_phrase(int(counts.loc[family, "findings"]), "findings",
                               {v: int(counts.loc[family, v]) for v in FINDING_ORDER})
        groups.append((family, phrase, f"Checks of the family '{family}': printed numbers against each other", body))
    return _grouped(table_id, controls, "findings", cols, groups)


def format_counts_html(counts: pd.DataFrame, caption: str, first_label: str | None = None) -> str:
    """A small static summary table (verdict or status counts) as HTML."""
    cols = list(counts.columns)
    head = "".join(f'<th scope="col">{escape(first_label if (i == 0 and first_label) else c)}</th>'
                   for i, c in enumerate(cols))
    rows = []
    for r in counts.itertuples(index=False):
        cells = "".join(f'<td class="{"ixathaldex-num" if isinstance(v, numbers.Number) else ""}">{escape(v)}</td>'
                        for v in r)
        rows.append(f"<tr>{cells}</tr>")
    return (f'<table class="ixathaldex-summary"><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>'
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
        claim_cell = " ".join(f'<a href="{escape(reviewer_page)}#{escape(claim_anchor(c))}"><code>{breakable(c)}</code></a>'
                              for c in claims)
        body.append(
            f'<tr data-claim="{escape(r["claim_id"])}" data-status="{escape(r["status"])}" data-chapter="{escape(r["chapter"])}" '
            f'data-population="{escape(r["population"])}">'
            f'<td>{escape(r["chapter"])}</td><td>{escape(r["population"])}</td><td>{escape(groups)}</td>'
            f'<td>{escape(_ard_label(r["variable"], r["variable_level"]))}</td><td><code>{escape(r["stat_name"])}</code></td>'
            f'<td class="ixathaldex-num" data-sort="{_sort_number(r["previous"])}">{escape(r["previous_display"])}</td>'
            f'<td class="ixathaldex-num" data-sort="{_sort_number(r["stat"])}">{escape(r["stat_display"])}</td>'
            f'<td class="ixathaldex-num" data-sort="{_sort_number(rel)}">{escape(rel_text)}</td>'
            + badge_cell("status", r["status"], f"{rank:05d}") + f'<td data-sort="{escape(r["claim_id"])}">{claim_cell}</td></tr>')
    return _wrap(table_id, controls, "statistics", "Every statistic of the analysis-results dataset whose value "
                 "moved between the previous version and this one, the largest relative change first.", cols, body)
