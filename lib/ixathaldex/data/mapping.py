"""The study mapping: one YAML file that says how a sponsor's datasets become the snapshot tables.

``load_mapping(path)`` reads and checks the file and keeps the line of every key, so that an error
names the mapping file's line (``StudyMapping.at``). The mapping is applied by
:mod:`ixathaldex.data.transfer`; the walk-through and a complete example are ``docs/real-data.md``
and ``docs/examples/study-mapping.yaml``. Every scalar is read as text (``NO`` stays ``"NO"``,
``01`` stays ``"01"``); only ``null`` / ``~`` / an empty value is "missing".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from ixathaldex.data.manifest import DATA_FILES
from ixathaldex.exceptions import SnapshotError
from ixathaldex.files import sha256_bytes

DATASETS = tuple(n[:-4] for n in DATA_FILES)
#: what a dataset entry may say (see docs/real-data.md)
DATASET_KEYS = ("file", "rename", "dates", "recode", "params", "terms", "derive")
#: the derivation kinds and the keys each takes (the first is the kind's own key)
DERIVATIONS = {
    "constant": ("constant",),
    "months_before": ("months_before", "months"),
    "flag": ("flag",),
    "from": ("from", "recode", "other"),
}
CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|>=|<=|>|<|\bnot in\b|\bin\b)\s*(.+?)\s*$")


@dataclass
class StudyMapping:
    """A parsed study mapping: the study id, one entry per dataset, and the line of every key."""

    path: Path
    text: str
    study: str | None
    datasets: dict
    lines: dict = field(repr=False, default_factory=dict)
    #: the ``definitions:`` section: analysis definitions pointed at the study's own flags
    #: (checked by :mod:`ixathaldex.data.definitions` against the mapped ADSL)
    definitions: dict = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.text.encode("utf-8"))

    def line(self, *keys) -> int:
        """The 1-based line of the key ``keys`` (its nearest known parent if it has none)."""
        keys = tuple(keys)
        while keys and keys not in self.lines:
            keys = keys[:-1]
        return self.lines.get(keys, 1)

    def at(self, *keys) -> str:
        """``"<file> line N"`` for a key of the mapping, the start of every mapping error."""
        return f"{self.path.name} line {self.line(*keys)}"


def _plain(node, path: tuple, lines: dict):
    """A YAML node as plain data whose every scalar is text (None for null); records key lines."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                raise SnapshotError(f"line {k.start_mark.line + 1}: a key must be a plain name or value")
            key = k.value
            if key in out:
                raise SnapshotError(f"line {k.start_mark.line + 1}: key {key!r} given twice")
            lines[path + (key,)] = k.start_mark.line + 1
            out[key] = _plain(v, path + (key,), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v, path + (i,), lines) for i, v in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:null":
        return None
    return node.value


def _need(cond: bool, m: StudyMapping, keys: tuple, message: str) -> None:
    if not cond:
        raise SnapshotError(f"{m.at(*keys)}: {message}")


def _text_map(m: StudyMapping, keys: tuple, value, what: str) -> None:
    _need(isinstance(value, dict), m, keys, f"{keys[-1]} must map {what}")
    for k, v in value.items():
        _need(isinstance(v, str) or v is None, m, keys + (k,), f"{keys[-1]} {k!r}: give one value, not a list")


def _check_derive(m: StudyMapping, keys: tuple, spec) -> None:
    _need(isinstance(spec, dict) and spec, m, keys, f"derivation of {keys[-1]} must be one of "
          f"{', '.join(DERIVATIONS)} (e.g. {{constant: Y}})")
    kind = next((k for k in DERIVATIONS if k in spec), None)
    _need(kind is not None, m, keys, f"derivation of {keys[-1]}: unknown kind {sorted(spec)} "
          f"(known: {', '.join(DERIVATIONS)})")
    extra = set(spec) - set(DERIVATIONS[kind])
    _need(not extra, m, keys + (sorted(extra)[0] if extra else "",),
          f"derivation {kind} of {keys[-1]} does not take {sorted(extra)} (it takes {DERIVATIONS[kind]})")
    if kind == "months_before":
        _need(isinstance(spec.get("months"), str), m, keys, "months_before needs months: <column of months>")
    if kind == "flag":
        _need(isinstance(spec["flag"], str) and CONDITION.match(spec["flag"]), m, keys + ("flag",),
              f"flag condition {spec['flag']!r} is not 'COLUMN OP VALUE' (OP: == != > >= < <= in)")
    if kind == "from" and "recode" in spec:
        _text_map(m, keys + ("recode",), spec["recode"], "source values to values")


