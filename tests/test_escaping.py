"""Every data value that reaches a page is shown as text: hostile terms, captions and labels are escaped."""

from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ixathaldex.analysis.safety import table_adverse_events  # noqa: E402
from ixathaldex.data.snapshot import load_snapshot  # noqa: E402
from ixathaldex.report.tables import DisplayTable, format_adverse_events  # noqa: E402
from ixathaldex.site import stage as st  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "Nausea <img src=x onerror=alert(1)>"
AMP = "A & B < C"


def _no_markup_from_data(page: str) -> None:
    assert "<img" not in page and "onerror=alert(1)>" not in page
    assert "A & B < C" not in page


def test_table_3_shows_a_hostile_adverse_event_term_as_text():
    snap = load_snapshot("2018-06-30", root=ROOT / "data" / "snapshots", validate=False)
    adae = snap.adae.copy()
    terms = adae["AEDECOD"].drop_duplicates().tolist()
    adae.loc[adae["AEDECOD"] == terms[0], "AEDECOD"] = HOSTILE
    adae.loc[adae["AEDECOD"] == terms[1], "AEDECOD"] = AMP
    if "AECAT" in adae:
        adae.loc[adae["AEDECOD"] == HOSTILE, "AECAT"] = "<b>cat</b>"
    table = format_adverse_events(table_adverse_events(snap.adsl, adae), caption="Table 3 <script>x</script>")
    page = table.to_html()
    _no_markup_from_data(page)
    assert "Nausea &lt;img src=x onerror=alert(1)&gt;" in page
    assert "A &amp; B &lt; C" in page
    assert "<script>" not in page and "Table 3 &lt;script&gt;x&lt;/script&gt;" in page
    # the notebook's HTML output (what the page shows) is the escaped one; the CSV keeps the raw text
    bundle, _ = table._repr_mimebundle_()
    _no_markup_from_data(bundle["text/html"])
    assert HOSTILE in bundle["text/csv"]


def test_display_table_escapes_cells_headers_caption_and_footnote():
    df = pd.DataFrame({"Group <i>": [HOSTILE, AMP], "n": [1, 2]})
    page = DisplayTable(df, caption=AMP, footnote=HOSTILE, name="t").to_html()
    _no_markup_from_data(page)
    assert "Group &lt;i&gt;" in page and "<i>" not in page
    assert page.count("A &amp; B &lt; C") == 2 and page.count("&lt;img") == 2


def test_figure_labels_and_alt_text_are_escaped_in_svg():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label=HOSTILE)
    ax.set_title(AMP)
    ax.set_xlabel("<script>alert(1)</script>")
    ax.legend()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    assert "<img" not in svg and "<script>" not in svg
    assert "&lt;img" in svg or "&lt;" in svg  # the text is kept, escaped
    # the svg is still well-formed XML
    import xml.etree.ElementTree as ET
    ET.fromstring(svg)


def test_manifest_label_and_provenance_are_escaped_in_the_banner():
    prov = st.provenance("2019-12-31", {"label": HOSTILE, "cutoff_date": AMP, "synthetic": True},
                         "<b>x</b>", "abc<1>", "2020")
    banner = st.provenance_html(prov)
    _no_markup_from_data(banner)
    assert "A &amp; B &lt; C" in banner and "<b>x</b>" not in banner
    cfg = st.version_config({"title": "T"}, prov, "/")
    assert not re.search(r"<img|<b>x", cfg["html"]["announcement"])
