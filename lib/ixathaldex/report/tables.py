"""Display tables: ``format_*`` turn a numeric ``table_*`` frame into a captioned HTML table.

Each ``format_*`` returns a :class:`DisplayTable` — a frame of display strings with a caption, an
abbreviation footnote and a download ``name`` (e.g. ``"table-2a"``). In a notebook it renders through
``_repr_mimebundle_`` as HTML (the table plus a link ``tables/<name>.csv``) and as ``text/csv``; the
pipeline writes every ``text/csv`` output next to the page, so the link resolves in the built site.
``to_csv`` writes it (display or numeric version) to a file. Display rules: percentages one decimal;
months one decimal; "NR" = median not reached, "NC" = confidence limit not calculable; p-values
three decimals, "<0.001" below; hazard ratios two decimals.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ixathaldex.analysis.safety import GRADE_BAND_LABELS, PHASES
from ixathaldex.paths import Project
from ixathaldex.values import DAYS_PER_MONTH, format_number, format_p

ABBREVIATIONS = {
    "ASCT": "autologous stem cell transplantation", "Btz": "bortezomib",
    "CBR": "clinical benefit rate (≥MR)", "CI": "confidence interval", "CR": "complete response",
    "ECOG": "Eastern Cooperative Oncology Group", "FISH": "fluorescence in situ hybridisation",
    "GFR": "glomerular filtration rate", "Hb": "haemoglobin", "HR": "hazard ratio",
    "IMiD": "immunomodulatory drug", "IQR": "interquartile range",
    "ISS": "International Staging System", "ITT": "intent-to-treat", "Len": "lenalidomide",
    "MM": "multiple myeloma", "MR": "minimal response", "NC": "not calculable",
    "NE": "not evaluable", "NR": "not reached", "ORR": "overall response rate (≥PR)",
    "OS": "overall survival", "PD": "progressive disease", "PFS": "progression-free survival",
    "PI": "proteasome inhibitor", "PP": "per-protocol", "PR": "partial response",
    "SD": "stable disease", "Thal": "thalidomide", "VGPR": "very good partial response",
}


def footnote_for(*abbrevs: str, extra: str = "") -> str:
    """'CI, confidence interval; CR, complete response; …' (alphabetical), then ``extra``."""
    parts = [f"{a}, {ABBREVIATIONS[a]}" for a in sorted(dict.fromkeys(abbrevs), key=str.lower)]
    text = "; ".join(parts)
    return (text + (". " if text else "") + extra).strip()


def slugify(text: str) -> str:
    """'Table 2A. Response rates, ITT' -> 'table-2a-response-rates-itt' (a file-name-safe name)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].rstrip("-") or "table"


@dataclass
class DisplayTable:
    """A display table: ``frame`` (strings), ``caption``, ``footnote``, the numeric ``source``, and
    ``name``, the CSV download's file stem (defaults to a slug of the caption)."""

    frame: pd.DataFrame = field(repr=False)
    caption: str
    footnote: str = ""
    source: pd.DataFrame | None = field(default=None, repr=False)
    name: str = ""

    def __post_init__(self):
        self.name = slugify(self.name or self.caption)

    def named(self, name: str) -> "DisplayTable":
        """Set the download name (``"table-2a"`` → ``tables/table-2a.csv``); returns ``self``."""
        self.name = slugify(name)
        return self

    @property
    def csv_filename(self) -> str:
        return f"{self.name}.csv"

    def csv_text(self) -> str:
        """The display frame as CSV text (what the download link serves)."""
        return self.frame.to_csv(index=False)

    def _repr_mimebundle_(self, include=None, exclude=None):
        """HTML (table + CSV link) and ``text/csv`` with its file name as metadata."""
        link = (f'<p class="ixd-csv-link"><a class="ixd-csv" href="tables/{html.escape(self.csv_filename)}" '
                f'download>CSV</a></p>')
        data = {"text/html": self.to_html() + link, "text/csv": self.csv_text()}
        return data, {"text/csv": {"filename": self.csv_filename}}

    def styler(self):
        """A pandas Styler with the caption set (index hidden); every cell and column label is
        escaped, so a data value is shown as text, never read as markup."""
        st = self.frame.style.format(escape="html").format_index(escape="html", axis="columns")
        st = st.set_caption(html.escape(self.caption)).hide(axis="index").set_uuid(self.name)
        return st.set_table_attributes('class="ixd-table"')

    def to_html(self) -> str:
        out = self.styler().to_html()
        if self.footnote:
            out += f'<p class="ixd-table-footnote"><small>{html.escape(self.footnote)}</small></p>'
        return out

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_csv(self, path, numeric: bool = False) -> Path:
        """Write the display frame (or the numeric source with ``numeric=True``) as UTF-8 CSV."""
        return to_csv(self.source if numeric and self.source is not None else self.frame, path)


