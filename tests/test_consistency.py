"""The recheck of the paper's printed arithmetic: hand-made mini registries and the real registry."""

import pytest

from ixathaldex.claims.consistency import table_consistency
from ixathaldex.claims.printed import COLUMNS, grim_counts, pct_matches


def claim(id, published, rule="exact", **kw):
    return {"id": id, "locations": ["somewhere"], "quantity": id, "population": "ITT", "published": published,
            "unit": "count", "rule": rule, "chapter": "patients", **kw}


def pct(id, published, numerator=None, denominator=None, decimals=1):
    c = claim(id, published, rule="percent_printed", decimals=decimals)
    c["unit"] = "percent"
    if numerator:
        c["numerator"] = numerator
    if denominator:
        c["denominator"] = denominator
    return c


def rows_for(df, cid):
    return df[df["claims"].str.split(", ").apply(lambda ids: cid in ids)]


# ----------------------------------------------------------------------------- helpers
def test_grim_counts():
    assert grim_counts(51.1, 90, 1) == [46]
    assert grim_counts(69.2, 29, 1) == []
    assert grim_counts(69.2, 26, 1) == [18]
    assert grim_counts(19.9, 90, 1) == []
    assert pct_matches(26, 90, 28.9, 1) and not pct_matches(26, 90, 28.8, 1)


# ----------------------------------------------------------------------------- mini registries
def test_planted_wrong_percentage_is_flagged_and_right_one_is_not():
    mini = [claim("flow.itt.n", 90),
            claim("t.a.n", 46), pct("t.a.pct", 51.1, "t.a.n", "flow.itt.n"),     # right
            claim("t.b.n", 46), pct("t.b.pct", 52.1, "t.b.n", "flow.itt.n"),     # planted wrong
            pct("t.c.pct", 19.9, denominator="flow.itt.n"),                      # GRIM impossible
            pct("t.d.pct", 20.0, denominator="flow.itt.n")]                      # GRIM possible
    df = table_consistency(mini)
    assert list(df.columns) == COLUMNS
    v = {r["claims"].split(", ")[0]: r["verdict"] for _, r in df.iterrows()}
    assert v["t.a.pct"] == "consistent"
    assert v["t.b.pct"] == "inconsistent"
    assert v["t.c.pct"] == "inconsistent"
    assert v["t.d.pct"] == "consistent"


def test_truncated_percentage_is_explained():
    mini = [claim("flow.itt.n", 90), claim("t.iii.n", 23), pct("t.iii.pct", 25.5, "t.iii.n", "flow.itt.n")]
    row = table_consistency(mini).iloc[0]
    assert row["verdict"] == "inconsistent" and "truncated" in row["implied"]


def test_restated_quantity_and_sums_on_a_mini_registry():
    mini = [claim("flow.itt.n", 90), claim("flow.pp.n", 76),
            claim("flow.early_stop.pd.n", 9), claim("flow.early_stop.toxicity.n", 2),
            claim("flow.early_stop.withdrawal.n", 1), claim("flow.early_stop.physician.n", 3),  # planted: 15 != 14
            claim("flow.mnt.n", 43), claim("flow.mnt.n_discussion", 43)]
    df = table_consistency(mini)
    flow = df[df["printed"] == "stopped before two cycles = ITT - PP"]
    assert flow["verdict"].tolist() == ["inconsistent"]
    rest = df[df["check"] == "same quantity printed twice"]
    assert rest["verdict"].tolist() == ["consistent"]


def test_hazard_ratio_checks_on_a_mini_registry():
    base = [claim("pfs.gain1q.pos.median", 7.0, "median"), claim("pfs.gain1q.neg.median", 11.6, "median"),
            claim("pfs.cox.gain1q.hr.ci_low", 0.88, "hr"), claim("pfs.cox.gain1q.hr.ci_high", 3.03, "hr")]
    good = base + [claim("pfs.cox.gain1q.hr", 1.64, "hr"), claim("pfs.cox.gain1q.p", 0.11, "pvalue")]
    df = table_consistency(good)
    assert set(df["verdict"]) == {"consistent"}
    assert set(df["check"]) >= {"HR CI vs p (Wald, log scale)", "HR direction vs medians",
                                "HR CI symmetric on the log scale"}
    bad = base + [claim("pfs.cox.gain1q.hr", 1.64, "hr"), claim("pfs.cox.gain1q.p", 0.001, "pvalue")]
    df = table_consistency(bad)
    assert df.set_index("check").loc["HR CI vs p (Wald, log scale)", "verdict"] == "inconsistent"


