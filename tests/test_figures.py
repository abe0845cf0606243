"""Figures: return Axes, draw what the data say (at risk T >= t, censoring, medians, one forest row
per estimate, stacked grades), in seaborn's theme, without touching matplotlib's global state."""

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # tests only; the library never selects a backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from ixathaldex.exceptions import AnalysisError  # noqa: E402
from ixathaldex.report.figures import (alt_text_km, figure_ae_profile, figure_flow,  # noqa: E402
                                       figure_km, figure_km_panels)
from ixathaldex.report.figures_forest import figure_forest  # noqa: E402
from ixathaldex.analysis.populations import table_flow  # noqa: E402
from ixathaldex.analysis.safety import table_adverse_events  # noqa: E402
from ixathaldex.analysis.cox import table_subgroup_hr  # noqa: E402
from ixathaldex.analysis.survival import derive_tte  # noqa: E402

import reference_data as ref  # noqa: E402


@pytest.fixture(autouse=True)
def close_all():
    yield
    plt.close("all")


def gehan():
    return pd.DataFrame({"time": np.r_[ref.GEHAN_6MP_TIME, ref.GEHAN_CONTROL_TIME],
                         "event": np.r_[ref.GEHAN_6MP_EVENT, ref.GEHAN_CONTROL_EVENT],
                         "arm": ["6-MP"] * 21 + ["Placebo"] * 21})


def texts(ax, gid):
    return [t for t in ax.texts if t.get_gid() == gid]


def test_km_two_groups_legend_carries_published_median_and_ci():
    ax = figure_km(gehan(), "arm", step=10)
    assert isinstance(ax, matplotlib.axes.Axes)
    labels = ax.get_legend_handles_labels()[1]
    assert len(labels) == 2
    # Gehan 6-MP data: medians and log-log CIs from the reference values (NC = not closed)
    lo, _ = ref.GEHAN_MEDIAN_CI_LOGLOG["6MP"]
    assert labels[0] == f"6-MP (n=21): median {ref.GEHAN_MEDIAN['6MP']:.1f} (95% CI {lo:.1f}–NC)"
    lo, hi = ref.GEHAN_MEDIAN_CI_LOGLOG["control"]
    assert labels[1] == (f"Placebo (n=21): median {ref.GEHAN_MEDIAN['control']:.1f} "
                         f"(95% CI {lo:.1f}–{hi:.1f})")
    assert ax.get_legend().get_title().get_text() == "Log-rank p < 0.001"
    assert [float(x) for x in ax.get_xticks()] == [0, 10, 20, 30, 40]


def test_km_median_in_legend_agrees_with_lifelines():
    from lifelines import KaplanMeierFitter

    ax = figure_km(gehan(), "arm", step=10)
    for label, t, e in (("6-MP", ref.GEHAN_6MP_TIME, ref.GEHAN_6MP_EVENT),
                        ("Placebo", ref.GEHAN_CONTROL_TIME, ref.GEHAN_CONTROL_EVENT)):
        median = KaplanMeierFitter().fit(t, e).median_survival_time_
        legend = next(x for x in ax.get_legend_handles_labels()[1] if x.startswith(label))
        assert f"median {median:.1f} " in legend


def test_km_at_risk_row_is_hand_count_of_t_at_least_grid_time():
    ax = figure_km(gehan(), "arm", step=10)
    # counted by hand from the published data: patients still followed at 0, 10, 20, 30, 40
    # (a patient with T = 10 is at risk at 10; the grid runs to 40 = 35 rounded up to the step)
    assert ax.at_risk_.loc["6-MP"].tolist() == [21, 15, 8, 4, 0]
    assert ax.at_risk_.loc["Placebo"].tolist() == [21, 8, 2, 0, 0]
    drawn = texts(ax, "at_risk")
    assert [t.get_text() for t in drawn] == ["21", "15", "8", "4", "0", "21", "8", "2", "0", "0"]
    assert [t.get_position()[0] for t in drawn[:5]] == [0, 10, 20, 30, 40]  # under the grid ticks
    assert drawn[0].get_position()[1] > drawn[5].get_position()[1] > -1  # rows stacked, below 0
    assert drawn[0].get_position()[1] < 0
    row_labels = texts(ax, "at_risk_label")
    assert [t.get_text() for t in row_labels] == ["6-MP", "Placebo"]
    curves = [ln for ln in ax.get_lines() if ln.get_gid() != "censored"]
    assert [to_rgba(t.get_color()) for t in row_labels] == [to_rgba(c.get_color()) for c in curves]


