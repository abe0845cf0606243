"""Reviewer page, arithmetic recheck: the registry of the paper's worded assertions.

``data/published/assertions.yaml`` holds what the paper *says* about its own statistics, paraphrased,
never quoted: which statistic a sentence speaks of and what it asserts ("significant", "no
difference", "a tendency", "shorter", "the largest"), the groupings a comparison is described with in
two places, and the definitions of the methods against the groups counted in the tables. The checks
that read it are :mod:`ixathaldex.claims.consistency_wording`. Validated like the claims registry:
bad entries raise ClaimsError naming the entry and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ixathaldex.claims.registry import ID_PATTERN
from ixathaldex.exceptions import ClaimsError
from ixathaldex.paths import Project

KINDS = ("significance", "largest", "grouping", "definition")
#: what a significance assertion says of its p-value
ASSERTS = ("significant", "not significant", "tendency")
REQUIRED = {"significance": ("id", "kind", "location", "statement", "statistic", "asserts"),
            "largest": ("id", "kind", "location", "statement", "statistic", "others"),
            "grouping": ("id", "kind", "location", "statement", "statistic", "groups", "elsewhere"),
            "definition": ("id", "kind", "location", "statement", "count", "counted_as", "defined_as")}
OPTIONAL = ("lower", "higher", "outside", "note", "reading", "statistic")


def assertions_path() -> Path:
    """data/published/assertions.yaml of the current project (beside the claims registry)."""
    return Project.current().claims_path.with_name("assertions.yaml")


def _problem(i: int, e: Any, field: str, msg: str) -> str:
    ident = e.get("id") if isinstance(e, dict) else None
    return f"assertion #{i} ({ident or 'no id'}), field '{field}': {msg}"


def _check_groups(i: int, e: dict, field: str) -> list[str]:
    g = e.get(field)
    if not (isinstance(g, dict) and isinstance(g.get("groups"), list) and len(g["groups"]) >= 2
            and all(isinstance(x, list) and x and all(isinstance(s, str) for s in x) for x in g["groups"])
            and isinstance(g.get("location"), str)):
        return [_problem(i, e, field, "must be a mapping with 'location' (text) and 'groups' (two or more "
                                      "non-empty lists of level names)")]
    return []


def _check_entry(i: int, e: Any, claim_ids: set[str] | None) -> list[str]:
    if not isinstance(e, dict):
        return [f"assertion #{i}: not a mapping"]
    kind = e.get("kind")
    if kind not in KINDS:
        return [_problem(i, e, "kind", f"unknown kind {kind!r}; known: {', '.join(KINDS)}")]
    out = [_problem(i, e, f, "missing (required)") for f in REQUIRED[kind] if f not in e]
    out += [_problem(i, e, f, "unknown field") for f in e if f not in REQUIRED[kind] + OPTIONAL]
    if out:
        return out
    if not isinstance(e["id"], str) or not ID_PATTERN.match(e["id"]):
        out.append(_problem(i, e, "id", "must be dotted lowercase (a-z, 0-9, _)"))
    for f in ("location", "statement"):
        if not isinstance(e[f], str) or not e[f].strip():
            out.append(_problem(i, e, f, "must be a non-empty string"))
    if kind == "significance" and e["asserts"] not in ASSERTS:
        out.append(_problem(i, e, "asserts", f"unknown {e['asserts']!r}; known: {', '.join(ASSERTS)}"))
    if kind == "grouping":
        out += _check_groups(i, e, "groups") + _check_groups(i, e, "elsewhere")
    refs = [(f, e.get(f)) for f in ("statistic", "lower", "higher", "count") if e.get(f) is not None]
    refs += [(f, r) for f in ("others", "counted_as", "defined_as", "outside") for r in (e.get(f) or [])]
    for f in ("others", "counted_as", "defined_as", "outside"):
        if f in e and not (isinstance(e[f], list) and all(isinstance(r, str) for r in e[f])):
            out.append(_problem(i, e, f, "must be a list of claim ids"))
    for f, ref in refs:
        if not isinstance(ref, str):
            out.append(_problem(i, e, f, "must be a claim id"))
        elif claim_ids is not None and ref not in claim_ids:
            out.append(_problem(i, e, f, f"refers to unknown claim {ref!r}"))
    return out


def validate_assertions(entries: Any, claim_ids: set[str] | None = None) -> list[dict]:
    """Check a list of assertion entries (against the claim ids when given); raise ClaimsError listing
    every problem."""
    if not isinstance(entries, list):
        raise ClaimsError("assertions registry: top-level 'assertions' must be a list")
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, e in enumerate(entries):
        problems += _check_entry(i, e, claim_ids)
        ident = e.get("id") if isinstance(e, dict) else None
        if isinstance(ident, str):
            if ident in seen:
                problems.append(_problem(i, e, "id", f"duplicate id (first at assertion #{seen[ident]})"))
            seen.setdefault(ident, i)
    if problems:
        raise ClaimsError("assertions registry is invalid:\n" + "\n".join("  - " + p for p in problems))
    return entries


def load_assertions(path: str | Path | None = None, claim_ids: set[str] | None = None) -> list[dict]:
    """The registry of worded assertions (data/published/assertions.yaml), validated."""
    path = Path(path) if path is not None else assertions_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ClaimsError(f"{path}: assertions registry not found") from exc
    except yaml.YAMLError as exc:
        raise ClaimsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or "assertions" not in data:
        raise ClaimsError(f"{path}: expected a mapping with an 'assertions' list")
    try:
        return validate_assertions(data["assertions"], claim_ids)
    except ClaimsError as exc:
        raise ClaimsError(f"{path}: {exc}") from None
