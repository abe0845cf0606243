"""Methods page: the analysis definitions in force in a version (populations and subgroups), with n.

The catalogue (name, meaning, default rule, the columns it reads) is
:data:`ixathaldex.data.definitions.DEFINITIONS`; a snapshot may point some definitions at the
study's own flags (``Snapshot.definitions``). This module says, for one version, which rule each
definition follows and how many patients it gives.
"""

from __future__ import annotations

import pandas as pd

from ixathaldex.analysis.cox import derive_complete_cases
from ixathaldex.analysis.populations import POPULATIONS, SUBGROUPS, derive_adsl, derive_population, split_by
from ixathaldex.data.definitions import DEFINITIONS, describe_definition

KIND_LABELS = {"population": "population", "subgroup": "subgroup"}
POPULATION_LABELS = {"ITT": "ITT", "FISH": "FISH-evaluable"}


def _population_n(adsl: pd.DataFrame, name: str) -> str:
    if name == "cox_complete":
        itt = derive_adsl(derive_population(adsl, "ITT"))
        return f"{int(derive_complete_cases(itt).sum())} patients"
    return f"{len(derive_population(adsl, name.upper()))} patients"


def _subgroup_n(adsl: pd.DataFrame, name: str) -> str:
    sg = SUBGROUPS[name]
    d = derive_adsl(derive_population(adsl, sg.population))
    levels = split_by(d, sg)
    counts = [f"{sg.level_label(lv)} {int((levels == lv).sum())}" for lv in sg.levels]
    unknown = int(levels.isna().sum())
    tail = f"; not known {unknown}" if unknown else ""
    return f"{'; '.join(counts)}{tail} (of {len(d)}, {POPULATION_LABELS.get(sg.population, sg.population)})"


def table_definitions(adsl: pd.DataFrame, study: dict | None = None) -> pd.DataFrame:
    """Methods page, "Definitions in force": one row per population and subgroup definition.

    Columns ``name`` (the key a study mapping uses), ``kind``, ``label``, ``rule`` (the rule in
    force, in words: the default or the study's own flag or condition), ``source`` ("default" or
    "study") and ``n`` (patients in this version: a population's size, a subgroup's count per
    level within its population).
    """
    study = study or {}
    rows = []
    for name, d in DEFINITIONS.items():
        if d.kind == "population" and (name.upper() in POPULATIONS or name == "cox_complete"):
            n = _population_n(adsl, name)
        else:
            n = _subgroup_n(adsl, name)
        rows.append({"name": name, "kind": KIND_LABELS[d.kind], "label": d.label,
                     "rule": describe_definition(name, study),
                     "source": "study" if name in study else "default", "n": n})
    return pd.DataFrame(rows)
