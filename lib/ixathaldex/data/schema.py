"""Snapshot schema: the per-column contract of the four ADaM tables and how a CSV is read.

``SCHEMA`` lists each table's columns with their type, whether they may be empty, allowed values and
ranges (the contract is ``docs/data-model.md``); ``read_table(path)`` reads one CSV as all-string
columns or says why it is unusable; ``coerce_types(table, df)`` gives the analysis types;
``schema_problems`` runs the per-column rules with pandera. The cross-table rules, the manifest
and the entry points are in :mod:`ixathaldex.data.validate`.
Row numbers in messages are 1-based CSV line numbers (the header is line 1).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ixathaldex.exceptions import ValidationError

#: failing rows listed one by one per (file, column, rule); the rest are summarised in one line
MAX_ROWS_PER_RULE = 20
_DATE_MIN = pd.Timestamp("1900-01-01")


@dataclass(frozen=True)
class Problem:
    """One broken rule. ``rows`` are 1-based CSV line numbers (header = line 1)."""

    file: str
    rule: str
    message: str
    column: str | None = None
    rows: tuple = ()
    subjects: tuple = ()
    context: str = ""  # e.g. "PARAMCD PFS" or "AESEQ 3"

    def __str__(self) -> str:
        where = self.file
        if len(self.rows) == 1:
            where += f" line {self.rows[0]}"
        elif self.rows:
            where += " lines " + ", ".join(map(str, self.rows))
        who = []
        if len(self.subjects) == 1:
            who.append(f"USUBJID {self.subjects[0]}")
        elif self.subjects:
            who.append("USUBJID " + ", ".join(self.subjects))
        if self.context:
            who.append(self.context)
        if who:
            where += f" ({', '.join(who)})"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message} [rule: {self.rule}]"


# ---- the per-column contract (docs/data-model.md) -------------------------------------------

@dataclass(frozen=True)
class Col:
    name: str
    kind: str  # str | flag | cat | date | int | float
    required: bool = True  # False: an empty cell is allowed
    values: tuple = ()  # allowed values of a cat
    lo: float | None = None
    hi: float | None = None
    pattern: str | None = None


FLAG = ("Y", "N")
_ADSL_FLAGS = ("ITTFL", "PPROTFL", "FISHFL", "PIEXPFL", "IMIDEXFL", "LENEXPFL", "LENREFFL",
               "THALEXFL", "THALREFL", "BTZEXPFL", "BTZREFFL", "ASCTFL", "INDCMPFL", "MNTFL",
               "MNTSAFFL", "MNTCMPFL")
FISH_COLUMNS = ("T414", "T1416", "DEL17P", "GAIN1Q")
#: needed for every FISH-evaluable patient (the high-risk definition); GAIN1Q may be empty (probe
#: not done: the paper's 1q21 comparisons have fewer patients than the 61 with FISH)
FISH_REQUIRED = ("T414", "T1416", "DEL17P")
DCSREAS_VALUES = ("PROGRESSIVE DISEASE", "ADVERSE EVENT", "WITHDRAWAL BY SUBJECT",
                  "PHYSICIAN DECISION", "DEATH")
EVNTDESC_EVENT = ("PROGRESSIVE DISEASE", "DEATH")
EVNTDESC_CENSOR = ("CENSORED AT LAST ASSESSMENT", "ALIVE AT LAST CONTACT")
TTE_PARAM = {"PFS": "Progression-free survival", "OS": "Overall survival"}
RESPONSES = ("CR", "VGPR", "PR", "MR", "SD", "PD", "NE")
#: any study: one non-empty STUDYID per snapshot (checked across tables by ``validate``) and any
#: non-empty USUBJID, unique in ADSL
_ID = [Col("STUDYID", "str"), Col("USUBJID", "str")]

SCHEMA: dict[str, list[Col]] = {
    "adsl": _ID + [
        Col("TRTSDT", "date"), Col("TRTEDT", "date", required=False),
        Col("AGE", "float", lo=18, hi=100), Col("AGEGR1", "cat", values=("<75", ">=75")),
        Col("SEX", "cat", values=("M", "F")), Col("ISS", "cat", values=("I", "II", "III")),
        Col("ECOG", "int", lo=0, hi=4),
        Col("MMTYPE", "cat", values=("IgG", "IgA", "Light chain only")),
        *[Col(c, "cat", required=False, values=FLAG) for c in FISH_COLUMNS],
        Col("PRLINES", "int", lo=1, hi=20),
        Col("FLTSTDT", "date", required=False),
        Col("HGB", "float", required=False, lo=20, hi=250),
        Col("ALB", "float", required=False, lo=5, hi=80),
        Col("GFR", "float", required=False, lo=0, hi=300),
        Col("FRAILTY", "cat", required=False, values=("FIT", "UNFIT", "FRAIL")),
        Col("INDCYC", "int", lo=0, hi=8), Col("MNTSDT", "date", required=False),
        Col("MNTCYC", "int", lo=0, hi=12),
        Col("EOTSTT", "cat", values=("ONGOING", "COMPLETED", "DISCONTINUED")),
        Col("DCSREAS", "cat", required=False, values=DCSREAS_VALUES),
        *[Col(c, "cat", values=FLAG) for c in _ADSL_FLAGS],
    ],
    "adtte": _ID + [
        Col("PARAMCD", "cat", values=tuple(TTE_PARAM)), Col("PARAM", "str"),
        Col("STARTDT", "date"), Col("ADT", "date"), Col("AVAL", "int", lo=1),
        Col("CNSR", "int", values=(0, 1)), Col("EVNTDESC", "cat", values=EVNTDESC_EVENT + EVNTDESC_CENSOR),
    ],
    "adrs": _ID + [
        Col("PARAMCD", "cat", values=("BOR", "EOIRESP", "MNTBOR")), Col("PARAM", "str"),
        Col("AVALC", "cat", values=RESPONSES), Col("ADT", "date", required=False),
    ],
    "adae": _ID + [
        Col("AESEQ", "int", lo=1), Col("AEDECOD", "str"),
        Col("AECAT", "cat", values=("HAEMATOLOGICAL", "NON-HAEMATOLOGICAL")),
        Col("AETOXGR", "int", lo=1, hi=5), Col("APHASE", "cat", values=("INDUCTION", "MAINTENANCE")),
        Col("ASTDT", "date"),
    ],
}
#: extra identifying columns shown in messages besides USUBJID
CONTEXT = {"adtte": "PARAMCD", "adrs": "PARAMCD", "adae": "AESEQ"}
#: the parameters the analyses read, per table; rows of any other PARAMCD are kept and ignored
PARAMS = {t: next(c.values for c in cols if c.name == "PARAMCD")
          for t, cols in SCHEMA.items() if any(c.name == "PARAMCD" for c in cols)}


def split_params(table: str, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows the analyses read, rows of another PARAMCD) of one table; both keep their index (the
    record number). Tables without PARAMCD, or rows with PARAMCD empty, are all "read"."""
    if table not in PARAMS or "PARAMCD" not in df.columns:
        return df, df.iloc[0:0]
    other = df["PARAMCD"].notna() & ~df["PARAMCD"].isin(PARAMS[table])
    if not other.any():  # the usual case: no copy of the whole table
        return df, df.iloc[0:0]
    return df[~other], df[other]