def to_csv(frame: pd.DataFrame, path) -> Path:
    """Write ``frame`` to ``path`` (UTF-8, no index; parent folders created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8")
    return path


# ---- formatting helpers ----------------------------------------------------------------------

def fmt_n_pct(n, pct) -> str:
    """'8 (8.9)': a count and its percentage at one decimal ('–' when there is none)."""
    return f"{int(n)} ({format_number(pct, 1)})"


def fmt_median_ci(m, lo, hi) -> str:
    """'8.5 (6.4–NC)': a median (NR when not reached) and its CI (NC: a limit not calculable)."""
    return f"{format_number(m, 1, 'NR')} ({format_number(lo, 1, 'NC')}–{format_number(hi, 1, 'NC')})"


def fmt_hr(hr, lo, hi, estimable=True) -> str:
    if not estimable or not np.isfinite(hr):
        return "not estimable"
    return f"{hr:.2f} ({lo:.2f}–{hi:.2f})"


# ---- tables ----------------------------------------------------------------------------------

def format_characteristics(t: pd.DataFrame, caption: str = "Table 1. Patient characteristics (ITT)",
                           name: str = "table-1") -> DisplayTable:
    """Table 1 display from ``populations.table_characteristics``."""
    rows = []
    for _, r in t.iterrows():
        if r["stat"] == "n (%)":
            val = fmt_n_pct(r["n"], r["pct"])
            if r["section"] == "Cytogenetics" and r["item"] != "FISH evaluable":
                val = f"{int(r['n'])}/{int(r['denominator'])} ({format_number(r['pct'], 1)})"
        else:
            lo, hi, v = r["low"], r["high"], r["value"]
            whole = all(np.isfinite(x) and float(x).is_integer() for x in (lo, hi, v))
            val = f"{format_number(v, 0 if whole else 1, 'NR')} " \
                  f"({format_number(lo, 0 if float(lo).is_integer() else 1)}–" \
                  f"{format_number(hi, 0 if float(hi).is_integer() else 1)})"
        rows.append({"Characteristic": r["section"], "Category": r["item"],
                     "Statistic": r["stat"], "Value": val})
    n = int(t.loc[t["stat"] == "n (%)", "denominator"].max())
    df = pd.DataFrame(rows)
    df.loc[df["Characteristic"].eq(df["Characteristic"].shift()), "Characteristic"] = ""
    return DisplayTable(df, f"{caption}, n = {n}",
                        footnote_for("ISS", "ECOG", "MM", "PI", "IMiD", "Len", "Thal", "Btz", "IQR",
                                     "FISH", extra="Cytogenetic rows: denominator = FISH-evaluable patients."),
                        t, name)


def format_response(t: pd.DataFrame, categories=("CR", "VGPR", "PR", "MR", "ORR", "CBR"),
                    caption: str = "Table 2A. Response rates, ITT and per-protocol",
                    name: str = "table-2a") -> DisplayTable:
    """Table 2A display from ``response.table_response``: n (%) and exact 95 % CI per population."""
    out = pd.DataFrame({"Response": list(categories)})
    for pop, g in t.groupby("population", sort=False):
        g = g.set_index("category")
        N = int(g["N"].iloc[0])
        out[f"{pop} (n = {N}), n (%)"] = [fmt_n_pct(g.loc[c, "n"], g.loc[c, "pct"]) for c in categories]
        out[f"{pop} 95% CI"] = [f"{g.loc[c, 'ci_lower']:.1f}–{g.loc[c, 'ci_upper']:.1f}" for c in categories]
    shown = [c.lstrip("≥") for c in categories if c.lstrip("≥") in ABBREVIATIONS]
    return DisplayTable(out, caption, footnote_for(
        *shown, "CI", "ITT", "PP",
        extra="Exact (Clopper–Pearson) 95% CIs; NE patients count as non-responders."), t, name)


def format_response_by_group(t: pd.DataFrame,
                             caption: str = "Table 2B. Overall response rate (≥PR) by risk group",
                             name: str = "table-2b", counts: bool = False) -> DisplayTable:
    """Table 2B display from ``response.table_response_by_group``.

    With ``counts=True`` the 2×2 table of each Fisher test is shown as two more columns
    (responders, non-responders per group).
    """
    rows = []
    for _, r in t.iterrows():
        row = {"Comparison": r["factor_label"], "Group": r["label"],
               "≥PR, n/N (%)": f"{int(r['n'])}/{int(r['N'])} ({format_number(r['pct'], 1)})",
               "95% CI": f"{r['ci_lower']:.1f}–{r['ci_upper']:.1f}" if r["N"] else "–"}
        if counts:
            row["Responders"] = str(int(r["n"]))
            row["Non-responders"] = str(int(r["N"] - r["n"]))
        row["Fisher p"] = format_p(r["p_value"])
        rows.append(row)
    df = pd.DataFrame(rows)
    df.loc[df["Comparison"].duplicated(), ["Comparison", "Fisher p"]] = ""
    return DisplayTable(df, caption, footnote_for(
        "PR", "CI", "IMiD", extra="Two-sided Fisher exact test; high risk = t(4;14), t(14;16) "
        "or del(17p) (any of the three); exact 95% CIs."), t, name)


def format_upgrades(summary: pd.DataFrame,
                    caption: str = "Deepening of response during maintenance",
                    name: str = "response-upgrades") -> DisplayTable:
    """Upgrade summary display from ``response.table_upgrade_summary``."""
    rows = []
    for _, r in summary.iterrows():
        frm = "Any upgrade" if r["from"] == "any" else f"{r['from']} → {r['to']}"
        if not np.isfinite(r["min_months"]):
            when = "–"
        elif round(r["min_months"], 1) == round(r["max_months"], 1):
            when = f"{r['min_months']:.1f}"
        else:
            when = f"{r['min_months']:.1f}–{r['max_months']:.1f}"
        rows.append({"Change": frm, "n (%)": fmt_n_pct(r["n"], r["pct"]),
                     "Months after start of maintenance": when})
    N = int(summary["N"].iloc[0]) if len(summary) else 0
    return DisplayTable(pd.DataFrame(rows), f"{caption} (maintenance safety set, n = {N})",
                        footnote_for("CR", "VGPR", "PR", "MR"), summary, name)


def format_km_summary(t: pd.DataFrame, caption: str, param: str = "", name: str = "") -> DisplayTable:
    """Kaplan–Meier summary display (n, events, median with 95 % CI) from ``table_km_summary``."""
    df = pd.DataFrame({"Group": t["label"], "n": t["n"].astype(int), "Events": t["events"].astype(int),
                       "Median, months (95% CI)": [fmt_median_ci(*v) for v in
                                                   t[["median", "ci_lower", "ci_upper"]].to_numpy()]})
    return DisplayTable(df, caption, footnote_for(
        *([param] if param in ABBREVIATIONS else []), "CI", "NR", "NC",
        extra="Kaplan–Meier; 95% CI of the median by Brookmeyer–Crowley, log-log transform."), t, name)


def format_subgroup_survival(t: pd.DataFrame, caption: str, name: str = "") -> DisplayTable:
    """Subgroup medians and log-rank p from ``survival.table_subgroup_survival``."""
    df = pd.DataFrame({
        "Comparison": t["factor_label"], "Population": t.get("population", ""), "Group": t["label"],
        "n": t["n"].astype(int), "Events": t["events"].astype(int),
        "Median, months (95% CI)": [fmt_median_ci(*v) for v in t[["median", "ci_lower", "ci_upper"]].to_numpy()],
        "Log-rank p": [format_p(p) for p in t["p_value"]],
    })
    dup = df["Comparison"].duplicated()
    df.loc[dup, ["Comparison", "Population", "Log-rank p"]] = ""
    return DisplayTable(df, caption, footnote_for(
        "CI", "NR", "NC", "ISS", "GFR", "IMiD", "HR",
        extra="Patients without the factor (e.g. no FISH) are left out of that comparison."), t, name)


def format_cox(t: pd.DataFrame, caption: str, name: str = "") -> DisplayTable:
    """Cox model display (univariate or multivariate) from ``survival.table_cox_*``."""
    est = t.get("estimable", pd.Series(True, index=t.index))
    df = pd.DataFrame({
        "Factor": t["factor_label"], "Level vs reference": t["level"] + " vs " + t["reference"],
        "n (events)": [f"{int(n)} ({int(e)})" for n, e in zip(t["n"], t["events"])],
        "HR (95% CI)": [fmt_hr(h, lo, hi, ok) for h, lo, hi, ok in
                        zip(t["hr"], t["hr_lower"], t["hr_upper"], est)],
        "Wald p": [format_p(p) if ok else "–" for p, ok in zip(t["p_value"], est)],
    })
    ties = t["ties"].iloc[0] if "ties" in t and len(t) else "breslow"
    return DisplayTable(df, caption, footnote_for(
        "HR", "CI", "ISS", "GFR", "Hb", "IMiD",
        extra=f"Cox proportional hazards, {ties.capitalize()} ties; HR > 1: higher hazard in the "
        "named level than in the reference level."), t, name)


def format_univariate_screen(screen: pd.DataFrame, caption: str, name: str = "") -> DisplayTable:
    """Univariate OS screen display (prognostic factors) from ``cox.table_univariate_screen``:
    the Cox columns of ``format_cox`` plus the log-rank p and whether the factor is selected."""
    dt = format_cox(screen, caption, name=name)
    thr = float(screen["threshold"].iloc[0])
    dt.frame["Log-rank p"] = [format_p(p) for p in screen["logrank_p"]]
    dt.frame[f"Selected (log-rank p < {thr:g})"] = ["yes" if s else "no" for s in screen["selected"]]
    dt.footnote += (f" Selection for the multivariate model: log-rank p < {thr:g}. Gain of 1q21 is "
                    "coded detected vs not detected (a missing probe counts as not detected).")
    return dt


def format_cox_directions(cox: pd.DataFrame, caption: str, name: str = "",
                          event: str = "death") -> DisplayTable:
    """Cox display with the reading of each HR (prognostic factors): level vs reference, n
    (events), HR (CI), Wald p, and in words "higher hazard of <event> with <level> than with
    <reference>", from ``cox.table_cox_*`` (an ``orientation`` column is shown first)."""
    dt = format_cox(cox, caption, name=name)
    dt.frame = dt.frame.drop(columns=["Factor"])
    if "orientation" in cox:
        dt.frame.insert(0, "Orientation", list(cox["orientation"]))
    dt.frame["Reading"] = [_reading(r, event) for _, r in cox.iterrows()]
    return dt