def test_fisher_check_on_a_mini_registry():
    def mini(p):
        return [claim("fish.available.n", 61), claim("t1.cyto.hr.n", 18),
                pct("t2b.hr.pos.orr.pct", 61.1, denominator="t1.cyto.hr.n"),
                pct("t2b.hr.neg.orr.pct", 51.2),
                claim("t2b.hr.p", p, "pvalue")]
    ok = table_consistency(mini(0.5778))
    assert ok[ok["check"] == "Fisher p vs implied 2x2"]["verdict"].tolist() == ["consistent"]
    bad = table_consistency(mini(0.01))
    assert bad[bad["check"] == "Fisher p vs implied 2x2"]["verdict"].tolist() == ["inconsistent"]


def test_pooled_median_check_on_a_mini_registry():
    def mini(pooled):
        return [claim("pfs.itt.median", pooled, "median"), claim("pfs.pp.median", 9.4, "median"),
                claim("pfs.lines.one.median", 10.3, "median"), claim("pfs.lines.more.median", 8.3, "median")]
    assert table_consistency(mini(8.5))["verdict"].tolist() == ["consistent"]
    assert table_consistency(mini(11.0))["verdict"].tolist() == ["inconsistent"]


# ----------------------------------------------------------------------------- the real registry
@pytest.fixture(scope="module")
def real():
    return table_consistency()


def verdicts(df, cid):
    return set(rows_for(df, cid)["verdict"])


@pytest.mark.parametrize("cid", [
    "flow.mnt.n_discussion",              # 43 vs 41 patients in maintenance
    "t3.all.constipation.g12.pct",        # 26/90 printed 28.8
    "t3.mnt.anaemia.g3plus.pct",          # 4/41 printed 9.6
    "t1.iss.iii.pct",                     # 23/90 printed 25.5
    "t1.prior.pi_and_imid.pct",           # 50/90 printed 55.5
    "safety.infection.g34.pct",           # 19.9 is not k/90
    "mnt.upgrade.pct_abstract",           # 12.4 vs 12.2
    "resp.imid.p",                        # p < 0.0001 vs Fisher 0.03
    "resp.imid_exposed.n",                # 53 vs Table 1 54
    "t2b.gain1q.neg.orr.pct",             # 69.2% is not k/29
    "pfs.cox.gain1q.hr",                  # HR 0.61 with the shorter median
    "pfs.iss.i.median",                   # both subgroups above the ITT median
    "pfs.age.lt75.median",
    "pfs.frailty.fit.median",
    "pfs.gfr.ge60.median",
    "safety.neuropathy.g34.pct_discussion",  # 5% vs 4.4%
    "pfs.imid.p",                         # called no difference at p = 0.026
])
def test_known_contradictions_are_found(real, cid):
    assert "inconsistent" in verdicts(real, cid), cid


@pytest.mark.parametrize("cid", [
    "t3.all.oedema.g12.pct", "t2a.itt.orr.pct", "t2a.pp.cbr.pct", "fish.hr_or_gain1q.pct", "t2b.hr.p",
    "t2b.hr_or_gain1q.p", "os.cox.hb100.p", "flow.mnt_complete.pct", "pfs.lines.one.median",
])
def test_sound_numbers_are_not_flagged(real, cid):
    assert verdicts(real, cid) == {"consistent"}, cid


def test_gain1q_fisher_fit_is_reported(real):
    row = real[(real["check"] == "Fisher p vs implied 2x2") & real["claims"].str.contains("t2b.gain1q.p")].iloc[0]
    assert "18/26" in row["implied"]


def test_cox_reciprocal_printing_noted(real):
    notes = real[real["check"] == "HR printed as a reciprocal"]
    assert any("1/0.07" in s for s in notes["implied"])


def test_every_inconsistency_has_a_reading(real):
    bad = real[real["verdict"] == "inconsistent"]
    assert len(bad) >= 15
    assert (bad["reading"].str.len() > 0).all(), bad[bad["reading"] == ""][["check", "claims"]]


def test_range_and_cox_selection_checks_on_a_mini_registry():
    mini = [claim("pfs.itt.median", 8.5, "median"), claim("pfs.itt.median.ci_low", 9.0, "ci_limit"),  # planted
            claim("pfs.itt.median.ci_high", 10.3, "ci_limit"),
            claim("os.univ.lines.p", "<0.2", "pvalue"), claim("os.lines.p", 0.064, "pvalue"),
            claim("os.age.p", 0.15, "pvalue")]                                                      # planted
    df = table_consistency(mini)
    rng = df[df["check"] == "value within its range"]
    assert rng["verdict"].tolist() == ["inconsistent"]
    sel = df[df["check"] == "Cox selection at p < 0.2"].set_index("claims")["verdict"]
    assert sel["os.univ.lines.p, os.lines.p"] == "consistent"
    assert sel["os.age.p"] == "inconsistent"
