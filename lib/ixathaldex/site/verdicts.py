"""claims.json, read back: the verdicts every page of a version shows.

The build computes a version's ``claims.json`` once, when it collects the glued values
(:func:`ixathaldex.claims.review.write_claims_json`, beside ``results.json`` in
``_build/runs/<version>/``). Everything that shows a verdict reads it from there: the ``{claim}``
role (:mod:`ixathaldex.site.sphinxext`), the reviewer page (:func:`table_reviewer_from_json`) and
the what-changed page (:func:`table_changes_from_json`). So a verdict is decided in one place and
every page of a version shows the same one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from ixathaldex.claims import review
from ixathaldex.exceptions import ClaimsError

#: the fields of a claims.json record that the pages read
REQUIRED = ("id", "location", "locations", "quantity", "population", "chapter", "rule", "published",
            "reproduced", "difference", "verdict", "reason", "page", "anchor")


def load_claims_json(path: str | Path) -> dict[str, dict]:
    """A version's claims.json: claim id -> its record (published, reproduced, verdict, reason, …).

    Raises ClaimsError naming the file when it is missing, not a JSON list of records, or a record
    lacks one of the ``REQUIRED`` fields.
    """
    path = Path(path)
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClaimsError(f"{path}: cannot read claims.json: {exc}") from None
    if not isinstance(records, list):
        raise ClaimsError(f"{path}: not a JSON list of claim records")
    out = {}
    for i, record in enumerate(records):
        missing = [k for k in REQUIRED if not isinstance(record, dict) or k not in record]
        if missing:
            raise ClaimsError(f"{path}: record {i}: missing field(s) {', '.join(missing)}")
        out[record["id"]] = record
    return out


def table_reviewer_from_json(claims_json: str | Path) -> pd.DataFrame:
    """Reviewer page, claims table, read from claims.json (the columns of
    :func:`ixathaldex.claims.review.table_reviewer`, registry order, verdicts as computed by the build)."""
    records = list(load_claims_json(claims_json).values())
    frame = pd.DataFrame(records)
    frame["section"] = [review.section_of(loc) for loc in frame["location"]]
    frame["sections"] = ["; ".join(dict.fromkeys(review.section_of(x) for x in locs.split("; ")))
                         for locs in frame["locations"]]
    return frame[review.REVIEWER_COLUMNS]


def table_changes_from_json(results: Mapping[str, Any], previous_results: Mapping[str, Any],
                            claims_json: str | Path, previous_claims_json: str | Path,
                            claims: Iterable[Mapping] | pd.DataFrame | None = None) -> pd.DataFrame:
    """What-changed page, table: :func:`ixathaldex.claims.review.table_changes` of two versions, with
    each version's verdict read from its claims.json (``verdict`` and ``previous_verdict``)."""
    changes = review.table_changes(results, previous_results, claims)
    changes["verdict"] = verdicts_of(changes["id"], load_claims_json(claims_json), claims_json)
    changes["previous_verdict"] = verdicts_of(changes["id"], load_claims_json(previous_claims_json),
                                              previous_claims_json)
    return changes


def verdicts_of(ids: Iterable[str], records: Mapping[str, dict], source: str | Path) -> list[str]:
    """The verdict of each claim id in a claims.json; an id it lacks is a ClaimsError."""
    absent = [i for i in ids if i not in records]
    if absent:
        raise ClaimsError(f"{source}: no record for claim(s) {', '.join(absent[:10])} "
                          "(claims.json is older than the registry: rebuild)")
    return [records[i]["verdict"] for i in ids]
