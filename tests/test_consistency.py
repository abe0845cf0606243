"""The recheck of the paper's printed arithmetic: hand-made mini registries and the real registry."""

import copy
import json

import pytest
import yaml

from ixathaldex.claims.assertions import load_assertions, validate_assertions
from ixathaldex.claims.consistency import table_consistency, write_consistency_json
from ixathaldex.claims.consistency_readings import BEGIN, END, format_findings_markdown
from ixathaldex.claims.printed import COLUMNS, RECHECK_VERDICTS, allowed_denominators, grim_counts, pct_matches
from ixathaldex.claims.registry import ID_PATTERN, load_claims
from ixathaldex.exceptions import ClaimsError
from ixathaldex.paths import Project


def claim(id, published, rule="exact", **kw):
    return {"id": id, "locations": ["Table 9, somewhere"], "quantity": id, "population": "ITT",
            "published": published, "unit": "count", "rule": rule, "chapter": "patients", **kw}


def pct(id, published, numerator=None, denominator=None, decimals=1):
    c = claim(id, published, rule="percent_printed", decimals=decimals)
    c["unit"] = "percent"
    if numerator:
        c["numerator"] = numerator
    if denominator:
        c["denominator"] = denominator
    return c


def verdict_of(df, fid):
    return df.set_index("id").loc[fid, "verdict"]


# ----------------------------------------------------------------------------- helpers
def test_grim_counts_and_allowed_denominators():
    assert grim_counts(51.1, 90, 1) == [46]
    assert grim_counts(69.2, 29, 1) == []
    assert grim_counts(69.2, 26, 1) == [18]
    assert grim_counts(19.9, 90, 1) == []
    assert pct_matches(26, 90, 28.9, 1) and not pct_matches(26, 90, 28.8, 1)
    assert 41 in allowed_denominators(5, 12.2, 1) and 43 not in allowed_denominators(5, 12.2, 1)


# ----------------------------------------------------------------------------- mini registries
def test_percentages_four_ways():
    mini = [claim("flow.itt.n", 90),
            claim("t.a.n", 46), pct("t.a.pct", 51.1, "t.a.n", "flow.itt.n"),     # right
            claim("t.b.n", 46), pct("t.b.pct", 52.1, "t.b.n", "flow.itt.n"),     # planted wrong
            claim("t.c.n", 23), pct("t.c.pct", 25.5, "t.c.n", "flow.itt.n"),     # truncated
            pct("t.d.pct", 19.9, denominator="flow.itt.n"),                      # GRIM impossible
            pct("t.e.pct", 20.0, denominator="flow.itt.n")]                      # GRIM possible
    df = table_consistency(mini, assertions=[])
    assert list(df.columns) == COLUMNS
    assert verdict_of(df, "pct.t.a.pct") == "consistent"
    assert verdict_of(df, "pct.t.b.pct") == "inconsistent"
    assert verdict_of(df, "pct.t.c.pct") == "rounding"
    assert "truncated" in df.set_index("id").loc["pct.t.c.pct", "recomputed"]
    assert verdict_of(df, "pct.t.d.pct") == "inconsistent"
    assert verdict_of(df, "pct.t.e.pct") == "consistent"
    assert df.set_index("id").loc["pct.t.a.pct", "section"] == "Table 9"
    assert df.set_index("id").loc["pct.t.a.pct", "claims"][0] == "t.a.pct"


def test_same_count_printed_with_two_percentages():
    mini = [claim("flow.itt.n", 90), claim("t.a.n", 23), pct("t.a.pct", 25.5, "t.a.n", "flow.itt.n"),
            claim("t.b.n", 23), pct("t.b.pct", 25.6, "t.b.n", "flow.itt.n")]
    assert verdict_of(table_consistency(mini, assertions=[]), "twice.t.a.pct") == "rounding"
    mini[2]["published"] = 25.6
    assert verdict_of(table_consistency(mini, assertions=[]), "twice.t.a.pct") == "consistent"
    mini[2]["published"] = 25.2
    assert verdict_of(table_consistency(mini, assertions=[]), "twice.t.a.pct") == "inconsistent"


