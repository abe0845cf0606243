"""The book's plots in one theme: Kaplan–Meier with numbers at risk, patient flow, AE profile.

Every ``figure_*`` takes ``ax=None`` (a new figure is made when None) and returns the Axes it drew
on. The numbers drawn are computed here from the data (nothing typed by hand) and are also kept on
the Axes for tests and alt text: ``ax.km_summary_``, ``ax.at_risk_``, ``ax.logrank_p_``,
``ax.flow_``, ``ax.ae_``. The library never selects a matplotlib backend. The forest plot is in
``report.figures_forest``; how a figure reaches the site (one image per panel, downloads) is in
``report.figure_publish``.

The look comes from seaborn (``report.theme``: style, context, palette), applied to the figure
being drawn and never to matplotlib's global state. seaborn draws where it has the plot: the AE
profile's bars (``sns.barplot``, stacked the seaborn way: the total bar, then the grade 1–2 part
over it). The Kaplan–Meier curves stay matplotlib ``step`` lines: seaborn has no estimator for
censored times (``ecdfplot(complementary=True)`` ignores censoring and would drop too fast), no
censoring marks and no numbers-at-risk table. A group of more than ``figure_data.THIN_ABOVE``
patients is drawn from its thinned steps, with at most ``TICK_BINS`` censoring ticks. The flow
chart is boxes and arrows, which seaborn does not draw either. P-values and months are written
by the package's one formatter (``values.format_p``, ``values.format_months``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from ixathaldex.analysis.survival import TTE, KaplanMeier, at_risk_counts, logrank_p, split_groups
from ixathaldex.exceptions import AnalysisError
from ixathaldex.report.figure_data import THIN_ABOVE, thin_km_curve
from ixathaldex.report.theme import GRADE_COLOURS, PALETTE, SMALL_PT, style_axes, theme
from ixathaldex.values import format_months, format_p

#: a thinned curve (more than ``figure_data.THIN_ABOVE`` patients) keeps one censoring tick per
#: 1/TICK_BINS of its time axis
TICK_BINS = 250


def _new_ax(figsize):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    return ax


def _p_phrase(p) -> str:
    """"p < 0.001" or "p = 0.367" (the package's p formatter, spaced around the sign)."""
    text = format_p(p)
    return f"p < {text[1:]}" if text.startswith("<") else f"p = {text}"


# --------------------------------------------------------------------------------------------
# Kaplan–Meier
# --------------------------------------------------------------------------------------------

def figure_km(tte: pd.DataFrame, group=None, ax=None, times=None, step: float = 6,
              max_time: float | None = None, title: str | None = None,
              ylabel: str = "Probability", xlabel: str = "Months", at_risk: bool = True,
              legend_loc: str = "above"):
    """Figures 1–3: Kaplan–Meier curves with censor marks and numbers at risk (T ≥ t) below.

    ``tte`` from ``survival.derive_tte``; ``group`` a subgroup id, a column or None. Legend
    entries: group label, n, median (95 % CI) in months ("NR"/"NC" when not reached / not
    calculable); the log-rank p is annotated when there are two or more groups. The at-risk rows
    are drawn inside the same Axes, below the x axis (give the figure bottom margin when passing
    ``ax``: about 0.12 + 0.05 per group). ``legend_loc="above"`` (default) puts the legend
    outside the plot, above it, so it never hides a curve; any matplotlib location also works.
    Returns the Axes.
    """
    groups = [(lv, lab, g) for lv, lab, g in split_groups(tte, group, TTE) if len(g)]
    if not groups:
        raise AnalysisError("figure_km: no patients to plot")
    max_time, times = _km_grid(tte, step, max_time, times)
    with theme():
        ax = _km_axes(groups) if ax is None else ax
        style_axes(ax)
        rows = [_draw_km_curve(ax, lv, label, g, PALETTE[i % len(PALETTE)])
                for i, (lv, label, g) in enumerate(groups)]
        ax.set_xlim(0, max_time)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(times)
        ax.set_xticklabels([f"{t:g}" for t in times])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        p = np.nan
        if len(groups) >= 2:
            p = logrank_p(tte, group)[1]  # over the same non-empty groups
        _km_legend(ax, p, legend_loc, title, len(groups))
        ax.km_summary_ = pd.DataFrame(rows)
        ax.at_risk_ = pd.DataFrame.from_dict(
            {label: at_risk_counts(g["time"], times) for _, label, g in groups}, orient="index",
            columns=times)
        ax.logrank_p_ = p
        if at_risk:
            _draw_at_risk(ax, ax.at_risk_, times)
    return ax


def _km_grid(tte: pd.DataFrame, step: float, max_time, times):
    """The time axis: (max_time, grid times); max_time = last time rounded up to the step."""
    if max_time is None:
        max_time = float(np.ceil(tte["time"].max() / step) * step)
    if times is None:
        times = list(np.arange(0, max_time + 1e-9, step))
    return max_time, times


def _km_axes(groups):
    """A new KM Axes with margins for the legend above, the labels left and the at-risk rows."""
    height = 4.6 + 0.5 * len(groups)
    ax = _new_ax((7.0, height))
    longest = max(len(str(lab)) for _, lab, _ in groups)
    ax.figure.subplots_adjust(bottom=(0.75 + 0.3 * len(groups)) / height, right=0.97,
                              top=1 - (0.45 + 0.2 * (len(groups) + 1)) / height,
                              left=min(0.4, 0.1 + 0.0125 * longest))
    return ax


def _draw_km_curve(ax, level, label, g: pd.DataFrame, colour) -> dict:
    """One group's step curve (legend: label, n, median and 95 % CI) and censoring ticks;
    returns its summary row."""
    km = KaplanMeier().fit(g["time"], g["event"])
    thinned = km.n_ > THIN_ABOVE
    c = thin_km_curve(km.curve_) if thinned else km.curve_
    x = np.r_[0.0, c["time"].to_numpy()]
    y = np.r_[1.0, c["survival"].to_numpy()]
    med = (f"median {format_months(km.median_)} (95% CI {format_months(km.ci_[0], 'NC')}–"
           f"{format_months(km.ci_[1], 'NC')})")
    ax.step(x, y, where="post", color=colour, lw=1.6, label=f"{label} (n={km.n_}): {med}")
    cens = c[c["censored"] > 0]
    censor_times = int((km.curve_["censored"] > 0).sum())
    if thinned:  # at most one tick per 1/TICK_BINS of the time axis
        cens = cens.groupby((cens["time"] / max(c["time"].max(), 1e-9) * TICK_BINS).astype(int)).last()
    ax.plot(cens["time"], cens["survival"], linestyle="none", marker="|", markersize=7,
            markeredgewidth=1.2, color=colour, gid="censored")
    return {"group": level, "label": label, "n": km.n_, "events": km.events_,
            "median": km.median_, "ci_lower": km.ci_[0], "ci_upper": km.ci_[1], "thinned": thinned,
            "censor_marks": len(cens), "censor_times": censor_times}


def _km_legend(ax, p, legend_loc: str, title: str | None, n_groups: int) -> None:
    """Legend (log-rank p as its title when there are two or more groups) and the panel title."""
    legend_title = f"Log-rank {_p_phrase(p)}" if np.isfinite(p) else None
    if legend_loc == "above":
        leg = ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), frameon=False,
                        title=legend_title, borderaxespad=0.0)
    else:
        leg = ax.legend(loc=legend_loc, frameon=False, title=legend_title)
    if legend_title:
        leg.get_title().set_fontsize(SMALL_PT)
        leg._legend_box.align = "left"
    if title:
        n_lines = n_groups + (1 if legend_title else 0)
        pad = 8 + (15 * n_lines if legend_loc == "above" else 0)
        ax.set_title(title, loc="left", pad=pad)