def _reading(row, event: str) -> str:
    if not row.get("estimable", True) or not math.isfinite(row["hr"]):
        return "not estimable (monotone likelihood)"
    word = "higher" if row["hr"] > 1 else "lower"
    return f"{word} hazard of {event} with {row['level']} than with {row['reference']}"


def format_adverse_events(t: pd.DataFrame,
                          caption: str = "Table 3. Adverse events by grade and phase",
                          name: str = "table-3") -> DisplayTable:
    """Table 3 display from ``safety.table_adverse_events`` (n (%) per phase and grade band)."""
    terms = list(dict.fromkeys(zip(t["category"], t["term"])))
    Ns = t.groupby("phase")["N"].first()
    names = {"ALL": f"Induction + maintenance (n = {int(Ns.get('ALL', 0))})",
             "MAINTENANCE": f"Maintenance only (n = {int(Ns.get('MAINTENANCE', 0))})"}
    idx = t.set_index(["term", "phase", "grade"])
    rows = []
    for cat, term in terms:
        row = {("", "Category"): cat.capitalize(), ("", "Adverse event"): term}
        for ph in PHASES:
            for g, gl in GRADE_BAND_LABELS.items():
                r = idx.loc[(term, ph, g)]
                row[(names[ph], gl)] = fmt_n_pct(r["n"], r["pct"])
        rows.append(row)
    df = pd.DataFrame(rows)
    df.columns = pd.MultiIndex.from_tuples(df.columns)
    df.loc[df[("", "Category")].duplicated(), ("", "Category")] = ""
    return DisplayTable(df, caption, "n (%) of patients, each counted once per term at the worst "
                        "grade (CTCAE) within the phase; induction + maintenance denominator = ITT, "
                        "maintenance denominator = maintenance safety set.", t, name)