def test_km_censoring_ticks_at_censored_times_on_the_curve():
    t = np.array([1, 2, 2, 3, 4, 5, 6])
    e = np.array([1, 0, 1, 1, 0, 1, 0])
    ax = figure_km(pd.DataFrame({"time": t, "event": e}), step=1)
    ticks = [ln for ln in ax.get_lines() if ln.get_gid() == "censored"]
    assert len(ticks) == 1 and ticks[0].get_marker() == "|"
    assert list(ticks[0].get_xdata()) == [2, 4, 6]
    # S by hand: 1 -> 6/7 at 1; at 2: 6 at risk, 1 event -> 6/7*5/6 = 5/7; at 3: 4 at risk -> 5/7*3/4;
    # 4 censored (same S); at 5: 2 at risk -> 15/28*1/2; 6 censored (same S)
    assert np.allclose(ticks[0].get_ydata(), [5 / 7, 15 / 28, 15 / 56])
    assert np.isnan(ax.logrank_p_) and ax.get_legend().get_title().get_text() == ""
    assert ax.at_risk_.iloc[0].tolist() == [7, 7, 6, 4, 3, 2, 1]


def test_km_on_given_axes_and_subgroup():
    adsl, adtte, *_ = ref.toy_frames()
    fig, axes = plt.subplots(1, 2)
    ax = figure_km(derive_tte(adsl, adtte, "OS"), "cyto3", ax=axes[1])
    assert ax is axes[1]
    assert len(ax.get_legend_handles_labels()[1]) == 3
    with pytest.raises(AnalysisError):
        figure_km(pd.DataFrame({"time": [], "event": []}))


def test_km_panels_is_a_figure_of_km_axes():
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


def test_a_closed_km_panels_figure_is_freed():
    """A page draws a dozen KM panels in one kernel: a figure that outlived ``plt.close`` kept its Agg
    buffer (~8 MiB a panel at the book's resolution). Nothing the figure keeps may hide a reference
    cycle from the garbage collector (an object array of its Axes did)."""
    import gc
    import weakref

    adsl, adtte, *_ = ref.toy_frames()
    fig = figure_km_panels([(derive_tte(adsl, adtte, "PFS"), "a", "gfr60"), (derive_tte(adsl, adtte, "OS"), "b")],
                           step=3)
    fig.canvas.draw()
    alive = weakref.ref(fig)
    plt.close(fig)
    del fig
    gc.collect()
    assert alive() is None


def test_forest_one_row_per_estimate():
    hr = pd.DataFrame({"level": ["A", "B", "C"], "reference": ["a", "b", "c"],
                       "hr": [0.5, 2.0, np.nan], "hr_lower": [0.25, 1.2, np.nan],
                       "hr_upper": [1.1, 3.5, np.nan], "estimable": [True, True, False],
                       "logrank_p": [0.0004, 0.0456, np.nan]})
    ax = figure_forest(hr)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A vs a", "B vs b", "C vs c"]
    assert list(ax.get_yticks()) == [2, 1, 0]  # first row on top
    dots = [c for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)]
    points = np.vstack([c.get_offsets() for c in dots])
    assert sorted(map(tuple, points)) == [(0.5, 2.0), (2.0, 1.0)]  # estimable rows only
    ranges = [c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)]
    segments = [s for c in ranges for s in c.get_segments()]
    assert sorted((tuple(s[:, 0]), s[0, 1]) for s in segments) == [((0.25, 1.1), 2.0),
                                                                  ((1.2, 3.5), 1.0)]
    assert [t.get_text() for t in texts(ax, "forest_hr")] == ["0.50 (0.25–1.10)", "2.00 (1.20–3.50)",
                                                              "not estimable"]
    # the package's one p formatter: below 0.001 as a bound, missing as a dash
    assert [t.get_text() for t in texts(ax, "forest_p")] == ["<0.001", "0.046", "–"]
    assert ax.get_xscale() == "log"


def test_forest_labels_name_population_when_mixed():
    adsl, adtte, *_ = ref.toy_frames()
    hr = table_subgroup_hr(adsl, adtte, "PFS", factors=["age75", "gfr60", "gain1q"])
    ax = figure_forest(hr)
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "Age ≥75 vs Age <75"
    assert len(ax.forest_) == len(ax.get_yticks()) == 3
    assert any(t.get_text() == "not estimable" for t in ax.texts) == (~hr["estimable"]).any()