def figure_km_panels(panels, group=None, ncols: int = 2, step: float = 6, panel_width: float | None = None,
                     axes_size: tuple[float, float] = (3.4, 2.6), **kwargs):
    """Composite KM figure (e.g. Figure 1: PFS and OS; Figure 2a–d): returns the **Figure**.

    ``panels`` is a list of (tte, title) pairs or (tte, title, group) triples (a triple's group
    overrides ``group``); each panel is a ``figure_km`` with its own numbers at risk; the panels
    share the style and the x grid step. ``fig.axes`` holds the panel Axes
    (each with ``km_summary_``, ``at_risk_``, ``logrank_p_``).

    Layout: every plot area is ``axes_size`` inches (width, height; ``panel_width``, if given, is
    the width of a whole panel including its margins); the margins are measured from what was
    drawn (legend above the plot, at-risk labels at the left, at-risk rows below), so nothing is
    clipped and the figure stays compact enough to be read at page width.
    """
    import matplotlib.pyplot as plt

    panels = [(p[0], p[1], p[2] if len(p) > 2 else group) for p in panels]
    if not panels:
        raise AnalysisError("figure_km_panels: no panels")
    ncols = min(ncols, len(panels))
    nrows = int(np.ceil(len(panels) / ncols))
    w, h = axes_size
    if panel_width is not None:
        w = max(1.5, panel_width - 1.6)
    with theme():
        fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(ncols * (w + 3), nrows * (h + 3)))
        flat = axes.ravel()
        _place_panels(fig, axes, w, h, [1.5] * ncols, [0.0] * ncols, [1.2] * nrows, [1.5] * nrows)
        for ax, (tte, title, gr) in zip(flat, panels):
            figure_km(tte, gr, ax=ax, step=step, title=title, **kwargs)
        for ax in flat[len(panels):]:
            ax.set_visible(False)
        # kept as nested lists: an object array of Axes kept on their own figure is a reference cycle the
        # garbage collector cannot see (numpy arrays are not traversed), so the closed figure, its Agg
        # buffer included (~8 MiB per panel), was never freed
        fig.panel_axes_ = axes.tolist()
        refit_panels(fig, (w, h))
    return fig


