"""The registry of published numbers: schema, uniqueness, comparison rules, glued-value collection."""

import copy
import json
import math

import numpy as np
import pytest
import yaml

from ixathaldex.claims.precision import is_exact
from ixathaldex.claims.registry import (RULES, VERDICTS, within_rule, collect_results, compare, derive_glued_values, derive_missing_claims,
                               load_claims, require_complete, table_claims)
from ixathaldex.exceptions import ClaimsError


@pytest.fixture(scope="module")
def claims():
    return load_claims()


def _write(tmp_path, entries):
    p = tmp_path / "claims.yaml"
    p.write_text(yaml.safe_dump({"claims": entries}, sort_keys=False))
    return p


GOOD = {"id": "t2a.itt.cr.n", "locations": ["Table 2A, ITT column, CR row"], "quantity": "CR",
        "population": "ITT", "published": 8, "unit": "count", "rule": "exact", "chapter": "response"}


# ----------------------------------------------------------------------------- the real registry
def test_registry_is_valid_and_large(claims):
    assert len(claims) >= 300
    ids = [c["id"] for c in claims]
    assert len(ids) == len(set(ids))
    assert {c["rule"] for c in claims} <= set(RULES)


def test_registry_holds_every_table_3_cell(claims):
    ids = {c["id"] for c in claims}
    t3 = [i for i in ids if i.startswith("t3.") and i.count(".") == 4]
    # 21 rows x 2 phases x 2 grade bands x (n, %)
    assert len(t3) == 21 * 2 * 2 * 2


def test_registry_key_values(claims):
    by = {c["id"]: c for c in claims}
    assert by["t2a.itt.orr.n"]["published"] == 46
    assert by["t2a.pp.cbr.pct"]["published"] == pytest.approx(68.4)
    assert by["pfs.itt.median"]["published"] == pytest.approx(8.5)
    assert by["os.itt.median"]["published"] == "NR"
    assert by["os.cox.gain1q.hr"]["published"] == pytest.approx(14.29)
    assert by["t3.all.constipation.g12.pct"]["published"] == pytest.approx(28.8)
    # two printed values for one quantity are two claims
    assert by["flow.mnt.n"]["published"] == 43 and by["flow.mnt.n_discussion"]["published"] == 41
    assert by["mnt.upgrade.pct"]["published"] == pytest.approx(12.2)
    assert by["mnt.upgrade.pct_abstract"]["published"] == pytest.approx(12.4)
    # a quantity printed in several places is one claim with several locations
    assert len(by["pfs.itt.median"]["locations"]) >= 3


def test_registry_locations_are_described_not_quoted(claims):
    for c in claims:
        for loc in c["locations"]:
            assert len(loc.split()) < 15, (c["id"], loc)


# ----------------------------------------------------------------------------- broken registries
@pytest.mark.parametrize("mutate, field", [
    (lambda e: e.pop("rule"), "rule"),
    (lambda e: e.update(rule="roughly"), "rule"),
    (lambda e: e.pop("locations"), "locations"),
    (lambda e: e.update(locations=[]), "locations"),
    (lambda e: e.update(id="T2A CR"), "id"),
    (lambda e: e.update(chapter="misc"), "chapter"),
    (lambda e: e.update(published="eight"), "published"),
    (lambda e: e.update(published=8.5), "published"),
    (lambda e: e.update(colour="red"), "colour"),
    (lambda e: e.update(rule="percent_printed"), "decimals"),
    (lambda e: e.update(denominator="no.such.claim"), "denominator"),
])
def test_broken_entry_is_named(tmp_path, mutate, field):
    bad = copy.deepcopy(GOOD)
    mutate(bad)
    p = _write(tmp_path, [copy.deepcopy(GOOD) | {"id": "flow.itt.n"}, bad])
    with pytest.raises(ClaimsError) as err:
        load_claims(p)
    msg = str(err.value)
    assert f"'{field}'" in msg
    assert "claim #1" in msg


