"""The analysis definitions (populations and subgroups): the catalogue, and a study's own flags for them.

``DEFINITIONS`` is the one declarative list of every population and subgroup the analyses use:
its name, what it means in plain words, the columns its default rule reads and that rule, as the
analysis layer derives it today (``ixathaldex.analysis.populations``). A study may point a
definition at its own data instead, in the ``definitions:`` section of its study mapping
(``docs/real-data.md``)::

    definitions:
      hr_cyto: {flag: SPHRFL, description: "high risk as the sponsor's statistical plan counts it"}
      cox_complete: {condition: "COXFL == Y"}

``flag: COLUMN`` names an ADSL column holding ``Y`` / ``N`` / empty; ``condition: "COLUMN OP
VALUE"`` (the mapping's condition syntax) gives ``Y`` / ``N``, empty where the column is empty.
What a study declares is stored with its snapshot as ``definitions.yaml`` (listed, with its
checksum, in the manifest); a snapshot without one uses the defaults. ``load_snapshot`` turns each
declared definition into an ADSL column ``definition:<name>`` (a name no SAS or ADaM variable can
have) which the analysis reads instead of its default rule.

The catalogue lives here, in the data layer, because it is part of the contract between a study and
the analysis (like the columns of ``schema``): ``snapshot add --check`` must refuse an unknown name
before anything is written, and the data layer cannot ask the analysis layer (docs/decisions.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from ixathaldex.data.manifest import DEFINITIONS_COPY
from ixathaldex.data.mapping import CONDITION, evaluate_condition, parse_condition
from ixathaldex.exceptions import SnapshotError

#: the ADSL column that carries a study's flag for definition ``name``: COLUMN_PREFIX + name
COLUMN_PREFIX = "definition:"
#: what an entry of the mapping's ``definitions:`` section may say
ENTRY_KEYS = ("flag", "condition", "description")


@dataclass(frozen=True)
class Definition:
    """One population or subgroup: ``name`` (the key a study uses), ``kind`` ("population" or
    "subgroup"), ``label``, ``meaning`` of a ``Y`` when a study points it at a flag, ``reads``
    (columns of the default rule), ``rule`` (the default rule in words) and ``overridable`` (False
    for the ones derived from other definitions)."""

    name: str
    kind: str
    label: str
    meaning: str
    reads: tuple
    rule: str
    overridable: bool = True


def _pop(name, label, column, meaning, rule=None):
    return Definition(name, "population", label, meaning, (column,),
                      rule or f"{column} = Y (and in the intent-to-treat population)")


def _sub(name, label, meaning, reads, rule, overridable=True):
    return Definition(name, "subgroup", label, meaning, tuple(reads), rule, overridable)


FISH_ONLY = "FISH-evaluable patients only"
DEFINITIONS: dict[str, Definition] = {d.name: d for d in [
    _pop("itt", "Intent-to-treat", "ITTFL", "enrolled and treated", "ITTFL = Y"),
    _pop("pp", "Per-protocol", "PPROTFL", "received at least two full induction cycles"),
    _pop("fish", "FISH-evaluable", "FISHFL", "an evaluable FISH result"),
    _pop("mntenter", "Entered maintenance", "MNTFL", "started the maintenance phase"),
    _pop("maint", "Maintenance safety set", "MNTSAFFL", "received maintenance treatment"),
    Definition("cox_complete", "population", "Cox complete cases (multivariate OS model)",
               "a complete case of the multivariate OS model",
               ("GAIN1Q", "PRLINES", "ISS", "HGB", "ALB", "GFR"),
               "intent-to-treat patients with every factor of the model known"),
    _sub("hr_cyto", "High-risk cytogenetics", "high risk",
         ("FISHFL", "T414", "T1416", "DEL17P"),
         f"any of t(4;14), t(14;16), del(17p) = Y; standard risk when all three are N; {FISH_ONLY}"),
    _sub("gain1q", "Gain of 1q21", "gain of 1q21", ("FISHFL", "GAIN1Q"),
         f"GAIN1Q = Y / N; empty when the probe was not done; {FISH_ONLY}"),
    _sub("gain1q_detected", "Gain of 1q21 detected (Cox coding)", "gain of 1q21 detected",
         ("gain1q",), "Y where gain1q is Y, N for every other FISH-evaluable patient", False),
    _sub("hr_or_1q", "High risk and/or gain of 1q21", "high risk and/or gain of 1q21",
         ("hr_cyto", "gain1q_detected"), "Y where either is Y; N where high risk is N and no gain detected",
         False),
    _sub("cyto3", "Three cytogenetic groups", "", ("hr_cyto", "gain1q_detected"),
         "high risk (with or without gain of 1q21); isolated gain of 1q21; neither", False),
    _sub("iss_1_vs_23", "ISS I vs II–III", "ISS stage II or III", ("ISS",), "ISS = II or III"),
    _sub("iss_12_vs_3", "ISS I–II vs III", "ISS stage III", ("ISS",), "ISS = III"),
    _sub("age75", "Age", "aged 75 or older", ("AGE",), "AGE >= 75"),
    _sub("gfr60", "Renal function (GFR)", "GFR below 60 mL/min", ("GFR",), "GFR < 60"),
    _sub("frailty", "Frailty", "unfit or frail", ("FRAILTY",), "FRAILTY = UNFIT or FRAIL"),
    _sub("prior_lines", "Prior lines", "more than one prior line", ("PRLINES",), "PRLINES > 1"),
    _sub("imid", "IMiD exposure", "IMiD-naive", ("LENEXPFL", "THALEXFL"),
         "neither LENEXPFL nor THALEXFL = Y (no prior lenalidomide or thalidomide)"),
    _sub("hgb100", "Haemoglobin", "haemoglobin below 100 g/L", ("HGB",), "HGB < 100"),
    _sub("alb35", "Albumin", "albumin below 35 g/L", ("ALB",), "ALB < 35"),
]}


def definition_column(name: str) -> str:
    """The ADSL column carrying a study's flag for definition ``name``."""
    return COLUMN_PREFIX + name


