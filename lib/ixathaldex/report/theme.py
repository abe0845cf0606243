"""The look of every figure in the book: seaborn's theme with the book's type, fonts and palette.

The theme is seaborn's ``"ticks"`` axes style (white, no grid, outward ticks) without the top and
right spines, seaborn's ``"notebook"`` plotting context scaled so that body text is 10 pt, the
book's font (DejaVu Sans, text kept as text in SVG) and seaborn's colour-blind-safe
``"colorblind"`` palette as the colour cycle. It is applied per figure, never globally:
``theme()`` is an rc context (matplotlib's rcParams are restored when it exits) and
``style_axes`` gives an Axes made outside the theme (e.g. by a chapter's ``plt.subplots``) the
theme's look.
"""

from __future__ import annotations

from contextlib import contextmanager

import matplotlib as mpl
import seaborn as sns
from cycler import cycler

#: seaborn axes style and plotting context the theme starts from
STYLE, CONTEXT = "ticks", "notebook"
#: the context's fonts scaled so that body text is 10 pt (notebook: 12 pt)
FONT_SCALE = 10 / 12
#: colour-blind-safe palette (seaborn "colorblind"), used in this order for groups
PALETTE = tuple(sns.color_palette("colorblind").as_hex())
#: adverse-event grade colours (ColorBrewer Blues: light for grade 1–2, dark for grade ≥ 3)
GRADE_COLOURS = {"1-2": "#9ECAE1", ">=3": "#08519C"}
#: the smallest text of a figure (legends, numbers at risk, tick labels), in points: a panel
#: published at ``PANEL_WIDTH_IN`` shows it no smaller than the page's small print at 1280 px
SMALL_PT = 9
#: the width of one published panel (inches); the site shows it at the content column's width
PANEL_WIDTH_IN = 6.0
#: the book's departures from seaborn's style and context; ``svg.hashsalt`` fixes the ids of
#: an SVG so that the same data give the same file (with ``metadata={"Date": None}``)
BOOK_RC = {
    "axes.spines.top": False, "axes.spines.right": False,
    "axes.titlesize": 11, "legend.fontsize": SMALL_PT, "legend.title_fontsize": SMALL_PT,
    "xtick.labelsize": SMALL_PT, "ytick.labelsize": SMALL_PT,
    "font.family": "DejaVu Sans", "svg.fonttype": "none", "svg.hashsalt": "ixathaldex",
    "figure.dpi": 110, "savefig.dpi": 200,
}


def theme_rc() -> dict:
    """The theme's matplotlib rc parameters: seaborn style + context, the book's overrides, palette."""
    rc = {**sns.axes_style(STYLE), **sns.plotting_context(CONTEXT, font_scale=FONT_SCALE)}
    rc.update(BOOK_RC)
    rc["axes.prop_cycle"] = cycler(color=list(PALETTE))
    return rc


@contextmanager
def theme():
    """Draw inside the book's theme; matplotlib's global rcParams are restored on exit."""
    with mpl.rc_context(theme_rc()):
        yield


def style_axes(ax) -> None:
    """Give an Axes the theme's look even if it was created outside ``theme()``: facecolor,
    grid, spines (seaborn ``despine``), tick size, colour and label size."""
    rc = theme_rc()
    ax.set_facecolor(rc["axes.facecolor"])
    ax.grid(rc["axes.grid"])
    for side in ("left", "bottom"):
        ax.spines[side].set_color(rc["axes.edgecolor"])
        ax.spines[side].set_linewidth(rc["axes.linewidth"])
    sns.despine(ax=ax, top=not rc["axes.spines.top"], right=not rc["axes.spines.right"])
    for axis in ("x", "y"):
        ax.tick_params(axis=axis, which="major", direction=rc[f"{axis}tick.direction"],
                       length=rc[f"{axis}tick.major.size"], width=rc[f"{axis}tick.major.width"],
                       color=rc[f"{axis}tick.color"], labelcolor=rc[f"{axis}tick.color"],
                       labelsize=rc[f"{axis}tick.labelsize"])
