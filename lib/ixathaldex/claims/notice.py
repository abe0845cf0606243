"""The data notice of every page and of the banner: what the data of a version are, from its manifest.

Whether a version's data are synthetic is read from its snapshot manifest (``manifest["synthetic"]``)
and nowhere else; every page glues the sentences returned here, so a version built from the trial's
data never calls its data synthetic, and a synthetic version always says so.
"""

from __future__ import annotations

import html
from typing import Any

from ixathaldex.data.manifest import read_manifest, snapshot_dir
from ixathaldex.paths import Project


def is_synthetic(manifest: dict) -> bool:
    """Whether the manifest marks the snapshot's data as synthetic (a missing key: not synthetic)."""
    return bool(manifest.get("synthetic"))


def _cut_and_label(manifest: dict) -> str:
    cutoff = str(manifest.get("cutoff_date") or manifest.get("cut") or "unknown")
    label = str(manifest.get("label") or "").strip()
    return f"cut-off {cutoff}" + (f", label “{label}”" if label else "")


def derive_data_notice(manifest: dict) -> dict[str, str]:
    """The data notice of a version's pages: one sentence per place a page states what its data are.

    Keys: ``data_title`` (the notice's heading), ``data_notice`` (the front page's notice),
    ``data_note`` (a short phrase inside a sentence), ``data_scope`` (what a chapter's numbers
    describe), ``data_methods`` (the methods' data paragraph), ``data_review`` (what a difference on
    the reviewer page means), ``data_cite`` (how to cite) and ``data_calibration`` (the generator's
    calibration, empty for real data).
    """
    where = _cut_and_label(manifest)
    if is_synthetic(manifest):
        return {
            "data_title": "Synthetic data",
            "data_notice": (
                "The data of this version are synthetic: no record belongs to a real patient. The "
                "trial's patient-level data are not public, so a program generated artificial patients "
                "whose tables match the published aggregates (the counts exactly, the survival estimates "
                "within stated tolerances). The numbers on these pages describe these artificial patients; "
                "they show that the analysis reproduces the paper, not new facts about the trial "
                f"(snapshot {where})."),
            "data_note": "synthetic data (artificial patients, not real ones)",
            "data_scope": ("The data are synthetic: a cohort generated to match the paper's published "
                           "aggregates, not real patients. The numbers below describe this snapshot."),
            "data_methods": ("The snapshot of this version is synthetic: artificial patients generated so "
                             "that the published tables are reproduced (see the front page)."),
            "data_review": ("The data are synthetic: they were generated to match the paper's published "
                            "aggregates, so a difference here says something about the generator or about "
                            "the paper, not about real patients."),
            "data_cite": "This version is a reproduction on synthetic data.",
            "data_calibration": ("The synthetic cohort was calibrated on that reading (details: the reviewer "
                                 "page and docs/calibration.md)."),
        }
    return {
        "data_title": "Data",
        "data_notice": f"Data: the trial's patient-level data, {where}.",
        "data_note": f"the trial's patient-level data ({where})",
        "data_scope": f"The data are the trial's patient-level data ({where}); the numbers below describe this snapshot.",
        "data_methods": f"The snapshot of this version holds the trial's patient-level data ({where}).",
        "data_review": ("The data are the trial's patient-level data, so a difference here says something "
                        "about this reanalysis or about the paper's reporting."),
        "data_cite": f"This version recomputes the paper from the trial's patient-level data ({where}).",
        "data_calibration": "",
    }


def derive_source_comparison(manifest: dict, previous: dict | None) -> str:
    """The what-changed page's sentence when the two versions come from different data sources
    (one synthetic, one the trial's data); empty when both are of the same kind or there is no previous."""
    if previous is None or is_synthetic(manifest) == is_synthetic(previous):
        return ""
    if is_synthetic(previous):
        return ("The previous version's data were synthetic and this version's are the trial's "
                "patient-level data: this page compares two different data sources, so a change below "
                "is not the effect of new follow-up.")
    return ("This version's data are synthetic and the previous version's were the trial's patient-level "
            "data: this page compares two different data sources, so a change below is not the effect "
            "of new follow-up.")


def format_data_notice_html(manifest: dict) -> str:
    """The front page's notice box (an admonition: a warning for synthetic data, a note otherwise)."""
    notice = derive_data_notice(manifest)
    kind = "warning" if is_synthetic(manifest) else "note"
    return (f'<div class="admonition {kind}"><p class="admonition-title">{html.escape(notice["data_title"])}</p>'
            f'<p>{html.escape(notice["data_notice"])}</p></div>')


def load_manifest_of(cut: str, root=None) -> dict:
    """The manifest of snapshot ``cut`` under the project's snapshot root (or ``root``)."""
    return read_manifest(snapshot_dir(cut, root or Project.current().snapshot_root))


def derive_notice_context(manifest: dict, page: str) -> dict[str, Any]:
    """:func:`derive_data_notice` with every key prefixed by the page (glued by that page)."""
    return {f"{page}.{k}": v for k, v in derive_data_notice(manifest).items()}
