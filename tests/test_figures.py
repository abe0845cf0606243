"""Figures: return Axes, draw the right number of curves/rows, at-risk numbers are T >= t."""

import matplotlib

matplotlib.use("Agg")  # tests only; the library never selects a backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ixathaldex.exceptions import AnalysisError  # noqa: E402
from ixathaldex.report.figures import (alt_text_km, figure_ae_profile, figure_flow,  # noqa: E402
                                figure_forest, figure_km, fmt_p)
from ixathaldex.analysis.populations import table_flow  # noqa: E402
from ixathaldex.analysis.safety import table_adverse_events  # noqa: E402
from ixathaldex.analysis.survival import derive_tte, table_subgroup_hr  # noqa: E402

import reference_data as ref  # noqa: E402


@pytest.fixture(autouse=True)
def close_all():
    yield
    plt.close("all")


def gehan():
    return pd.DataFrame({"time": np.r_[ref.GEHAN_6MP_TIME, ref.GEHAN_CONTROL_TIME],
                         "event": np.r_[ref.GEHAN_6MP_EVENT, ref.GEHAN_CONTROL_EVENT],
                         "arm": ["6-MP"] * 21 + ["Placebo"] * 21})


def test_km_two_groups():
    ax = figure_km(gehan(), "arm", step=10)
    assert isinstance(ax, matplotlib.axes.Axes)
    labels = ax.get_legend_handles_labels()[1]
    assert len(labels) == 2
    assert labels[0].startswith("6-MP (n=21): median 23.0 (95% CI 13.0–NC)")
    assert labels[1].startswith("Placebo (n=21): median 8.0 (95% CI 4.0–11.0)")
    # at risk (T >= t), counted by hand from the published data
    # the grid runs to 40 (last time 35 rounded up to the tick step)
    assert ax.at_risk_.loc["6-MP"].tolist() == [21, 15, 8, 4, 0]
    assert ax.at_risk_.loc["Placebo"].tolist() == [21, 8, 2, 0, 0]
    drawn = [t.get_text() for t in ax.texts if t.get_gid() == "at_risk"]
    assert drawn == ["21", "15", "8", "4", "0", "21", "8", "2", "0", "0"]
    assert ax.get_legend().get_title().get_text() == "Log-rank p < 0.001"
    assert [float(x) for x in ax.get_xticks()] == [0, 10, 20, 30, 40]


def test_km_censor_marks_and_single_group():
    ax = figure_km(pd.DataFrame({"time": [1, 2, 3, 4], "event": [1, 0, 1, 0]}), step=1)
    lines = ax.get_lines()
    assert len(lines) == 2  # one step curve, one set of censor marks
    assert list(lines[1].get_xdata()) == [2, 4]
    assert np.isnan(ax.logrank_p_)
    assert ax.at_risk_.iloc[0].tolist() == [4, 4, 3, 2, 1]


def test_km_on_given_axes_and_subgroup():
    adsl, adtte, *_ = ref.toy_frames()
    fig, axes = plt.subplots(1, 2)
    ax = figure_km(derive_tte(adsl, adtte, "OS"), "cyto3", ax=axes[1])
    assert ax is axes[1]
    assert len(ax.get_legend_handles_labels()[1]) == 3
    with pytest.raises(AnalysisError):
        figure_km(pd.DataFrame({"time": [], "event": []}))


def test_km_panels_is_a_figure_of_km_axes():
    from ixathaldex.report.figures import figure_km_panels

    adsl, adtte, *_ = ref.toy_frames()
    fig = figure_km_panels([(derive_tte(adsl, adtte, "PFS"), "PFS"), (derive_tte(adsl, adtte, "OS"), "OS")],
                           group="gfr60", step=3)
    assert isinstance(fig, matplotlib.figure.Figure)
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 2
    assert visible[1].at_risk_.iloc[:, 0].sum() == 8  # all ITT patients at t = 0
    fig = figure_km_panels([(derive_tte(adsl, adtte, "PFS"), "a", "gfr60"),
                            (derive_tte(adsl, adtte, "PFS"), "b", "cyto3"),
                            (derive_tte(adsl, adtte, "OS"), "c")], step=3)
    visible = [a for a in fig.axes if a.get_visible()]
    assert [len(a.km_summary_) for a in visible] == [2, 3, 1]


def test_forest():
    adsl, adtte, *_ = ref.toy_frames()
    hr = table_subgroup_hr(adsl, adtte, "PFS", factors=["age75", "gfr60", "gain1q"])
    ax = figure_forest(hr)
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "Age ≥75 vs Age <75"
    assert len(ax.forest_) == 3
    assert any(t.get_text() == "not estimable" for t in ax.texts) == (~hr["estimable"]).any()


def test_flow_uses_data():
    adsl, *_ = ref.toy_frames()
    ax = figure_flow(table_flow(adsl))
    boxes = [t.get_text() for t in ax.texts if t.get_gid() == "flow_box"]
    assert "Enrolled and treated (ITT)\nn = 8" in boxes
    assert "Per-protocol (≥2 cycles)\nn = 6" in boxes
    assert any("Not per-protocol: n = 2" in b and "Adverse event: 1" in b for b in boxes)


def test_ae_profile():
    adsl, _, _, adae = ref.toy_frames()
    ax = figure_ae_profile(table_adverse_events(adsl, adae), min_pct=1)
    assert list(ax.ae_.index) == ["Upper respiratory infection", "Fatigue", "Hiccups", "Anaemia"]
    assert ax.ae_.loc["Fatigue", "1-2"] == pytest.approx(25.0)
    assert len(ax.patches) == 8  # two stacked bars per term, none for the category headers
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["Non-haematological", "Upper respiratory infection", "Fatigue", "Hiccups",
                     "Haematological", "Anaemia"]


def test_fmt_p():
    assert fmt_p(0.0004) == "<0.001" and fmt_p(0.0456) == "0.046" and fmt_p(np.nan) == "NA"


def test_alt_text_and_no_backend_choice():
    from pathlib import Path

    import ixathaldex.report.figures as figs

    ax = figure_km(gehan(), "arm", step=10)
    text = alt_text_km(ax, "remission", "Gehan 6-MP trial")
    assert "6-MP (n = 21, 9 events): median 23.0 months (95% CI 13.0 to NC)" in text
    assert text.endswith("Log-rank p < 0.001.")
    assert "matplotlib.use(" not in Path(figs.__file__).read_text()
