"""ard.csv and ard.json: a version's analysis-results dataset, every statistic of every page.

:func:`table_ard` assembles the rows of each page (``claims.ard_patients``, ``ard_response``,
``values_survival``, ``ard_safety``; columns in :mod:`ixathaldex.claims.ard_rows` and docs/ard.md).
Each chapter computes its page's rows once, in its own kernel (``table_ard(snap, pages=[page])``),
reads its claim values from them and hands them to the build in its executed notebook
(:func:`glue_ard`: one display output of MIME type :data:`ARD_MIME`, in a removed cell). The build
assembles the version's ARD from its chapters' notebooks (:func:`collect_ard`, in the book's page
order, each statistic on one page), writes it beside ``results.json`` (:func:`write_ard`), and
checks that every claim value the chapters glued equals the ARD's value for that claim
(:func:`check_ard_results`). :func:`table_ard_changes` compares two versions' ARDs for the
what-changed page.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from ixathaldex.claims.ard_patients import table_ard_patients
from ixathaldex.claims.ard_response import table_ard_response
from ixathaldex.claims.ard_rows import COLUMNS, KEY, derive_ard_claim_values, frame_of, registry_by_id
from ixathaldex.claims.ard_safety import table_ard_safety
from ixathaldex.claims.values_survival import table_ard_prognostic, table_ard_survival
from ixathaldex.exceptions import ClaimsError
from ixathaldex.files import write_if_changed
from ixathaldex.values import NUMBER, Value, read_value

#: the pages' ARD builders, in the book's order
PAGES = {"patients": table_ard_patients, "response": table_ard_response, "survival": table_ard_survival,
         "prognostic": table_ard_prognostic, "safety": table_ard_safety}
#: the MIME type of the output in which a chapter hands its page's ARD rows to the build
ARD_MIME = "application/vnd.ixathaldex.ard+json"
#: two statistics closer than this (relative) have not moved
REL_EQUAL = 1e-9
CHANGE_COLUMNS = ["chapter", "context", *KEY, "previous_display", "stat_display", "previous", "stat", "change",
                  "relative_change", "status", "claim_id"]
#: statuses of :func:`table_ard_changes`, in display order
ARD_CHANGE_STATUSES = ("changed", "new", "no longer computed")


def table_ard(snap, claims: Iterable[Mapping] | None = None, pages: Iterable[str] | None = None) -> pd.DataFrame:
    """ard.csv: every statistic of every page (or of ``pages``), one row each (``ard_rows.COLUMNS``).

    A key (``ard_rows.KEY``) on two pages is a ClaimsError: each statistic has one row.
    """
    registry = list(registry_by_id(claims).values())
    names = list(PAGES) if pages is None else list(pages)
    unknown = [p for p in names if p not in PAGES]
    if unknown:
        raise ClaimsError(f"ARD: unknown page(s) {', '.join(unknown)} (known: {', '.join(PAGES)})")
    return assemble_ard([PAGES[p](snap, registry) for p in names])


def assemble_ard(pages: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One ARD from pages' rows, in the order given; a key (``ard_rows.KEY``) on two pages is a
    ClaimsError: each statistic has one row."""
    pages = list(pages)
    if not pages:
        return frame_of([])
    ard = pd.concat(pages, ignore_index=True)
    dup = ard[ard.duplicated(KEY, keep=False)]
    if len(dup):
        r = dup.iloc[0]
        raise ClaimsError(f"ARD: statistic {', '.join(str(r[k]) for k in KEY if r[k] != '')} computed on two "
                          f"pages ({', '.join(dict.fromkeys(dup['chapter']))})")
    return frame_of(ard.to_dict("records"))


def glue_ard(ard: pd.DataFrame) -> None:
    """Hand a page's ARD rows to the build: one display output of MIME type :data:`ARD_MIME`
    (``{"rows": [record, …]}``, the records of ard.json) in the executed notebook, read back by
    :func:`collect_ard`. The cell that calls it is removed from the page."""
    from IPython.display import display  # imported here: the library must not need IPython outside notebooks

    display({ARD_MIME: {"rows": [_json_record(r) for r in ard.to_dict("records")]}}, raw=True)


