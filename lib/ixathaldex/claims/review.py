"""Reviewer page and what-changed page: every published number, reproduced vs published, per version.

``table_reviewer`` extends :func:`ixathaldex.claims.table_claims` with the page that computes each
claim, its HTML anchor on the reviewer page and a written reason for every claim that is not
reproduced; ``table_changes`` compares this version's reproduced values with the previous version's.
The ``format_*_html`` renderers of the interactive tables of ``book/reviewer.md`` and
``book/changes.md`` are in :mod:`ixathaldex.claims.review_html`.
The DOM contract (ids, classes, data attributes) is in docs/reviewer.md.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
import yaml

from ixathaldex.claims.consistency import table_consistency
from ixathaldex.claims.precision import printed_decimals
from ixathaldex.claims.registry import CHAPTERS, VERDICTS, compare, load_claims, table_claims
from ixathaldex.exceptions import ClaimsError
from ixathaldex.log import logger
from ixathaldex.paths import Project, toc_files
from ixathaldex.values import format_p, read_value

#: the reviewer page's document name; claim anchors are ``claim-<id>`` on it
REVIEWER_PAGE = "reviewer"
ANCHOR_PREFIX = "claim-"
#: statuses of the what-changed table, in display order
CHANGE_STATUSES = ("changed", "newly computed", "no longer computed", "unchanged", "not computed")
REL_EQUAL = 1e-9  # two reproduced values closer than this (relative) are the same value
#: a reason is parts joined by REASON_SEPARATOR; a part quoting a finding of the recheck starts with FINDING_PREFIX
REASON_SEPARATOR = " — "
FINDING_PREFIX = "paper's arithmetic: "


# --------------------------------------------------------------------------- pages and anchors
def claim_anchor(claim_id: str) -> str:
    """HTML id of a claim's row on the reviewer page (``claim-t2a.itt.orr.pct``)."""
    return ANCHOR_PREFIX + claim_id


def chapter_pages(toc: Mapping | str | Path | None = None) -> dict[str, str]:
    """Registry chapter name -> built page (``'survival'`` -> ``'chapters/03_survival.html'``).

    ``toc`` is a parsed ``_toc.yml`` or its path (default: the project's). A toc file
    ``chapters/NN_slug`` serves the registry chapter ``slug`` (or the one ``slug`` starts with).
    Chapters not in the toc are absent from the mapping.
    """
    if toc is None or isinstance(toc, (str, Path)):
        path = Path(toc) if toc is not None else Project.current().toc_path
        try:
            toc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ClaimsError(f"{path}: cannot read the table of contents: {exc}") from exc
    out: dict[str, str] = {}
    for name in toc_files(toc):
        m = re.match(r"^chapters/\d+_([a-z0-9_]+)$", name)
        if not m:
            continue
        slug = m.group(1)
        for ch in CHAPTERS:
            if (slug == ch or slug.startswith(ch + "_")) and ch not in out:
                out[ch] = f"{name}.html"
    return out


def section_of(location: str) -> str:
    """The table or section of a printed location: 'Table 2A, ITT column, CR row' -> 'Table 2A'."""
    return location.split(",")[0].strip()


def section_key(s: str) -> tuple:
    order = ["Abstract", "Patients and methods", "Results", "Table 1", "Table 2A", "Table 2B", "Table 3",
             "Figure 1", "Discussion"]
    return (order.index(s) if s in order else len(order), s)


def chapter_anchor(row) -> str:
    """``#claim-<id>`` where the chapter computed the claim; a claim without a value has no anchor
    there (the sphinx extension anchors glued values only), so its link goes to the page."""
    return "#" + row["anchor"] if present(row.get("reproduced")) else ""


# --------------------------------------------------------------------------- formatting values
def format_value(value: Any, claim: Mapping) -> str:
    """A reproduced (or published) value at the claim's printed precision, as a reader sees it.

    "not reached" for NR/NC or +inf, "not computed" for a missing value; a p-value prints as
    ``values.format_p`` does at the printed precision (at least three places), so one below it
    shows as a bound ("<0.0001"). Anything that is no value is shown as it is.
    """
    v = read_value(value)
    if v is None:
        return str(value).strip()
    if v.is_missing:
        return "not computed"
    if v.is_not_reached:
        return "not reached"
    if v.is_bound or claim.get("rule") == "pvalue":
        return format_p(v, decimals=max(printed_decimals(claim), 3))
    if claim.get("rule") == "exact" and v.number.is_integer():
        return str(int(v.number))
    return f"{v.number:.{printed_decimals(claim)}f}"


