"""What-changed page figures: this version's survival curves over the previous version's, and the
estimates that moved, before and after.

The frames come from :mod:`ixathaldex.claims.changes` (``table_km_versions``,
``table_at_risk_versions``, ``table_estimates_moved``); nothing is computed here but the drawing.
Every ``figure_*`` takes ``ax=None`` and returns the Axes (the ``*_panels`` functions return the
Figure of several panels, as ``figures.figure_km_panels`` does); what was drawn is kept on the Axes
for tests and alt text (``ax.km_versions_``, ``ax.at_risk_``, ``ax.moved_``). The look is the
book's (``report.theme``): the previous version dashed and grey, this version solid in the palette's
first colour.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from ixathaldex.exceptions import AnalysisError
from ixathaldex.report.theme import PALETTE, style_axes, theme

#: how each version is drawn (the previous one under this one)
STYLE = {"previous": {"color": "0.45", "ls": "--", "lw": 1.4},
         "current": {"color": PALETTE[0], "ls": "-", "lw": 1.8}}
KIND_TITLES = {"median": "Medians (months)", "hr": "Hazard ratios", "p": "p-values"}
ENDPOINTS = {"PFS": "Progression-free survival", "OS": "Overall survival"}
#: a row label longer than this wraps
LABEL_WIDTH = 58


def _new_ax(figsize):
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


# --------------------------------------------------------------------------------------------
# Survival curves of two versions
# --------------------------------------------------------------------------------------------

def figure_km_overlay(km: pd.DataFrame, at_risk: pd.DataFrame, ax=None, title: str | None = None,
                      xlabel: str = "Months", ylabel: str = "Probability"):
    """What changed: the Kaplan–Meier curve of one endpoint in this version over the previous one.

    ``km`` and ``at_risk`` are one endpoint's rows of ``claims.changes.table_km_versions`` and
    ``table_at_risk_versions``. The previous version is dashed grey, this version solid; censored
    patients are ticks; the legend (above the plot) names both versions with their cut-offs and n;
    the numbers at risk of both versions are rows below the time axis (give the figure about 1.3
    inches of bottom margin when passing ``ax``). Returns the Axes.
    """
    if km.empty:
        raise AnalysisError("figure_km_overlay: no curve to draw")
    times = sorted(at_risk["time"].unique())
    with theme():
        ax = _new_ax((6.0, 4.6)) if ax is None else ax
        style_axes(ax)
        for role in ("previous", "current"):
            c = km[km["role"] == role].sort_values("time")
            if c.empty:
                continue
            style = STYLE[role]
            ax.step(c["time"], c["survival"], where="post", label=c["label"].iloc[0], gid=f"km_{role}", **style)
            cens = c[c["censored"] > 0]
            ax.plot(cens["time"], cens["survival"], linestyle="none", marker="|", markersize=6,
                    markeredgewidth=1.0, color=style["color"], gid="censored")
        ax.set_xlim(0, max(times) if times else km["time"].max())
        ax.set_ylim(0, 1.02)
        if times:
            ax.set_xticks(times)
            ax.set_xticklabels([f"{t:g}" for t in times])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), frameon=False, borderaxespad=0.0)
        if title:
            ax.set_title(title, loc="left", pad=44)
        ax.km_versions_ = km.reset_index(drop=True)
        ax.at_risk_ = at_risk.pivot_table(index="label", columns="time", values="at_risk", sort=False)
        _draw_at_risk(ax, at_risk)
    return ax


def _draw_at_risk(ax, at_risk: pd.DataFrame) -> None:
    """Numbers at risk of each version as rows of text under the x axis."""
    import matplotlib.transforms as mtransforms

    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    ax.text(0.0, -0.2, "No. at risk", transform=ax.transAxes, ha="left", va="center", fontweight="bold",
            fontsize=8.5, gid="at_risk_header")
    for i, role in enumerate(r for r in ("previous", "current") if (at_risk["role"] == r).any()):
        rows = at_risk[at_risk["role"] == role]
        y = -0.2 - 0.085 * (i + 1)
        ax.text(-0.05, y, "Previous" if role == "previous" else "This", transform=ax.transAxes, ha="right",
                va="center", fontsize=8.5, color=STYLE[role]["color"], gid="at_risk_label")
        for t, n in zip(rows["time"], rows["at_risk"]):
            ax.text(t, y, str(int(n)), transform=trans, ha="center", va="center", fontsize=8,
                    color=STYLE[role]["color"], gid="at_risk")


def figure_km_overlay_panels(km: pd.DataFrame, at_risk: pd.DataFrame, titles: dict | None = None):
    """What changed, survival figure: one :func:`figure_km_overlay` panel per endpoint of ``km``
    (``param``), side by side, titled with the endpoint and population unless ``titles`` (param ->
    title) says otherwise. Returns the **Figure** (``fig.axes`` = the panels)."""
    import matplotlib.pyplot as plt

    params = list(dict.fromkeys(km["param"]))
    if not params:
        raise AnalysisError("figure_km_overlay_panels: no curve to draw")
    titles = titles or {}
    with theme():
        fig, axes = plt.subplots(1, len(params), squeeze=False, figsize=(5.2 * len(params), 5.0))
        fig.subplots_adjust(left=0.09, right=0.98, top=0.76, bottom=0.3, wspace=0.28)
        for ax, param in zip(axes.ravel(), params):
            figure_km_overlay(km[km["param"] == param], at_risk[at_risk["param"] == param], ax=ax,
                              title=titles.get(param, _title(km, param)))
    return fig


def _title(km: pd.DataFrame, param: str) -> str:
    population = km.loc[km["param"] == param, "population"].iloc[0]
    return f"{ENDPOINTS.get(param, param)} ({population})"


# --------------------------------------------------------------------------------------------
# Estimates before and after
# --------------------------------------------------------------------------------------------

def figure_estimates_moved(moved: pd.DataFrame, kind: str, ax=None, title: str | None = None):
    """What changed: the estimates of one ``kind`` (median, hr, p) that moved, previous → this version.

    ``moved`` is ``claims.changes.table_estimates_moved``; the rows of ``kind`` marked ``shown`` are
    drawn, one per line in the frame's order (the largest change at the top): a grey open circle at
    the previous value, an arrow to a filled circle at this version's. Medians on a month axis (a
    median not reached is drawn at the right edge, marked NR); hazard ratios on a log axis with a
    line at 1; p-values on a log axis with 0.05 marked. Returns the Axes (``ax.moved_``: the rows drawn).
    """
    rows = moved[(moved["kind"] == kind) & moved["shown"]].reset_index(drop=True)
    if rows.empty:
        raise AnalysisError(f"figure_estimates_moved: no estimate of kind {kind!r} moved")
    n = len(rows)
    with theme():
        ax = _new_ax((8.0, 1.0 + 0.26 * n)) if ax is None else ax
        style_axes(ax)
        y = np.arange(n)[::-1].astype(float)
        log = kind in ("hr", "p")
        finite = np.r_[rows["previous"].to_numpy(float), rows["current"].to_numpy(float)]
        finite = finite[np.isfinite(finite)]
        edge = _edge(finite, log)
        prev = rows["previous"].to_numpy(float)
        cur = rows["current"].to_numpy(float)
        px, cx = np.where(np.isfinite(prev), prev, edge), np.where(np.isfinite(cur), cur, edge)
        for yi, a, b in zip(y, px, cx):
            ax.annotate("", xy=(b, yi), xytext=(a, yi), gid="moved_arrow",
                        arrowprops=dict(arrowstyle="-|>", color="0.35", lw=1.0, shrinkA=4, shrinkB=4))
        ax.plot(px, y, linestyle="none", marker="o", mfc="white", mec="0.45", ms=6, label="Previous version",
                gid="moved_previous")
        ax.plot(cx, y, linestyle="none", marker="o", color=PALETTE[0], ms=6, label="This version",
                gid="moved_current")
        _estimate_axes(ax, rows, y, kind, edge, log)
        if title:
            ax.set_title(title, loc="left")
        ax.moved_ = rows
    return ax


def _edge(values: np.ndarray, log: bool) -> float:
    """Where a value without a number (not reached) is drawn: past the largest finite value."""
    if not len(values):
        return 1.0
    top = float(values.max())
    return top * 1.6 if log else top * 1.1 + 1.0


def _estimate_axes(ax, rows: pd.DataFrame, y, kind: str, edge: float, log: bool) -> None:
    """Row labels, the scale of the kind and its reference line, the NR marks."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_yticks(y)
    ax.set_yticklabels([textwrap.fill(str(lab), LABEL_WIDTH) for lab in rows["label"]], fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ref, text = (1.0, "HR = 1") if kind == "hr" else (0.05, "p = 0.05")
        ax.axvline(ref, color="0.5", lw=0.9, ls=":", gid="reference")
        ax.text(ref, 1.0, f" {text}", transform=ax.get_xaxis_transform(), ha="left", va="bottom", fontsize=8,
                color="0.35")
    values = np.r_[rows["previous"].to_numpy(float), rows["current"].to_numpy(float)]
    if not np.isfinite(values).all():
        ax.text(edge, 1.0, "NR", transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=8,
                color="0.35", gid="not_reached")
    ax.set_xlabel({"median": "Months", "hr": "Hazard ratio (log scale)", "p": "p-value (log scale)"}[kind])


def figure_estimates_moved_panels(moved: pd.DataFrame):
    """What changed, before-and-after figure: one :func:`figure_estimates_moved` panel per kind that
    has a row to draw (medians, hazard ratios, p-values), stacked, each as tall as its rows. Returns
    the **Figure**; ``fig.axes`` are the panels plus one empty Axes holding the legend."""
    import matplotlib.pyplot as plt

    kinds = [k for k in KIND_TITLES if ((moved["kind"] == k) & moved["shown"]).any()]
    if not kinds:
        raise AnalysisError("figure_estimates_moved_panels: no estimate moved")
    counts = [int(((moved["kind"] == k) & moved["shown"]).sum()) for k in kinds]
    with theme():
        fig = plt.figure(figsize=(9.0, 0.6 + sum(0.3 * c + 0.9 for c in counts)), layout="constrained")
        axes = fig.subplots(len(kinds), 1, squeeze=False, height_ratios=[c + 2.5 for c in counts]).ravel()
        for ax, kind in zip(axes, kinds):
            figure_estimates_moved(moved, kind, ax=ax, title=KIND_TITLES[kind])
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper right", ncols=2, frameon=False)
    return fig