def derive_glued_ard(notebook: Mapping, source: str = "notebook") -> pd.DataFrame | None:
    """The ARD rows an executed notebook (nbformat v4, as a dict) handed over with :func:`glue_ard`,
    None when it has none; two such outputs are a ClaimsError naming ``source``."""
    found = [output["data"][ARD_MIME] for cell in notebook.get("cells", []) if cell.get("cell_type") == "code"
             for output in cell.get("outputs", []) if ARD_MIME in (output.get("data") or {})]
    if not found:
        return None
    if len(found) > 1 or not isinstance(found[0], dict) or not isinstance(found[0].get("rows"), list):
        raise ClaimsError(f"{source}: {len(found)} ARD output(s) of type {ARD_MIME}; a page hands over one, "
                          f"{{'rows': [...]}}")
    return frame_of_records(found[0]["rows"], source)


def collect_ard(notebooks: Mapping[str, str | Path], pages: Iterable[str] | None = None) -> pd.DataFrame:
    """ard.csv of a version, from its executed chapters: ``notebooks`` maps each page (registry
    chapter name) to its executed notebook; ``pages`` are the pages that must hand over rows
    (default: every page of ``notebooks``), assembled in the book's order (:data:`PAGES` order). A
    page whose notebook has no ARD output, or rows of another page, is a ClaimsError naming the
    notebook."""
    wanted = set(notebooks if pages is None else pages)
    frames = []
    for page in [p for p in PAGES if p in wanted]:
        path = notebooks.get(page)
        if path is None:
            raise ClaimsError(f"ARD: no executed notebook serves the page {page!r}")
        try:
            nb = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ClaimsError(f"{path}: cannot read executed notebook: {exc}") from None
        frame = derive_glued_ard(nb, str(path))
        if frame is None:
            raise ClaimsError(f"{path}: the {page} page handed over no ARD rows (a cell calling "
                              f"ard.glue_ard(table_ard(snap, pages=[{page!r}])) is needed)")
        others = sorted(set(frame["chapter"]) - {page})
        if others:
            raise ClaimsError(f"{path}: ARD rows of page(s) {', '.join(others)} handed over by the {page} page")
        frames.append(frame)
    return assemble_ard(frames)


def _json_record(row: Mapping) -> dict:
    out = {}
    for k in COLUMNS:
        v = row[k]
        if k == "stat":
            v = None if math.isnan(v) else (int(v) if row["stat_integer"] else float(v))
        elif k == "n":
            v = None if pd.isna(v) else int(v)
        elif k == "stat_integer":
            v = bool(v)
        out[k] = v
    return out


def write_ard(ard: pd.DataFrame, folder: str | Path) -> tuple[Path, Path]:
    """Write ``ard.csv`` and ``ard.json`` (a list of records; ``stat`` an int for counts, null when
    the statistic has none) into ``folder``; each file only when its content changed."""
    folder = Path(folder)
    csv_path, json_path = folder / "ard.csv", folder / "ard.json"
    table = ard[COLUMNS].copy()
    table["stat"] = pd.Series([_json_record(r)["stat"] for r in ard.to_dict("records")], index=table.index,
                              dtype=object)  # a count as 43, not 43.0
    write_if_changed(csv_path, table.to_csv(index=False, lineterminator="\n"))
    records = [json.dumps(_json_record(r), ensure_ascii=False) for r in ard.to_dict("records")]
    write_if_changed(json_path, "[\n" + ",\n".join(records) + "\n]\n")
    return csv_path, json_path


def load_ard(path: str | Path) -> pd.DataFrame:
    """A version's ard.csv or ard.json (as written by :func:`write_ard`) with the ARD's dtypes; a
    ClaimsError naming the file when it cannot be read or lacks a column."""
    path = Path(path)
    try:
        if path.suffix == ".json":
            return frame_of_records(json.loads(path.read_text(encoding="utf-8")), str(path))
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame["stat_integer"] = frame.get("stat_integer", pd.Series(dtype=str)) == "True"
    except (OSError, ValueError) as exc:
        raise ClaimsError(f"{path}: cannot read the ARD: {exc}") from None
    return _typed(frame, str(path))


def frame_of_records(records: list, source: str) -> pd.DataFrame:
    """ARD records as written to ard.json (:func:`write_ard`) as a frame with the ARD's dtypes; a
    ClaimsError naming ``source`` when they lack a column."""
    return _typed(pd.DataFrame(records), source) if records else frame_of([])


