"""All plots of the book, in one style: Kaplan–Meier with numbers at risk, forest, flow, AE profile.

Every ``figure_*`` takes ``ax=None`` (a new figure is made when None) and returns the Axes it drew
on. The numbers drawn are computed here from the data (nothing typed by hand) and are also kept on
the Axes for tests and alt text: ``ax.km_summary_``, ``ax.at_risk_``, ``ax.logrank_p_``,
``ax.flow_``, ``ax.forest_``, ``ax.ae_``. The library never selects a matplotlib backend.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd

from ixathaldex.analysis.survival import KaplanMeier, at_risk_counts, logrank_p, split_groups
from ixathaldex.exceptions import AnalysisError

#: colour-blind-safe palette (seaborn "colorblind"), used in this order for groups
PALETTE = ("#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC", "#CA9161", "#FBAFE4", "#949494")
GRADE_COLOURS = {"1-2": "#9ECAE1", ">=3": "#08519C"}
RC = {
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8.5,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": False, "figure.dpi": 110, "savefig.dpi": 200,
    "svg.fonttype": "none", "font.family": "DejaVu Sans",
}


@contextmanager
def style():
    """The book's plotting style as a matplotlib rc context."""
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):
        yield


def set_style() -> None:
    """Apply the book's style globally (chapters may call this once)."""
    import matplotlib as mpl

    mpl.rcParams.update(RC)


def fmt_months(v, nr: str = "NR") -> str:
    """Months with one decimal; NaN -> ``nr`` (not reached / not calculable)."""
    return nr if v is None or not np.isfinite(v) else f"{v:.1f}"