def format_followup(t: pd.DataFrame, caption: str = "Median follow-up", name: str = "follow-up") -> DisplayTable:
    """Follow-up display from ``survival.table_followup``."""
    df = pd.DataFrame({"Endpoint": t["param"], "n": t["n"].astype(int),
                       "Median follow-up, months (95% CI)": [fmt_median_ci(*v) for v in
                                                             t[["median", "ci_lower", "ci_upper"]].to_numpy()],
                       "Method": t["method"]})
    return DisplayTable(df, caption, footnote_for("CI", "OS", "NR", "NC"), t, name)


def format_flow(t: pd.DataFrame, caption: str = "Patient flow", name: str = "patient-flow") -> DisplayTable:
    """Patient-flow counts (the chart's numbers as a table) from ``populations.table_flow``."""
    return DisplayTable(t[["label", "n"]].rename(columns={"label": "Step", "n": "n"}), caption,
                        footnote_for("ITT"), t, name)


def format_treatment_exposure(t: pd.DataFrame, caption: str = "Treatment exposure (ITT)",
                              name: str = "treatment-exposure") -> DisplayTable:
    """Treatment-exposure display from ``populations.table_treatment_exposure``."""
    rows = []
    for _, r in t.iterrows():
        if np.isfinite(r["value"]):
            digits = 0 if "cycles" in r["quantity"] or "lines" in r["quantity"] else 1
            val = f"{format_number(r['value'], digits)} ({format_number(r['low'], digits)}–" \
                  f"{format_number(r['high'], digits)})"
            rows.append({"Quantity": r["quantity"][0].upper() + r["quantity"][1:],
                         "Denominator": int(r["n"]), "Value": val})
        else:
            rows.append({"Quantity": r["quantity"][0].upper() + r["quantity"][1:],
                         "Denominator": int(r["denominator"]),
                         "Value": f"{int(r['n'])} ({format_number(r['pct'], 1)})"})
    return DisplayTable(pd.DataFrame(rows), caption, footnote_for(
        "ITT", extra="Value: median (range) or n (%); Denominator: the patients each row counts among. Durations "
        f"in months (days / {DAYS_PER_MONTH}): maintenance from its first day to the last dose (or the cut-off), "
        "in the patients who received maintenance; induction (thalidomide) from the start of treatment "
        "to the day before maintenance, the last dose or the cut-off."), t, name)


