"""A sponsor's transfer as snapshot tables: the study mapping applied to the delivered datasets.

``derive_transfer(folder, mapping)`` reads each dataset named by the mapping
(:mod:`ixathaldex.data.readers`) and applies, in this order: renames, ``dates`` (SAS numbers ->
ISO), value recodes and the grouping of preferred terms (``terms`` -> AEDECOD), the PARAMCD
selection (``params``), derivations, the study id. It returns the four tables (contract columns
first, in ``docs/data-model.md`` order, then every extra column as delivered) and a report of what
mapped to what, what is left unmapped and what is kept but not analysed (``format_transfer``, the
output of ``snapshot add --check``). Every error names the mapping's line, the source file and the
column; all of them are collected before one :class:`SnapshotError` is raised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ixathaldex.data.definitions import definition_problems, describe_definition
from ixathaldex.data.mapping import DATASETS, StudyMapping, evaluate_condition, parse_condition
from ixathaldex.data.readers import SourceTable, read_source, sas_date
from ixathaldex.data.schema import SCHEMA, TTE_PARAM
from ixathaldex.exceptions import SnapshotError
from ixathaldex.values import DAYS_PER_MONTH


@dataclass
class Mapped:
    """One dataset after the mapping: the table, its source, and what happened (for the report)."""

    name: str
    source: SourceTable
    table: pd.DataFrame = field(repr=False)
    report: list = field(default_factory=list)  # (heading, text) pairs
    errors: list = field(default_factory=list)


def _err(m: StudyMapping, d: Mapped, keys: tuple, column: str | None, message: str) -> None:
    col = f", column {column}" if column else ""
    d.errors.append(f"{m.at('datasets', d.name, *keys)}: {d.name} ({d.source.name}){col}: {message}")


def _counts(values: pd.Series) -> str:
    vc = values.dropna().value_counts()
    return ", ".join(f"{k} ({v})" for k, v in vc.items()) or "none"


def _rename(m, d, spec) -> None:
    df = d.table
    renames = spec.get("rename") or {}
    for src, dst in renames.items():
        if src not in df.columns:
            _err(m, d, ("rename", src), src, f"not in the file (its columns: {', '.join(df.columns)})")
        elif dst in df.columns and dst not in renames:
            _err(m, d, ("rename", src), dst, f"the file already has a column {dst}; rename that one too")
    d.table = df.rename(columns={k: v for k, v in renames.items() if k in df.columns})
    if renames:
        d.report.append(("renamed", ", ".join(f"{k} -> {v}" for k, v in renames.items())))


def _dates(m, d, spec) -> None:
    for i, col in enumerate(spec.get("dates") or []):
        if col not in d.table.columns:
            _err(m, d, ("dates", i), col, "listed under dates but not in the table")
            continue
        d.table[col] = d.table[col].map(sas_date)
    read = [c for c in d.source.dates]
    d.report.append(("dates", f"{', '.join(read) or 'none'} (typed as dates in the file)"
                     + (f"; {', '.join(spec['dates'])} (numbers since 1960-01-01, by the mapping)"
                        if spec.get("dates") else "")))


def _recode_column(m, d, keys, col, table: dict, other=None, target=None) -> None:
    src = d.table.get(col)
    if src is None:
        _err(m, d, keys, col, "recoded but not in the table (recodes use the renamed names)")
        return
    left = src[src.notna() & ~src.isin(list(table))]
    d.table[target or col] = src.map(lambda v: table.get(v, v if other is None else other) if v is not None else None)
    if target is None:
        d.report.append((f"recode {col}", ", ".join(f"{k} -> {v}" for k, v in table.items())
                         + (f"; left as is: {_counts(left)}" if len(left) else "")))


def _terms(m, d, spec) -> None:
    groups = spec.get("terms") or {}
    if not groups:
        return
    if "AEDECOD" not in d.table.columns:
        _err(m, d, ("terms",), "AEDECOD", "terms group AEDECOD values but the table has no AEDECOD")
        return
    table: dict = {}
    for row, pts in groups.items():
        for pt in pts:
            if pt in table and table[pt] != row:
                _err(m, d, ("terms", row), "AEDECOD", f"preferred term {pt!r} is grouped under both "
                     f"{table[pt]!r} and {row!r}")
            table[pt] = row
    left = d.table["AEDECOD"][d.table["AEDECOD"].notna() & ~d.table["AEDECOD"].isin(list(table))]
    d.table["AEDECOD"] = d.table["AEDECOD"].map(lambda v: table.get(v, v))
    d.report.append(("AE terms", f"{len(table)} preferred terms grouped into {len(groups)} rows; "
                     f"not grouped (kept as delivered, shown as their own rows): {_counts(left)}"))


def _params(m, d, spec) -> None:
    params = spec.get("params") or {}
    df = d.table
    if not params:
        return
    if "PARAMCD" not in df.columns:
        _err(m, d, ("params",), "PARAMCD", "params select PARAMCD rows but the table has no PARAMCD")
        return
    have = set(df["PARAMCD"].dropna())
    for dst, src in params.items():
        if src not in have:
            _err(m, d, ("params", dst), "PARAMCD", f"no rows with PARAMCD {src!r} (the file has {sorted(have)})")
        clash = dst != src and dst in have and dst not in params.values()
        if clash:
            _err(m, d, ("params", dst), "PARAMCD", f"the file also has PARAMCD {dst!r} rows; map them to "
                 f"another code (e.g. {dst}SRC: {dst}) so they are not mixed with {src!r}")
    back = {src: dst for dst, src in params.items()}
    new = df["PARAMCD"].map(lambda v: back.get(v, v))
    if d.name == "adtte" and "PARAM" in df.columns:
        df["PARAM"] = df["PARAM"].where(~new.isin(list(TTE_PARAM)) | ~df["PARAMCD"].isin(list(back)),
                                        new.map(TTE_PARAM))
    df["PARAMCD"] = new
    ignored = df.loc[~df["PARAMCD"].isin(list(params)), "PARAMCD"]
    d.report.append(("params", ", ".join(f"{k} <- {v} ({int((new == k).sum())} rows)" for k, v in params.items())
                     + f"; kept, not analysed: {_counts(ignored)}"))


def _flag(m, d, keys, col, condition: str) -> None:
    src_col, op, value = parse_condition(condition)
    if src_col not in d.table.columns:
        _err(m, d, keys + ("flag",), src_col, f"the flag condition of {col} names a column not in the table")
        return
    s = d.table[src_col]
    try:
        hit = evaluate_condition(s, op, value)
    except TypeError:
        _err(m, d, keys + ("flag",), src_col, f"cannot compare text with {op} {value!r}")
        return
    d.table[col] = pd.Series(["Y" if h else "N" for h in hit], index=s.index, dtype=object).where(s.notna(), None)


def _months_before(m, d, keys, col, spec) -> None:
    origin, months = spec["months_before"], spec["months"]
    for c in (origin, months):
        if c not in d.table.columns:
            _err(m, d, keys, c, f"needed to derive {col} but not in the table")
            return
    start = pd.to_datetime(d.table[origin], format="%Y-%m-%d", errors="coerce")
    days = (pd.to_numeric(d.table[months], errors="coerce") * DAYS_PER_MONTH).round()
    when = start - pd.to_timedelta(days, unit="D")
    d.table[col] = [None if pd.isna(w) else w.date().isoformat() for w in when]


def _derive(m, d, spec) -> None:
    done = []
    for col, rule in (spec.get("derive") or {}).items():
        keys = ("derive", col)
        if "constant" in rule:
            d.table[col] = rule["constant"]
        elif "months_before" in rule:
            _months_before(m, d, keys, col, rule)
        elif "flag" in rule:
            _flag(m, d, keys, col, rule["flag"])
        else:
            _recode_column(m, d, keys + ("from",), rule["from"], rule.get("recode") or {}, rule.get("other"), col)
        done.append(f"{col} ({next(iter(rule))})")
    if done:
        d.report.append(("derived", ", ".join(done)))


def _study(m, d, spec) -> None:
    df = d.table
    if m.study is None:
        if "STUDYID" not in df.columns:
            _err(m, d, (), "STUDYID", "the file has no STUDYID; give the study id as `study:` in the mapping")
        return
    given = set(df["STUDYID"].dropna()) if "STUDYID" in df.columns else set()
    if given - {m.study}:
        d.errors.append(f"{m.at('study')}: {d.name} ({d.source.name}), column STUDYID: the file is of study "
                        f"{sorted(given)}, the mapping of {m.study!r}: is this the right mapping?")
    df["STUDYID"] = m.study


def _finish(m, d) -> None:
    contract = [c.name for c in SCHEMA[d.name]]
    missing = [c for c in contract if c not in d.table.columns]
    for c in missing:
        _err(m, d, (), c, "contract column is neither in the file nor renamed or derived")
    extra = [c for c in d.table.columns if c not in contract]
    d.table = d.table[[c for c in contract if c in d.table.columns] + extra]
    d.report.append(("as delivered", ", ".join(c for c in contract if c in d.source.data.columns) or "none"))
    d.report.append(("extra columns (kept, not analysed)", ", ".join(extra) or "none"))
    d.report.append(("missing", ", ".join(missing) or "none"))


def map_dataset(m: StudyMapping, folder: Path, name: str) -> Mapped:
    """One dataset of the transfer in ``folder`` with the mapping applied (errors collected)."""
    spec = m.datasets.get(name)
    if spec is None:
        raise SnapshotError(f"{m.at('datasets')}: no entry for {name}; add `{name}: {{file: <file>}}`")
    path = Path(folder) / spec["file"]
    if not path.is_file():
        raise SnapshotError(f"{m.at('datasets', name, 'file')}: {name}: {spec['file']} is not in {Path(folder).name}/")
    src = read_source(path)
    d = Mapped(name, src, src.data.copy())
    for step in (_rename, _dates, _recode_all, _terms, _params, _derive, _study):
        step(m, d, spec)
    _finish(m, d)
    return d


def _recode_all(m, d, spec) -> None:
    for col, table in (spec.get("recode") or {}).items():
        _recode_column(m, d, ("recode", col), col, table)


def derive_transfer(folder: Path, m: StudyMapping) -> dict[str, Mapped]:
    """Every dataset of the transfer mapped; raises one SnapshotError listing every mapping error."""
    out = {name: map_dataset(m, folder, name) for name in DATASETS}
    errors = [e for d in out.values() for e in d.errors]
    adsl = out["adsl"]
    for name, entry in m.definitions.items():
        errors += [f"{m.at('definitions', name)}: adsl ({adsl.source.name}), {p}"
                   for p in definition_problems({name: entry}, adsl.table)]
    if errors:
        raise SnapshotError(f"{len(errors)} mapping error(s):\n" + "\n".join(f"  - {e}" for e in errors))
    return out


def format_transfer(mapped: dict[str, Mapped], m: StudyMapping) -> str:
    """What maps to what (the output of ``snapshot add --check``), one block per dataset."""
    lines = [f"study mapping {m.path.name} (sha256 {m.sha256[:12]}…), study {m.study or '(from the files)'}",
             f"checked {dt.datetime.now().isoformat(timespec='seconds')}; nothing was written"]
    for d in mapped.values():
        lines.append(f"{d.name}.csv <- {d.source.name} ({d.source.format}, {len(d.table)} rows, "
                     f"sha256 {d.source.sha256[:12]}…)")
        lines += [f"  {k}: {v}" for k, v in d.report]
    lines.append("definitions: " + ("; ".join(f"{n} <- {describe_definition(n, m.definitions)}"
                                               for n in m.definitions) or "the defaults (none pointed at "
                                    "the study's own flags)"))
    return "\n".join(lines)
