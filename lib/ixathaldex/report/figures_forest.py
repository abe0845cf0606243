"""Figure S1 (beyond the paper): the forest plot of subgroup hazard ratios, in the book's theme.

``figure_forest(hr, ax=None)`` draws ``cox.table_subgroup_hr``: one row per covariate, point and
95 % CI on a log axis (seaborn objects ``Range`` and ``Dot``, which take precomputed limits), a
line at HR = 1, and the printed columns HR (95 % CI) and log-rank p at fixed distances from the
plot's right edge. The estimates drawn are kept on the Axes as ``ax.forest_``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn.objects as so

from ixathaldex.exceptions import AnalysisError
from ixathaldex.report.theme import PALETTE, PANEL_WIDTH_IN, SMALL_PT, style_axes, theme, theme_rc
from ixathaldex.values import format_p


def figure_forest(hr: pd.DataFrame, ax=None, title: str | None = None,
                  xlabel: str = "Hazard ratio (95% CI); HR < 1: lower hazard in the first-named level",
                  width_in: float = PANEL_WIDTH_IN):
    """Beyond the paper: forest plot of hazard ratios (``survival.table_subgroup_hr``).

    One row per covariate, labelled "level vs reference"; point and 95 % CI on a log axis (drawn
    by seaborn objects ``Dot`` and ``Range``), a line at HR = 1, and the HR (CI) and log-rank p
    printed at the right; when the rows come from more than one population (column
    ``population``), each label names its population. Non-estimable rows are labelled as such
    and not drawn. A new figure (``ax=None``) is ``width_in`` wide, its margins measured from the
    row labels and the printed columns. Returns the Axes.
    """
    if hr.empty:
        raise AnalysisError("figure_forest: empty hazard-ratio table")
    hr = hr.reset_index(drop=True)
    n = len(hr)
    est = hr.get("estimable", pd.Series(True, index=hr.index)).to_numpy(bool)
    ok = est & np.isfinite(hr["hr"].to_numpy(float))
    with theme():
        new = ax is None
        if new:
            import matplotlib.pyplot as plt

            ax = plt.subplots(figsize=(width_in, 1.2 + 0.38 * n))[1]
            ax.figure.subplots_adjust(left=0.4, right=0.6, bottom=0.9 / (1.2 + 0.38 * n))
        style_axes(ax)
        drawn = hr.assign(row=np.arange(n)[::-1].astype(float))[ok]
        if len(drawn):
            (so.Plot(drawn, x="hr", xmin="hr_lower", xmax="hr_upper", y="row")
             .add(so.Range(color="0.3", linewidth=1.2), orient="y")
             .add(so.Dot(marker="s", pointsize=5.5, color=PALETTE[0]), orient="y")
             .theme(theme_rc()).on(ax).plot())
        ax.axvline(1.0, color="0.5", lw=0.8, ls="--")
        _forest_axes(ax, hr, ok, xlabel)
        _forest_columns(ax, hr, ok)
        if title:
            ax.set_title(title, loc="left")
        if new:
            _forest_margins(ax)
        ax.forest_ = hr
    return ax


def _forest_margins(ax, pad_in: float = 0.1) -> None:
    """Fit the plot between the measured row labels (left) and printed columns (right)."""
    fig = ax.figure
    try:
        renderer = fig.canvas.get_renderer()
    except AttributeError:  # a canvas without a renderer: keep the provisional layout
        return
    W = fig.get_size_inches()[0] * fig.dpi
    labels = max((t.get_window_extent(renderer).width for t in ax.get_yticklabels()), default=0)
    columns = [t.get_window_extent(renderer).x1 for t in ax.texts]
    pos = ax.get_window_extent(renderer)
    right = max(columns, default=pos.x1) - pos.x1  # the columns hang off the plot's right edge
    pad = pad_in * fig.dpi
    H = fig.get_size_inches()[1]
    fig.subplots_adjust(left=(labels + pad + 12) / W, right=1 - (right + 2.5 * pad) / W,
                        top=1 - 0.4 / H)


def _forest_axes(ax, hr: pd.DataFrame, ok, xlabel: str) -> None:
    """Row labels (with the population when rows mix populations) and the log HR axis."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    n = len(hr)
    ax.set_yscale("linear")
    ax.set_xscale("log")
    ax.set_yticks(np.arange(n)[::-1])
    pop = hr["population"] if "population" in hr and hr["population"].nunique() > 1 else None
    ax.set_yticklabels([f"{r['level']} vs {r['reference']}" + (f" ({pop[i]})" if pop is not None else "")
                        for i, r in hr.iterrows()])
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("")
    lo, hi = hr["hr_lower"].to_numpy(float)[ok], hr["hr_upper"].to_numpy(float)[ok]
    lim_lo = np.nanmin(lo) if ok.any() else 0.1
    lim_hi = np.nanmax(hi) if ok.any() else 10
    ax.set_xlim(min(0.5, lim_lo / 1.3), max(2.0, lim_hi * 1.3))
    wide = ax.get_xlim()[1] / ax.get_xlim()[0] > 200
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1,) if wide else (1, 2, 5)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())  # log minor ticks unlabelled (no overlap)


def _forest_columns(ax, hr: pd.DataFrame, ok) -> None:
    """The printed columns at the right: HR (95 % CI) and, when present, the log-rank p."""
    import matplotlib.transforms as mtransforms

    # columns at fixed distances (points) from the plot's right edge, whatever its width
    fig = ax.figure
    head = mtransforms.offset_copy(ax.transAxes, fig, x=8, units="points")
    head_p = mtransforms.offset_copy(ax.transAxes, fig, x=8 + 9.5 * SMALL_PT, units="points")
    ax.text(1.0, 1.0, "HR (95% CI)", transform=head, ha="left", va="bottom", fontweight="bold",
            fontsize=SMALL_PT)
    has_p = "logrank_p" in hr
    if has_p:
        ax.text(1.0, 1.0, "log-rank p", transform=head_p, ha="left", va="bottom", fontweight="bold",
                fontsize=SMALL_PT)
    rows = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    col_hr = mtransforms.offset_copy(rows, fig, x=8, units="points")
    col_p = mtransforms.offset_copy(rows, fig, x=8 + 9.5 * SMALL_PT, units="points")
    for yi, (i, r) in zip(np.arange(len(hr))[::-1], hr.iterrows()):
        txt = (f"{r['hr']:.2f} ({r['hr_lower']:.2f}–{r['hr_upper']:.2f})" if ok[i]
               else "not estimable")
        ax.text(1.0, yi, txt, transform=col_hr, ha="left", va="center", fontsize=SMALL_PT,
                gid="forest_hr")
        if has_p:
            ax.text(1.0, yi, format_p(r["logrank_p"]), transform=col_p, ha="left", va="center",
                    fontsize=SMALL_PT, gid="forest_p")
