"""Source datasets as a sponsor delivers them: SAS transport, CDISC Dataset-JSON, CSV.

``read_source(path)`` reads one file into an all-text table (``None`` for a missing value) in the
cell format of ``docs/data-model.md``: dates ISO ``YYYY-MM-DD``, whole numbers without a decimal
point, other numbers in their shortest form. What it knows of the file (format, sha256, which
columns were dates) travels with the table (:class:`SourceTable`). Formats, by file extension:

- ``.xpt``: SAS transport (v5 or v8) through ``pyreadstat.read_xport``. A numeric column with a
  SAS date format (DATE9., YYMMDD10., …) becomes ISO dates; a datetime format keeps its date part;
  a numeric date *without* a format stays a number (days since 1960-01-01) unless the study
  mapping lists it under ``dates``.
- ``.json``: CDISC Dataset-JSON v1.1, an object with ``columns`` (``name``, ``dataType``, …) and
  ``rows`` (one list per record). ``date``/``datetime`` columns may hold ISO text or, with
  ``targetDataType: integer``, SAS numbers (days / seconds since 1960-01-01).
- ``.ndjson``: the same, one JSON value per line: the first line is the metadata (with
  ``columns``), every following line one row.
- ``.csv``: UTF-8 with or without a byte-order mark, LF or CRLF line ends, every cell text.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ixathaldex.exceptions import SnapshotError
from ixathaldex.files import sha256_file

#: the file extensions read, in the order a dataset is looked for in a folder, and their format names
FORMATS = {".csv": "csv", ".xpt": "sas-xport", ".json": "dataset-json", ".ndjson": "dataset-ndjson"}
SAS_EPOCH = dt.date(1960, 1, 1)
#: SAS format names (without width) that make a numeric column a date / a datetime
SAS_DATE_FORMATS = ("DATE", "YYMMDD", "E8601DA", "IS8601DA", "MMDDYY", "DDMMYY", "YYMMDDN", "B8601DA",
                    "MONYY", "WORDDATE", "WEEKDATE", "NLDATE", "DAY", "JULIAN")
SAS_DATETIME_FORMATS = ("DATETIME", "E8601DT", "IS8601DT", "B8601DT", "DATEAMPM", "NLDATM")


@dataclass
class SourceTable:
    """One dataset as delivered: its cells as text (None = missing) and where they came from."""

    name: str  # file name, never a path
    format: str
    sha256: str
    data: pd.DataFrame = field(repr=False)
    dates: tuple = ()  # columns that were read as dates (now ISO text)


def text_cell(value) -> str | None:
    """One cell in the snapshot's text form (None for missing): ISO dates, ``3`` not ``3.0``,
    other numbers with up to 12 significant digits (what survives SAS's IBM floats)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return "Y" if value else "N"
    if isinstance(value, (int, float, np.number)):
        x = float(value)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return str(x)
        return str(int(x)) if x.is_integer() and abs(x) < 1e15 else f"{x:.12g}"
    text = str(value).strip()
    return text or None


def sas_date(value) -> str | None:
    """A SAS numeric date (days since 1960-01-01) as ISO text; ISO text passes through (date part)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        days = float(value)
    except (TypeError, ValueError):
        return str(value)[:10] if str(value).strip() else None
    return (SAS_EPOCH + dt.timedelta(days=int(math.floor(days)))).isoformat()


def _is_format(fmt: str | None, names: tuple) -> bool:
    base = (fmt or "").upper().rstrip(".0123456789")
    return any(base == n or base.startswith(n) for n in names)


def _frame(columns: list[str], rows) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=columns, dtype=object)
    return df.apply(lambda s: s.map(text_cell)) if len(df) else df


def _read_xpt(path: Path) -> tuple[pd.DataFrame, tuple]:
    import pyreadstat

    try:
        df, meta = pyreadstat.read_xport(str(path))
    except Exception as exc:  # pyreadstat raises its own types for every malformed file
        raise SnapshotError(f"{path.name}: not a readable SAS transport file ({exc})") from None
    formats = meta.original_variable_types or {}
    dates = tuple(c for c in df.columns if _is_format(formats.get(c), SAS_DATE_FORMATS + SAS_DATETIME_FORMATS))
    return _frame(list(df.columns), df.astype(object).itertuples(index=False)), dates


def _dataset_json(meta: dict, rows: list, name: str) -> tuple[pd.DataFrame, tuple]:
    cols = meta.get("columns")
    if not isinstance(cols, list) or not all(isinstance(c, dict) and "name" in c for c in cols):
        raise SnapshotError(f"{name}: Dataset-JSON needs 'columns', a list of objects with a 'name'")
    names = [str(c["name"]) for c in cols]
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != len(names):
            raise SnapshotError(f"{name}: row {i} is not a list of {len(names)} values")
    df = _frame(names, rows)
    dates = []
    for c in cols:
        kind = str(c.get("dataType", "")).lower()
        if kind not in ("date", "datetime"):
            continue
        dates.append(c["name"])
        raw = pd.Series([r[names.index(c["name"])] for r in rows], dtype=object)
        if kind == "datetime":  # numbers are seconds since 1960
            raw = raw.map(lambda v: v / 86400 if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
        df[c["name"]] = raw.map(sas_date).to_numpy() if len(raw) else raw
    return df, tuple(dates)


def _read_json(path: Path, lines: bool) -> tuple[pd.DataFrame, tuple]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
        if lines:
            records = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
            meta, rows = (records[0] if records else {}), records[1:]
        else:
            meta = json.loads(text)
            rows = meta.get("rows", []) if isinstance(meta, dict) else []
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{path.name}: not UTF-8 {'NDJSON' if lines else 'JSON'} ({exc})") from None
    if not isinstance(meta, dict):
        raise SnapshotError(f"{path.name}: the {'first line' if lines else 'top level'} is not a JSON object")
    return _dataset_json(meta, rows, path.name)


def _read_csv(path: Path) -> tuple[pd.DataFrame, tuple]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"{path.name}: byte at offset {exc.start} is not UTF-8; save the file as UTF-8") \
            from None
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, ValueError) as exc:
        raise SnapshotError(f"{path.name}: not a parseable CSV file ({str(exc).strip()})") from None
    return df.astype(object).where(df.notna(), None).apply(lambda s: s.map(text_cell)), ()


def read_source(path: Path) -> SourceTable:
    """One delivered dataset (``.xpt``, ``.json``, ``.ndjson`` or ``.csv``) as text cells."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SnapshotError(f"{path.name}: unknown dataset format (known: {', '.join(FORMATS)})")
    if not path.is_file():
        raise SnapshotError(f"{path.name}: missing from {path.parent}")
    if fmt == "sas-xport":
        df, dates = _read_xpt(path)
    elif fmt == "csv":
        df, dates = _read_csv(path)
    else:
        df, dates = _read_json(path, lines=fmt == "dataset-ndjson")
    return SourceTable(path.name, fmt, sha256_file(path), df.reset_index(drop=True), dates)


def find_source(folder: Path, dataset: str) -> Path | None:
    """The file of ``dataset`` (e.g. "adsl") in ``folder``: ``adsl.csv``, ``.xpt``, ``.json`` or
    ``.ndjson`` (any case); None if there is none; an error if there are several."""
    folder = Path(folder)
    found = [p for p in sorted(folder.iterdir()) if p.is_file() and p.stem.lower() == dataset
             and p.suffix.lower() in FORMATS] if folder.is_dir() else []
    if len(found) > 1:
        raise SnapshotError(f"{folder.name}: several files for {dataset} ({', '.join(p.name for p in found)}); "
                            "keep one, or name it in a study mapping (--map)")
    return found[0] if found else None


def write_canonical(df: pd.DataFrame, path: Path) -> None:
    """Write a text table as a snapshot CSV: UTF-8 without BOM, LF, header, no index column."""
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