def definition_problems(section, adsl: pd.DataFrame | None = None) -> list[str]:
    """What is wrong with a ``definitions:`` section (one line each, naming the definition); with
    ``adsl``, also columns that are missing or a flag with values other than Y / N / empty."""
    if section is None:
        return []
    if not isinstance(section, dict):
        return ["definitions: give one entry per definition, e.g. hr_cyto: {flag: HRFL}"]
    problems = []
    for name, entry in section.items():
        where = f"definitions: {name}"
        d = DEFINITIONS.get(name)
        if d is None:
            problems.append(f"{where}: unknown definition (known: {', '.join(DEFINITIONS)})")
            continue
        if not d.overridable:
            problems.append(f"{where}: follows from {', '.join(d.reads)} in force; point those instead")
            continue
        if not isinstance(entry, dict) or set(entry) - set(ENTRY_KEYS) or \
                sum(k in entry for k in ("flag", "condition")) != 1:
            problems.append(f"{where}: give exactly one of flag: COLUMN or condition: \"COLUMN OP VALUE\" "
                            "(and optionally description: TEXT)")
            continue
        problems += _entry_problems(where, entry, adsl)
    return problems


def _entry_problems(where: str, entry: dict, adsl: pd.DataFrame | None) -> list[str]:
    if "condition" in entry and not (isinstance(entry["condition"], str) and CONDITION.match(entry["condition"])):
        return [f"{where}: condition {entry['condition']!r} is not 'COLUMN OP VALUE' (OP: == != > >= < <= in)"]
    if "flag" in entry and not isinstance(entry["flag"], str):
        return [f"{where}: flag must name one ADSL column"]
    column = entry["flag"] if "flag" in entry else parse_condition(entry["condition"])[0]
    if adsl is None:
        return []
    if column not in adsl.columns:
        return [f"{where}: column {column} is not in ADSL"]
    if "flag" in entry:
        bad = sorted(set(adsl[column].dropna().astype(str)) - {"Y", "N", ""})
        if bad:
            return [f"{where}: flag {column} must hold Y, N or nothing, not {', '.join(map(repr, bad[:5]))}"]
    return []


def check_definitions(section, adsl: pd.DataFrame | None = None) -> dict:
    """``section`` if it is a valid ``definitions:`` section (``{}`` for none), else raise."""
    problems = definition_problems(section, adsl)
    if problems:
        raise SnapshotError(f"{len(problems)} definition problem(s):\n" + "\n".join(f"  - {p}" for p in problems))
    return dict(section or {})


def format_definitions_file(section: dict) -> str:
    """The text of ``definitions.yaml`` for a study's section (stable order, plain YAML)."""
    head = ("# The analysis definitions this study points at its own data (docs/real-data.md);\n"
            "# every definition not listed uses its default rule.\n")
    return head + yaml.safe_dump({"definitions": section}, sort_keys=False, allow_unicode=True)


def load_definitions(folder: Path) -> dict:
    """The study's definitions stored in a snapshot folder (``{}`` when it has none: the defaults)."""
    path = Path(folder) / DEFINITIONS_COPY
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SnapshotError(f"{path.name}: not valid YAML ({exc})") from None
    return check_definitions(data.get("definitions") if isinstance(data, dict) else data)


def derive_definition_columns(adsl: pd.DataFrame, section: dict) -> dict[str, pd.Series]:
    """The ``definition:<name>`` columns (Y / N / empty) of a study's declared definitions."""
    check_definitions(section, adsl)
    out = {}
    for name, entry in section.items():
        if "flag" in entry:
            values = adsl[entry["flag"]]
            out[definition_column(name)] = values.where(values.isin(["Y", "N"]))
            continue
        column, op, value = parse_condition(entry["condition"])
        try:
            hit = evaluate_condition(adsl[column], op, value)
        except TypeError:
            raise SnapshotError(f"definitions: {name}: cannot compare {column} with {op} {value!r}") from None
        out[definition_column(name)] = pd.Series(["Y" if h else "N" for h in hit], index=adsl.index,
                                                 dtype=object).where(adsl[column].notna())
    return out


def describe_definition(name: str, section: dict) -> str:
    """The rule in force for ``name``, in words: the study's flag or condition, else the default."""
    d = DEFINITIONS[name]
    entry = (section or {}).get(name)
    if not entry:
        return d.rule
    how = f"the study's flag {entry['flag']}" if "flag" in entry else f"the study's condition {entry['condition']}"
    text = f"{how} (Y = {d.meaning})" if d.meaning else how
    return text + (f": {entry['description']}" if entry.get("description") else "")