def test_duplicate_ids_are_rejected(tmp_path):
    p = _write(tmp_path, [GOOD, copy.deepcopy(GOOD)])
    with pytest.raises(ClaimsError, match="duplicate id"):
        load_claims(p)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ClaimsError, match="not found"):
        load_claims(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("claims: [unclosed")
    with pytest.raises(ClaimsError, match="YAML"):
        load_claims(bad)
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(ClaimsError, match="claims"):
        load_claims(tmp_path / "list.yaml")


def test_valid_minimal_registry_loads(tmp_path):
    assert load_claims(_write(tmp_path, [GOOD]))[0]["id"] == "t2a.itt.cr.n"


# ----------------------------------------------------------------------------- comparison rules
def C(rule, published, **kw):
    return {"id": "x.y", "rule": rule, "published": published, **kw}


@pytest.mark.parametrize("claim, rep, verdict", [
    (C("exact", 46), 46, "reproduced"),
    (C("exact", 46), 46.0, "reproduced"),
    (C("exact", 46), 45, "differs"),
    (C("percent_printed", 51.1, decimals=1), 46 / 90 * 100, "reproduced"),   # 51.11
    (C("percent_printed", 51.1, decimals=1), 51.149, "reproduced"),
    (C("percent_printed", 51.1, decimals=1), 51.16, "differs"),
    (C("percent_printed", 28.8, decimals=1), 26 / 90 * 100, "differs"),     # 28.89 prints 28.9
    (C("percent_printed", 68, decimals=0), 67.8, "reproduced"),
    (C("percent_printed", 68, decimals=0), 67.4, "differs"),
    (C("printed", 67.3, decimals=1), 67.34, "reproduced"),
    (C("printed", 67.3, decimals=1), 67.4, "differs"),
    (C("median", 8.5, decimals=1), 8.79, "reproduced"),
    (C("median", 8.5, decimals=1), 8.21, "reproduced"),
    (C("median", 8.5, decimals=1), 8.81, "differs"),
    (C("median", 8.5, decimals=1), 8.19, "differs"),
    (C("median", 7, decimals=0), 7.45, "reproduced"),   # printed in whole months: half a unit
    (C("median", 7, decimals=0), 7.55, "differs"),
    (C("median", 8.5, decimals=1), "NR", "differs"),
    (C("ci_limit", 6.4), 6.89, "reproduced"),
    (C("ci_limit", 6.4), 5.91, "reproduced"),
    (C("ci_limit", 6.4), 6.95, "differs"),
    (C("pvalue", 0.111), 0.2, "reproduced"),
    (C("pvalue", 0.111), 0.23, "differs"),       # beyond a factor 2
    (C("pvalue", 0.111), 0.06, "reproduced"),
    (C("pvalue", 0.111), 0.054, "differs"),      # beyond a factor 2
    (C("pvalue", 0.044), 0.051, "differs"),      # within a factor 2 but the other side of 0.05
    (C("pvalue", 0.044), 0.03, "reproduced"),
    (C("pvalue", "<0.0001"), 0.00005, "reproduced"),
    (C("pvalue", "<0.0001"), 0.00015, "reproduced"),  # a tiny bound is met up to a factor 2
    (C("pvalue", "<0.0001"), 0.0003, "differs"),
    (C("pvalue", "<0.0001"), 0.03, "differs"),
    (C("pvalue", "<0.2"), 0.19, "reproduced"),
    (C("pvalue", "<0.2"), 0.21, "differs"),
    (C("hr", 0.61), 0.70, "reproduced"),
    (C("hr", 0.61), 0.74, "differs"),            # more than 20 %
    (C("hr", 0.61), 0.50, "reproduced"),
    (C("hr", 0.61), 0.48, "differs"),
    (C("hr", 0.9), 1.05, "differs"),             # within 20 % but the other side of 1
    (C("hr", 14.29), 16.5, "reproduced"),
    (C("not_reached", "NR"), "NR", "reproduced"),
    (C("not_reached", "NC"), "NR", "reproduced"),
    (C("not_reached", "NR"), math.inf, "reproduced"),
    (C("not_reached", "NR"), 25.3, "differs"),
    (C("exact", 46), None, "not computable"),
    (C("median", 8.5), float("nan"), "not computable"),
    (C("not_reached", "NR"), None, "not computable"),
])
def test_compare_rules(claim, rep, verdict):
    assert within_rule(claim, rep)[0] == verdict
    four = compare(claim, rep)[0]
    assert four in VERDICTS
    assert (four == "differs") == (verdict == "differs" and not is_exact(claim, rep))


def test_compare_difference():
    assert compare(C("median", 8.5, decimals=1), 8.7)[1] == pytest.approx(0.2)
    assert compare(C("not_reached", "NR"), "NR")[1] is None
    assert compare(C("exact", 9), None) == ("not computable", None)


def test_table_claims(claims):
    results = {"t2a.itt.orr.n": 46, "t2a.itt.orr.pct": 51.1111, "pfs.itt.median": 9.1, "os.itt.median": "NR",
               "not.a.claim": 1}
    df = table_claims(claims, results)
    assert len(df) == len(claims)
    assert list(df.columns[:5]) == ["id", "location", "locations", "quantity", "population"]
    v = df.set_index("id")["verdict"]
    assert v["t2a.itt.orr.n"] == "exact"
    assert v["t2a.itt.orr.pct"] == "exact"
    assert v["pfs.itt.median"] == "differs"
    assert v["os.itt.median"] == "exact"
    assert v["t2a.itt.cr.n"] == "not computable"
    assert df.set_index("id").loc["pfs.itt.median", "difference"] == pytest.approx(0.6)


# ----------------------------------------------------------------------------- glued values
def _glue_output(name, value, prefixed=True):
    """One output as myst_nb.glue / papermill record writes it (nbformat v4 dict)."""
    prefix = "application/papermill.record/" if prefixed else ""
    return {"output_type": "display_data",
            "data": {prefix + "text/plain": repr(value)},
            "metadata": {"scrapbook": {"name": name, "mime_prefix": prefix}}}


def _notebook(outputs):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "markdown", "metadata": {}, "source": "# t"},
                      {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "glue()",
                       "outputs": outputs}]}