def test_flow_uses_data():
    adsl, *_ = ref.toy_frames()
    ax = figure_flow(table_flow(adsl))
    boxes = [t.get_text() for t in ax.texts if t.get_gid() == "flow_box"]
    assert "Enrolled and treated (ITT)\nn = 8" in boxes
    assert "Per-protocol (≥2 cycles)\nn = 6" in boxes
    assert any("Not per-protocol: n = 2" in b and "Adverse event: 1" in b for b in boxes)


def test_ae_profile_stacks_grades():
    adsl, _, _, adae = ref.toy_frames()
    ax = figure_ae_profile(table_adverse_events(adsl, adae), min_pct=1)
    assert list(ax.ae_.index) == ["Upper respiratory infection", "Fatigue", "Hiccups", "Anaemia"]
    assert ax.ae_.loc["Fatigue", "1-2"] == pytest.approx(25.0)
    assert len(ax.patches) == 8  # two bars per term, none for the category headers
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["Non-haematological", "Upper respiratory infection", "Fatigue", "Hiccups",
                     "Haematological", "Anaemia"]
    fatigue_y = ax.get_yticks()[ticks.index("Fatigue")]
    bars = [p for p in ax.patches if abs(p.get_y() + p.get_height() / 2 - fatigue_y) < 1e-9]
    widths = sorted(p.get_width() for p in bars)
    assert widths == pytest.approx(sorted([ax.ae_.loc["Fatigue", "1-2"], ax.ae_.loc["Fatigue"].sum()]))
    assert all(p.get_x() == 0 for p in bars)  # both from zero: grade >=3 is the right-hand part
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Grade 1–2", "Grade ≥3"]


def test_theme_is_seaborns():
    ax = figure_km(gehan(), "arm", step=10)
    style = sns.axes_style("ticks")
    context = sns.plotting_context("notebook")
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert ax.spines["left"].get_linewidth() == context["axes.linewidth"]
    assert to_rgba(ax.spines["left"].get_edgecolor()) == to_rgba(style["axes.edgecolor"])
    assert to_rgba(ax.xaxis.label.get_color()) == to_rgba(style["axes.labelcolor"])
    assert ax.xaxis.get_major_ticks()[0].tick1line.get_markersize() == context["xtick.major.size"]
    assert not any(line.get_visible() for line in ax.get_xgridlines())
    curves = [ln for ln in ax.get_lines() if ln.get_gid() != "censored"]
    palette = sns.color_palette("colorblind")
    assert [to_rgba(c.get_color()) for c in curves] == [to_rgba(c) for c in palette[:2]]


def test_theme_does_not_leak_into_rcparams():
    adsl, adtte, _, adae = ref.toy_frames()
    with matplotlib.style.context("default"):  # from matplotlib's defaults, whatever ran before
        before = dict(matplotlib.rcParams)
        figure_km(gehan(), "arm", step=10)
        figure_forest(table_subgroup_hr(adsl, adtte, "PFS", factors=["age75", "gfr60"]))
        figure_ae_profile(table_adverse_events(adsl, adae))
        figure_flow(table_flow(adsl))
        figure_km_panels([(gehan(), "a", "arm")], step=10)
        after = dict(matplotlib.rcParams)
    assert {k for k in before if before[k] != after[k]} == set()


def test_theme_reaches_axes_made_outside_it():
    adsl, _, _, adae = ref.toy_frames()
    fig, ax = plt.subplots()  # as a chapter does, with matplotlib's defaults
    assert ax.spines["top"].get_visible()
    figure_ae_profile(table_adverse_events(adsl, adae), ax=ax)
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert ax.xaxis.get_ticklabels()[0].get_fontsize() == 9
    assert ax.spines["bottom"].get_linewidth() == sns.plotting_context("notebook")["axes.linewidth"]


def test_alt_text_and_no_backend_choice():
    from pathlib import Path

    import ixathaldex.report.figures as figs
    import ixathaldex.report.theme as theme

    ax = figure_km(gehan(), "arm", step=10)
    text = alt_text_km(ax, "remission", "Gehan 6-MP trial")
    assert "6-MP (n = 21, 9 events): median 23.0 months (95% CI 13.0 to NC)" in text
    assert text.endswith("Log-rank p < 0.001.")
    for module in (figs, theme):
        source = Path(module.__file__).read_text()
        assert "matplotlib.use(" not in source and "set_theme(" not in source
    assert not hasattr(figs, "fmt_p") and not hasattr(figs, "fmt_months")  # one formatter


# ---- the published figures: panels, data, files ----------------------------------------------

