"""Analysis populations, derived baseline columns, subgroup registry, Table 1 and the patient flow.

``derive_adsl`` adds the analysis columns listed in ``docs/data-model.md`` ("Derived in lib");
``derive_population`` selects ITT / PP / FISH / MAINT; ``SUBGROUPS`` is the registry of every
subgroup comparison the paper makes, so chapters and tests iterate over one list.
See ``docs/statistics.md`` for the reading of the paper behind each definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ixathaldex.analysis.framecache import FrameCache
from ixathaldex.data.definitions import definition_column
from ixathaldex.exceptions import AnalysisError
from ixathaldex.values import DAYS_PER_MONTH

#: FISH aberrations that make a patient "high risk" (IMWG, as in the paper's methods)
HR_ABERRATIONS = ("T414", "T1416", "DEL17P")

POPULATIONS = {
    "ITT": ("ITTFL", "Intent-to-treat"),
    "PP": ("PPROTFL", "Per-protocol (at least two full induction cycles)"),
    "FISH": ("FISHFL", "FISH-evaluable"),
    "MAINT": ("MNTSAFFL", "Maintenance safety set"),
    "MNTENTER": ("MNTFL", "Entered maintenance"),
}


def _flag(s: pd.Series) -> pd.Series:
    """'Y' -> True, 'N' -> False, missing -> <NA> (nullable boolean)."""
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[s == "Y"] = True
    out[s == "N"] = False
    return out


def _yn(b: pd.Series) -> pd.Series:
    """Nullable boolean -> 'Y'/'N'/NaN (object), the ADaM flag convention."""
    out = pd.Series(np.nan, index=b.index, dtype=object)
    out[b.fillna(False).astype(bool)] = "Y"
    out[(~b.fillna(True)).astype(bool)] = "N"
    return out


def _require(adsl: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in adsl.columns]
    if missing:
        raise AnalysisError(f"adsl: missing column(s) {missing} needed for derivation")


#: derived ADSL frames kept by :func:`derive_adsl` in this process, at most 200,000 rows in all (a
#: chapter derives the same populations 20-odd times; the bound keeps a large cut's memory low)
DERIVED_ADSL = FrameCache(200_000)


def derive_adsl(adsl: pd.DataFrame) -> pd.DataFrame:
    """Table 1 / subgroup inputs: ADSL with the derived analysis columns added (copy).

    A pure function of the frame's content: a frame derived before in this process is returned
    from a cache, as a new copy (:class:`ixathaldex.analysis.framecache.FrameCache`).

    Added columns (flags 'Y'/'N', NaN when not evaluable; groups as labelled strings):

    - ``HRCYTOFL``  t(4;14) or t(14;16) or del(17p); FISH-evaluable patients only
    - ``GAIN1QFL``  gain of 1q21 (probe result); NaN when not FISH-evaluable or GAIN1Q empty
    - ``GAIN1QDFL`` gain of 1q21 detected (Y) / not detected (N, including probe not done);
      FISH-evaluable only — the coding of the Cox model (complete cases n = 60 in the paper)
    - ``HR1QFL``    high risk and/or gain of 1q21 detected; FISH-evaluable only
    - ``CYTOGR3``   'Isolated gain 1q21' / 'High risk' (with or without 1q21) / 'Neither'
      (no aberration detected, including a missing 1q21 probe)
    - ``IMIDNAFL``  IMiD-naive: no prior lenalidomide and no thalidomide (falls back to
      IMIDEXFL = N when those columns are absent)
    - ``PRLINGR``   prior lines '1' / '>1';  ``PRLINGR3`` '1–2' / '3–4' / '≥5'
    - ``ISSGR1``    'I' / 'II–III';  ``ISSGR2`` 'I–II' / 'III'
    - ``AGEGR``     '<75' / '≥75' (from AGE)
    - ``FITGR``     'Fit' / 'Unfit/frail'
    - ``GFRGR``     '≥60' / '<60' mL/min
    - ``HGBLOFL``   haemoglobin < 100 g/L;  ``ALBLOFL`` albumin < 35 g/L
    - ``ECOGGR``    '0–1' / '≥2'
    - ``MOSFL``     months since start of first-line therapy, (TRTSDT − FLTSTDT) / 30.4375
    """
    return DERIVED_ADSL.derive(adsl, derive_adsl_columns)


def derive_adsl_columns(adsl: pd.DataFrame) -> pd.DataFrame:
    """:func:`derive_adsl` without its cache: the derivation itself."""
    _require(adsl, ["USUBJID", "FISHFL", *HR_ABERRATIONS, "GAIN1Q", "IMIDEXFL", "PRLINES", "ISS",
                    "AGE", "FRAILTY", "GFR", "HGB", "ALB"])
    d = derive_population_flags(adsl).copy()
    for name, column in derive_cytogenetics(d).items():
        d[name] = column
    d["IMIDNAFL"] = derive_imid_naive(d)
    for name, column in derive_baseline_groups(d).items():
        d[name] = column
    for name, column in derive_study_groups(d).items():
        d[name] = column
    return d


def derive_population_flags(adsl: pd.DataFrame) -> pd.DataFrame:
    """Every analysis: ADSL whose population flags (ITTFL, PPROTFL, FISHFL, MNTSAFFL, MNTFL) are the
    ones in force — a study's own flag for ``itt``, ``pp``, ``fish``, ``maint`` or ``mntenter``
    where its snapshot declares one (a copy then), else ``adsl`` itself."""
    over = {col: definition_column(key.lower()) for key, (col, _) in POPULATIONS.items()
            if definition_column(key.lower()) in adsl.columns}
    if not over:
        return adsl
    d = adsl.copy()
    for col, study in over.items():
        d[col] = d[study]
    return d


def derive_study_groups(adsl: pd.DataFrame) -> dict[str, pd.Series]:
    """Subgroup columns a study points at its own flags (Y = the level named in the catalogue of
    ``ixathaldex.data.definitions``: the risk level, or Y of a Y/N column), by ADSL row; the
    cytogenetic ones are done in :func:`derive_cytogenetics`."""
    out = {}
    for name, sg in SUBGROUPS.items():
        flag = None if sg.population == "FISH" else _study_flag(adsl, name)
        if flag is None:
            continue
        yes, no = ("Y", "N") if sg.levels == ("Y", "N") else (sg.risk, sg.reference)
        out[sg.column] = pd.Series(np.nan, index=adsl.index, dtype=object)
        out[sg.column][_bool(flag)] = yes
        out[sg.column][(~flag.fillna(True)).astype(bool)] = no
    return out


def _bool(b: pd.Series) -> pd.Series:
    """Nullable boolean -> plain bool, <NA> as False."""
    return b.fillna(False).astype(bool)


def _study_flag(adsl: pd.DataFrame, name: str, within: pd.Series | None = None) -> pd.Series | None:
    """A study's own flag for definition ``name`` (nullable boolean; missing outside ``within``),
    or None when the snapshot uses the default rule (``ixathaldex.data.definitions``)."""
    column = definition_column(name)
    if column not in adsl.columns:
        return None
    flag = _flag(adsl[column])
    return flag if within is None else flag.where(within)


def derive_cytogenetics(adsl: pd.DataFrame) -> dict[str, pd.Series]:
    """Table 1 / Figure 3 inputs: the FISH risk columns ``HRCYTOFL``, ``GAIN1QFL``, ``GAIN1QDFL``,
    ``HR1QFL`` and ``CYTOGR3`` of ``derive_adsl`` (defined there), by ADSL row. A study's own flag
    for ``hr_cyto`` or ``gain1q`` replaces the default rule (FISH-evaluable patients only), and
    the other three columns follow from the two in force."""
    fish = adsl["FISHFL"] == "Y"
    hr = _study_flag(adsl, "hr_cyto", fish)
    if hr is None:
        any_y = pd.Series(False, index=adsl.index)
        all_known = pd.Series(True, index=adsl.index)
        for col in HR_ABERRATIONS:
            any_y |= adsl[col] == "Y"
            all_known &= adsl[col].isin(["Y", "N"])
        hr = pd.Series(pd.NA, index=adsl.index, dtype="boolean")
        hr[fish & any_y] = True
        hr[fish & ~any_y & all_known] = False
    g1q = _study_flag(adsl, "gain1q", fish)
    if g1q is None:
        g1q = pd.Series(pd.NA, index=adsl.index, dtype="boolean")  # probe result; missing if not done
        g1q[fish & (adsl["GAIN1Q"] == "Y")] = True
        g1q[fish & (adsl["GAIN1Q"] == "N")] = False
    g1q_det = pd.Series(pd.NA, index=adsl.index, dtype="boolean")  # detected vs not detected
    g1q_det[fish] = _bool(g1q)[fish]
    det = _bool(g1q_det)
    hr_t, hr_f = _bool(hr), (~hr.fillna(True)).astype(bool)
    any_ab = pd.Series(pd.NA, index=adsl.index, dtype="boolean")
    any_ab[fish & (hr_t | det)] = True
    any_ab[fish & hr_f & ~det] = False
    grp = pd.Series(np.nan, index=adsl.index, dtype=object)
    grp[hr_t] = "High risk"
    grp[hr_f & det] = "Isolated gain 1q21"
    grp[hr_f & fish & ~det] = "Neither"
    return {"HRCYTOFL": _yn(hr), "GAIN1QFL": _yn(g1q), "GAIN1QDFL": _yn(g1q_det), "HR1QFL": _yn(any_ab),
            "CYTOGR3": grp}


def derive_imid_naive(adsl: pd.DataFrame) -> pd.Series:
    """Table 2B / PFS by IMiD: ``IMIDNAFL``, IMiD-naive = no prior lenalidomide and no
    thalidomide (the only reading that gives the paper's 37 vs 53; see docs/statistics.md),
    falling back to IMIDEXFL = N when those columns are absent."""
    if {"LENEXPFL", "THALEXFL"} <= set(adsl.columns):
        lenthal = (adsl["LENEXPFL"] == "Y") | (adsl["THALEXFL"] == "Y")
        return pd.Series(np.where(lenthal, "N", "Y"), index=adsl.index)
    return _yn(~_flag(adsl["IMIDEXFL"]))


def _cut(series: pd.Series, fn) -> pd.Series:
    """``fn`` of every known value, NaN where the value is missing (``fn`` called once per
    distinct value)."""
    out = pd.Series(np.nan, index=series.index, dtype=object)
    ok = series.notna().to_numpy()
    known = series.to_numpy(dtype=object)[ok]  # plain values: nothing of the input frame is touched
    table = {v: fn(v) for v in pd.unique(known)}
    out[ok] = [table[v] for v in known]
    return out


def derive_baseline_groups(adsl: pd.DataFrame) -> dict[str, pd.Series]:
    """Table 1 / subgroup inputs: the grouped baseline columns of ``derive_adsl`` (``PRLINGR``,
    ``PRLINGR3``, ``ISSGR1``, ``ISSGR2``, ``AGEGR``, ``FITGR``, ``GFRGR``, ``HGBLOFL``,
    ``ALBLOFL``, and ``ECOGGR`` / ``MOSFL`` when their source columns exist)."""
    d = adsl
    out = {
        "PRLINGR": _cut(d["PRLINES"], lambda v: "1" if v <= 1 else ">1"),
        "PRLINGR3": _cut(d["PRLINES"], lambda v: "1–2" if v <= 2 else ("3–4" if v <= 4 else "≥5")),
        "ISSGR1": _cut(d["ISS"], lambda v: "I" if v == "I" else "II–III"),
        "ISSGR2": _cut(d["ISS"], lambda v: "III" if v == "III" else "I–II"),
        "AGEGR": _cut(d["AGE"], lambda v: "<75" if v < 75 else "≥75"),
        "FITGR": _cut(d["FRAILTY"], lambda v: "Fit" if v == "FIT" else "Unfit/frail"),
        "GFRGR": _cut(d["GFR"], lambda v: "≥60" if v >= 60 else "<60"),
        "HGBLOFL": _cut(d["HGB"], lambda v: "Y" if v < 100 else "N"),
        "ALBLOFL": _cut(d["ALB"], lambda v: "Y" if v < 35 else "N"),
    }
    if "ECOG" in d:
        out["ECOGGR"] = _cut(d["ECOG"], lambda v: "0–1" if v <= 1 else "≥2")
    if "FLTSTDT" in d and "TRTSDT" in d:
        days = (pd.to_datetime(d["TRTSDT"]) - pd.to_datetime(d["FLTSTDT"])).dt.days
        out["MOSFL"] = days / DAYS_PER_MONTH
    return out


def derive_population(adsl: pd.DataFrame, name: str) -> pd.DataFrame:
    """Analysis population ``name`` (ITT, PP, FISH, MAINT, MNTENTER): the ADSL rows flagged 'Y'.

    FISH is the FISH-evaluable subset of the ITT population; MAINT is the maintenance safety set
    (MNTSAFFL, Table 3's n = 41); MNTENTER is every patient who entered maintenance (MNTFL). A
    study's own population flag replaces the column where its snapshot declares one
    (:func:`derive_population_flags`).
    """
    key = name.upper()
    if key not in POPULATIONS:
        raise AnalysisError(f"unknown population {name!r} (known: {', '.join(POPULATIONS)})")
    adsl = derive_population_flags(adsl)
    col = POPULATIONS[key][0]
    if col not in adsl.columns:
        raise AnalysisError(f"adsl: column {col} needed for population {key} is missing")
    mask = adsl[col] == "Y"
    if key != "ITT" and "ITTFL" in adsl.columns:
        mask &= adsl["ITTFL"] == "Y"
    return adsl.loc[mask].copy()


@dataclass(frozen=True)
class Subgroup:
    """One subgroup factor: a derived column split into ordered levels.

    ``levels`` are the column's values in display order; ``labels`` their display names;
    ``reference`` is the level used as the Cox reference (HR = other level vs reference);
    ``risk`` the level coded 1 in Cox models (the adverse level for binary factors).
    """

    id: str
    label: str
    column: str
    levels: tuple
    labels: tuple
    reference: str
    population: str = "ITT"
    note: str = ""

    @property
    def risk(self):
        others = [lv for lv in self.levels if lv != self.reference]
        return others[0] if len(others) == 1 else None

    def level_label(self, level) -> str:
        return dict(zip(self.levels, self.labels)).get(level, str(level))


SUBGROUPS: dict[str, Subgroup] = {s.id: s for s in [
    Subgroup("iss_1_vs_23", "ISS stage I vs II–III", "ISSGR1", ("I", "II–III"),
             ("ISS I", "ISS II–III"), reference="I"),
    Subgroup("iss_12_vs_3", "ISS stage I–II vs III", "ISSGR2", ("I–II", "III"),
             ("ISS I–II", "ISS III"), reference="I–II"),
    Subgroup("prior_lines", "Prior lines 1 vs >1", "PRLINGR", ("1", ">1"),
             ("1 prior line", ">1 prior lines"), reference="1"),
    Subgroup("age75", "Age <75 vs ≥75 years", "AGEGR", ("<75", "≥75"),
             ("Age <75", "Age ≥75"), reference="<75"),
    Subgroup("frailty", "Fit vs unfit/frail", "FITGR", ("Fit", "Unfit/frail"),
             ("Fit", "Unfit/frail"), reference="Fit"),
    Subgroup("gfr60", "GFR ≥60 vs <60 mL/min", "GFRGR", ("≥60", "<60"),
             ("GFR ≥60 mL/min", "GFR <60 mL/min"), reference="≥60"),
    Subgroup("hr_cyto", "High-risk vs standard-risk cytogenetics", "HRCYTOFL", ("Y", "N"),
             ("High risk", "Standard risk"), reference="N", population="FISH"),
    Subgroup("imid", "IMiD-naive vs IMiD-exposed", "IMIDNAFL", ("Y", "N"),
             ("IMiD-naive", "IMiD-exposed"), reference="Y"),
    Subgroup("gain1q", "Gain of 1q21 vs none", "GAIN1QFL", ("Y", "N"),
             ("Gain 1q21", "No gain 1q21"), reference="N", population="FISH"),
    Subgroup("gain1q_detected", "Gain of 1q21 detected vs not detected", "GAIN1QDFL", ("Y", "N"),
             ("Gain 1q21", "No gain 1q21 detected"), reference="N", population="FISH"),
    Subgroup("hr_or_1q", "High risk and/or gain 1q21 vs neither", "HR1QFL", ("Y", "N"),
             ("HR and/or gain 1q21", "Neither"), reference="N", population="FISH"),
    Subgroup("cyto3", "Isolated gain 1q21 vs high risk vs neither", "CYTOGR3",
             ("Isolated gain 1q21", "High risk", "Neither"),
             ("Isolated gain 1q21", "High risk (± 1q21)", "Neither"), reference="Neither",
             population="FISH"),
    Subgroup("hgb100", "Haemoglobin <100 vs ≥100 g/L", "HGBLOFL", ("Y", "N"),
             ("Hb <100 g/L", "Hb ≥100 g/L"), reference="N"),
    Subgroup("alb35", "Albumin <35 vs ≥35 g/L", "ALBLOFL", ("Y", "N"),
             ("Albumin <35 g/L", "Albumin ≥35 g/L"), reference="N"),
]}

#: the subgroup comparisons of the survival results text, in the paper's order
SURVIVAL_FACTORS = ("iss_1_vs_23", "iss_12_vs_3", "prior_lines", "age75", "frailty", "gfr60",
                    "hr_cyto", "imid", "gain1q", "hr_or_1q", "cyto3")
#: factors of the univariate Cox screen for OS (binary; risk level coded 1). Gain of 1q21 enters
#: as detected / not detected so that a missing 1q21 probe does not drop a FISH patient from the
#: complete cases (the paper's multivariate model has 60 patients of 61 with FISH).
COX_FACTORS = ("gain1q_detected", "hr_cyto", "prior_lines", "iss_1_vs_23", "age75", "frailty", "gfr60",
               "imid", "hgb100", "alb35")
#: the six factors of the paper's multivariate OS model (univariate p < 0.2 in the paper)
PAPER_MULTIVARIATE_FACTORS = ("gain1q_detected", "prior_lines", "iss_1_vs_23", "hgb100", "alb35",
                              "gfr60")
#: response-rate comparisons (Table 2B and the IMiD comparison)
RESPONSE_FACTORS = ("hr_cyto", "gain1q", "hr_or_1q", "imid")


def get_subgroup(factor) -> Subgroup:
    """The registry entry of ``factor`` (an id or a Subgroup)."""
    if isinstance(factor, Subgroup):
        return factor
    try:
        return SUBGROUPS[factor]
    except KeyError:
        raise AnalysisError(f"unknown subgroup factor {factor!r} (known: {', '.join(SUBGROUPS)})") \
            from None


def split_by(adsl: pd.DataFrame, factor) -> pd.Series:
    """Level of ``factor`` for each row of a *derived* ADSL (NaN when not evaluable)."""
    sg = get_subgroup(factor)
    if sg.column not in adsl.columns:
        raise AnalysisError(f"adsl has no column {sg.column}: call derive_adsl() first")
    lv = adsl[sg.column]
    return lv.where(lv.isin(sg.levels))


# --------------------------------------------------------------------------------------------
# Table 1 and the flow chart
# --------------------------------------------------------------------------------------------

def _count_row(rows, section, item, n, denom):
    rows.append({"section": section, "item": item, "stat": "n (%)", "n": int(n),
                 "denominator": int(denom), "pct": 100.0 * n / denom if denom else np.nan,
                 "value": np.nan, "low": np.nan, "high": np.nan})


def _median_row(rows, section, item, values, spread):
    v = pd.Series(values, dtype=float).dropna()
    if spread == "range":
        lo, hi = (v.min(), v.max()) if len(v) else (np.nan, np.nan)
    else:
        lo, hi = (v.quantile(0.25), v.quantile(0.75)) if len(v) else (np.nan, np.nan)
    rows.append({"section": section, "item": item, "stat": f"median ({spread})", "n": int(len(v)),
                 "denominator": int(len(v)), "pct": np.nan, "value": v.median() if len(v) else np.nan,
                 "low": lo, "high": hi})


def table_characteristics(adsl: pd.DataFrame) -> pd.DataFrame:
    """Table 1: patient characteristics of the ITT population (n and %, median with range/IQR).

    One row per printed cell: ``section``, ``item``, ``stat`` ('n (%)' or 'median (range)' /
    'median (IQR)'), ``n``, ``denominator``, ``pct``, ``value``, ``low``, ``high``.
    Cytogenetic rows use the FISH-evaluable patients as denominator. IQR uses pandas' linear
    quantile interpolation.
    """
    d = derive_adsl(derive_population(adsl, "ITT"))
    N = len(d)
    if N == 0:
        raise AnalysisError("Table 1: the ITT population is empty")
    rows: list[dict] = []
    _median_row(rows, "Age, years", "Age", d["AGE"], "range")
    for code, lab in (("M", "Male"), ("F", "Female")):
        _count_row(rows, "Sex", lab, (d["SEX"] == code).sum(), N)
    for st in ("I", "II", "III"):
        _count_row(rows, "ISS stage", st, (d["ISS"] == st).sum(), N)
    for lab in ("0–1", "≥2"):
        _count_row(rows, "ECOG status", lab, (d["ECOGGR"] == lab).sum(), N)
    for lab in ("IgG", "IgA", "Light chain only"):
        _count_row(rows, "Type of MM", lab, (d["MMTYPE"] == lab).sum(), N)
    fish = d[d["FISHFL"] == "Y"]
    nf = len(fish)
    _count_row(rows, "Cytogenetics", "FISH evaluable", nf, N)
    for col, lab in (("T414", "t(4;14)"), ("T1416", "t(14;16)"), ("DEL17P", "del(17p)")):
        _count_row(rows, "Cytogenetics", lab, (fish[col] == "Y").sum(), nf)
    _count_row(rows, "Cytogenetics", "High risk (any of t(4;14), t(14;16), del(17p))",
               (fish["HRCYTOFL"] == "Y").sum(), nf)
    _count_row(rows, "Cytogenetics", "Gain of 1q21", (fish["GAIN1QFL"] == "Y").sum(), nf)
    _count_row(rows, "Cytogenetics", "High risk and/or gain of 1q21", (fish["HR1QFL"] == "Y").sum(), nf)
    _count_row(rows, "Cytogenetics", "None", (fish["HR1QFL"] == "N").sum(), nf)
    _median_row(rows, "Prior treatment lines", "Prior lines", d["PRLINES"], "range")
    for lab in ("1–2", "3–4", "≥5"):
        _count_row(rows, "Prior treatment lines", lab, (d["PRLINGR3"] == lab).sum(), N)
    pi, imid = d["PIEXPFL"] == "Y", d["IMIDEXFL"] == "Y"
    _count_row(rows, "Prior exposure", "PI", pi.sum(), N)
    _count_row(rows, "Prior exposure", "IMiD", imid.sum(), N)
    _count_row(rows, "Prior exposure", "PI and IMiD", (pi & imid).sum(), N)
    for col, lab in (("LENEXPFL", "Len exposed"), ("LENREFFL", "Len refractory"),
                     ("THALEXFL", "Thal exposed"), ("THALREFL", "Thal refractory"),
                     ("BTZEXPFL", "Btz exposed"), ("BTZREFFL", "Btz refractory")):
        _count_row(rows, "Prior exposure", lab, (d[col] == "Y").sum(), N)
    _count_row(rows, "Prior ASCT", "Autologous stem cell transplantation", (d["ASCTFL"] == "Y").sum(), N)
    _median_row(rows, "Months since start of first-line therapy", "Months", d["MOSFL"], "IQR")
    return pd.DataFrame(rows)


def table_treatment_exposure(adsl: pd.DataFrame, cutoff=None) -> pd.DataFrame:
    """Results text (treatment): prior lines, induction cycles, maintenance counts and duration, ITT.

    Rows: ``quantity``, ``n``, ``denominator``, ``pct``, ``value`` (medians), ``low``, ``high``.
    Stated readings (the paper gives no definitions):

    - maintenance duration, months = (last dose ``TRTEDT``, or ``cutoff`` when still on therapy,
      − ``MNTSDT`` + 1 day) / 30.4375 among the maintenance safety set (MNTSAFFL, received
      maintenance); without ``TRTEDT`` or ``cutoff`` it falls back to ``MNTCYC`` × 28 days;
    - induction (thalidomide) duration, months = (day before ``MNTSDT`` for patients who entered
      maintenance, else ``TRTEDT`` or ``cutoff``, − ``TRTSDT`` + 1 day) / 30.4375, ITT; thalidomide
      is given during induction only, so this is the time on thalidomide (dose interruptions are
      not in the data); without dates it falls back to ``INDCYC`` × 28 days.
    """
    d = derive_population(adsl, "ITT")
    N = len(d)
    ent = d["MNTFL"] == "Y"
    rows = []

    def add(q, n=np.nan, den=np.nan, value=np.nan, low=np.nan, high=np.nan):
        rows.append({"quantity": q, "n": n, "denominator": den,
                     "pct": 100.0 * n / den if den and not np.isnan(n) else np.nan,
                     "value": value, "low": low, "high": high})

    def add_median(q, values, den):
        v = pd.Series(values, dtype=float).dropna()
        add(q, len(v), den, v.median() if len(v) else np.nan, v.min() if len(v) else np.nan,
            v.max() if len(v) else np.nan)

    dated = "TRTEDT" in d.columns and cutoff is not None
    if dated:
        last = pd.to_datetime(d["TRTEDT"]).fillna(pd.Timestamp(cutoff))
    lines = d["PRLINES"].astype(float)
    add("prior lines, median (range)", len(lines), N, lines.median(), lines.min(), lines.max())
    add("prior lines 4 or more", (lines >= 4).sum(), N)
    cyc = d["INDCYC"].astype(float)
    add("induction cycles, median (range)", len(cyc), N, cyc.median(), cyc.min(), cyc.max())
    if dated and "MNTSDT" in d.columns:
        mstart = pd.to_datetime(d["MNTSDT"])
        ind_end = (mstart - pd.Timedelta(days=1)).where(mstart.notna(), last)
        ind = ((ind_end - pd.to_datetime(d["TRTSDT"])).dt.days + 1) / DAYS_PER_MONTH
    else:
        ind = cyc * 28 / DAYS_PER_MONTH
    add_median("induction (thalidomide) duration, months, median (range)", ind, N)
    add("completed induction", (d["INDCMPFL"] == "Y").sum(), N)
    add("entered maintenance", ent.sum(), N)
    saf = (d["MNTSAFFL"] == "Y") if "MNTSAFFL" in d.columns else ent
    add("received maintenance (maintenance safety set)", saf.sum(), N)
    add("completed maintenance (of entered)", (d.loc[ent, "MNTCMPFL"] == "Y").sum(), ent.sum())
    if dated and "MNTSDT" in d.columns:
        dur = ((last - pd.to_datetime(d["MNTSDT"])).dt.days + 1)[saf] / DAYS_PER_MONTH
        den = saf.sum()
    else:
        dur = d.loc[ent, "MNTCYC"].astype(float) * 28 / DAYS_PER_MONTH
        den = ent.sum()
    add_median("maintenance duration, months, median (range)", dur, den)
    add("on therapy at cut-off", (d["EOTSTT"] == "ONGOING").sum(), N)
    return pd.DataFrame(rows)


def table_flow(adsl: pd.DataFrame) -> pd.DataFrame:
    """Supplementary patient-flow chart: counts per box, drawn by ``figures.figure_flow``.

    Rows ``step``, ``label``, ``n``, ``parent`` (the box it comes from). Non-per-protocol patients
    are split by DCSREAS (missing reason -> 'Other/unknown').
    """
    d = derive_population(adsl, "ITT")
    rows = [{"step": "enrolled", "label": "Enrolled and treated (ITT)", "n": len(d), "parent": None}]
    pp = d["PPROTFL"] == "Y"
    rows.append({"step": "pp", "label": "Per-protocol (≥2 cycles)", "n": int(pp.sum()),
                 "parent": "enrolled"})
    rows.append({"step": "nonpp", "label": "Not per-protocol", "n": int((~pp).sum()),
                 "parent": "enrolled"})
    reasons = d.loc[~pp, "DCSREAS"].fillna("OTHER/UNKNOWN").value_counts()
    for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        rows.append({"step": f"nonpp:{reason}", "label": reason.capitalize(), "n": int(n),
                     "parent": "nonpp"})
    rows.append({"step": "indcmp", "label": "Completed induction (8 cycles)",
                 "n": int((d["INDCMPFL"] == "Y").sum()), "parent": "pp"})
    rows.append({"step": "mnt", "label": "Entered maintenance", "n": int((d["MNTFL"] == "Y").sum()),
                 "parent": "indcmp"})
    rows.append({"step": "mntcmp", "label": "Completed maintenance (12 cycles)",
                 "n": int((d["MNTCMPFL"] == "Y").sum()), "parent": "mnt"})
    rows.append({"step": "ongoing", "label": "On therapy at cut-off",
                 "n": int((d["EOTSTT"] == "ONGOING").sum()), "parent": "mnt"})
    return pd.DataFrame(rows)