def fmt_p(p) -> str:
    """p-value for display: '<0.001' below 0.001, three decimals otherwise."""
    if p is None or not np.isfinite(p):
        return "NA"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _new_ax(figsize):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    return ax


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
    groups = [(lv, lab, g) for lv, lab, g in split_groups(tte, group) if len(g)]
    if not groups:
        raise AnalysisError("figure_km: no patients to plot")
    if max_time is None:
        max_time = float(np.ceil(tte["time"].max() / step) * step)
    if times is None:
        times = list(np.arange(0, max_time + 1e-9, step))
    with style():
        if ax is None:
            height = 4.6 + 0.5 * len(groups)
            ax = _new_ax((7.0, height))
            longest = max(len(str(lab)) for _, lab, _ in groups)
            ax.figure.subplots_adjust(bottom=(0.75 + 0.3 * len(groups)) / height, right=0.97,
                                      top=1 - (0.45 + 0.2 * (len(groups) + 1)) / height,
                                      left=min(0.4, 0.1 + 0.0125 * longest))
        rows, risk = [], {}
        for i, (lv, label, g) in enumerate(groups):
            colour = PALETTE[i % len(PALETTE)]
            km = KaplanMeier().fit(g["time"], g["event"])
            c = km.curve_
            x = np.r_[0.0, c["time"].to_numpy()]
            y = np.r_[1.0, c["survival"].to_numpy()]
            med = (f"median {fmt_months(km.median_)} (95% CI {fmt_months(km.ci_[0], 'NC')}–"
                   f"{fmt_months(km.ci_[1], 'NC')})")
            ax.step(x, y, where="post", color=colour, lw=1.6, label=f"{label} (n={km.n_}): {med}")
            cens = c[c["censored"] > 0]
            ax.plot(cens["time"], cens["survival"], linestyle="none", marker="|", markersize=7,
                    markeredgewidth=1.2, color=colour)
            rows.append({"group": lv, "label": label, "n": km.n_, "events": km.events_,
                         "median": km.median_, "ci_lower": km.ci_[0], "ci_upper": km.ci_[1]})
            risk[label] = at_risk_counts(g["time"], times)
        ax.set_xlim(0, max_time)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(times)
        ax.set_xticklabels([f"{t:g}" for t in times])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        p = np.nan
        legend_title = None
        if len(groups) >= 2:
            p = logrank_p(tte[tte.index.isin(pd.concat([g for _, _, g in groups]).index)], group)[1]
            ptxt = fmt_p(p)
            ptxt = f"p {ptxt[0]} {ptxt[1:]}" if ptxt.startswith("<") else f"p = {ptxt}"
            legend_title = f"Log-rank {ptxt}"
        if legend_loc == "above":
            leg = ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), frameon=False,
                            title=legend_title, borderaxespad=0.0)
        else:
            leg = ax.legend(loc=legend_loc, frameon=False, title=legend_title)
        if legend_title:
            leg.get_title().set_fontsize(8.5)
            leg._legend_box.align = "left"
        if title:
            n_lines = len(groups) + (1 if legend_title else 0)
            pad = 8 + (15 * n_lines if legend_loc == "above" else 0)
            ax.set_title(title, loc="left", pad=pad)
        ax.km_summary_ = pd.DataFrame(rows)
        ax.at_risk_ = pd.DataFrame.from_dict(risk, orient="index", columns=times)
        ax.logrank_p_ = p
        if at_risk:
            _draw_at_risk(ax, ax.at_risk_, times)
    return ax


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
    with style():
        fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(ncols * (w + 3), nrows * (h + 3)))
        flat = axes.ravel()
        _place_panels(fig, axes, w, h, [1.5] * ncols, [0.0] * ncols, [1.2] * nrows, [1.5] * nrows)
        for ax, (tte, title, gr) in zip(flat, panels):
            figure_km(tte, gr, ax=ax, step=step, title=title, **kwargs)
        for ax in flat[len(panels):]:
            ax.set_visible(False)
        _fit_panels(fig, axes, w, h)
    return fig


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
    and re-place the panels with exactly those margins."""
    try:
        renderer = fig.canvas.get_renderer()
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
            fontweight="bold", fontsize=8.5, gid="at_risk_header")
    for i, (label, counts) in enumerate(table.iterrows()):
        y = top - 0.085 * (i + 1)
        colour = PALETTE[i % len(PALETTE)]
        ax.text(-0.06, y, str(label), transform=ax.transAxes, ha="right", va="center",
                fontsize=8.5, color=colour, gid="at_risk_label")
        for t, n in zip(times, counts):
            ax.text(t, y, str(int(n)), transform=trans, ha="center", va="center", fontsize=8.5,
                    gid="at_risk")


# --------------------------------------------------------------------------------------------
# Forest plot
# --------------------------------------------------------------------------------------------

def figure_forest(hr: pd.DataFrame, ax=None, title: str | None = None,
                  xlabel: str = "Hazard ratio (95% CI); HR < 1: lower hazard in the first-named level"):
    """Beyond the paper: forest plot of hazard ratios (``survival.table_subgroup_hr``).

    One row per covariate, labelled "level vs reference"; point and 95 % CI on a log axis, a line
    at HR = 1, and the HR (CI) and log-rank p printed at the right; when the rows come from more than
    one population (column ``population``), each label names its population. Non-estimable rows are
    labelled as such and not drawn. Returns the Axes.
    """
    if hr.empty:
        raise AnalysisError("figure_forest: empty hazard-ratio table")
    n = len(hr)
    with style():
        if ax is None:
            ax = _new_ax((9.0, 1.2 + 0.38 * n))
            ax.figure.subplots_adjust(left=0.34, right=0.62, bottom=0.9 / (1.2 + 0.38 * n))
        y = np.arange(n)[::-1]
        est = hr.get("estimable", pd.Series(True, index=hr.index)).to_numpy(bool)
        ok = est & np.isfinite(hr["hr"].to_numpy(float))
        h, lo, hi = (hr[c].to_numpy(float) for c in ("hr", "hr_lower", "hr_upper"))
        ax.errorbar(h[ok], y[ok], xerr=[h[ok] - lo[ok], hi[ok] - h[ok]], fmt="s", color=PALETTE[0],
                    ecolor="0.3", capsize=2.5, markersize=5)
        ax.axvline(1.0, color="0.5", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yticks(y)
        pop = hr["population"] if "population" in hr and hr["population"].nunique() > 1 else None
        ax.set_yticklabels([f"{r['level']} vs {r['reference']}" + (f" ({pop[i]})" if pop is not None else "")
                            for i, r in hr.iterrows()])
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlabel(xlabel)
        lim_lo = np.nanmin(lo[ok]) if ok.any() else 0.1
        lim_hi = np.nanmax(hi[ok]) if ok.any() else 10
        ax.set_xlim(min(0.5, lim_lo / 1.3), max(2.0, lim_hi * 1.3))
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        wide = ax.get_xlim()[1] / ax.get_xlim()[0] > 200
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1,) if wide else (1, 2, 5)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())  # log minor ticks unlabelled (no overlap)
        ax.text(1.02, 1.0, "HR (95% CI)", transform=ax.transAxes, ha="left", va="bottom",
                fontweight="bold")
        has_p = "logrank_p" in hr
        if has_p:
            ax.text(1.62, 1.0, "log-rank p", transform=ax.transAxes, ha="left", va="bottom",
                    fontweight="bold")
        import matplotlib.transforms as mtransforms

        trans = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
        for yi, (i, r) in zip(y, hr.reset_index(drop=True).iterrows()):
            txt = (f"{r['hr']:.2f} ({r['hr_lower']:.2f}–{r['hr_upper']:.2f})" if ok[i]
                   else "not estimable")
            ax.text(1.02, yi, txt, transform=trans, ha="left", va="center", fontsize=8.5)
            if has_p:
                ax.text(1.62, yi, fmt_p(r["logrank_p"]), transform=trans, ha="left", va="center",
                        fontsize=8.5)
        if title:
            ax.set_title(title, loc="left")
        ax.forest_ = hr.reset_index(drop=True)
    return ax


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
    with style():
        if ax is None:
            ax = _new_ax((7.5, 6.0))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.axis("off")

        def box(x, y, text, w=3.6, h=0.9, fc="#EAF2FB"):
            ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05",
                                        fc=fc, ec="0.3", lw=0.9))
            ax.text(x, y, text, ha="center", va="center", fontsize=9, gid="flow_box")

        def arrow(x0, y0, x1, y1):
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="-|>", color="0.3", lw=0.9))

        lab = lambda s: f"{f.loc[s, 'label']}\nn = {int(f.loc[s, 'n'])}"  # noqa: E731
        ys = {"enrolled": 9.2, "pp": 7.4, "indcmp": 5.6, "mnt": 3.8, "mntcmp": 1.6}
        for s, y in ys.items():
            box(3.0, y, lab(s))
        box(7.6, 1.6, lab("ongoing"), w=3.0)
        for a, b in (("enrolled", "pp"), ("pp", "indcmp"), ("indcmp", "mnt"), ("mnt", "mntcmp")):
            arrow(3.0, ys[a] - 0.5, 3.0, ys[b] + 0.5)
        arrow(4.4, ys["mnt"] - 0.5, 7.0, 2.1)
        lines = [f"Not per-protocol: n = {int(f.loc['nonpp', 'n'])}"]
        lines += [f"  {r['label']}: {int(r['n'])}" for _, r in reasons.iterrows()]
        box(7.6, 7.4 + 0.9 - 0.22 * len(lines), "\n".join(lines), w=3.6,
            h=0.45 + 0.3 * len(lines), fc="#FDF1E3")
        arrow(3.0 + 1.8, 8.3, 5.8, 8.0)
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
    and terms whose total is below ``min_pct`` are dropped. Returns the Axes.
    """
    t = ae[ae["phase"] == phase]
    if t.empty:
        raise AnalysisError(f"figure_ae_profile: no rows for phase {phase!r}")
    w = t.pivot_table(index="term", columns="grade", values="pct", sort=False).fillna(0.0)
    w = w.reindex(columns=["1-2", ">=3"], fill_value=0.0)
    w = w[w.sum(axis=1) >= min_pct]
    N = int(t["N"].iloc[0])
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
    low = np.array([r[0] for r in rows])
    high = np.array([r[1] for r in rows])
    with style():
        if ax is None:
            ax = _new_ax((7.0, 0.8 + 0.26 * len(rows)))
            ax.figure.subplots_adjust(left=0.33)
        y = np.arange(len(rows))[::-1]
        bars = ~np.array(bold, dtype=bool)  # header rows carry no bar
        ax.barh(y[bars], low[bars], color=GRADE_COLOURS["1-2"], label="Grade 1–2", height=0.7)
        ax.barh(y[bars], high[bars], left=low[bars], color=GRADE_COLOURS[">=3"], label="Grade ≥3",
                height=0.7)
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        for lab, b in zip(ax.get_yticklabels(), bold):
            if b:
                lab.set_fontweight("bold")
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(f"Patients (%), n = {N}")
        ax.set_xlim(0, 100)
        ax.legend(loc="lower right", frameon=False)
        if title:
            ax.set_title(title, loc="left")
        ax.ae_ = w
    return ax


# --------------------------------------------------------------------------------------------
# Alt text (what a figure shows, with its live numbers)
# --------------------------------------------------------------------------------------------

def alt_text_km(ax, endpoint: str, population: str) -> str:
    """Alt text for a ``figure_km`` Axes: groups with n, median (95 % CI) and the log-rank p."""
    parts = []
    for _, r in ax.km_summary_.iterrows():
        parts.append(f"{r['label']} (n = {r['n']}, {r['events']} events): median "
                     f"{fmt_months(r['median'])} months (95% CI {fmt_months(r['ci_lower'], 'NC')} to "
                     f"{fmt_months(r['ci_upper'], 'NC')})")
    text = (f"Kaplan–Meier curves of {endpoint}, {population}, with numbers at risk below the "
            f"time axis. " + "; ".join(parts) + ".")
    if np.isfinite(getattr(ax, "logrank_p_", np.nan)):
        text += f" Log-rank p {'< 0.001' if ax.logrank_p_ < 0.001 else '= ' + fmt_p(ax.logrank_p_)}."
    return text