def test_km_curve_csv_agrees_with_an_independent_lifelines_fit():
    """The data behind a curve (steps, 95 % CI, at risk, events, censored) equal lifelines'."""
    from lifelines import KaplanMeierFitter

    from ixathaldex.report.figure_data import KM_CURVE_COLUMNS, table_km_curve

    curve = table_km_curve(gehan(), "arm", endpoint="remission", population="all")
    assert list(curve.columns) == KM_CURVE_COLUMNS
    assert set(curve["endpoint"]) == {"remission"} and set(curve["population"]) == {"all"}
    for arm, t, e in (("6-MP", ref.GEHAN_6MP_TIME, ref.GEHAN_6MP_EVENT),
                      ("Placebo", ref.GEHAN_CONTROL_TIME, ref.GEHAN_CONTROL_EVENT)):
        mine = curve[curve["group"] == arm].set_index("time")
        kmf = KaplanMeierFitter().fit(t, e)  # CI: exponential Greenwood = log(-log) transform
        sf = kmf.survival_function_.iloc[:, 0]
        ci = kmf.confidence_interval_
        table = kmf.event_table
        assert list(mine.index) == [float(x) for x in sf.index]
        assert np.allclose(mine["survival"], sf.to_numpy())
        inner = (sf > 0) & (sf < 1)
        assert np.allclose(mine["ci_lower"][inner.to_numpy()], ci.iloc[:, 0][inner].to_numpy())
        assert np.allclose(mine["ci_upper"][inner.to_numpy()], ci.iloc[:, 1][inner].to_numpy())
        assert mine["events"].tolist() == table["observed"].astype(int).tolist()
        assert mine["censored"].tolist() == table["censored"].astype(int).tolist()
        assert mine["at_risk"].iloc[1:].tolist() == table["at_risk"].iloc[1:].astype(int).tolist()


def test_at_risk_csv_is_the_hand_count():
    from ixathaldex.report.figure_data import table_km_at_risk

    t = table_km_at_risk(gehan(), [0, 10, 20, 30, 40], "arm")
    assert t[t["group"] == "6-MP"]["at_risk"].tolist() == [21, 15, 8, 4, 0]
    assert t[t["group"] == "Placebo"]["at_risk"].tolist() == [21, 8, 2, 0, 0]


def test_forest_csv_holds_the_drawn_estimates():
    from ixathaldex.report.figure_data import table_forest

    adsl, adtte, *_ = ref.toy_frames()
    hr = table_subgroup_hr(adsl, adtte, "PFS", factors=["age75", "gfr60"])
    data = table_forest(hr)
    assert list(data.columns)[:7] == ["factor", "level", "reference", "population", "hr", "ci_low", "ci_high"]
    assert {"p", "n", "logrank_p"} <= set(data.columns)
    ok = hr["estimable"].to_numpy(bool)
    assert np.allclose(data["hr"][ok], hr["hr"][ok]) and np.allclose(data["ci_low"][ok], hr["hr_lower"][ok])


def _km_panel(label="3e", tte=None, group="arm"):
    from ixathaldex.report.figure_publish import KmPanel, km_panel

    return km_panel(KmPanel(label, "Remission by arm", gehan() if tte is None else tte, group,
                            "remission", "all"), step=10)


def test_panel_svg_is_byte_reproducible_and_text_is_text():
    import re

    a, b = _km_panel(), _km_panel()
    assert a.svg == b.svg and a.png == b.png
    assert "<dc:date>" not in a.svg
    assert "6-MP (n=21)" in a.svg  # text kept as text (searchable, sizes measurable)
    sizes = [float(x) for x in re.findall(r"font-size: ([0-9.]+)px", a.svg)]
    assert sizes and min(sizes) >= 9


def test_panel_is_as_wide_as_planned_whatever_its_labels():
    import re

    from ixathaldex.report.theme import PANEL_WIDTH_IN

    adsl, adtte, *_ = ref.toy_frames()
    for p in (_km_panel(), _km_panel(tte=derive_tte(adsl, adtte, "OS"), group="cyto3")):
        width_pt = float(re.search(r'viewBox="0 0 ([0-9.]+) ', p.svg).group(1))
        assert width_pt == pytest.approx(PANEL_WIDTH_IN * 72, abs=1.5)


