"""What-changed page, at a glance: the frames of claims.changes on hand-made data (values by hand)
and the figures of report.figures_changes (what they draw)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ixathaldex.claims import changes  # noqa: E402
from ixathaldex.exceptions import AnalysisError, ClaimsError  # noqa: E402
from ixathaldex.report import figures_changes as fc  # noqa: E402


def tte_frame():
    """Previous (cut 2018-06-30): 3 patients, times 1, 2, 3, events 1, 0, 1.
    Current (cut 2019-12-31): 4 patients, times 1, 2, 4, 5, events 1, 1, 0, 1."""
    rows = [("previous", "2018-06-30", t, e) for t, e in ((1, 1), (2, 0), (3, 1))]
    rows += [("current", "2019-12-31", t, e) for t, e in ((1, 1), (2, 1), (4, 0), (5, 1))]
    return pd.DataFrame([{"param": "OS", "population": "ITT", "role": r, "version": v, "cutoff": v,
                          "time": float(t), "event": e} for r, v, t, e in rows])


def test_km_versions_by_hand():
    km = changes.table_km_versions(tte_frame())
    prev = km[km["role"] == "previous"]
    cur = km[km["role"] == "current"]
    # previous: S(1) = 2/3, censored at 2, S(3) = 2/3 * (1 - 1/1) = 0
    assert prev["time"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert prev["survival"].tolist() == pytest.approx([1.0, 2 / 3, 2 / 3, 0.0])
    assert prev["censored"].tolist() == [0, 0, 1, 0]
    # current: S(1) = 3/4, S(2) = 3/4 * 2/3 = 1/2, censored at 4, S(5) = 0
    assert cur["time"].tolist() == [0.0, 1.0, 2.0, 4.0, 5.0]
    assert cur["survival"].tolist() == pytest.approx([1.0, 0.75, 0.5, 0.5, 0.0])
    assert set(prev["n"]) == {3} and set(cur["n"]) == {4} and set(cur["events"]) == {3}
    assert set(prev["label"]) == {"Previous version (cut-off 2018-06-30), n = 3"}
    assert set(cur["label"]) == {"This version (cut-off 2019-12-31), n = 4"}


def test_at_risk_versions_by_hand():
    ar = changes.table_at_risk_versions(tte_frame(), step=2)
    # grid 0, 2, 4, 6 (the last time, 5, rounded up to the step); at risk = patients with T >= t
    prev = ar[ar["role"] == "previous"]
    cur = ar[ar["role"] == "current"]
    assert prev["time"].tolist() == [0.0, 2.0, 4.0, 6.0]
    assert prev["at_risk"].tolist() == [3, 2, 0, 0]
    assert cur["at_risk"].tolist() == [4, 3, 2, 0]


def test_version_label_names_a_snapshot_id_that_is_not_the_cutoff():
    assert changes.version_label("current", "2019-12-31b", "2019-12-31", 88) == \
        "This version 2019-12-31b (cut-off 2019-12-31), n = 88"


def test_bad_survival_frame_is_named():
    bad = tte_frame().assign(role="older")
    with pytest.raises(ClaimsError, match="role"):
        changes.table_km_versions(bad)
    with pytest.raises(ClaimsError, match="event"):
        changes.table_at_risk_versions(tte_frame().drop(columns="event"))


def ard_change(stat_name, previous, stat, claim_id, status="changed", population="ITT", variable="OS",
               group1="", level="", prev_text=None, text=None):
    return {"status": status, "claim_id": claim_id, "stat_name": stat_name, "population": population,
            "variable": variable, "group1": group1, "group1_level": level, "previous": previous, "stat": stat,
            "previous_display": prev_text if prev_text is not None else ("NR" if math.isnan(previous) else str(previous)),
            "stat_display": text if text is not None else str(stat)}


REGISTRY = [{"id": "a", "quantity": "median OS (not reached at the cut)"}, {"id": "b", "quantity": "median PFS"},
            {"id": "c", "quantity": "median OS, fit"}, {"id": "d", "quantity": "OS hazard ratio, gain 1q"},
            {"id": "e", "quantity": "OS by GFR, log-rank p"}, {"id": "f", "quantity": "OS univariate p, GFR"}]


def moved_frame(max_rows=25):
    rows = [
        ard_change("median", 10.0, 10.5, "c", variable="OS", group1="frailty", level="Fit"),
        ard_change("median", 10.0, 12.0, "b", variable="PFS"),
        ard_change("median", math.nan, 28.0, "a"),
        ard_change("hr", 2.0, 1.0, "d", group1="gain1q"),
        ard_change("p_logrank", 0.01, 0.04, "e", group1="gfr60"),
        ard_change("p_logrank", 0.01, 0.04, "f", group1="gfr60"),   # the same statistic on the other page
        ard_change("p_logrank", 0.2, 0.3, ""),                      # no claim names it: not registered
        ard_change("ci_low", 5.0, 6.0, "g"),                        # not a kind of the plot
        ard_change("median", math.nan, 9.0, "h", status="new"),     # not a move
    ]
    return changes.table_estimates_moved(pd.DataFrame(rows), REGISTRY, max_rows=max_rows)


def test_estimates_moved_by_hand():
    m = moved_frame()
    assert m["claim_id"].tolist() == ["a", "b", "c", "d", "e; f"]
    assert m["kind"].tolist() == ["median", "median", "median", "hr", "p"]
    # medians: not reached -> 28 first (kind changed), then 2 months, then 0.5 months
    assert m["size"].tolist()[:3] == [math.inf, 2.0, 0.5]
    # ratios and p-values on the log scale: |ln(1/2)|, |ln(4)|
    assert m["size"].tolist()[3:] == pytest.approx([math.log(2), math.log(4)])
    assert m["kind_changed"].tolist() == [True, False, False, False, False]
    assert m["rank"].tolist() == [0, 1, 2, 0, 0]
    assert m["label"].tolist()[0] == "median OS (ITT)"          # the registry's remark in parentheses dropped
    assert m["previous_display"].tolist()[0] == "NR" and np.isnan(m["previous"].iloc[0])


def test_estimates_moved_keeps_the_largest_changes_per_kind():
    m = moved_frame(max_rows=2)
    assert m["shown"].tolist() == [True, True, False, True, True]
    ctx = changes.derive_changes_context(changes.table_km_versions(tte_frame()), m, max_rows=2)
    assert ctx["changes.moved.total"] == 5 and ctx["changes.moved.shown"] == 4
    assert ctx["changes.moved.left_out"] == 1 and ctx["changes.moved.max_rows"] == 2
    assert ctx["changes.n.previous"] == 3 and ctx["changes.n.current"] == 4
    assert ctx["changes.previous"] == "2018-06-30" and ctx["changes.population"] == "ITT"


def test_estimates_moved_needs_the_ard_columns():
    with pytest.raises(ClaimsError, match="previous_display"):
        changes.table_estimates_moved(pd.DataFrame([{"status": "changed"}]))


def manifest(synthetic=True, version="1.0.0", seed=1, generator="ixathaldex.synthetic"):
    prov = {"generator": generator, "generator_version": version, "seed": seed, "moves": 100} if synthetic \
        else {"added": "2020-01-01"}
    return {"cutoff_date": "2020-01-01", "synthetic": synthetic, "provenance": prov}


def test_data_comparison_from_the_manifests():
    assert changes.derive_data_comparison(manifest(), None) == ""
    assert "same generator and settings" in changes.derive_data_comparison(manifest(), manifest())
    newer = changes.derive_data_comparison(manifest(version="1.10.0"), manifest(version="1.9.2"))
    assert "newer version of the generator" in newer and "1.9.2 before" in newer and "new calibration" in newer
    assert "older version" in changes.derive_data_comparison(manifest(version="1.0.0"), manifest(version="2.0"))
    assert "different generator" in changes.derive_data_comparison(manifest(generator="other"), manifest())
    assert "different settings (seed)" in changes.derive_data_comparison(manifest(seed=2), manifest(seed=1))
    assert "two different data sources" in changes.derive_data_comparison(manifest(False), manifest(True))
    assert changes.derive_data_comparison(manifest(False), manifest(False)) == ""


# ---- figures ---------------------------------------------------------------------------------------

def test_km_overlay_draws_both_versions_and_their_numbers_at_risk():
    tte = tte_frame()
    km, ar = changes.table_km_versions(tte), changes.table_at_risk_versions(tte, step=2)
    ax = fc.figure_km_overlay(km, ar)
    curves = [ln for ln in ax.get_lines() if str(ln.get_gid()).startswith("km_")]
    assert [ln.get_gid() for ln in curves] == ["km_previous", "km_current"]
    assert curves[0].get_linestyle() == "--" and curves[1].get_linestyle() == "-"
    assert len([ln for ln in ax.get_lines() if ln.get_gid() == "censored"]) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Previous version (cut-off 2018-06-30), n = 3", "This version (cut-off 2019-12-31), n = 4"]
    at_risk = [t.get_text() for t in ax.texts if t.get_gid() == "at_risk"]
    assert at_risk == ["3", "2", "0", "0", "4", "3", "2", "0"]
    plt.close(ax.figure)
    fig = fc.figure_km_overlay_panels(pd.concat([km, km.assign(param="PFS")]),
                                      pd.concat([ar, ar.assign(param="PFS")]))
    assert len(fig.axes) == 2 and fig.axes[0].get_title(loc="left") == "Overall survival (ITT)"
    plt.close(fig)


def test_estimates_moved_draws_one_arrow_per_estimate():
    m = moved_frame(max_rows=2)
    ax = fc.figure_estimates_moved(m, "median")
    arrows = [t for t in ax.texts if t.get_gid() == "moved_arrow"]
    assert len(arrows) == 2                                   # the third median is left out
    prev = next(ln for ln in ax.get_lines() if ln.get_gid() == "moved_previous")
    cur = next(ln for ln in ax.get_lines() if ln.get_gid() == "moved_current")
    assert cur.get_xdata().tolist() == [28.0, 12.0]
    assert prev.get_xdata()[1] == 10.0 and prev.get_xdata()[0] > 28.0   # not reached: past the largest value
    assert any(t.get_gid() == "not_reached" for t in ax.texts)
    plt.close(ax.figure)
    ax = fc.figure_estimates_moved(m, "p")
    assert ax.get_xscale() == "log"
    assert [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_gid() == "reference"] == [0.05]
    plt.close(ax.figure)
    fig = fc.figure_estimates_moved_panels(m)
    assert [a.get_title(loc="left") for a in fig.axes] == ["Medians (months)", "Hazard ratios", "p-values"]
    plt.close(fig)
    with pytest.raises(AnalysisError):
        fc.figure_estimates_moved(m, "hr_ci_low")