def _by_value(parse):
    """``parse`` applied once per distinct text of a column, then spread back to the rows.

    Every parser works cell by cell, so parsing the distinct texts gives the same cells as parsing
    the column; a column of 700,000 dates holds a few thousand distinct ones. Columns that are not
    all text (or missing) are parsed as they are: ``factorize`` would merge ``1``, ``1.0`` and
    ``True``.
    """
    def by_value(s: pd.Series) -> pd.Series:
        if s.dtype != object or pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
            return parse(s)
        codes, uniques = pd.factorize(s)  # a missing cell gets code -1: the appended NaN
        parsed = parse(pd.Series(np.append(uniques.astype(object), np.nan), dtype=object))
        return pd.Series(parsed.array.take(codes), index=s.index, name=s.name)
    by_value.__doc__ = parse.__doc__
    return by_value


@_by_value
def _parse_dates(s: pd.Series) -> pd.Series:
    """ISO dates YYYY-MM-DD -> datetime64[ns]; anything else NaT."""
    ok = s.astype("string").str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool)
    out = pd.to_datetime(s.where(ok), format="%Y-%m-%d", errors="coerce")
    return out.astype("datetime64[ns]")


@_by_value
def _parse_numbers(s: pd.Series) -> pd.Series:
    """Finite numbers -> float64; anything else NaN."""
    out = pd.to_numeric(s, errors="coerce").astype("float64")
    return out.where(np.isfinite(out))