def _typed(frame: pd.DataFrame, path: str) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ClaimsError(f"{path}: not an ARD, missing column(s) {', '.join(missing)}")
    for col in ("stat", "n"):
        frame[col] = pd.to_numeric(frame[col].replace("", math.nan), errors="coerce")
    frame["stat_integer"] = frame["stat_integer"].astype(bool)
    return frame_of(frame[COLUMNS].to_dict("records"))


def _equal(a: Any, b: Any) -> bool:
    va, vb = read_value(a), read_value(b)
    if va is None or vb is None or va.kind != vb.kind:
        return False
    return va.kind != NUMBER or math.isclose(va.number, vb.number, rel_tol=1e-12, abs_tol=0.0)


def check_ard_results(results: Mapping[str, Any], ard: pd.DataFrame, claim_ids: Iterable[str] = ()) -> None:
    """Every claim value glued by the chapters equals the ARD's value for that claim.

    ``results`` is results.json (claim id -> glued value); ``claim_ids`` the registry's ids (a
    registered claim that was glued but has no ARD row is an error too). Raises ClaimsError naming
    each claim that differs.
    """
    values = derive_ard_claim_values(ard)
    problems = [f"{k}: glued {results[k]!r}, ARD {Value.parse(values[k]).plain()!r}"
                for k in results if k in values and not _equal(results[k], values[k])]
    problems += [f"{k}: glued {results[k]!r}, no ARD row names this claim"
                 for k in sorted(set(claim_ids) & set(results) - set(values))]
    if problems:
        raise ClaimsError(f"{len(problems)} glued claim value(s) differ from the ARD: " + "; ".join(problems[:10]))


def _relative(prev: pd.Series, cur: pd.Series) -> float:
    if prev["stat_kind"] == NUMBER and cur["stat_kind"] == NUMBER:
        return abs(cur["stat"] - prev["stat"]) / max(abs(prev["stat"]), 1e-12)
    return math.inf  # reached <-> not reached, computed <-> missing


def table_ard_changes(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """What-changed page, every statistic that moved: the ARD rows of ``current`` whose statistic
    differs from ``previous`` (same key: ``ard_rows.KEY``), and those in only one of the two.

    Columns ``CHANGE_COLUMNS``: the key, ``previous_display`` / ``stat_display``, ``previous`` /
    ``stat`` (numbers, NaN when none), ``change`` (stat − previous), ``relative_change`` (|change| /
    |previous|; inf when the kind changed, e.g. a median now reached), ``status`` (one of
    ``ARD_CHANGE_STATUSES``). Rows: changed first, the largest relative change first, then new, then
    no longer computed; ties in the current ARD's order.
    """
    prev = previous.assign(_order=range(len(previous)))
    cur = current.assign(_order=range(len(current)))
    merged = cur.merge(prev, on=KEY, how="outer", suffixes=("", "_prev"), indicator=True)
    rows = []
    for r in merged.to_dict("records"):
        side = r["_merge"]
        p = {"stat": r["stat_prev"], "stat_kind": r["stat_kind_prev"]}
        if side == "both":
            rel = _relative(pd.Series(p), pd.Series(r))
            same = r["stat_kind"] == p["stat_kind"] and (r["stat_kind"] != NUMBER or rel <= REL_EQUAL)
            if same:
                continue
            status = "changed"
        else:
            status, rel = ("new", math.nan) if side == "left_only" else ("no longer computed", math.nan)
        src = "_prev" if side == "right_only" else ""  # a statistic gone: its fields from previous
        rows.append({**{k: r[k] for k in KEY}, "chapter": r["chapter" + src], "context": r["context" + src],
                     "previous_display": r["stat_display_prev"] if side != "left_only" else "",
                     "stat_display": r["stat_display"] if side != "right_only" else "",
                     "previous": r["stat_prev"], "stat": r["stat"], "change": r["stat"] - r["stat_prev"],
                     "relative_change": rel, "status": status, "claim_id": r["claim_id" + src],
                     "_rank": (ARD_CHANGE_STATUSES.index(status), -rel if status == "changed" else 0.0,
                               r["_order" + src])})
    frame = pd.DataFrame(rows, columns=CHANGE_COLUMNS + ["_rank"])
    if len(frame):
        frame = frame.sort_values("_rank", kind="stable").reset_index(drop=True)
    frame["previous"] = frame["previous"].astype(float)
    frame["stat"] = frame["stat"].astype(float)
    frame["change"] = frame["change"].astype(float)
    frame["relative_change"] = frame["relative_change"].astype(float)
    return frame.drop(columns="_rank")
