"""Reference data sets typed in from their publications, with their published results.

Gehan (1965) / Freireich et al. (1963): remission times (weeks) of 42 children with acute
leukaemia, 6-mercaptopurine vs placebo ("control"). ``+`` in the publication = censored.

Published results used by the tests (not produced by this project's code):
- KM medians: 6-MP 23 weeks, control 8 weeks. 95 % CI of the median (Brookmeyer–Crowley):
  log-log transform: 6-MP (13, NA), control (4, 11); log transform: 6-MP (16, NA), control
  (4, 12) — R survival::survfit with conf.type "log-log" / "log" (also in docs/design.md).
- Log-rank: chi-square 16.8 on 1 df, p = 4.2e-5 (R survdiff; Kleinbaum & Klein, Survival
  Analysis, ch. 2: log-rank statistic 16.79).
- Cox, treatment (control vs 6-MP): Breslow ties coef 1.509 (SE 0.410); Efron 1.572 (SE 0.412);
  exact 1.628 (Therneau & Grambsch 2000; R coxph documentation examples).

Rossi et al. (1980) recidivism data (ships with lifelines as ``load_rossi``); published Cox fit
(Efron ties, R coxph) in Fox, "Cox proportional-hazards regression for survival data",
Appendix to An R and S-PLUS Companion to Applied Regression (2002), Table p. 5.

Fisher (1935) lady tasting tea: 2x2 [[3, 1], [1, 3]]; two-sided exact p = 0.4857.
"""

import numpy as np

GEHAN_6MP_TIME = np.array([6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35],
                          dtype=float)
GEHAN_6MP_EVENT = np.array([1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0])
GEHAN_CONTROL_TIME = np.array([1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23],
                              dtype=float)
GEHAN_CONTROL_EVENT = np.ones(21, dtype=int)

GEHAN_MEDIAN = {"6MP": 23.0, "control": 8.0}
GEHAN_MEDIAN_CI_LOGLOG = {"6MP": (13.0, None), "control": (4.0, 11.0)}
GEHAN_MEDIAN_CI_LOG = {"6MP": (16.0, None), "control": (4.0, 12.0)}
GEHAN_LOGRANK_CHI2 = 16.79
GEHAN_LOGRANK_P = 4.17e-5
GEHAN_COX_COEF = {"breslow": 1.509, "efron": 1.572}
GEHAN_COX_SE = {"breslow": 0.410, "efron": 0.412}

ROSSI_FOX_EFRON = {  # covariate: (coef, se)
    "fin": (-0.37942, 0.19138),
    "age": (-0.05744, 0.02200),
    "race": (0.31390, 0.30799),
    "wexp": (-0.14980, 0.21222),
    "mar": (-0.43370, 0.38187),
    "paro": (-0.08488, 0.19576),
    "prio": (0.09150, 0.02865),
}

TEA_TABLE = [[3, 1], [1, 3]]
TEA_P_TWO_SIDED = 0.4857


# ---------------------------------------------------------------------------------------------
# Hand-made toy ADaM frames (not from a publication): small enough to compute every expected
# value by hand in the tests. Types follow snapshot.load_snapshot after coercion.
# ---------------------------------------------------------------------------------------------

import pandas as pd  # noqa: E402

_ADSL_COLS = ["USUBJID", "ITTFL", "PPROTFL", "FISHFL", "T414", "T1416", "DEL17P", "GAIN1Q",
              "IMIDEXFL", "PIEXPFL", "PRLINES", "ISS", "AGE", "SEX", "ECOG", "MMTYPE", "FRAILTY",
              "GFR", "HGB", "ALB", "INDCYC", "INDCMPFL", "MNTFL", "MNTSAFFL", "MNTCMPFL", "MNTCYC",
              "EOTSTT", "DCSREAS", "TRTSDT", "FLTSTDT", "MNTSDT"]