def test_collect_results_reads_scrapbook_records(tmp_path):
    nb1 = _notebook([
        _glue_output("t2a.itt.orr.n", 46),
        _glue_output("pfs.itt.median", 8.4657),
        _glue_output("os.itt.median", "NR"),
        {"output_type": "stream", "name": "stdout", "text": "noise\n"},
        {"output_type": "display_data", "data": {"text/plain": "42"}, "metadata": {}},  # not glued
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "pp.json", "mime_prefix": ""}},
         "data": {"application/papermill.record/json": 76}},
    ])
    nb2 = _notebook([_glue_output("t3.mnt.n", 41, prefixed=False),
                     {"output_type": "display_data", "metadata": {"scrapbook": {"name": "np"}},
                      "data": {"application/papermill.record/text/plain": "np.float64(60.526)"}},
                     {"output_type": "display_data", "metadata": {"scrapbook": {"name": "fig"}},
                      "data": {"application/papermill.record/image/png": "iVBOR",
                               "application/papermill.record/text/plain": "<Figure size 640x480>"}},
                     _glue_output("os.pp.median", float("inf")),
                     _glue_output("t2a.pp.cr.pct", np.float64(10.526), prefixed=False)])
    p1, p2 = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    p1.write_text(json.dumps(nb1))
    p2.write_text(json.dumps(nb2))
    res = collect_results([p1, p2])
    assert res == {"t2a.itt.orr.n": 46, "pfs.itt.median": pytest.approx(8.4657), "os.itt.median": "NR",
                   "pp.json": 76, "t3.mnt.n": 41, "np": pytest.approx(60.526), "os.pp.median": "NR",
                   "t2a.pp.cr.pct": pytest.approx(10.526)}
    assert isinstance(res["t2a.itt.orr.n"], int)


def test_collect_results_rejects_a_name_glued_twice(tmp_path):
    for n in ("a", "b"):
        (tmp_path / f"{n}.ipynb").write_text(json.dumps(_notebook([_glue_output("x.y", 1)])))
    with pytest.raises(ClaimsError, match="x.y"):
        collect_results([tmp_path / "a.ipynb", tmp_path / "b.ipynb"])


def test_derive_glued_values_ignores_markdown():
    assert derive_glued_values(_notebook([])) == {}


def test_require_complete_names_missing_claims_but_spares_expected_gaps():
    reg = [GOOD, GOOD | {"id": "t2a.itt.vgpr.n", "published": 13},
           GOOD | {"id": "flow.screening.median", "published": 7, "expected_computable": False}]
    assert derive_missing_claims(reg, {"t2a.itt.cr.n": 8}) == ["t2a.itt.vgpr.n"]
    with pytest.raises(ClaimsError, match=r"chapter response: t2a.itt.vgpr.n"):
        require_complete(reg, {"t2a.itt.cr.n": 8})
    require_complete(reg, {"t2a.itt.cr.n": 8, "t2a.itt.vgpr.n": 12})  # differs is not missing


def test_the_fast_yaml_loader_reads_the_same_claims(monkeypatch):
    """libyaml's loader (when built in) and the pure-Python one give the very same registry."""
    from ixathaldex.claims import registry

    fast = load_claims()
    monkeypatch.setattr(registry, "SAFE_LOADER", yaml.SafeLoader)
    assert load_claims() == fast
    assert len(fast) > 50
