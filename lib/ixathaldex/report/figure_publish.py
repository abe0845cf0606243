"""Figures 1–3 and S1 on the site: one image per panel, named by the paper's label, downloadable.

A published figure (:class:`PublishedFigure`) is a column of panels. Each panel is its own image
(SVG, text kept as text) drawn ``theme.PANEL_WIDTH_IN`` wide, so that the site, which shows it at
the content column's width, prints its smallest text no smaller than the page's small print. Each
panel carries the text "Figure 3e" and the anchor ``figure-3e`` (search and links find it), a link
that opens the image full size, and its downloads: SVG, PNG and the data it plots as CSV
(``figure_data``). In a notebook the figure renders through ``_repr_mimebundle_`` as HTML plus the
files under ``FILES_MIME``; the build writes those files to ``chapters/figures/`` beside the page
(``site.stage.write_downloads``), where the HTML's relative links point.

The same data give byte-identical files: the SVG is written without a date and with a fixed
``svg.hashsalt`` (``theme.BOOK_RC``), the PNG without a software stamp.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field

import pandas as pd

from ixathaldex.report import figure_data
from ixathaldex.report.figure_files import FILES_MIME, FOLDER
from ixathaldex.report.figures import alt_text_km, figure_km_panels, refit_panels
from ixathaldex.report.figures_forest import figure_forest
from ixathaldex.report.theme import PANEL_WIDTH_IN, theme

#: plain-language names of the endpoints and populations (alt text)
ENDPOINT_NAMES = {"PFS": "progression-free survival", "OS": "overall survival"}
POPULATION_NAMES = {"ITT": "intent-to-treat population", "PP": "per-protocol population"}
#: the download links' words for a panel's data tables (by file suffix)
DATA_LINKS = {"": "data", "-at-risk": "numbers at risk"}
#: height of a Kaplan–Meier panel's plot area (inches), legend and numbers at risk come on top
KM_PLOT_HEIGHT_IN = 2.9


@dataclass
class KmPanel:
    """One Kaplan–Meier panel to publish: the paper's label ("3e"), a short title, the patients
    (``survival.derive_tte``), the subgroup id (None: all), endpoint and population names."""

    label: str
    title: str
    tte: pd.DataFrame
    group: object = None
    endpoint: str = ""
    population: str = ""


@dataclass
class Panel:
    """A drawn panel: its label and title, SVG text, PNG bytes, alt text, data tables
    (``{file suffix: frame}``, "" for the main CSV) and a note (e.g. thinning)."""

    label: str
    title: str
    svg: str
    png: bytes
    alt: str
    data: dict = field(default_factory=dict)
    note: str = ""

    @property
    def slug(self) -> str:
        """The anchor and file stem: "Figure 3e" -> ``figure-3e``; "1, PFS" -> ``figure-1-pfs``."""
        return "figure-" + re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")


def render_svg(fig) -> str:
    """The figure as SVG text, text kept as text, byte-identical for the same drawing."""
    buf = io.StringIO()
    with theme():
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def render_png(fig) -> bytes:
    """The figure as PNG (the theme's ``savefig.dpi``), without a software stamp."""
    buf = io.BytesIO()
    with theme():
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _fixed_width_km(p: KmPanel, width_in: float, step: float):
    """A one-panel KM figure exactly ``width_in`` wide: draw once, then give the plot area what
    the measured margins (legend, at-risk labels) leave (``figures.refit_panels``, at most
    twice, without drawing again)."""
    w = width_in - 1.5
    fig = figure_km_panels([(p.tte, None, p.group)], ncols=1, step=step, axes_size=(w, KM_PLOT_HEIGHT_IN))
    for _ in range(2):
        excess = fig.get_size_inches()[0] - width_in
        if abs(excess) < 0.01:
            break
        w = max(1.5, w - excess)
        refit_panels(fig, (w, KM_PLOT_HEIGHT_IN))
    return fig


def km_panel(p: KmPanel, width_in: float = PANEL_WIDTH_IN, step: float = 6) -> Panel:
    """Figures 1–3, one panel: the drawing (``figures.figure_km``), its alt text from the live
    numbers, and its data (steps with CIs; numbers at risk at the grid times)."""
    import matplotlib.pyplot as plt

    fig = _fixed_width_km(p, width_in, step)
    ax = next(a for a in fig.axes if a.get_visible())
    alt = alt_text_km(ax, ENDPOINT_NAMES.get(p.endpoint, p.endpoint or "survival"),
                      POPULATION_NAMES.get(p.population, p.population or "all patients"))
    curve = figure_data.table_km_curve(p.tte, p.group, p.endpoint, p.population)
    at_risk = figure_data.table_km_at_risk(p.tte, list(ax.at_risk_.columns), p.group, p.endpoint,
                                           p.population)
    note = figure_data.thinning_note(curve, ax.km_summary_)
    panel = Panel(p.label, p.title, render_svg(fig), render_png(fig), alt,
                  {"": curve, "-at-risk": at_risk}, note)
    plt.close(fig)
    return panel


def forest_panel(label: str, title: str, hr: pd.DataFrame, xlabel: str,
                 width_in: float = PANEL_WIDTH_IN) -> Panel:
    """Figure S1 as a panel: the forest plot (``figures.figure_forest``) ``width_in`` wide, its
    alt text from the estimates and its data (``figure_data.table_forest``)."""
    import matplotlib.pyplot as plt

    ax = figure_forest(hr, xlabel=xlabel, width_in=width_in)
    data = figure_data.table_forest(hr)
    shown = data[data["estimable"].astype(bool)]
    alt = (f"Forest plot of {len(data)} hazard ratios on a logarithmic axis with a dashed line at 1; "
           + "; ".join(f"{r.level} vs {r.reference}: {r.hr:.2f} ({r.ci_low:.2f} to {r.ci_high:.2f})"
                       for r in shown.itertuples()) + ".")
    panel = Panel(label, title, render_svg(ax.figure), render_png(ax.figure), alt, {"": data})
    plt.close(ax.figure)
    return panel


def publish_km(panels: list[KmPanel], step: float = 6) -> "PublishedFigure":
    """Figures 1–3 for the site: each ``KmPanel`` drawn as its own image (``km_panel``)."""
    return PublishedFigure([km_panel(p, step=step) for p in panels])


class PublishedFigure:
    """A figure on the site: its panels in order, with the files each one needs."""

    def __init__(self, panels: list[Panel]):
        self.panels = list(panels)

    def files(self) -> dict[str, bytes]:
        """``{file name: content}`` of every panel: SVG, PNG, and one CSV per data table."""
        out = {}
        for p in self.panels:
            out[f"{p.slug}.svg"] = p.svg.encode("utf-8")
            out[f"{p.slug}.png"] = p.png
            for suffix, frame in p.data.items():
                out[f"{p.slug}{suffix}.csv"] = frame.to_csv(index=False).encode("utf-8")
        return out

    def to_html(self) -> str:
        return ('<div class="ixd-figure-panels">' + "".join(_panel_html(p) for p in self.panels)
                + "</div>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return "PublishedFigure(" + ", ".join(p.slug for p in self.panels) + ")"

    def _repr_mimebundle_(self, include=None, exclude=None):
        """HTML (panels with links into ``figures/``) and the files, base64, under ``FILES_MIME``."""
        files = {name: base64.b64encode(content).decode("ascii") for name, content in self.files().items()}
        return {"text/html": self.to_html(), FILES_MIME: {"folder": FOLDER, "files": files}}


def _panel_html(p: Panel) -> str:
    e = html.escape
    src = f"{FOLDER}/{p.slug}"
    width, height = _svg_size(p.svg)
    csv_links = [f'<a href="{src}{s}.csv" type="text/csv" download>'
                 f'{e(DATA_LINKS.get(s, s.strip("-").replace("-", " ")))} (CSV)</a>' for s in p.data]
    note = f'<p class="ixd-panel-note">{e(p.note)}</p>' if p.note else ""
    return (f'<div class="ixd-panel" id="{p.slug}">'
            f'<p class="ixd-panel-label"><a class="ixd-panel-anchor" href="#{p.slug}">'
            f'<strong>Figure {e(p.label)}</strong></a> {e(p.title)}</p>'
            f'<a class="ixd-enlarge" href="{src}.svg" title="Figure {e(p.label)} full size (opens the image)">'
            f'<img src="{src}.svg" alt="{e(p.alt)}" width="{width}" height="{height}"></a>'
            f'<p class="ixd-downloads">Figure {e(p.label)}: '
            f'<a href="{src}.svg" type="image/svg+xml" download>SVG</a> · '
            f'<a href="{src}.png" type="image/png" download>PNG</a> · ' + " · ".join(csv_links)
            + f"</p>{note}</div>")


def _svg_size(svg: str) -> tuple[int, int]:
    """The SVG's viewBox width and height (points), rounded: the img's intrinsic aspect ratio."""
    m = re.search(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"', svg)
    return (round(float(m.group(1))), round(float(m.group(2)))) if m else (640, 480)