def refit_panels(fig, axes_size: tuple[float, float]) -> None:
    """Re-place the plot areas of a ``figure_km_panels`` figure at ``axes_size`` (width, height;
    inches) with margins measured from what is drawn, without drawing the panels again (the
    drawing does not depend on the plot area's width: a new figure of that size is the same)."""
    axes = np.array(fig.panel_axes_, dtype=object)
    nrows, ncols = axes.shape
    w, h = axes_size
    with theme():
        _place_panels(fig, axes, w, h, [1.5] * ncols, [0.0] * ncols, [1.2] * nrows, [1.5] * nrows)
        _fit_panels(fig, axes, w, h)


def _place_panels(fig, axes, w, h, left, right, top, bottom, gap: float = 0.25) -> None:
    """Size the figure and place each plot area (``w`` x ``h`` inches) given per-column left/right
    and per-row top/bottom margins (inches)."""
    nrows, ncols = axes.shape
    W = sum(left) + sum(right) + ncols * w + gap * (ncols + 1)
    H = sum(top) + sum(bottom) + nrows * h + gap * (nrows + 1)
    fig.set_size_inches(W, H)
    for i in range(nrows):
        y1 = H - gap * (i + 1) - sum(top[: i + 1]) - sum(bottom[:i]) - i * h
        for j in range(ncols):
            x0 = gap * (j + 1) + sum(left[: j + 1]) + sum(right[:j]) + j * w
            axes[i, j].set_position([x0 / W, (y1 - h) / H, w / W, h / H])


def _fit_panels(fig, axes, w, h) -> None:
    """Measure each panel's overhang around its plot area (legend, title, labels, at-risk rows)
    and re-place the panels with exactly those margins. The first renderer of the figure is kept
    for later fits (``fig.measure_renderer_``): text extents do not depend on the figure's size,
    and its cache of text metrics then serves every fit."""
    renderer = getattr(fig, "measure_renderer_", None)
    if renderer is None or renderer.dpi != fig.dpi:
        try:
            renderer = fig.measure_renderer_ = fig.canvas.get_renderer()
        except AttributeError:  # a canvas without a renderer: keep the provisional layout
            return
    nrows, ncols = axes.shape
    dpi = fig.dpi
    left, right, top, bottom = [0.3] * ncols, [0.0] * ncols, [0.2] * nrows, [0.2] * nrows
    for i in range(nrows):
        for j in range(ncols):
            ax = axes[i, j]
            if not ax.get_visible():
                continue
            pos = ax.get_window_extent(renderer)
            tb = ax.get_tightbbox(renderer)
            boxes = [tb] + ([ax.get_legend().get_window_extent(renderer)] if ax.get_legend() else [])
            x0 = min(b.x0 for b in boxes)
            x1 = max(b.x1 for b in boxes)
            y0 = min(b.y0 for b in boxes)
            y1 = max(b.y1 for b in boxes)
            left[j] = max(left[j], (pos.x0 - x0) / dpi)
            right[j] = max(right[j], (x1 - pos.x1) / dpi)
            top[i] = max(top[i], (y1 - pos.y1) / dpi)
            bottom[i] = max(bottom[i], (pos.y0 - y0) / dpi)
    _place_panels(fig, axes, w, h, left, right, top, bottom)