N_ = float("nan")
_ADSL_ROWS = [
    # id  ITT  PP   FISH T414 T1416 D17P G1Q  IMiD PI  lines ISS  age  sex ecog type  frailty  GFR  HGB  ALB cyc icmp mnt msaf mcmp mcyc status  reason
    ("P1", "Y", "Y", "Y", "Y", "N", "N", "Y", "N", "Y", 1, "I", 60.0, "M", 0, "IgG", "FIT", 80.0, 120.0, 40.0, 8, "Y", "Y", "Y", "Y", 12, "COMPLETED", N_),
    ("P2", "Y", "Y", "Y", "N", "N", "N", "Y", "Y", "Y", 2, "II", 76.0, "F", 1, "IgA", "UNFIT", 50.0, 90.0, 30.0, 8, "Y", "Y", "Y", "N", 5, "ONGOING", N_),
    ("P3", "Y", "Y", "Y", "N", "N", "Y", "N", "Y", "Y", 3, "III", 70.0, "M", 2, "IgG", "FRAIL", 59.9, 100.0, 35.0, 8, "Y", "Y", "N", "N", 0, "DISCONTINUED", "ADVERSE EVENT"),
    ("P4", "Y", "Y", "Y", "N", "N", "N", "N", "N", "N", 1, "I", 74.9, "F", 0, "Light chain only", "FIT", 60.0, 130.0, 45.0, 4, "N", "N", "N", "N", 0, "DISCONTINUED", "PROGRESSIVE DISEASE"),
    ("P5", "Y", "N", "N", N_, N_, N_, N_, "Y", "Y", 5, "II", 80.0, "M", 1, "IgG", "FRAIL", 30.0, 95.0, 33.0, 1, "N", "N", "N", "N", 0, "DISCONTINUED", "PROGRESSIVE DISEASE"),
    ("P6", "Y", "N", "Y", "N", "Y", "N", "Y", "Y", "Y", 4, "III", 65.0, "F", 1, "IgA", "UNFIT", 70.0, 110.0, 38.0, 1, "N", "N", "N", "N", 0, "DISCONTINUED", "ADVERSE EVENT"),
    ("P7", "Y", "Y", "N", N_, N_, N_, N_, "N", "Y", 2, "II", 55.0, "M", 0, "IgG", "FIT", 90.0, 99.9, 34.9, 3, "N", "N", "N", "N", 0, "DISCONTINUED", "PHYSICIAN DECISION"),
    ("P8", "Y", "Y", "Y", "N", "N", "N", N_, "Y", "Y", 1, "I", 50.0, "F", 0, "IgG", "FIT", 100.0, 140.0, 42.0, 8, "Y", "N", "N", "N", 0, "DISCONTINUED", "WITHDRAWAL BY SUBJECT"),
]
_TRTSDT = {"P1": "2016-01-01", "P2": "2016-02-01", "P3": "2016-03-01", "P4": "2016-04-01",
           "P5": "2016-05-01", "P6": "2016-06-01", "P7": "2016-07-01", "P8": "2016-08-01"}
_MNTSDT = {"P1": "2016-08-01", "P2": "2016-09-01"}

#: PFS and OS (days, CNSR) per patient
TOY_PFS = {"P1": (300, 0), "P2": (200, 1), "P3": (100, 0), "P4": (400, 0), "P5": (50, 0),
           "P6": (150, 1), "P7": (250, 0), "P8": (350, 1)}
TOY_OS = {"P1": (500, 1), "P2": (300, 0), "P3": (200, 0), "P4": (600, 1), "P5": (90, 0),
          "P6": (150, 1), "P7": (400, 1), "P8": (350, 1)}
#: best overall response, end-of-induction, best in maintenance (AVALC, ADT)
TOY_BOR = {"P1": "CR", "P2": "VGPR", "P3": "PR", "P4": "MR", "P5": "PD", "P6": "NE", "P7": "SD",
           "P8": "PR"}