def test_fisher_check_on_a_mini_registry():
    def mini(p):
        return [claim("fish.available.n", 61), claim("t1.cyto.hr.n", 18),
                pct("t2b.hr.pos.orr.pct", 61.1, denominator="t1.cyto.hr.n"), pct("t2b.hr.neg.orr.pct", 51.2),
                claim("t2b.hr.p", p, "pvalue")]
    assert verdict_of(table_consistency(mini(0.5778), assertions=[]), "fisher.t2b.hr.p") == "consistent"
    assert verdict_of(table_consistency(mini(0.01), assertions=[]), "fisher.t2b.hr.p") == "inconsistent"


def test_partial_spec_is_not_checkable():
    mini = [claim("flow.itt.n", 90), claim("flow.pp.n", 76), claim("flow.early_stop.pd.n", 9)]
    assert verdict_of(table_consistency(mini, assertions=[]), "sum.flow.early_stop") == "not checkable"


def test_wording_assertion_without_printed_statistic_is_not_checkable():
    a = [{"id": "x.claimed", "kind": "significance", "location": "Discussion, here", "statement": "said significant",
          "statistic": None, "asserts": "significant"}]
    df = table_consistency([claim("flow.itt.n", 90)], assertions=a)
    assert verdict_of(df, "wording.x.claimed") == "not checkable"
    assert df.set_index("id").loc["wording.x.claimed", "section"] == "Discussion"


def test_assertions_are_validated_with_entry_and_field():
    bad = [{"id": "a.b", "kind": "significance", "location": "x", "statement": "y", "statistic": "no.such",
            "asserts": "maybe"}]
    with pytest.raises(ClaimsError) as exc:
        validate_assertions(bad, claim_ids={"t.a"})
    text = str(exc.value)
    assert "assertion #0 (a.b), field 'asserts'" in text and "field 'statistic'" in text
    with pytest.raises(ClaimsError, match="field 'kind'"):
        validate_assertions([{"id": "a.c", "kind": "vibe"}])


# ----------------------------------------------------------------------------- the real registry
@pytest.fixture(scope="module")
def real():
    return table_consistency()


def test_findings_have_stable_unique_dotted_ids_and_known_verdicts(real):
    assert real["id"].is_unique
    assert all(ID_PATTERN.match(i) for i in real["id"])
    assert set(real["verdict"]) <= set(RECHECK_VERDICTS)
    assert all(isinstance(c, list) and c or v == "not checkable" for c, v in zip(real["claims"], real["verdict"]))


