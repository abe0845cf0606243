"""Reviewer page, the part read first: verdict counts per chapter and section, what does not reproduce,
where the paper contradicts itself, and which findings name each claim.

Every function takes the reviewer frame (:func:`ixathaldex.claims.review.table_reviewer`, or the
same columns read from claims.json) and/or the recheck's findings
(:func:`ixathaldex.claims.consistency.table_consistency`) and returns a tidy frame; the HTML is in
:mod:`ixathaldex.claims.review_digest_html`.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from ixathaldex.claims.printed import RECHECK_VERDICTS
from ixathaldex.claims.registry import VERDICTS
from ixathaldex.claims.review import chapter_pages, section_key

#: the claim verdicts a reviewer must read first, and the recheck verdicts that are conflicts
NOT_REPRODUCED = ("differs", "not computable")
CONFLICTS = ("inconsistent", "rounding")
#: order of findings inside a group: conflicts first, agreement last
FINDING_ORDER = ("inconsistent", "rounding", "not checkable", "consistent")
NO_CHAPTER = "(no claim)"


def _finding_chapters(findings: pd.DataFrame, reviewer: pd.DataFrame) -> list[str]:
    """The chapter of each finding: the chapter that computes its first claim (its subject)."""
    chapter_of = dict(zip(reviewer["id"], reviewer["chapter"]))
    return [chapter_of.get(list(ids)[0], NO_CHAPTER) if len(ids) else NO_CHAPTER for ids in findings["claims"]]


def _counts(labels: list, values: list, order: tuple, by: str) -> pd.DataFrame:
    frame = pd.DataFrame({by: labels, "v": values})
    out = frame.groupby(by, sort=False)["v"].value_counts().unstack(fill_value=0)
    return out.reindex(columns=list(order), fill_value=0).astype(int)


def table_review_summary(reviewer: pd.DataFrame, findings: pd.DataFrame, by: str = "chapter", *,
                         toc: Mapping | str | None = None) -> pd.DataFrame:
    """Reviewer page, summary: per chapter (or per section of the paper), claims by verdict and
    findings of the recheck by verdict.

    ``by`` is ``"chapter"`` (the chapter computing the claim; a finding belongs to the chapter of its
    first claim) or ``"section"`` (where a claim is first printed; a finding's own section). Columns:
    by, claims, exact, within tolerance, differs, not computable, findings, consistent, rounding,
    inconsistent, not checkable. Rows in the book's chapter order (``toc``, default the project's) or
    the paper's section order; a group with no claim or no finding has zeros there.
    """
    if by not in ("chapter", "section"):
        raise ValueError(f"table_review_summary: by must be 'chapter' or 'section', not {by!r}")
    claims = _counts(list(reviewer[by]), list(reviewer["verdict"]), VERDICTS, by)
    labels = _finding_chapters(findings, reviewer) if by == "chapter" else list(findings["section"])
    checks = _counts(labels, list(findings["verdict"]), RECHECK_VERDICTS, by)
    out = claims.join(checks, how="outer").fillna(0).astype(int)
    out.insert(0, "claims", out[list(VERDICTS)].sum(axis=1))
    out.insert(len(VERDICTS) + 1, "findings", out[list(RECHECK_VERDICTS)].sum(axis=1))
    out = out.reset_index().rename(columns={"index": by})
    if by == "chapter":
        rank = {c: i for i, c in enumerate(chapter_pages(toc))}
        first = {c: i for i, c in enumerate(dict.fromkeys(reviewer["chapter"]))}
        key = lambda s: s.map(lambda c: (rank.get(c, len(rank)), first.get(c, len(first))))  # noqa: E731
    else:
        key = lambda s: s.map(section_key)  # noqa: E731
    out = out.sort_values(by, key=key, kind="stable").reset_index(drop=True)
    out.columns.name = None
    return out[[by, "claims", *VERDICTS, "findings", *RECHECK_VERDICTS]]


def table_recheck_counts(findings: pd.DataFrame, by: str = "family") -> pd.DataFrame:
    """Reviewer page, every finding: findings per family (or section) by recheck verdict.

    Columns: by, findings, consistent, rounding, inconsistent, not checkable; groups in the order they
    first appear in ``findings`` (the order of the checks).
    """
    out = _counts(list(findings[by]), list(findings["verdict"]), RECHECK_VERDICTS, by)
    out.insert(0, "findings", out.sum(axis=1))
    out = out.reset_index()
    out.columns.name = None
    return out[[by, "findings", *RECHECK_VERDICTS]]


def table_not_reproduced(reviewer: pd.DataFrame) -> pd.DataFrame:
    """Reviewer page, "What does not reproduce": every claim that differs or is not computable.

    The reviewer frame's rows with those verdicts, in the paper's section order (then registry order),
    every column kept (the reason says why).
    """
    rows = reviewer[reviewer["verdict"].isin(NOT_REPRODUCED)]
    return rows.sort_values("section", key=lambda s: s.map(section_key), kind="stable").reset_index(drop=True)


def table_conflicts(findings: pd.DataFrame) -> pd.DataFrame:
    """Reviewer page, "Where the paper contradicts itself": the inconsistent and rounding findings.

    Grouped by family (families in the order of the checks), inconsistent before rounding within a
    family; every column of the findings kept (published, recomputed, explanation, reading).
    """
    rows = findings[findings["verdict"].isin(CONFLICTS)]
    family_rank = {f: i for i, f in enumerate(dict.fromkeys(findings["family"]))}
    rank = [(family_rank[f], CONFLICTS.index(v)) for f, v in zip(rows["family"], rows["verdict"])]
    return rows.assign(_rank=rank).sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)


def table_claim_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Reviewer page, claims table: which findings name each claim (for the links ``#finding-<id>``).

    One row per (claim, finding): columns claim, finding, family, verdict, subject (the claim is the
    finding's first claim). Per claim: findings whose subject it is first, then by verdict
    (inconsistent, rounding, not checkable, consistent), then in the order of the checks.
    """
    rows, first_seen = [], {}
    for order, f in enumerate(findings.to_dict("records")):
        for pos, cid in enumerate(list(f["claims"])):
            first_seen.setdefault(cid, len(first_seen))
            rows.append({"claim": cid, "finding": f["id"], "family": f["family"], "verdict": f["verdict"],
                         "subject": pos == 0, "_rank": (pos != 0, FINDING_ORDER.index(f["verdict"]), order)})
    rows.sort(key=lambda r: (first_seen[r["claim"]], r["_rank"]))
    return pd.DataFrame([{k: v for k, v in r.items() if k != "_rank"} for r in rows],
                        columns=["claim", "finding", "family", "verdict", "subject"])


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def format_recheck_sentence(findings: pd.DataFrame) -> str:
    """'385 findings of the recheck: 344 consistent, 8 rounding, 27 inconsistent, 6 not checkable.'"""
    counts = findings["verdict"].value_counts()
    parts = ", ".join(f"{int(counts.get(v, 0))} {v}" for v in RECHECK_VERDICTS)
    return f"{_plural(len(findings), 'finding', 'findings')} of the recheck of the printed numbers: {parts}."