TOY_EOI = {"P1": "VGPR", "P2": "PR", "P3": "PR", "P8": "PR"}
TOY_MNT = {"P1": ("CR", "2016-11-01"), "P2": ("PR", "2016-10-15")}
#: adverse events: (id, term, category, grade, phase)
TOY_AE = [
    ("P1", "Anaemia", "HAEMATOLOGICAL", 1, "INDUCTION"),
    ("P1", "Anaemia", "HAEMATOLOGICAL", 3, "INDUCTION"),
    ("P1", "Anaemia", "HAEMATOLOGICAL", 2, "MAINTENANCE"),
    ("P2", "Anaemia", "HAEMATOLOGICAL", 2, "INDUCTION"),
    ("P2", "Fatigue", "NON-HAEMATOLOGICAL", 1, "MAINTENANCE"),
    ("P2", "Fatigue", "NON-HAEMATOLOGICAL", 4, "MAINTENANCE"),
    ("P3", "Fatigue", "NON-HAEMATOLOGICAL", 2, "INDUCTION"),
    ("P3", "Upper respiratory infection", "NON-HAEMATOLOGICAL", 3, "INDUCTION"),
    ("P4", "Fatigue", "NON-HAEMATOLOGICAL", 1, "INDUCTION"),
    ("P4", "Fatigue", "NON-HAEMATOLOGICAL", 1, "INDUCTION"),
    ("P5", "Hiccups", "NON-HAEMATOLOGICAL", 1, "INDUCTION"),
]


def toy_frames():
    """(adsl, adtte, adrs, adae) of 8 hand-made patients, typed like a loaded snapshot."""
    adsl = pd.DataFrame([r + (_TRTSDT[r[0]], "2012-01-01", _MNTSDT.get(r[0], N_)) for r in _ADSL_ROWS],
                        columns=_ADSL_COLS)
    for c in ("PRLINES", "ECOG", "INDCYC", "MNTCYC"):
        adsl[c] = adsl[c].astype("Int64")
    for c in ("TRTSDT", "FLTSTDT", "MNTSDT"):
        adsl[c] = pd.to_datetime(adsl[c])
    adsl.insert(0, "STUDYID", "IXATHALDEX")
    # prior therapy: P3 len-exposed and refractory, P5 and P6 len-exposed, P2 thal-exposed; P8 is
    # IMiD-exposed but neither len nor thal (IMiD-naive by the len/thal reading); btz all but P4
    for c in ("LENEXPFL", "LENREFFL", "THALEXFL", "THALREFL", "BTZEXPFL", "BTZREFFL", "ASCTFL"):
        adsl[c] = "N"
    adsl.loc[2, ["LENEXPFL", "LENREFFL"]] = "Y"
    adsl.loc[[4, 5], "LENEXPFL"] = "Y"
    adsl.loc[1, "THALEXFL"] = "Y"
    adsl.loc[adsl["USUBJID"] != "P4", "BTZEXPFL"] = "Y"
    adsl.loc[[0, 1, 2], "ASCTFL"] = "Y"
    adsl["AGEGR1"] = ["<75" if a < 75 else ">=75" for a in adsl["AGE"]]
    rows = []
    for code, src in (("PFS", TOY_PFS), ("OS", TOY_OS)):
        for sid, (aval, cnsr) in src.items():
            rows.append({"STUDYID": "IXATHALDEX", "USUBJID": sid, "PARAMCD": code, "AVAL": aval,
                         "CNSR": cnsr})
    adtte = pd.DataFrame(rows)
    adtte["AVAL"] = adtte["AVAL"].astype("Int64")
    adtte["CNSR"] = adtte["CNSR"].astype("Int64")
    rs = [{"USUBJID": s, "PARAMCD": "BOR", "AVALC": v, "ADT": pd.NaT} for s, v in TOY_BOR.items()]
    rs += [{"USUBJID": s, "PARAMCD": "EOIRESP", "AVALC": v, "ADT": pd.NaT} for s, v in TOY_EOI.items()]
    rs += [{"USUBJID": s, "PARAMCD": "MNTBOR", "AVALC": v, "ADT": pd.Timestamp(d)}
           for s, (v, d) in TOY_MNT.items()]
    adrs = pd.DataFrame(rs)
    adrs["ADT"] = pd.to_datetime(adrs["ADT"])
    adae = pd.DataFrame(TOY_AE, columns=["USUBJID", "AEDECOD", "AECAT", "AETOXGR", "APHASE"])
    adae["AETOXGR"] = adae["AETOXGR"].astype("Int64")
    adae.insert(1, "AESEQ", range(1, len(adae) + 1))
    return adsl, adtte, adrs, adae