def _draw_at_risk(ax, table: pd.DataFrame, times) -> None:
    """Numbers at risk as text rows under the x axis (x in data units, y in axes units)."""
    import matplotlib.transforms as mtransforms

    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    top = -0.2
    ax.text(-0.06, top, "No. at risk", transform=ax.transAxes, ha="right", va="center",
            fontweight="bold", fontsize=SMALL_PT, gid="at_risk_header")
    for i, (label, counts) in enumerate(table.iterrows()):
        y = top - 0.085 * (i + 1)
        colour = PALETTE[i % len(PALETTE)]
        ax.text(-0.06, y, str(label), transform=ax.transAxes, ha="right", va="center",
                fontsize=SMALL_PT, color=colour, gid="at_risk_label")
        for t, n in zip(times, counts):
            ax.text(t, y, str(int(n)), transform=trans, ha="center", va="center", fontsize=SMALL_PT,
                    gid="at_risk")


# --------------------------------------------------------------------------------------------
# Patient flow
# --------------------------------------------------------------------------------------------

def figure_flow(flow: pd.DataFrame, ax=None, title: str | None = None):
    """Supplementary patient-flow chart from ``populations.table_flow`` (counts from the data).

    Main column: enrolled → per-protocol → completed induction → entered maintenance →
    completed maintenance / on therapy; side box: not per-protocol with one line per reason.
    Returns the Axes (axis hidden).
    """
    from matplotlib.patches import FancyBboxPatch

    f = flow.set_index("step")
    need = ["enrolled", "pp", "nonpp", "indcmp", "mnt", "mntcmp", "ongoing"]
    missing = [s for s in need if s not in f.index]
    if missing:
        raise AnalysisError(f"figure_flow: flow table lacks steps {missing}")
    reasons = f[f.index.str.startswith("nonpp:")]
    with theme():
        if ax is None:
            ax = _new_ax((7.5, 6.0))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.axis("off")

        def box(x, y, text, w=5.0, h=0.9, fc="#EAF2FB"):
            ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05",
                                        fc=fc, ec="0.3", lw=0.9))
            ax.text(x, y, text, ha="center", va="center", fontsize=9, gid="flow_box")

        def arrow(x0, y0, x1, y1):
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="-|>", color="0.3", lw=0.9))

        lab = lambda s: f"{f.loc[s, 'label']}\nn = {int(f.loc[s, 'n'])}"  # noqa: E731
        ys = {"enrolled": 9.2, "pp": 7.4, "indcmp": 5.6, "mnt": 3.8, "mntcmp": 1.6}
        for s, y in ys.items():
            box(2.6, y, lab(s))
        box(7.9, 1.6, lab("ongoing"), w=3.6)
        for a, b in (("enrolled", "pp"), ("pp", "indcmp"), ("indcmp", "mnt"), ("mnt", "mntcmp")):
            arrow(2.6, ys[a] - 0.5, 2.6, ys[b] + 0.5)
        arrow(4.6, ys["mnt"] - 0.5, 7.4, 2.1)
        lines = [f"Not per-protocol: n = {int(f.loc['nonpp', 'n'])}"]
        lines += [f"  {r['label']}: {int(r['n'])}" for _, r in reasons.iterrows()]
        box(7.9, 7.4 + 0.9 - 0.22 * len(lines), "\n".join(lines), w=4.0,
            h=0.45 + 0.3 * len(lines), fc="#FDF1E3")
        arrow(2.6 + 2.5, 8.3, 5.85, 8.0)
        if title:
            ax.set_title(title, loc="left")
        ax.flow_ = flow.reset_index(drop=True)
    return ax