#: the packages the analysis and the site depend on directly (methods page)
SOFTWARE = (("numpy", "arrays"), ("pandas", "data frames"), ("scipy", "Fisher exact test"),
            ("statsmodels", "Clopper–Pearson CIs, median CIs"),
            ("lifelines", "log-rank test"), ("matplotlib", "figures"), ("pandera", "snapshot validation"),
            ("papermill", "notebook execution"), ("jupytext", "MyST notebooks"),
            ("myst-nb", "glued values"), ("jupyter-book", "site build"), ("sphinx", "site build"))


def table_software_versions(packages=SOFTWARE, lock_path=None) -> pd.DataFrame:
    """Methods page: Python and each package's installed version beside its requirements.lock pin.

    Columns ``package``, ``purpose``, ``installed`` (importlib.metadata; "" if absent), ``locked``
    (the ``name==version`` line of the lock file; "" if not pinned).
    """
    import platform
    import re as _re
    from importlib import metadata

    lock_path = Path(lock_path) if lock_path else Project.current().lock_path
    pins = {}
    if lock_path.is_file():
        for line in lock_path.read_text(encoding="utf-8").splitlines():
            m = _re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
            if m:
                pins[_re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    rows = [{"package": "Python", "purpose": "interpreter", "installed": platform.python_version(),
             "locked": ""}]
    for name, purpose in packages:
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = ""
        rows.append({"package": name, "purpose": purpose, "installed": installed,
                     "locked": pins.get(_re.sub(r"[-_.]+", "-", name).lower(), "")})
    return pd.DataFrame(rows)


def format_software_versions(t: pd.DataFrame, caption: str = "Software used to compute this site",
                             name: str = "software-versions") -> DisplayTable:
    """Software-versions display from ``table_software_versions``."""
    df = pd.DataFrame({"Package": t["package"], "Used for": t["purpose"],
                       "Installed": t["installed"].replace("", "–"),
                       "requirements.lock": t["locked"].replace("", "–")})
    return DisplayTable(df, caption, "Installed: the version that executed the chapters of this "
                        "version of the site; requirements.lock: the pinned version of the project.", t, name)