@pytest.mark.parametrize("fid, verdict", [
    ("restated.flow.mnt.n", "inconsistent"),                     # 43 vs 41 in maintenance
    ("pct.mnt.upgrade.pct.of.flow.mnt.n", "inconsistent"),       # 12.2% beside 43 is 5/41
    ("pct.mnt.upgrade.pct_abstract", "inconsistent"),            # 12.4 is 5/n for no n
    ("pct.t3.all.constipation.g12.pct", "rounding"),             # 26/90 truncated to 28.8
    ("twice.t3.all.constipation.g12.pct", "rounding"),           # ... and 28.9 for oedema
    ("pct.t1.iss.iii.pct", "rounding"),                          # 23/90 truncated to 25.5
    ("twice.t1.iss.iii.pct", "rounding"),                        # ... and 25.6 for light chain
    ("pct.t1.prior.pi_and_imid.pct", "rounding"),                # 50/90 truncated
    ("pct.t3.mnt.anaemia.g3plus.pct", "inconsistent"),           # 4/41 printed 9.6
    ("twice.t3.mnt.fatigue.g12.pct", "inconsistent"),            # 4/41 printed 9.8 and 9.6
    ("total.safety.infection.g34.pct", "rounding"),              # 19.9 = sum of rounded rows
    ("total.safety.infection.g34.pct_discussion", "consistent"),  # 20 = 18/90
    ("restated.t3.all.polyneuropathy.g3plus.pct", "inconsistent"),  # 4.4 vs 5
    ("pct.t2b.gain1q.neg.orr.pct", "inconsistent"),              # 69.2 not k/29
    ("split.t2b", "inconsistent"),                               # no responder split fits all six
    ("n.cox.gain1q", "inconsistent"),                            # 60 in the Cox model, 58 with a 1q21 result
    ("fisher.resp.imid.p", "inconsistent"),                      # p < 0.0001 vs 0.034
    ("restated.t1.prior.imid.n", "inconsistent"),                # 54 vs 53
    ("hr.direction.pfs.cox.gain1q.hr", "inconsistent"),          # HR 0.61 with the shorter median
    ("hr.reciprocal.os.cox.gain1q.hr", "rounding"),              # 14.29 = 1/0.07
    ("pooled.pfs.iss.i.median.ii_iii", "inconsistent"),          # both above the ITT median
    ("same.pfs.risk3.gain1q.median", "inconsistent"),            # 6.2 vs 7.0
    ("wording.results.pfs.imid.no_difference", "inconsistent"),  # "no difference" at p = 0.026
    ("wording.abstract.pfs.gain1q.shorter", "inconsistent"),     # "significantly shorter" at p = 0.111
    ("wording.discussion.os.gfr.shorter", "not checkable"),      # no p printed
    ("grouping.pfs.iss", "inconsistent"),
    ("grouping.pfs.frailty", "inconsistent"),
    ("definition.hr_fish", "inconsistent"),                      # t(14;16) in the methods, not in the 18
    ("pct.t2a.itt.orr.pct", "consistent"),
    ("fisher.t2b.hr.p", "consistent"),
    ("fisher.t2b.gain1q.p", "consistent"),                       # 15/32 vs 18/26 gives 0.1133
    ("split.imid", "consistent"),                                # 24 + 22 = 46 responders
    ("hr.wald.os.cox.hb100.hr", "consistent"),
    ("pooled.pfs.lines.one.median.more", "consistent"),
    ("wording.results.os.lines.tendency", "consistent"),
])
def test_known_findings(real, fid, verdict):
    assert verdict_of(real, fid) == verdict, real.set_index("id").loc[fid].to_dict()


def test_gain1q_fisher_fit_is_reported(real):
    assert "18/26" in real.set_index("id").loc["fisher.t2b.gain1q.p", "recomputed"]


def test_every_contradiction_has_an_explanation_and_most_a_reading(real):
    bad = real[real["verdict"].isin(["inconsistent", "rounding"])]
    assert len(bad) >= 20
    assert (bad["explanation"].str.len() > 0).all()
    assert (bad["recomputed"].str.len() > 0).all()


def test_os_gfr_is_an_assertion_not_a_printed_p(real):
    ids = {c["id"] for c in load_claims()}
    assert any(a["id"] == "discussion.os.gfr.shorter" and a["statistic"] is None
               for a in load_assertions(claim_ids=ids))
    # no finding treats the unprinted OS p by GFR as a printed number
    assert not any("os.gfr.p" in c for c in real["claims"])
    assert verdict_of(real, "selection.os.univ.gfr60.p") == "not checkable"


def test_consistency_json_round_trips(real, tmp_path):
    path = write_consistency_json(tmp_path / "consistency.json", real)
    records = json.loads(path.read_text(encoding="utf-8"))
    assert len(records) == len(real) and set(records[0]) == set(COLUMNS)
    assert isinstance(records[0]["claims"], list)


def test_paper_readings_document_matches_the_findings(real):
    text = (Project.current().root / "docs" / "paper-readings.md").read_text(encoding="utf-8")
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:stop] == format_findings_markdown(real), \
        "docs/paper-readings.md is out of date: run PYTHONPATH=lib python scripts/paper_readings.py"


def test_assertions_file_is_valid_yaml_with_known_claims():
    data = yaml.safe_load((Project.current().root / "data" / "published" / "assertions.yaml").read_text())
    validate_assertions(copy.deepcopy(data["assertions"]), claim_ids={c["id"] for c in load_claims()})
