"""Analysis definitions as data: a study's own flags replace the default rules, and nothing else.

Toy data (tests/reference_data.py, patients P1–P8) with hand-checked expectations: the default
rules are tested in test_populations.py; here each study flag is planted as the column
``definition:<name>`` that ``load_snapshot`` makes from a snapshot's definitions.yaml.
"""

import pandas as pd
import pytest

from ixathaldex.analysis.cox import derive_complete_cases
from ixathaldex.analysis.definitions import table_definitions
from ixathaldex.analysis.populations import derive_adsl, derive_population
from ixathaldex.data.definitions import (DEFINITIONS, check_definitions, derive_definition_columns,
                                         describe_definition, load_definitions)
from ixathaldex.exceptions import SnapshotError

import reference_data as ref


@pytest.fixture
def adsl():
    return ref.toy_frames()[0]


def with_flags(adsl, **flags):
    a = adsl.copy()
    for name, values in flags.items():
        a[f"definition:{name}"] = values
    return a


def test_without_study_flags_nothing_changes(adsl):
    assert derive_adsl(adsl).equals(derive_adsl(with_flags(adsl)))
    assert derive_population(adsl, "PP").equals(derive_population(with_flags(adsl), "PP"))


def test_a_study_high_risk_flag_replaces_the_rule_and_the_groups_follow(adsl):
    # the study says P1 (t(4;14)) is not high risk and P4 (nothing) is; P5 (no FISH) says Y: ignored
    flag = ["N", "N", "Y", "Y", "Y", "Y", "N", "N"]
    d = derive_adsl(with_flags(adsl, hr_cyto=flag)).set_index("USUBJID")
    assert d["HRCYTOFL"].where(d["HRCYTOFL"].notna(), None).tolist() == ["N", "N", "Y", "Y", None, "Y", None, "N"]
    assert d.loc["P1", "CYTOGR3"] == "Isolated gain 1q21" and d.loc["P4", "CYTOGR3"] == "High risk"
    assert d.loc["P4", "HR1QFL"] == "Y" and d.loc["P8", "HR1QFL"] == "N"
    assert d.loc["P1", "T414"] == "Y"  # the data are untouched


def test_study_population_and_subgroup_flags(adsl):
    a = with_flags(adsl, pp=["Y", "N", "N", "N", "N", "N", "N", "Y"],
                   prior_lines=["Y", "N", None, "N", "N", "N", "N", "N"], imid=["N"] * 8)
    assert derive_population(a, "PP")["USUBJID"].tolist() == ["P1", "P8"]
    d = derive_adsl(a).set_index("USUBJID")
    assert d.loc["P1", "PRLINGR"] == ">1" and d.loc["P2", "PRLINGR"] == "1" and pd.isna(d.loc["P3", "PRLINGR"])
    assert set(d["IMIDNAFL"]) == {"N"}
    assert d.loc["P1", "PPROTFL"] == "Y" and d.loc["P2", "PPROTFL"] == "N"  # the flag in force


def test_a_study_complete_case_flag_narrows_the_cox_model(adsl):
    d = derive_adsl(derive_population(adsl, "ITT"))
    default = derive_complete_cases(d)
    assert default.sum() > 1
    first = default[default].index[0]
    flag = pd.Series("Y", index=adsl.index)
    flag[first] = "N"
    narrowed = derive_complete_cases(derive_adsl(derive_population(with_flags(adsl, cox_complete=flag), "ITT")))
    assert narrowed.sum() == default.sum() - 1 and not narrowed[first]


def test_flags_and_conditions_become_definition_columns(adsl):
    a = adsl.assign(MYHR=["Y", "", "N", None, "N", "Y", "N", "N"], SCORE=[1, 5, None, 2, 9, 3, 0, 4])
    cols = derive_definition_columns(a, {"hr_cyto": {"flag": "MYHR"}, "cox_complete": {"condition": "SCORE >= 3"}})
    assert cols["definition:hr_cyto"].where(cols["definition:hr_cyto"].notna(), None).tolist() == \
        ["Y", None, "N", None, "N", "Y", "N", "N"]
    assert cols["definition:cox_complete"].where(cols["definition:cox_complete"].notna(), None).tolist() == \
        ["N", "Y", None, "N", "Y", "Y", "N", "Y"]
    with pytest.raises(SnapshotError, match="flag SEX must hold Y, N"):
        derive_definition_columns(a, {"hr_cyto": {"flag": "SEX"}})
    with pytest.raises(SnapshotError, match="unknown definition"):
        check_definitions({"high_risk": {"flag": "MYHR"}})


def test_the_catalogue_names_every_population_and_subgroup_of_the_issue():
    names = set(DEFINITIONS)
    assert {"itt", "pp", "mntenter", "maint", "fish", "cox_complete"} <= names
    assert {"hr_cyto", "gain1q", "cyto3", "iss_1_vs_23", "iss_12_vs_3", "age75", "gfr60", "frailty",
            "prior_lines", "imid", "hgb100", "alb35"} <= names
    assert all(d.label and d.rule and d.reads for d in DEFINITIONS.values())


def test_the_methods_table_says_the_rule_in_force_and_n(adsl, tmp_path):
    study = {"hr_cyto": {"flag": "MYHR", "description": "as the plan counts it"}}
    a = with_flags(adsl.assign(MYHR="N"), hr_cyto=["Y", "N", "N", "N", "N", "N", "N", "N"])
    t = table_definitions(a, study).set_index("name")
    assert t.loc["hr_cyto", "source"] == "study" and t.loc["pp", "source"] == "default"
    assert t.loc["hr_cyto", "rule"] == "the study's flag MYHR (Y = high risk): as the plan counts it"
    assert t.loc["hr_cyto", "n"].startswith("High risk 1; Standard risk 5 (of 6")
    assert t.loc["pp", "n"] == "6 patients" and t.loc["itt", "n"] == "8 patients"
    assert describe_definition("pp", {}) == DEFINITIONS["pp"].rule
    assert load_definitions(tmp_path) == {}  # no definitions.yaml: the defaults