def test_published_figure_names_each_panel_and_links_its_files():
    from ixathaldex.report.figure_files import FILES_MIME
    from ixathaldex.report.figure_publish import PublishedFigure

    fig = PublishedFigure([_km_panel("3e"), _km_panel("1, OS")])
    html = fig.to_html()
    assert 'id="figure-3e"' in html and "<strong>Figure 3e</strong>" in html
    assert 'id="figure-1-os"' in html and "Figure 1, OS" in html
    for name in ("figure-3e.svg", "figure-3e.png", "figure-3e.csv", "figure-3e-at-risk.csv"):
        assert f'href="figures/{name}"' in html
    assert '<a class="ixd-enlarge" href="figures/figure-3e.svg"' in html
    files = fig.files()
    assert sorted(files) == sorted(f"{s}{x}" for s in ("figure-3e", "figure-1-os")
                                   for x in (".svg", ".png", ".csv", "-at-risk.csv"))
    assert files["figure-3e.png"][:8] == b"\x89PNG\r\n\x1a\n"
    bundle = fig._repr_mimebundle_()
    assert bundle[FILES_MIME]["folder"] == "figures" and "text/html" in bundle
    assert repr(fig) == "PublishedFigure(figure-3e, figure-1-os)"  # no address: notebooks stay stable


def test_large_cohort_is_thinned_and_says_so():
    from ixathaldex.report.figure_data import THIN_ABOVE, THIN_BINS, table_km_curve
    from ixathaldex.report.figures import TICK_BINS

    rng = np.random.default_rng(12)
    n = THIN_ABOVE * 3
    big = pd.DataFrame({"time": np.round(rng.exponential(20, n), 4), "event": rng.integers(0, 2, n)})
    curve = table_km_curve(big)
    assert len(curve) <= THIN_BINS + 1 and curve.attrs["thinned"] == ["All patients"]
    assert curve["events"].sum() == big["event"].sum()  # summed, not dropped
    assert curve["censored"].sum() == (1 - big["event"]).sum()
    assert curve["time"].iloc[0] == 0 and curve["at_risk"].iloc[0] == n
    ax = figure_km(big, step=12)
    ticks = next(ln for ln in ax.get_lines() if ln.get_gid() == "censored")
    assert len(ticks.get_xdata()) <= TICK_BINS + 1
    panel = _km_panel(tte=big, group=None)
    assert "Thinned" in panel.note and len(panel.svg) < 150_000
    # the note counts what was kept of what the data hold (counted here from the data)
    kept, full, marks, times = (int(x.replace(",", "")) for x in re.search(
        r"curve and data at ([\d,]+) of ([\d,]+) time points, censoring marks at ([\d,]+) of ([\d,]+) "
        r"censoring times", panel.note).groups())
    assert full == len(np.unique(big["time"])) + 1 and kept == len(panel.data[""]) <= THIN_BINS + 1
    assert times == len(np.unique(big.loc[big["event"] == 0, "time"])) and marks <= TICK_BINS + 1 < times
    assert f"n = {n:,}" in panel.note
    small = _km_panel()
    distinct = len(np.unique(ref.GEHAN_6MP_TIME)) + len(np.unique(ref.GEHAN_CONTROL_TIME))
    assert small.note == "" and len(table_km_curve(gehan(), "arm")) == distinct + 2  # untouched, + t = 0


# ---- an inline figure of a page gives the same SVG file every time --------------------------------

INLINE_KWARGS = re.compile(r"^%config InlineBackend\.print_figure_kwargs = (\{.*?\})\s*(?:#.*)?$", re.MULTILINE)
PAGES = sorted(Path(__file__).resolve().parents[1].glob("chapters/*.md")) + \
    sorted(Path(__file__).resolve().parents[1].glob("book/*.md"))


@pytest.mark.parametrize("page", [p for p in PAGES if "InlineBackend.figure_formats = ['svg']" in p.read_text()],
                         ids=lambda p: p.name)
def test_a_page_drawing_inline_svg_figures_writes_them_without_a_date(page):
    """A figure glued or shown by a page goes through the inline backend, whose SVG carries the time
    it was drawn unless the page's setup cell says otherwise: a re-executed page then changed its
    image (and the version's PDF) although nothing it shows changed."""
    import ast

    from IPython.core.pylabtools import print_figure

    found = INLINE_KWARGS.search(page.read_text(encoding="utf-8"))
    assert found, f"{page.name}: no %config InlineBackend.print_figure_kwargs in its setup cell"
    kwargs = ast.literal_eval(found.group(1))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    with plt.rc_context({"svg.hashsalt": "test"}):  # the ids, fixed by the book's theme in a page
        assert "<dc:date>" in print_figure(fig, "svg")  # what the backend writes by default
        first, second = print_figure(fig, "svg", **kwargs), print_figure(fig, "svg", **kwargs)
    assert "<dc:date>" not in first and first == second