# --------------------------------------------------------------------------------------------
# Adverse-event grade profile
# --------------------------------------------------------------------------------------------

def figure_ae_profile(ae: pd.DataFrame, phase: str = "ALL", ax=None, title: str | None = None,
                      min_pct: float = 0.0):
    """Table 3 at a glance: % of patients per term, grade 1–2 and ≥ 3 stacked, for one phase.

    ``ae`` from ``safety.table_adverse_events``; terms keep the table's order (top to bottom)
    under a bold header per category, and terms whose total is below ``min_pct`` are dropped.
    The bars are seaborn ``barplot``s: the total (grade ≥ 3 colour), then the grade 1–2 part
    over it from zero, so grade ≥ 3 shows as the right-hand segment. Returns the Axes.
    """
    t = ae[ae["phase"] == phase]
    if t.empty:
        raise AnalysisError(f"figure_ae_profile: no rows for phase {phase!r}")
    w = t.pivot_table(index="term", columns="grade", values="pct", sort=False).fillna(0.0)
    w = w.reindex(columns=["1-2", ">=3"], fill_value=0.0)
    w = w[w.sum(axis=1) >= min_pct]
    labels, low, high, bold = _ae_rows(t, w)
    with theme():
        if ax is None:
            ax = _new_ax((7.0, 0.8 + 0.26 * len(labels)))
            ax.figure.subplots_adjust(left=0.33)
        style_axes(ax)
        y = np.arange(len(labels))[::-1].astype(float)
        bars = ~bold  # header rows carry no bar
        if bars.any():
            for x, grade, name in ((low + high, ">=3", "Grade ≥3"), (low, "1-2", "Grade 1–2")):
                sns.barplot(x=x[bars], y=y[bars], orient="y", native_scale=True, width=0.7,
                            color=GRADE_COLOURS[grade], saturation=1, errorbar=None,
                            linewidth=0, label=name, ax=ax)
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        for lab, b in zip(ax.get_yticklabels(), bold):
            if b:
                lab.set_fontweight("bold")
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(f"Patients (%), n = {int(t['N'].iloc[0])}")
        ax.set_ylabel("")
        ax.set_xlim(0, 100)
        handles, names = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], names[::-1], loc="lower right", frameon=False)  # 1–2 first
        if title:
            ax.set_title(title, loc="left")
        ax.ae_ = w
    return ax


def _ae_rows(t: pd.DataFrame, w: pd.DataFrame):
    """Rows of the AE profile, top to bottom: (labels, grade 1–2 %, grade ≥ 3 %, is-header),
    with a header row before each category's terms."""
    cats = (t.drop_duplicates("term").set_index("term")["category"].reindex(w.index)
            if "category" in t else pd.Series("", index=w.index))
    labels, rows, bold = [], [], []
    for c in dict.fromkeys(cats):
        if c:
            labels.append(str(c).capitalize())
            rows.append((0.0, 0.0))
            bold.append(True)
        for term in w.index[cats.to_numpy() == c]:
            labels.append(term)
            rows.append((w.loc[term, "1-2"], w.loc[term, ">=3"]))
            bold.append(False)
    values = np.array(rows, dtype=float).reshape(-1, 2)
    return labels, values[:, 0], values[:, 1], np.array(bold, dtype=bool)


# --------------------------------------------------------------------------------------------
# Alt text (what a figure shows, with its live numbers)
# --------------------------------------------------------------------------------------------

def alt_text_km(ax, endpoint: str, population: str) -> str:
    """Alt text for a ``figure_km`` Axes: groups with n, median (95 % CI) and the log-rank p."""
    parts = []
    for _, r in ax.km_summary_.iterrows():
        parts.append(f"{r['label']} (n = {r['n']}, {r['events']} events): median "
                     f"{format_months(r['median'])} months (95% CI "
                     f"{format_months(r['ci_lower'], 'NC')} to {format_months(r['ci_upper'], 'NC')})")
    text = (f"Kaplan–Meier curves of {endpoint}, {population}, with numbers at risk below the "
            f"time axis. " + "; ".join(parts) + ".")
    if np.isfinite(getattr(ax, "logrank_p_", np.nan)):
        text += f" Log-rank {_p_phrase(ax.logrank_p_)}."
    return text
