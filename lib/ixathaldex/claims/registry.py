"""Reviewer page: the registry of published numbers, tolerance rules, and reproduced-vs-published.

The registry (``data/published/claims.yaml``) holds one entry per number the paper reports about the
trial. Chapters glue each computed value under its claim id (scrapbook format); ``collect_results``
reads the glued values back from executed notebooks, ``table_claims`` compares them with the
registry using each claim's rule (see ``RULES`` and docs/paper-readings.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
import yaml

from ixathaldex.claims.precision import is_exact
from ixathaldex.exceptions import ClaimsError
from ixathaldex.log import logger
from ixathaldex.paths import Project
from ixathaldex.values import BOUND_PATTERN, NOT_REACHED_CODES, Value, read_value

#: libyaml's safe loader when PyYAML was built with it (the registry reads in 0.03 s instead of 0.19 s),
#: else the pure-Python one; both build the same claims
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Tolerances of the comparison rules (documented in docs/paper-readings.md).
MEDIAN_TOL = 0.3  # months; widened to half a printed unit when the value is printed coarser
CI_LIMIT_TOL = 0.5  # months
P_FACTOR = 2.0  # p-values agree within this factor (and on the same side of ALPHA)
ALPHA = 0.05
HR_REL_TOL = 0.20  # hazard ratios agree within 20 % (ratio scale) and on the same side of 1
TINY_BOUND = 0.001  # a printed bound "p < b" with b <= TINY_BOUND is met up to a factor P_FACTOR

RULES = ("exact", "percent_printed", "printed", "median", "ci_limit", "pvalue", "hr", "not_reached")
#: the registry's chapter names (a claim's ``chapter`` field); the book's pages and their order
#: come from ``_toc.yml`` (``review.chapter_pages``), where ``chapters/NN_<name>`` serves <name>
CHAPTERS = ("patients", "response", "survival", "prognostic", "safety")
REQUIRED = ("id", "locations", "quantity", "population", "published", "unit", "rule", "chapter")
OPTIONAL = ("decimals", "note", "numerator", "denominator", "expected_computable", "reciprocal_decimals")
ID_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")

#: a claim's verdict: exact at the printed precision (:func:`precision.is_exact`), else within the
#: tolerance of its rule, else differs; not computable when nothing was reproduced
VERDICTS = ("exact", "within tolerance", "differs", "not computable")
AGREEING = ("exact", "within tolerance")
RECORD_PREFIX = "application/papermill.record/"
SCRAP_MIME = "application/scrapbook.scrap.json+json"


# --------------------------------------------------------------------------- loading
def _problem(i: int, entry: Any, field: str, msg: str) -> str:
    ident = entry.get("id") if isinstance(entry, dict) else None
    return f"claim #{i} ({ident or 'no id'}), field '{field}': {msg}"


def _check_entry(i: int, e: Any) -> list[str]:
    if not isinstance(e, dict):
        return [f"claim #{i}: not a mapping"]
    out = [_problem(i, e, f, "missing (required)") for f in REQUIRED if f not in e or e[f] is None]
    out += [_problem(i, e, f, "unknown field") for f in e if f not in REQUIRED + OPTIONAL]
    if out:
        return out
    if not isinstance(e["id"], str) or not ID_PATTERN.match(e["id"]):
        out.append(_problem(i, e, "id", "must be dotted lowercase (a-z, 0-9, _), e.g. 't2a.itt.cr.n'"))
    locs = e["locations"]
    if not isinstance(locs, list) or not locs or not all(isinstance(s, str) and s.strip() for s in locs):
        out.append(_problem(i, e, "locations", "must be a non-empty list of non-empty strings"))
    for f in ("quantity", "population", "unit"):
        if not isinstance(e[f], str) or not e[f].strip():
            out.append(_problem(i, e, f, "must be a non-empty string"))
    rule = e["rule"]
    if rule not in RULES:
        out.append(_problem(i, e, "rule", f"unknown rule {rule!r}; known: {', '.join(RULES)}"))
    if e["chapter"] not in CHAPTERS:
        out.append(_problem(i, e, "chapter", f"unknown chapter {e['chapter']!r}; known: {', '.join(CHAPTERS)}"))
    pub = e["published"]
    if isinstance(pub, bool) or not isinstance(pub, (int, float, str)):
        out.append(_problem(i, e, "published", "must be a number, 'NR', 'NC' or '<x'"))
    elif isinstance(pub, str):
        if rule == "not_reached":
            if pub not in NOT_REACHED_CODES:
                out.append(_problem(i, e, "published", "rule not_reached needs 'NR' or 'NC'"))
        elif rule == "pvalue":
            if not BOUND_PATTERN.match(pub):
                out.append(_problem(i, e, "published", f"p-value string must be '<x', got {pub!r}"))
        else:
            out.append(_problem(i, e, "published", f"rule {rule} needs a number, got {pub!r}"))
    elif rule == "not_reached":
        out.append(_problem(i, e, "published", "rule not_reached needs 'NR' or 'NC', got a number"))
    elif rule == "exact" and float(pub) != int(pub):
        out.append(_problem(i, e, "published", "rule exact needs an integer"))
    for f in ("decimals", "reciprocal_decimals"):
        if f in e and (isinstance(e[f], bool) or not isinstance(e[f], int) or e[f] < 0):
            out.append(_problem(i, e, f, "must be a non-negative integer"))
    if rule in ("percent_printed", "printed") and "decimals" not in e:
        out.append(_problem(i, e, "decimals", f"required by rule {rule}"))
    if "expected_computable" in e and not isinstance(e["expected_computable"], bool):
        out.append(_problem(i, e, "expected_computable", "must be true or false"))
    return out


def validate_claims(entries: list) -> list[dict]:
    """Check a list of registry entries; raise ClaimsError listing every problem."""
    if not isinstance(entries, list):
        raise ClaimsError("claims registry: top-level 'claims' must be a list")
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, e in enumerate(entries):
        problems += _check_entry(i, e)
        ident = e.get("id") if isinstance(e, dict) else None
        if isinstance(ident, str):
            if ident in seen:
                problems.append(_problem(i, e, "id", f"duplicate id (first at claim #{seen[ident]})"))
            else:
                seen[ident] = i
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            continue
        for f in ("numerator", "denominator"):
            ref = e.get(f)
            if ref is None:
                continue
            if isinstance(ref, str) and ref not in seen:
                problems.append(_problem(i, e, f, f"refers to unknown claim {ref!r}"))
            elif not isinstance(ref, (str, int)) or isinstance(ref, bool):
                problems.append(_problem(i, e, f, "must be a claim id or an integer"))
    if problems:
        raise ClaimsError("claims registry is invalid:\n" + "\n".join("  - " + p for p in problems))
    return entries


def load_claims(path: str | Path | None = None, as_frame: bool = False):
    """The registry of published numbers (data/published/claims.yaml), validated.

    Returns a list of dicts (one per claim, registry order), or a DataFrame when ``as_frame``.
    Raises ClaimsError naming the entry and field of every problem.
    """
    path = Path(path) if path is not None else Project.current().claims_path
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except FileNotFoundError as exc:
        raise ClaimsError(f"{path}: claims registry not found") from exc
    except yaml.YAMLError as exc:
        raise ClaimsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or "claims" not in data:
        raise ClaimsError(f"{path}: expected a mapping with a 'claims' list")
    try:
        claims = validate_claims(data["claims"])
    except ClaimsError as exc:
        raise ClaimsError(f"{path}: {exc}") from None
    logger.debug("loaded %d claims from %s", len(claims), path)
    if as_frame:
        return pd.DataFrame(claims)
    return claims


# --------------------------------------------------------------------------- comparing
def _is_missing(v: Any) -> bool:
    value = read_value(v)
    return value is not None and value.is_missing


def _half_unit(decimals: int | None) -> float:
    return 0.5 * 10.0 ** (-(decimals or 0))


def compare(claim: Mapping, reproduced: Any) -> tuple[str, float | None]:
    """Compare one reproduced value with its published claim; return (verdict, difference).

    ``difference`` is reproduced - published when both are numbers (for a p-value bound, reproduced
    - bound), else None. Verdicts (:data:`VERDICTS`): "exact" (printed as the paper prints it, the
    value reads as the printed figure: :func:`ixathaldex.claims.precision.is_exact`), "within
    tolerance" (not exact, but within the claim's rule), "differs", "not computable" (nothing
    reproduced).
    """
    verdict, diff = within_rule(claim, reproduced)
    if verdict != "not computable" and is_exact(claim, reproduced):
        return "exact", diff
    return ("within tolerance" if verdict == "reproduced" else verdict), diff


def within_rule(claim: Mapping, reproduced: Any) -> tuple[str, float | None]:
    """The tolerance rule of a claim alone: ("reproduced" | "differs" | "not computable", difference)."""
    rule = claim["rule"]
    pub = claim["published"]
    if rule not in RULES:
        raise ClaimsError(f"claim {claim.get('id')}: unknown rule {rule!r}")
    value = read_value(reproduced)
    if value is None or value.is_missing or value.is_bound:  # a computed value is never a printed bound
        if value is None or value.is_bound:
            logger.warning("claim %s: unreadable reproduced value %r", claim.get("id"), reproduced)
        return "not computable", None
    if rule == "not_reached":
        return ("reproduced" if value.is_not_reached else "differs"), None
    if value.is_not_reached:  # published a number, reproduced "not reached"
        return "differs", None
    rep = value.number
    eps = 1e-9
    if rule == "pvalue":
        if isinstance(pub, str):
            bound = Value.parse(pub).number
            diff = rep - bound
            ok = rep < bound or (bound <= TINY_BOUND and rep < bound * P_FACTOR)
            return ("reproduced" if ok else "differs"), diff
        p = float(pub)
        diff = rep - p
        same_side = (rep < ALPHA) == (p < ALPHA)
        if p <= 0 or rep <= 0:
            return ("reproduced" if rep == p else "differs"), diff
        ratio = rep / p
        ok = same_side and (1 / P_FACTOR - eps <= ratio <= P_FACTOR + eps)
        return ("reproduced" if ok else "differs"), diff
    pubf = float(pub)
    diff = rep - pubf
    if rule == "exact":
        ok = abs(diff) < eps
    elif rule in ("percent_printed", "printed"):
        ok = abs(diff) <= _half_unit(claim.get("decimals")) + eps
    elif rule == "median":
        ok = abs(diff) <= max(MEDIAN_TOL, _half_unit(claim.get("decimals", 1))) + eps
    elif rule == "ci_limit":
        ok = abs(diff) <= CI_LIMIT_TOL + eps
    elif rule == "hr":
        if pubf <= 0 or rep <= 0:
            ok = False
        else:
            same_side = (rep > 1) == (pubf > 1) or rep == pubf
            ok = same_side and abs(rep / pubf - 1) <= HR_REL_TOL + eps
    else:  # pragma: no cover - RULES is exhaustive
        raise ClaimsError(f"claim {claim.get('id')}: rule {rule!r} not implemented")
    return ("reproduced" if ok else "differs"), diff


def table_claims(claims: Iterable[Mapping] | pd.DataFrame, results: Mapping[str, Any]) -> pd.DataFrame:
    """Reviewer table: every claim, published vs reproduced, difference and verdict.

    Columns: id, location (the first printed location), locations (all, joined by '; '), quantity,
    population, chapter, rule, published, reproduced, difference, verdict. Results whose id is not in the
    registry are logged (not silently dropped) and ignored.
    """
    if isinstance(claims, pd.DataFrame):
        claims = claims.to_dict("records")
    claims = list(claims)
    rows = []
    for c in claims:
        rep = results.get(c["id"])
        verdict, diff = compare(c, rep)
        rows.append({
            "id": c["id"], "location": c["locations"][0], "locations": "; ".join(c["locations"]),
            "quantity": c["quantity"], "population": c["population"], "chapter": c["chapter"],
            "rule": c["rule"], "published": c["published"],
            "reproduced": None if _is_missing(rep) else rep, "difference": diff, "verdict": verdict,
        })
    unknown = sorted(set(results) - {c["id"] for c in claims})
    if unknown:
        logger.info("%d glued value(s) are not claims: %s", len(unknown), ", ".join(unknown[:10]))
    cols = ["id", "location", "locations", "quantity", "population", "chapter", "rule", "published", "reproduced",
            "difference", "verdict"]
    return pd.DataFrame(rows, columns=cols)


def derive_missing_claims(claims: Iterable[Mapping] | pd.DataFrame, results: Mapping[str, Any]) -> list[str]:
    """Ids of claims with no computed value, except those marked ``expected_computable: false``."""
    if isinstance(claims, pd.DataFrame):
        claims = claims.to_dict("records")
    out = []
    for c in claims:
        if c.get("expected_computable", True) is False:
            continue
        if compare(c, results.get(c["id"]))[0] == "not computable":
            out.append(c["id"])
    return out


def require_complete(claims: Iterable[Mapping] | pd.DataFrame, results: Mapping[str, Any]) -> None:
    """Raise ClaimsError naming every claim (and its chapter) that no chapter computed.

    For the publication cut a missing claim is a build failure, not a silent gap.
    """
    if isinstance(claims, pd.DataFrame):
        claims = claims.to_dict("records")
    claims = list(claims)
    missing = set(derive_missing_claims(claims, results))
    if missing:
        by_chapter: dict[str, list[str]] = {}
        for c in claims:
            if c["id"] in missing:
                by_chapter.setdefault(c["chapter"], []).append(c["id"])
        lines = [f"  - chapter {ch}: {', '.join(ids)}" for ch, ids in sorted(by_chapter.items())]
        raise ClaimsError(f"{len(missing)} claim(s) have no computed value:\n" + "\n".join(lines))


# --------------------------------------------------------------------------- collecting glued values
def _decode(mime: str, payload: Any) -> Any:
    kind = mime[len(RECORD_PREFIX):]
    if kind in ("json", "application/json"):
        if isinstance(payload, str):
            try:
                return json.loads(payload)
            except json.JSONDecodeError:
                return payload
        return payload
    if kind in ("text/plain", "text"):
        return _parse_text(payload if isinstance(payload, str) else "".join(payload))
    return payload


_NUMPY_REPR = re.compile(r"^np\.(?:float|int|uint)\d*\((.*)\)$")


def _parse_text(text: str) -> Any:
    t = text.strip()
    m = _NUMPY_REPR.match(t)  # numpy >= 2 reprs scalars as np.float64(8.5)
    if m:
        t = m.group(1)
    t = t.strip("'\"")
    if t.upper() in NOT_REACHED_CODES:
        return t.upper()
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def _scalar(v: Any) -> Any:
    """Claims take plain numbers or 'NR'; anything else is kept but reported."""
    if isinstance(v, str):
        v = _parse_text(v)
    if isinstance(v, float):  # NaN (not computed) -> None, +inf (a median not reached) -> "NR"
        value = read_value(v)
        return v if value is None else value.plain()
    return v


def derive_glued_values(notebook: Mapping) -> dict[str, Any]:
    """Every scrapbook-glued scalar of one executed notebook (a dict in nbformat v4 layout)."""
    out: dict[str, Any] = {}
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            meta = (output.get("metadata") or {}).get("scrapbook") or {}
            name = meta.get("name")
            scrap = data.get(SCRAP_MIME)
            if isinstance(scrap, dict) and scrap.get("name"):  # scrapbook.glue(name, value)
                out[scrap["name"]] = _scalar(scrap.get("data"))
                continue
            if not name:
                continue
            # glue(..., display=False) prefixes the MIME keys; display=True (myst-nb's default) does not
            bundle = {(k[len(RECORD_PREFIX):] if k.startswith(RECORD_PREFIX) else k): v for k, v in data.items()}
            if any(m.startswith("image/") for m in bundle):
                continue  # a glued figure: not a claim value
            mime = next((m for m in ("application/json", "json", "text/plain") if m in bundle), None)
            if mime is None:
                continue  # another rich object: not a claim value
            out[name] = _scalar(_decode(RECORD_PREFIX + mime, bundle[mime]))
    return out


def collect_results(executed_notebook_paths: Iterable[str | Path]) -> dict[str, Any]:
    """results.json: claim id -> value glued by the executed chapters.

    Reads scrapbook records (outputs whose data has a MIME key starting with
    ``application/papermill.record/``, name in ``metadata.scrapbook.name``). A name glued by two
    notebooks is an error (ClaimsError), because the registry needs one source per number.
    """
    results: dict[str, Any] = {}
    source: dict[str, str] = {}
    for p in executed_notebook_paths:
        p = Path(p)
        try:
            nb = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ClaimsError(f"{p}: cannot read executed notebook: {exc}") from exc
        for name, value in derive_glued_values(nb).items():
            if name in results and source[name] != str(p):
                raise ClaimsError(f"glued name {name!r} appears in both {source[name]} and {p}")
            results[name] = value
            source[name] = str(p)
    return results


def load_results(path: str | Path) -> dict[str, Any]:
    """A results.json file (claim id -> value) as written by the build."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ClaimsError(f"{path}: cannot read results: {exc}") from exc