@_by_value
def _parse_ints(s: pd.Series) -> pd.Series:
    """Whole numbers of up to 15 digits -> Int64; anything else <NA>."""
    ok = s.astype("string").str.fullmatch(r"[+-]?\d{1,15}").fillna(False).astype(bool)
    return pd.to_numeric(s.where(ok), errors="coerce").astype("Int64")


def coerce_types(table_name: str, df: pd.DataFrame, errors: str = "raise") -> pd.DataFrame:
    """Analysis types of one snapshot table read as all-string columns.

    Dates -> datetime64[ns], integers -> Int64, floats -> float64; flags and categories stay str
    (NaN when empty). Unknown columns are left as they are. ``errors="raise"`` raises
    ValidationError on an unparseable cell, ``"coerce"`` turns it into a missing value.
    """
    out = df.copy()
    problems = []
    for col in SCHEMA[table_name]:
        if col.name not in out.columns:
            continue
        raw = out[col.name]
        if col.kind == "date":
            new = _parse_dates(raw)
        elif col.kind == "int":
            new = _parse_ints(raw)
        elif col.kind == "float":
            new = _parse_numbers(raw)
        else:
            out[col.name] = raw.where(raw.notna(), np.nan)
            continue
        bad = (raw.notna() & new.isna()) if errors == "raise" else None
        if bad is not None and bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            problems.append(Problem(f"{table_name}.csv", f"type-{col.kind}",
                                    f"value {raw.iloc[i]!r} is not a valid {col.kind}",
                                    col.name, (i + 2,)))
        out[col.name] = new
    if problems:
        raise ValidationError(problems)
    return out


# ---- reading files -------------------------------------------------------------------------

def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _field_counts(data: bytes, lines: int) -> np.ndarray:
    """The number of separators on each of the first ``lines`` lines (as ``str.count(",")`` per
    line, or per record of ``csv.reader`` when the file quotes). Without quotes it is counted on
    the bytes: in UTF-8 the bytes of "," and of a line end belong to no other character."""
    if b'"' in data:
        return np.array([len(r) - 1 for r in csv.reader(data.decode("utf-8").split("\n")[:lines])])
    buf = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], breaks + 1))[:lines]
    ends = np.concatenate((breaks, [len(buf)]))[:lines]
    commas = np.flatnonzero(buf == 44)
    return np.searchsorted(commas, ends) - np.searchsorted(commas, starts)


def _content_lines(text: str) -> int:
    """How many lines ``text.split("\n")`` has once trailing blank (whitespace-only) lines are dropped."""
    end = len(text)
    while end and text[end - 1].isspace():
        end -= 1
    return text.count("\n", 0, end) + 1 if end else 0


def _header_problems(name: str, text: str) -> tuple[list, list[Problem]]:
    """The header's fields and what makes it unusable (another separator, duplicate or empty names)."""
    first = text.find("\n")
    header = next(csv.reader(io.StringIO(text if first < 0 else text[:first])), [])
    if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
        sep = next(sep for sep in (";", "\t", "|") if sep in header[0])
        return header, [Problem(name, "not-csv", f"the header is separated by {sep!r}, not by commas",
                                rows=(1,))]
    problems = []
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(Problem(name, "duplicate-column", "column name appears more than once in "
                                "the header", ", ".join(dupes), rows=(1,)))
    if any(not h.strip() for h in header):
        problems.append(Problem(name, "bad-header", "header has an empty column name (an index "
                                "column?)", rows=(1,)))
    return header, problems