def format_difference(diff: Any, claim: Mapping) -> str:
    """reproduced − published at the claim's precision, signed; '' when there is none."""
    if diff is None or (isinstance(diff, float) and math.isnan(diff)):
        return ""
    d = printed_decimals(claim)
    if claim.get("rule") == "pvalue":
        d = max(d, 3) + 1
    text = f"{float(diff):+.{d}f}"
    return "0" if float(text) == 0 else text


# --------------------------------------------------------------------------- tables
def claims_list(claims) -> list[dict]:
    if claims is None:
        return load_claims()
    if isinstance(claims, pd.DataFrame):
        return claims.to_dict("records")
    return list(claims)


def _rule_text(claim: Mapping) -> str:
    rule = claim["rule"]
    return {
        "exact": "the count must be equal",
        "percent_printed": "the percentage must agree at its printed precision",
        "printed": "the value must agree at its printed precision",
        "median": "the median must agree within 0.3 months (half a printed unit when printed coarser)",
        "ci_limit": "the confidence limit must agree within 0.5 months",
        "pvalue": "the p-value must fall on the same side of 0.05 and within a factor of 2",
        "hr": "the hazard ratio must agree within 20% and fall on the same side of 1",
        "not_reached": "the median must not be reached",
    }.get(rule, f"rule {rule}")


def _findings_by_claim(consistency: pd.DataFrame | None) -> dict[str, list[str]]:
    """claim id -> the arithmetic findings (any verdict but consistent) that name it, subject first."""
    out: dict[str, list[tuple[int, str]]] = {}
    if consistency is None or len(consistency) == 0:
        return {}
    for row in consistency.to_dict("records"):
        if row.get("verdict") == "consistent":
            continue
        ids = list(row.get("claims") or [])
        text = f"{row['family']} ({row['verdict']}): printed {row['published']}; recomputed {row['recomputed']}"
        if row.get("reading"):
            text += f"; reading used: {row['reading']}"
        for pos, cid in enumerate(ids):
            out.setdefault(cid, []).append((0 if pos == 0 else 1, text))
    return {k: [t for _, t in sorted(v, key=lambda p: p[0])] for k, v in out.items()}


def derive_reason(claim: Mapping, verdict: str, findings: list[str] | None = None) -> str:
    """The written reason shown for a claim that is not reproduced ('' when it is reproduced)."""
    if verdict == "exact":
        return ""
    parts = []
    if verdict == "within tolerance":
        parts.append(f"within tolerance, not exact at the printed precision ({_rule_text(claim)})")
    if verdict == "not computable":
        if claim.get("expected_computable", True) is False:
            parts.append("not computable: the data model does not hold this quantity")
        else:
            parts.append("no computed value: no chapter glued this claim for this version")
    if claim.get("note"):
        parts.append(str(claim["note"]).strip())
    for f in (findings or [])[:1 if claim.get("note") else 2]:
        parts.append(FINDING_PREFIX + f)
    if verdict == "differs" and len(parts) == 0:
        parts.append(f"outside the comparison rule ({_rule_text(claim)})")
    return REASON_SEPARATOR.join(parts)


def derive_own_reason(reason: str) -> str:
    """A reason without the parts that quote findings of the recheck (shown beside it as links)."""
    return REASON_SEPARATOR.join(p for p in str(reason or "").split(REASON_SEPARATOR) if not p.startswith(FINDING_PREFIX))


REVIEWER_COLUMNS = ["id", "anchor", "location", "locations", "section", "sections", "quantity", "population",
                    "chapter", "page", "rule", "published", "reproduced", "difference", "verdict", "reason"]