def format_not_reproduced_sentence(reviewer: pd.DataFrame) -> str:
    """'13 of 401 claims do not reproduce: 11 differ, 2 are not computable.' (or that every claim does)."""
    rows = table_not_reproduced(reviewer)
    if not len(rows):
        return f"Every one of the {len(reviewer)} claims reproduces in this version (exact or within tolerance)."
    differs = int((rows["verdict"] == "differs").sum())
    missing = len(rows) - differs
    return (f"{len(rows)} of {len(reviewer)} claims do not reproduce in this version: "
            f"{differs} {'differs' if differs == 1 else 'differ'}, "
            f"{missing} {'is' if missing == 1 else 'are'} not computable.")


def format_conflicts_sentence(findings: pd.DataFrame) -> str:
    """'35 of 385 findings are conflicts: 27 inconsistent, 8 rounding, in 13 kinds of check.'"""
    rows = table_conflicts(findings)
    if not len(rows):
        return f"None of the {len(findings)} findings of the recheck is inconsistent or a rounding slip."
    counts = rows["verdict"].value_counts()
    return (f"{len(rows)} of {len(findings)} findings: {int(counts.get('inconsistent', 0))} inconsistent, "
            f"{int(counts.get('rounding', 0))} rounding, in {_plural(rows['family'].nunique(), 'kind', 'kinds')} "
            f"of check.")