def read_table(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """A CSV as an all-string DataFrame (empty cells NaN), or None and the reason it is unusable.

    The line checks run on the file's bytes and text first; the CSV parser then reads the file
    alone, so that neither copy is held while it builds the frame (a 60 MB file at 100,000 patients).
    """
    name = path.name
    if not path.is_file():
        return None, [Problem(name, "missing-file", f"file is missing from {path.parent}")]
    data = path.read_bytes()
    if not data.strip():
        return None, [Problem(name, "empty-file", "file is empty (no header, no rows)")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(name, "not-utf8", f"byte {data[exc.start]:#04x} at offset {exc.start} is "
                              f"not valid UTF-8; save the file as UTF-8", rows=(_line_of(data, exc.start),))]
    if text.startswith("\ufeff"):
        return None, [Problem(name, "utf8-bom", "file starts with a byte-order mark; save as UTF-8 "
                              "without BOM", rows=(1,))]
    header, problems = _header_problems(name, text)
    if problems:
        return None, problems
    lines = _content_lines(text)
    blank = [i + 1 for i, ln in enumerate(text.split("\n")[:lines]) if not ln.strip()][:MAX_ROWS_PER_RULE] \
        if "\n\n" in text or "\n\r\n" in text else []
    del text
    counts = _field_counts(data, lines)
    del data
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        return None, [Problem(name, "not-csv", f"not a parseable CSV file: {str(exc).strip()}")]
    if blank:
        return None, [Problem(name, "not-csv", "blank line(s) inside the file (one record per line, "
                              "no blank lines)", rows=tuple(blank))]
    ragged = np.flatnonzero(counts != len(header) - 1)
    if len(ragged):
        shown = tuple(int(i) + 1 for i in ragged[:MAX_ROWS_PER_RULE])
        return None, [Problem(name, "not-csv", f"{len(ragged)} line(s) do not have the header's "
                              f"{len(header)} fields", rows=shown)]
    if df.empty:
        return None, [Problem(name, "empty-file", "file has a header but no data rows", rows=(1,))]
    return df, []


# ---- per-column checks with pandera ----------------------------------------------------------

_PARSERS = {"date": _parse_dates, "int": _parse_ints, "float": _parse_numbers}


def _column_checks(col: Col, cutoff: pd.Timestamp | None):
    """(rule, message template, vectorised predicate on the string series) for one column."""
    checks = []
    cache: dict = {}

    def parsed(s: pd.Series, kind: str) -> pd.Series:
        # pandera hands each check the same non-empty cells: parse them once per column
        key = (kind, len(s))
        if key not in cache:
            cache.clear()
            cache[key] = _PARSERS[kind](s)
        return cache[key]

    _parse_dates, _parse_ints, _parse_numbers = (lambda s: parsed(s, "date"), lambda s: parsed(s, "int"),
                                                 lambda s: parsed(s, "float"))
    if col.kind == "int":
        checks.append(("type-integer", "value {v!r} is not a whole number",
                       lambda s: _parse_ints(s).notna()))
    elif col.kind == "float":
        checks.append(("type-number", "value {v!r} is not a number", lambda s: _parse_numbers(s).notna()))
    elif col.kind == "date":
        checks.append(("type-date", "value {v!r} is not a YYYY-MM-DD date",
                       lambda s: _parse_dates(s).notna()))
        checks.append(("date-range", "date {v} is before 1900",
                       lambda s: ~(_parse_dates(s) < _DATE_MIN)))
        if cutoff is not None:
            checks.append(("after-cutoff", "date {v} is after the cut-off " + f"{cutoff.date()}",
                           lambda s: ~(_parse_dates(s) > cutoff)))
    if col.pattern:
        checks.append((f"{col.name.lower()}-format", "value {v!r} does not match " + col.pattern,
                       lambda s, p=col.pattern: s.str.fullmatch(p).fillna(False).astype(bool)))
    if col.values:
        allowed = "{" + ", ".join(map(str, col.values)) + "}"
        if col.kind == "int":
            pred = (lambda s, v=col.values: _parse_ints(s).isna() | _parse_ints(s).isin(v))
        else:
            pred = (lambda s, v=col.values: s.isin(v))
        shown = "{v}" if col.kind == "int" else "{v!r}"
        checks.append((f"{col.name.lower()}-domain", f"value {shown} not in " + allowed, pred))
    if col.lo is not None or col.hi is not None:
        lo = -np.inf if col.lo is None else col.lo
        hi = np.inf if col.hi is None else col.hi
        text = (f"below {col.lo:g}" if col.hi is None else f"outside {col.lo:g}–{col.hi:g}")
        parse = _parse_ints if col.kind == "int" else _parse_numbers
        checks.append((f"{col.name.lower()}-range", "value {v} is " + text,
                       lambda s, f=parse, lo=lo, hi=hi: ~((f(s) < lo) | (f(s) > hi)).fillna(False).astype(bool)))
    if col.kind in ("str", "cat"):
        checks.append(("na-string", "value {v!r}: leave the cell empty for a missing value",
                       lambda s: ~s.isin(["NA", "NaN", "nan", "N/A", "NULL", "None"])))
    return checks


def _fill(template: str, value) -> str:
    return template.replace("{v!r}", repr(value)).replace("{v}", str(value))


def schema_problems(table: str, df: pd.DataFrame, cutoff: pd.Timestamp | None,
                    only: tuple | None = None) -> list[Problem]:
    """Per-column problems of one table (``only``: check just these columns)."""
    import pandera.pandas as pa

    file = f"{table}.csv"
    columns, rules = {}, {}
    for col in SCHEMA[table]:
        if only is not None and col.name not in only:
            continue
        checks = _column_checks(col, cutoff)
        rules[col.name] = checks
        columns[col.name] = pa.Column(
            nullable=not col.required, required=True,
            checks=[pa.Check(fn, element_wise=False, ignore_na=True, error=rule) for rule, _, fn in checks])
    schema = pa.DataFrameSchema(columns, strict=False, coerce=False)
    try:
        schema.validate(df, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    problems = []
    missing = fc[fc["check"] == "column_in_dataframe"]
    present = {str(c).strip().upper(): c for c in df.columns}
    for name in missing["failure_case"]:
        hint = f" (found {present[str(name).upper()]!r}: names are exact, case and spaces count)" \
            if str(name).upper() in present else ""
        problems.append(Problem(file, "missing-column", "required column is missing" + hint, str(name)))
    fc = fc[fc["check"] != "column_in_dataframe"].copy()
    for (column, check, number), g in fc.groupby(["column", "check", "check_number"], dropna=False, sort=False):
        idx = np.sort(df.index.get_indexer(pd.to_numeric(g["index"], errors="coerce").dropna().astype(int)))
        if check == "not_nullable":
            rule, template = "required-value", "empty, but a value is required"
        elif column in rules and pd.notna(number) and int(number) < len(rules[column]) \
                and rules[column][int(number)][0] == check:
            rule, template = rules[column][int(number)][:2]
        else:  # anything pandera reports that is not one of our checks (e.g. a check that crashed)
            first = str(g["failure_case"].iloc[0])[:200]
            problems.append(Problem(file, "schema", f"pandera check {check!r} failed: {first}",
                                    None if pd.isna(column) else str(column)))
            continue
        problems += row_problems(table, df, idx, column, rule,
                                  lambda r, t=template, c=column: _fill(t, r.get(c)))
    return problems


# ---- one Problem per failing row (used here and by the cross-table rules) -------------------

def row_problems(table: str, df: pd.DataFrame, positions, column: str | None, rule: str,
                  message) -> list[Problem]:
    """One Problem per failing row (first MAX_ROWS_PER_RULE) plus one summary line for the rest.

    ``positions`` are 0-based positions in ``df`` (its index is the record number), ``message`` is
    a string or a function of the row (a dict) returning one.
    """
    positions = np.asarray(positions, dtype=int)
    if positions.size == 0:
        return []
    file = f"{table}.csv"
    ctx_col = CONTEXT.get(table)
    out = []
    for pos in positions[:MAX_ROWS_PER_RULE]:
        row = df.iloc[int(pos)].to_dict()
        subj = row.get("USUBJID")
        ctx = row.get(ctx_col) if ctx_col else None
        out.append(Problem(
            file, rule, message(row) if callable(message) else message, column,
            rows=(int(df.index[int(pos)]) + 2,),
            subjects=(str(subj),) if isinstance(subj, str) else (),
            context=f"{ctx_col} {ctx}" if ctx_col and ctx is not None and pd.notna(ctx) else ""))
    rest = positions[MAX_ROWS_PER_RULE:]
    if rest.size:
        first = ", ".join(str(int(df.index[int(p)]) + 2) for p in rest[:5])
        out.append(Problem(file, rule, f"and {rest.size} more row(s) break this rule (lines {first}, …)",
                           column))
    return out


def shown(x) -> str:
    """A cell as a problem message shows it: "empty", an ISO date, or its text."""
    return "empty" if pd.isna(x) else (x.date().isoformat() if isinstance(x, pd.Timestamp) else str(x))


def has_columns(typed: dict, table: str, *cols: str) -> bool:
    """Whether the loaded ``table`` exists in ``typed`` with every one of ``cols``."""
    return table in typed and all(c in typed[table].columns for c in cols)