def table_reviewer(results: Mapping[str, Any], claims: Iterable[Mapping] | pd.DataFrame | None = None, *,
                   pages: Mapping[str, str] | None = None,
                   consistency: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reviewer page, claims table: every claim, published vs reproduced, with page, anchor and reason.

    ``results`` is a version's results.json (claim id -> reproduced value); ``claims`` the registry
    (default: the project's); ``pages`` maps registry chapters to built pages (default:
    :func:`chapter_pages` of the project's toc); ``consistency`` the arithmetic findings (default:
    none; pass ``table_consistency(claims)`` to quote them as reasons). Columns: those of
    ``table_claims`` plus anchor (``claim-<id>``), section / sections (the table or section of the
    first / of every location, '; '-joined), page ('' when the chapter is not in the book) and reason
    (non-empty for every claim whose verdict is not "exact"). Registry order.
    """
    claims = claims_list(claims)
    pages = chapter_pages() if pages is None else dict(pages)
    base = table_claims(claims, results)
    findings = _findings_by_claim(consistency)
    by_id = {c["id"]: c for c in claims}
    base["anchor"] = [claim_anchor(i) for i in base["id"]]
    base["section"] = [section_of(loc) for loc in base["location"]]
    base["sections"] = ["; ".join(dict.fromkeys(section_of(x) for x in by_id[i]["locations"])) for i in base["id"]]
    base["page"] = [pages.get(ch, "") for ch in base["chapter"]]
    base["reason"] = [derive_reason(by_id[i], v, findings.get(i)) for i, v in zip(base["id"], base["verdict"])]
    return base[REVIEWER_COLUMNS]


EXPORT_COLUMNS = ["id", "location", "locations", "quantity", "population", "chapter", "rule", "published",
                  "reproduced", "difference", "verdict", "reason", "page", "anchor", "url", "reviewer_url"]


def table_claims_export(results: Mapping[str, Any], claims: Iterable[Mapping] | pd.DataFrame | None = None, *,
                        toc: Mapping | str | Path | None = None,
                        consistency: pd.DataFrame | None = None) -> pd.DataFrame:
    """claims.json: every claim with published, reproduced, difference, verdict, reason, page and anchor.

    ``url`` is where the number is computed (``chapters/NN_slug.html#claim-<id>``, '' when its chapter
    is not in the book), ``reviewer_url`` its row on the reviewer page; both relative to the version's
    root. ``consistency`` defaults to ``table_consistency(claims)`` (its findings explain differences).
    """
    claims = claims_list(claims)
    if consistency is None:
        consistency = table_consistency(claims)
    t = table_reviewer(results, claims, pages=chapter_pages(toc), consistency=consistency)
    t["url"] = [f"{r['page']}{chapter_anchor(r)}" if r["page"] else "" for r in t.to_dict("records")]
    t["reviewer_url"] = [f"{REVIEWER_PAGE}.html#{a}" for a in t["anchor"]]
    return t[EXPORT_COLUMNS]


def _json_cell(v: Any) -> Any:
    """A cell of claims.json: numbers as Python numbers, NaN -> null, +inf -> "NR"; strings
    (ids, text, the registry's "NC" or "<0.0001") keep their spelling."""
    if hasattr(v, "item"):  # numpy scalar
        v = v.item()
    if isinstance(v, float):
        value = read_value(v)
        return value.plain() if value is not None else None  # -inf: no value
    return v


def write_claims_json(path: str | Path, results: Mapping[str, Any], *, toc: Mapping | str | Path | None = None,
                      claims: Iterable[Mapping] | pd.DataFrame | None = None,
                      consistency: pd.DataFrame | None = None) -> Path:
    """Write :func:`table_claims_export` as a JSON list of records (null for missing); returns the path.
    ``consistency``: the paper's arithmetic checks of ``claims``, when the caller has them already."""
    import json

    frame = table_claims_export(results, claims, toc=toc, consistency=consistency)
    records = [{k: _json_cell(v) for k, v in row.items()} for row in frame.to_dict("records")]
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def table_verdict_counts(reviewer: pd.DataFrame, by: str | None = None, *,
                         toc: Mapping | str | Path | None = None) -> pd.DataFrame:
    """Reviewer page, summary: claims per verdict, overall (``by=None``) or per chapter/section.

    Columns: [by,] claims, then one column per verdict (exact, within tolerance, differs, not computable).
    Chapters come in the book's order, read from ``toc`` (default: the project's ``_toc.yml``);
    chapters without a page follow in registry order.
    """
    verdicts = list(VERDICTS)
    if by is None:
        counts = reviewer["verdict"].value_counts()
        row = {"claims": int(len(reviewer))}
        row.update({v: int(counts.get(v, 0)) for v in verdicts})
        return pd.DataFrame([row], columns=["claims"] + verdicts)
    grouped = reviewer.groupby(by, sort=False)["verdict"].value_counts().unstack(fill_value=0)
    grouped = grouped.reindex(columns=verdicts, fill_value=0).astype(int)
    grouped.insert(0, "claims", grouped.sum(axis=1))
    out = grouped.reset_index()[[by, "claims"] + verdicts]
    out.columns.name = None
    if by == "chapter":  # the book's order (the toc), not the registry's
        rank = {c: i for i, c in enumerate(chapter_pages(toc))}
        out = out.sort_values(by, key=lambda s: s.map(lambda c: rank.get(c, len(rank))),
                              kind="stable").reset_index(drop=True)
    elif by in ("section", "sections"):
        out = out.sort_values(by, key=lambda s: s.map(section_key), kind="stable").reset_index(drop=True)
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return str(a).strip().upper() == str(b).strip().upper()
    fa, fb = float(a), float(b)
    return math.isclose(fa, fb, rel_tol=REL_EQUAL, abs_tol=1e-12)


def present(v: Any) -> bool:
    """Whether a reproduced value is there (anything but None or NaN)."""
    value = read_value(v)
    return value is None or not value.is_missing


CHANGES_COLUMNS = ["id", "anchor", "location", "section", "quantity", "population", "chapter", "page", "published",
                   "previous", "reproduced", "change", "status", "previous_verdict", "verdict"]


def table_changes(results: Mapping[str, Any], previous_results: Mapping[str, Any],
                  claims: Iterable[Mapping] | pd.DataFrame | None = None, *,
                  pages: Mapping[str, str] | None = None) -> pd.DataFrame:
    """What changed: every claim's reproduced value in this version vs the previous version.

    Columns: id, anchor, location, section, quantity, population, chapter, page, published,
    previous, reproduced, change (reproduced − previous when both are numbers), status (one of
    ``CHANGE_STATUSES``), previous_verdict, verdict. Rows: changed values first (largest relative
    change first), then newly computed, no longer computed, unchanged, not computed in either; within
    a status, registry order.
    """
    claims = claims_list(claims)
    pages = chapter_pages() if pages is None else dict(pages)
    rows = []
    for order, c in enumerate(claims):
        cur, prev = results.get(c["id"]), previous_results.get(c["id"])
        cur = cur if present(cur) else None
        prev = prev if present(prev) else None
        change = None
        rel = 0.0
        if cur is None and prev is None:
            status = "not computed"
        elif prev is None:
            status = "newly computed"
        elif cur is None:
            status = "no longer computed"
        elif _same(cur, prev):
            status = "unchanged"
        else:
            status = "changed"
            if not isinstance(cur, str) and not isinstance(prev, str):
                change = float(cur) - float(prev)
                rel = abs(change) / max(abs(float(prev)), 1e-12)
            else:
                rel = math.inf  # reached <-> not reached
        rows.append({
            "id": c["id"], "anchor": claim_anchor(c["id"]), "location": c["locations"][0],
            "section": section_of(c["locations"][0]), "quantity": c["quantity"], "population": c["population"],
            "chapter": c["chapter"], "page": pages.get(c["chapter"], ""), "published": c["published"],
            "previous": prev, "reproduced": cur, "change": change, "status": status,
            "previous_verdict": compare(c, prev)[0], "verdict": compare(c, cur)[0],
            "_rank": (CHANGE_STATUSES.index(status), -rel, order),
        })
    frame = pd.DataFrame(rows, columns=CHANGES_COLUMNS + ["_rank"])
    if len(frame):
        frame = frame.sort_values("_rank", kind="stable").reset_index(drop=True)
    return frame.drop(columns="_rank")


def table_change_counts(changes: pd.DataFrame) -> pd.DataFrame:
    """What changed, summary: claims per status (columns status, claims), in ``CHANGE_STATUSES`` order."""
    counts = changes["status"].value_counts()
    return pd.DataFrame({"status": list(CHANGE_STATUSES),
                         "claims": [int(counts.get(s, 0)) for s in CHANGE_STATUSES]})


def version_of_results(path: str | Path) -> str:
    """The version a results.json belongs to (its folder: ``_build/runs/<version>/results.json``)."""
    return Path(path).resolve().parent.name if str(path) else ""


def format_summary_sentence(reviewer: pd.DataFrame) -> str:
    """'312 of 401 claims reproduced (77.8%): 290 exact, 22 within tolerance; 60 differ; 29 not computable.'"""
    counts = table_verdict_counts(reviewer).iloc[0]
    total = int(counts["claims"])
    exact, near = int(counts["exact"]), int(counts["within tolerance"])
    pct = f" ({100.0 * (exact + near) / total:.1f}%)" if total else ""
    return (f"{exact + near} of {total} claims reproduced{pct}: {exact} exact, {near} within tolerance; "
            f"{int(counts['differs'])} differ; {int(counts['not computable'])} not computable.")


def log_unlinked(reviewer: pd.DataFrame) -> None:
    """Log (info) the registry chapters that have no page in this book."""
    missing = sorted(set(reviewer.loc[reviewer["page"] == "", "chapter"]))
    if missing:
        logger.info("reviewer: no page in the toc for chapter(s) %s", ", ".join(missing))