def _check_dataset(m: StudyMapping, name: str, spec) -> None:
    keys = ("datasets", name)
    _need(name in DATASETS, m, keys, f"unknown dataset {name!r} (the snapshot has {', '.join(DATASETS)})")
    _need(isinstance(spec, dict), m, keys, f"{name}: give its file, e.g. `file: {name}.xpt`")
    unknown = [k for k in spec if k not in DATASET_KEYS]
    _need(not unknown, m, keys + (unknown[0] if unknown else "",),
          f"{name}: unknown key {unknown[0] if unknown else ''!r} (known: {', '.join(DATASET_KEYS)})")
    _need(isinstance(spec.get("file"), str) and "/" not in spec["file"] and "\\" not in spec["file"],
          m, keys + ("file",), f"{name}: file must be a file name in the transfer folder (no path)")
    for key, what in (("rename", "source column names to snapshot names"),
                      ("params", "snapshot PARAMCD values to the source's PARAMCD")):
        if key in spec:
            _text_map(m, keys + (key,), spec[key], what)
    if "dates" in spec:
        _need(isinstance(spec["dates"], list) and all(isinstance(c, str) for c in spec["dates"]),
              m, keys + ("dates",), "dates must be a list of column names")
    for col, table in (spec.get("recode") or {}).items():
        _text_map(m, keys + ("recode", col), table, "source values to snapshot values")
    for row, terms in (spec.get("terms") or {}).items():
        _need(isinstance(terms, list) and all(isinstance(t, str) for t in terms), m,
              keys + ("terms", row), f"terms: {row!r} must list the preferred terms it groups")
    for col, d in (spec.get("derive") or {}).items():
        _check_derive(m, keys + ("derive", col), d)


def load_mapping(path: Path) -> StudyMapping:
    """Read and check a study mapping file; an error names the file and line."""
    path = Path(path)
    if not path.is_file():
        raise SnapshotError(f"study mapping {path}: missing")
    text = path.read_bytes().decode("utf-8-sig")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise SnapshotError(f"{path.name}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    lines: dict = {}
    try:
        data = _plain(node, (), lines) if node is not None else {}
    except SnapshotError as exc:
        raise SnapshotError(f"{path.name} {exc}") from None
    m = StudyMapping(path, text, None, {}, lines)
    _need(isinstance(data, dict), m, (), "the mapping must be a YAML mapping with study and datasets")
    unknown = [k for k in data if k not in ("study", "datasets", "definitions")]
    _need(not unknown, m, (unknown[0],) if unknown else (), f"unknown key {unknown[0] if unknown else ''!r} "
          "(known: study, datasets, definitions)")
    _need(data.get("definitions") is None or isinstance(data["definitions"], dict), m, ("definitions",),
          "definitions: one entry per definition, e.g. hr_cyto: {flag: HRFL}")
    _need(data.get("study") is None or isinstance(data.get("study"), str), m, ("study",),
          "study must be the study id, e.g. study: ABC-123")
    _need(isinstance(data.get("datasets"), dict), m, ("datasets",) if "datasets" in data else (),
          "datasets: one entry per dataset (adsl, adtte, adrs, adae) is needed")
    for name, spec in data["datasets"].items():
        _check_dataset(m, name, spec)
    m.study, m.datasets = data.get("study"), data["datasets"]
    m.definitions = data.get("definitions") or {}
    return m


def parse_condition(text: str):
    """``"COLUMN OP VALUE"`` -> (column, op, value or list of values), all text."""
    col, op, value = CONDITION.match(text).groups()
    op = " ".join(op.split())
    if op in ("in", "not in"):
        items = value.strip().strip("[]")
        value = [v.strip().strip("'\"") for v in items.split(",") if v.strip()]
    else:
        value = value.strip().strip("'\"")
    return col, op, value


def evaluate_condition(values: pd.Series, op: str, value) -> pd.Series:
    """Whether each of ``values`` satisfies ``op value`` (a parsed condition): numbers compare as
    numbers when ``value`` is one, else as text. Missing values give False (callers blank them).
    Raises TypeError when text is ordered against text it cannot compare with."""
    num = pd.to_numeric(values, errors="coerce")
    try:
        ref = float(value) if not isinstance(value, list) else None
    except ValueError:
        ref = None
    x = num if ref is not None else values
    ref = value if ref is None else ref
    ops = {"==": lambda a: a == ref, "!=": lambda a: a != ref, ">": lambda a: a > ref, ">=": lambda a: a >= ref,
           "<": lambda a: a < ref, "<=": lambda a: a <= ref, "in": lambda a: a.isin(ref),
           "not in": lambda a: ~a.isin(ref)}
    return ops[op](x).fillna(False).astype(bool)
