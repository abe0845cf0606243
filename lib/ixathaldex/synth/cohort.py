"""Synthetic cohort: one latent 90-patient cohort cut into ADaM snapshots (counts of the paper).

The generator builds one *latent* cohort (enrolment dates, baseline covariates, responses, true
progression and death times, treatment course, adverse events), then cuts it at a date: whatever
happens after the cut is censored at the cut. All printed counts of the paper are fixed by
construction here; the survival results are tuned by ``ixathaldex.synth.calibration`` (times, enrolment
dates and count-preserving swaps only). Cutting the cohort into ADaM tables and writing them is in
``ixathaldex.synth.cuts`` (its public names stay importable from here). The data is synthetic:
no real patient is in it.

Days are on the ADaM ``AVAL`` scale: day 1 is the treatment start (``TRTSDT``), an event on day
``d`` has date ``TRTSDT + d - 1``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace

import numpy as np

from ixathaldex.analysis import safety
from ixathaldex.exceptions import CalibrationError
from ixathaldex.values import DAYS_PER_MONTH

GENERATOR = "ixathaldex.synthetic"  # the name recorded in manifests (kept: regenerated cuts stay byte-identical)
GENERATOR_VERSION = "2.3.0"  # 2.0.0: calibrated to the printed precision; 2.1.0: counted through the claims layer, faster search; 2.2.0: the targeted finish (synth.refine); 2.3.0: the log-rank finish (synth.logrank_finish) (issue 14)
DEFAULT_SEED = 20180630
STUDYID = "IXATHALDEX"
ACCRUAL_START = dt.date(2016, 1, 4)
ACCRUAL_DAYS = 640                      # last enrolment 2017-10-05
CUT_PUBLICATION = dt.date(2018, 6, 30)  # median follow-up (reverse KM, OS) ~ 19.1 months
CUT_LATER = dt.date(2019, 12, 31)       # 18 months later
CUTS = ((CUT_PUBLICATION, "Publication cut (synthetic, calibrated to the paper)"),
        (CUT_LATER, "Later cut, 18 months more follow-up (synthetic, same latent cohort)"))
MONTH = DAYS_PER_MONTH
CYCLE = 28
IND_END = 8 * CYCLE            # day 224: last day of induction
MNT_START = IND_END + 1        # day 225: first day of maintenance
MNT_END = IND_END + 12 * CYCLE  # day 560: last day of twelve maintenance cycles

# flow classes (fixed by construction; see docs/calibration.md)
IND_PD, IND_OTHER, NODOSE_PD, NODOSE_OTHER, MNT_PD, MNT_OTHER, MNT_COMPLETE, MNT_ONGOING = range(8)
RESP = np.array(["CR", "VGPR", "PR", "MR", "SD", "PD", "NE"])
CR, VGPR, PR, MR, SD, PD, NE = range(7)
REASONS = np.array(["", "PROGRESSIVE DISEASE", "ADVERSE EVENT", "WITHDRAWAL BY SUBJECT",
                    "PHYSICIAN DECISION", "DEATH"])
R_NONE, R_PD, R_AE, R_WD, R_PHYS = range(5)

# Table 3 cells in the order of analysis.safety.TERMS (the one list of its rows): (ITT grade 1-2,
# ITT grade >=3, maintenance 1-2, maintenance >=3); rows are (term, haematological?, *cells)
_AE_CELLS = [
    (24, 1, 8, 1), (13, 8, 1, 0), (7, 3, 2, 0), (1, 2, 0, 1), (10, 2, 2, 0), (0, 1, 0, 0), (0, 1, 0, 0),
    (33, 4, 7, 1), (33, 2, 4, 0), (26, 1, 1, 0), (8, 3, 1, 1), (16, 0, 3, 0), (26, 0, 4, 0), (22, 6, 9, 0),
    (2, 2, 0, 0), (4, 2, 0, 1), (1, 2, 0, 0),
    (66, 16, 34, 4), (46, 5, 28, 1), (35, 2, 17, 0), (36, 7, 17, 3),
]
AE_TABLE = [(term, term in safety.HAEM_TERMS, *cells) for term, cells in zip(safety.TERMS, _AE_CELLS, strict=True)]
INFECTION_TERMS = len(safety.INFECTION_TERMS)  # the first terms are infections, given to disjoint patients


@dataclass
class Latent:
    """The latent cohort: one array entry per patient (plus the adverse-event records)."""

    enrol: np.ndarray       # days from ACCRUAL_START to TRTSDT
    pfs: np.ndarray         # true day of progression or death (AVAL scale)
    os: np.ndarray          # true day of death (>= pfs)
    dnp: np.ndarray         # death without progression (then pfs == os)
    cls: np.ndarray         # flow class
    indcyc: np.ndarray      # induction cycles (fixed for induction stoppers, 8 otherwise)
    stop: np.ndarray        # day of a non-PD treatment stop (classes IND_OTHER/NODOSE_OTHER/MNT_OTHER)
    reason: np.ndarray      # discontinuation reason code for fixed-stop classes
    pp: np.ndarray          # per-protocol (>= 2 full cycles)
    bor: np.ndarray         # best overall response code
    eoi: np.ndarray         # response at end of induction (completers)
    mnt: np.ndarray         # best response in maintenance (dosed)
    upg_day: np.ndarray     # day of the maintenance upgrade (0 = none)
    resp_day: np.ndarray    # day BOR first documented (relative, refined at the cut)
    site: np.ndarray
    sex: np.ndarray
    ecog: np.ndarray
    mmtype: np.ndarray
    iss: np.ndarray         # 1, 2, 3
    fishfl: np.ndarray
    t414: np.ndarray        # 1 yes, 0 no, -1 not done
    t1416: np.ndarray
    del17p: np.ndarray
    gain1q: np.ndarray
    prlines: np.ndarray
    mfl: np.ndarray         # months since first-line start
    pi: np.ndarray
    imid: np.ndarray
    len_: np.ndarray
    lenref: np.ndarray
    thal: np.ndarray
    thalref: np.ndarray
    btz: np.ndarray
    btzref: np.ndarray
    asct: np.ndarray
    age: np.ndarray
    hgb: np.ndarray
    alb: np.ndarray         # NaN = missing
    gfr: np.ndarray
    frail: np.ndarray       # 0 FIT, 1 UNFIT, 2 FRAIL
    ae: dict = field(default_factory=dict)  # arrays: pat, term, grade, phase (0 ind, 1 mnt), frac

    @property
    def n(self) -> int:
        return len(self.enrol)

    def copy(self) -> "Latent":
        kw = {f.name: (getattr(self, f.name).copy() if f.name != "ae"
                       else {k: v.copy() for k, v in self.ae.items()}) for f in fields(self)}
        return Latent(**kw)


def _exact(values, n):
    """An array of ``n`` codes with exact counts: ``values`` is a list of (code, count)."""
    out = np.concatenate([np.full(c, v) for v, c in values])
    if len(out) != n:
        raise CalibrationError(f"construction: counts sum to {len(out)}, not {n}")
    return out


def build_latent(seed: int = DEFAULT_SEED) -> Latent:
    """The 90-patient latent cohort with every printed count fixed by construction."""
    rng = np.random.default_rng(seed)
    n = 90
    # ---- flow (rows in a fixed order; patients are anonymous until written) -----------------
    # non-PP (14): PD 9, toxicity 2, withdrawal 1, physician 2; INDCYC 0 (2) / 1 (12)
    rows = []  # (cls, indcyc, reason, bor)
    rows += [(IND_PD, 0, R_PD, PD)] + [(IND_PD, 1, R_PD, PD)] * 7 + [(IND_PD, 1, R_PD, MR)]
    rows += [(IND_OTHER, 0, R_AE, NE), (IND_OTHER, 1, R_AE, MR), (IND_OTHER, 1, R_WD, NE),
             (IND_OTHER, 1, R_PHYS, MR), (IND_OTHER, 1, R_PHYS, NE)]
    # per-protocol non-completers (33): INDCYC 2:7 3:7 4:8 5:7 6:3 7:1; PR 7, MR 4, SD 14, PD 8
    cyc = [2] * 7 + [3] * 7 + [4] * 8 + [5] * 7 + [6] * 3 + [7] * 1
    bors = [PD] * 4 + [SD] * 3 + [PD] * 4 + [SD] * 3 + [SD] * 4 + [MR] * 2 + [PR] * 2 \
        + [SD] * 3 + [MR] * 2 + [PR] * 2 + [SD] * 1 + [PR] * 2 + [PR] * 1
    assert len(cyc) == 33 and len(bors) == 33
    other = {5: R_AE, 12: R_AE, 20: R_AE, 27: R_AE, 30: R_WD}  # 5 non-PD stops among the 33
    for i, (k, b) in enumerate(zip(cyc, bors)):
        r = other.get(i, R_PD)
        rows.append((IND_OTHER if r != R_PD else IND_PD, k, r, b))
    # completers (43): CR 8 (4 by upgrade), VGPR 13 (1 by upgrade), PR 18, MR 2, SD 2
    # EOI response of completers: CR 4, VGPR 15, PR 20, MR 2, SD 2
    comp = []  # (cls, reason, eoi, bor)
    comp += [(NODOSE_PD, R_PD, SD, SD), (NODOSE_OTHER, R_WD, PR, PR)]
    # 13 complete maintenance: the 5 upgraders + 8
    comp += [(MNT_COMPLETE, R_NONE, VGPR, CR)] * 3 + [(MNT_COMPLETE, R_NONE, PR, VGPR),
                                                     (MNT_COMPLETE, R_NONE, PR, CR)]
    comp += [(MNT_COMPLETE, R_NONE, e, e) for e in (CR, CR, VGPR, VGPR, VGPR, PR, PR, PR)]
    comp += [(MNT_ONGOING, R_NONE, e, e) for e in (CR, VGPR, VGPR, VGPR, PR, PR, PR, PR, MR, PR)]
    comp += [(MNT_OTHER, R_AE, e, e) for e in (VGPR, PR, PR)]
    comp += [(MNT_PD, R_PD, e, e) for e in (CR, VGPR, VGPR, VGPR, VGPR, VGPR, PR, PR, PR, PR, PR,
                                            PR, PR, MR, SD)]
    assert len(comp) == 43, len(comp)
    for c, r, e, b in comp:
        rows.append((c, 8, r, b))
    assert len(rows) == n
    cls = np.array([r[0] for r in rows])
    indcyc = np.array([r[1] for r in rows])
    reason = np.array([r[2] for r in rows])
    bor = np.array([r[3] for r in rows])
    eoi = np.full(n, -1)
    eoi[47:] = [c[2] for c in comp]
    mnt = np.where(cls >= MNT_PD, eoi, -1)
    mnt[47 + 2:47 + 7] = [CR, CR, CR, VGPR, CR]
    upg_day = np.zeros(n, int)
    upg_day[47 + 2:47 + 7] = MNT_START + np.array([31, 95, 150, 212, 268])  # 1 to 9 months
    pp = indcyc >= 2

    # ---- responses: first documentation day -----------------------------------------------
    resp_day = np.where(bor <= MR, CYCLE * rng.integers(1, 4, n), CYCLE)

    # ---- baseline covariates -----------------------------------------------------------------
    resp = bor <= PR
    sex = rng.permutation(_exact([("M", 46), ("F", 44)], n))
    ecog = rng.permutation(_exact([(0, 40), (1, 46), (2, 4)], n))
    mmtype = rng.permutation(_exact([("IgG", 47), ("IgA", 20), ("Light chain only", 23)], n))
    site = rng.permutation(_exact([("01", 30), ("02", 22), ("03", 16), ("04", 12), ("05", 10)], n))

    # FISH (61): cells with their responders (Table 2B); see docs/calibration.md
    # profile: (t414, t1416, del17p, gain1q, count, responders)
    profiles = [
        ((1, 0, 0, 1), 7, 5), ((0, 0, 1, 1), 2, 2), ((0, 1, 1, 1), 1, 0), ((1, 0, 1, 1), 1, 1),
        ((1, 0, 0, 0), 5, 2), ((0, 0, 1, 0), 2, 1),
        ((0, 0, 0, 1), 21, 7), ((0, 0, 0, 0), 19, 15), ((0, 0, 0, -1), 3, 0),
    ]
    t414 = np.full(n, -1); t1416 = np.full(n, -1); del17p = np.full(n, -1); gain1q = np.full(n, -1)
    fishfl = np.zeros(n, bool)
    resp_idx = list(rng.permutation(np.flatnonzero(resp)))
    non_idx = list(rng.permutation(np.flatnonzero(~resp)))
    for prof, cnt, nresp in profiles:
        take = [resp_idx.pop() for _ in range(nresp)] + [non_idx.pop() for _ in range(cnt - nresp)]
        t414[take], t1416[take], del17p[take], gain1q[take] = prof
        fishfl[take] = True
    # IMiD block: (imid, len, lenref, thal, pom-only) with responders; 37 'len/thal-naive' with
    # 24 responders (one of them pomalidomide-exposed), 53 len/thal exposed with 22 responders
    resp_idx = list(rng.permutation(np.flatnonzero(resp)))
    non_idx = list(rng.permutation(np.flatnonzero(~resp)))
    imid = np.zeros(n, bool); len_ = np.zeros(n, bool); lenref = np.zeros(n, bool)
    thal = np.zeros(n, bool)
    blocks = [  # (imid, len, lenref, thal, count, responders)
        ((1, 1, 1, 0), 14, 5), ((1, 1, 0, 0), 27, 12), ((1, 1, 0, 1), 1, 0), ((1, 0, 0, 1), 11, 5),
        ((1, 0, 0, 0), 1, 1), ((0, 0, 0, 0), 36, 23)]
    block_of = np.zeros(n, int)
    for b, (prof, cnt, nresp) in enumerate(blocks):
        take = [resp_idx.pop() for _ in range(nresp)] + [non_idx.pop() for _ in range(cnt - nresp)]
        imid[take], len_[take], lenref[take], thal[take] = [bool(x) for x in prof]
        block_of[take] = b
    thalref = np.zeros(n, bool)
    # PI 85; PI and IMiD 50 -> IMiD without PI 4, neither 1
    pi = np.ones(n, bool)
    im = rng.permutation(np.flatnonzero(imid))[:4]
    nim = rng.permutation(np.flatnonzero(~imid))[:1]
    pi[im] = False; pi[nim] = False
    btz = np.zeros(n, bool)
    pidx = rng.permutation(np.flatnonzero(pi))
    btz[pidx[:79]] = True
    btzref = np.zeros(n, bool)
    btzref[pidx[:9]] = True
    # prior lines 1:50 2:16 3:6 4:9 5:4 6:2 7:2 8:1 ; months since first line (median 49, IQR 31-87)
    prlines = _exact([(1, 50), (2, 16), (3, 6), (4, 9), (5, 4), (6, 2), (7, 2), (8, 1)], n)
    # sorted values through fixed knots: quartiles exact under any interpolation rule
    pos = np.arange(n, dtype=float)
    m = np.interp(pos, [0, 22, 23, 44, 45, 66, 67, 89], [8.5, 31.0, 31.0, 49.0, 49.0, 87.0, 87.0, 178.0])
    jit = rng.uniform(-0.4, 0.4, n)
    jit[[22, 23, 44, 45, 66, 67]] = 0.0
    m = np.round(m + jit * np.r_[np.diff(m), 0.0].clip(0, 2), 2)
    # more lines -> longer since first line: rank lines with noise
    order = np.argsort(prlines + rng.uniform(0, 3.5, n), kind="stable")
    mfl = np.empty(n)
    mfl[order] = m
    perm = rng.permutation(n)
    prlines, mfl = prlines[perm], mfl[perm]
    # age: median 67.3, range 44.2-84.1, 17 aged >= 75 (4 over 80)
    a = np.sort(np.round(rng.normal(66, 8.5, n), 1))
    a = np.clip(a, 45, 74.9)
    a[:1] = 44.2
    a[44:46] = 67.3
    a[:44] = np.minimum(a[:44], 67.2)
    a[46:73] = np.clip(a[46:73], 67.4, 74.9)
    a[73:] = np.round(np.linspace(75.1, 84.1, 17), 1)
    a = np.sort(a)
    # ASCT 61: the younger ones mostly
    asct_sorted = np.zeros(n, bool)
    asct_sorted[:58] = True
    asct_sorted[[60, 64, 70]] = True
    perm = rng.permutation(n)
    age, asct = a[perm], asct_sorted[perm]
    # frailty: >80 FRAIL, 75-80 UNFIT/FRAIL, ECOG 2 not fit; FIT 38, UNFIT 28, FRAIL 24
    frail = np.full(n, -1)
    frail[age > 80] = 2
    old = np.flatnonzero((age >= 75) & (age <= 80))
    frail[old[:6]] = 1
    frail[old[6:]] = 2
    e2 = np.flatnonzero((ecog == 2) & (frail < 0))
    frail[e2] = 2
    rest = rng.permutation(np.flatnonzero(frail < 0))
    need = {0: 38, 1: 28 - (frail == 1).sum(), 2: 24 - (frail == 2).sum()}
    frail[rest[:need[0]]] = 0
    frail[rest[need[0]:need[0] + need[1]]] = 1
    frail[rest[need[0] + need[1]:]] = 2
    # ISS 37/30/23; albumin (<35 in 28, missing in 2: ISS III), Hb (<100 in 25), GFR (<60 in 30)
    iss = rng.permutation(_exact([(1, 37), (2, 30), (3, 23)], n))
    alb = np.round(rng.uniform(35.0, 47.0, n), 1)
    low = rng.permutation(np.flatnonzero(iss > 1))[:28]
    alb[low] = np.round(rng.uniform(24.0, 34.9, 28), 1)
    # missing albumin: one FISH and one non-FISH patient, ISS III, normal albumin slot
    cand_f = [i for i in rng.permutation(np.flatnonzero((iss == 3) & fishfl)) if i not in low][:1]
    cand_n = [i for i in rng.permutation(np.flatnonzero((iss == 3) & ~fishfl)) if i not in low][:1]
    alb[cand_f + cand_n] = np.nan
    hgb = np.round(rng.uniform(100, 142, n))
    lo = rng.permutation(n)[:25]
    hgb[lo] = np.round(rng.uniform(78, 99, 25))
    gfr = np.round(rng.uniform(60, 115, n), 1)
    lo = rng.permutation(n)[:30]
    gfr[lo] = np.round(rng.uniform(22, 59.9, 30), 1)

    # ---- times (initial; the calibration moves them) ---------------------------------------
    enrol = np.sort(rng.integers(0, ACCRUAL_DAYS + 1, n))
    fu_pub = (CUT_PUBLICATION - ACCRUAL_START).days + 1
    enrol = rng.permutation(enrol)
    # completers of maintenance need >= 560 days, ongoing ones < 560 days of follow-up
    lim = fu_pub - MNT_END  # enrol <= lim  <=> follow-up >= 560
    ic = np.flatnonzero(cls == MNT_COMPLETE)
    io = np.flatnonzero(cls == MNT_ONGOING)
    enrol[ic] = rng.integers(0, lim - 30, len(ic))
    enrol[io] = rng.integers(lim + 20, ACCRUAL_DAYS, len(io))
    stop = np.zeros(n, int)
    pfs = np.zeros(n, int)
    hazard = 1.0 + 0.6 * (gain1q == 1) + 0.3 * (iss == 3)
    for i in range(n):
        c, k = cls[i], indcyc[i]
        if c == IND_PD:
            pfs[i] = CYCLE * k + rng.integers(1, CYCLE + 1)
        elif c == IND_OTHER:
            stop[i] = CYCLE * k + rng.integers(1, CYCLE)
            pfs[i] = stop[i] + 1 + int(rng.exponential(150 / hazard[i]))
        elif c == NODOSE_PD:
            pfs[i] = MNT_START + rng.integers(1, 28)
        elif c == NODOSE_OTHER:
            stop[i] = IND_END
            pfs[i] = MNT_START + int(rng.exponential(200))
        elif c == MNT_PD:
            pfs[i] = MNT_START + 1 + int(rng.uniform(0, 1) ** 1.5 * (MNT_END - MNT_START - 1))
        elif c == MNT_OTHER:
            stop[i] = MNT_START + CYCLE * rng.integers(1, 6) + rng.integers(1, CYCLE)
            pfs[i] = stop[i] + 1 + int(rng.exponential(200))
        elif c == MNT_COMPLETE:
            pfs[i] = MNT_END + 1 + int(rng.exponential(300 / hazard[i]))
        else:
            fu = fu_pub - enrol[i]
            pfs[i] = fu + 1 + int(rng.exponential(300 / hazard[i]))
    os_ = pfs + 1 + (rng.exponential(480, n) / hazard ** 2).astype(int)
    dnp = np.zeros(n, bool)
    resp_day = np.minimum(resp_day, np.maximum(pfs - 1, 1))
    resp_day = np.where(cls >= NODOSE_PD, np.minimum(resp_day, IND_END - 1), resp_day)

    lat = Latent(enrol=enrol, pfs=pfs, os=os_, dnp=dnp, cls=cls, indcyc=indcyc, stop=stop,
                 reason=reason, pp=pp, bor=bor, eoi=eoi, mnt=mnt, upg_day=upg_day,
                 resp_day=resp_day, site=site, sex=sex, ecog=ecog, mmtype=mmtype, iss=iss,
                 fishfl=fishfl, t414=t414, t1416=t1416, del17p=del17p, gain1q=gain1q,
                 prlines=prlines, mfl=mfl, pi=pi, imid=imid, len_=len_, lenref=lenref, thal=thal,
                 thalref=thalref, btz=btz, btzref=btzref, asct=asct, age=age, hgb=hgb, alb=alb,
                 gfr=gfr, frail=frail)
    lat.ae = build_adverse_events(lat, rng)
    return lat


def build_adverse_events(lat: Latent, rng) -> dict:
    """Table 3 by construction: worst grade per patient, term and phase gives every printed cell."""
    n = lat.n
    dosed = np.flatnonzero(lat.cls >= MNT_PD)
    pats, terms, grades, phases = [], [], [], []
    used_infection = np.zeros(n, bool)
    for t, (term, _haem, a, b, c, d) in enumerate(AE_TABLE):
        free = np.ones(n, bool)
        if t < INFECTION_TERMS:
            free &= ~used_infection
        mset = np.zeros(n, bool)
        mset[dosed] = True
        pool_m = rng.permutation(np.flatnonzero(free & mset))
        dm = pool_m[:d]                   # maintenance grade >= 3
        cm = pool_m[d:d + c]              # maintenance worst grade 1-2 (overall 1-2)
        free[dm] = False; free[cm] = False
        pool = rng.permutation(np.flatnonzero(free))
        bi = pool[:b - d]                 # induction grade >= 3
        ai = pool[b - d:b - d + a - c]    # induction worst grade 1-2
        if len(bi) != b - d or len(ai) != a - c or len(dm) != d or len(cm) != c:
            raise CalibrationError(f"Table 3: not enough patients for {term}")
        for group, phase, severe in ((dm, 1, True), (cm, 1, False), (bi, 0, True), (ai, 0, False)):
            g = rng.choice([3, 4], len(group), p=[0.8, 0.2]) if severe else rng.integers(1, 3, len(group))
            pats.append(group); terms.append(np.full(len(group), t)); grades.append(g)
            phases.append(np.full(len(group), phase))
        if t < INFECTION_TERMS:
            used_infection[np.concatenate([dm, cm, bi, ai])] = True
        # induction grade 1-2 episodes of maintenance patients counted at 1-2 overall
        extra = cm[rng.uniform(size=len(cm)) < 0.3]
        pats.append(extra); terms.append(np.full(len(extra), t))
        grades.append(np.ones(len(extra), int))
        phases.append(np.zeros(len(extra), int))
    pat = np.concatenate(pats); term = np.concatenate(terms)
    grade = np.concatenate(grades); phase = np.concatenate(phases)
    # repeated lower-grade episodes of the same term in the same phase (counted once)
    rep = rng.uniform(size=len(pat)) < 0.2
    pat = np.concatenate([pat, pat[rep]]); term = np.concatenate([term, term[rep]])
    phase = np.concatenate([phase, phase[rep]]); grade = np.concatenate([grade, np.ones(rep.sum(), int)])
    frac = rng.uniform(0, 1, len(pat))
    return {"pat": pat, "term": term, "grade": grade, "phase": phase, "frac": frac}


def expand(lat: Latent, n: int, seed: int) -> Latent:
    """A large cohort with the same structure: ``n`` patients drawn from the latent templates."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.integers(0, lat.n, n))
    kw = {}
    for f in fields(lat):
        if f.name == "ae":
            continue
        kw[f.name] = getattr(lat, f.name)[idx]
    kw["site"] = np.char.add("0", (rng.integers(1, 10, n)).astype(str))
    # adverse events of each template, repeated for every copy (vectorised)
    ae = lat.ae
    order = np.argsort(ae["pat"], kind="stable")
    counts = np.bincount(ae["pat"], minlength=lat.n)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    k = counts[idx]
    new_pat = np.repeat(np.arange(n), k)
    offs = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    rows = order[np.repeat(starts[idx], k) + offs]
    new_ae = {key: v[rows] for key, v in ae.items()}
    new_ae["pat"] = new_pat
    new_ae["frac"] = rng.uniform(0, 1, len(rows))
    return replace(lat, **kw, ae=new_ae)


def redraw_tails(lat: Latent, seed: int) -> Latent:
    """Times beyond the publication cut, redrawn for a plausible later cut (publication cut unchanged).

    The search only sees each patient up to the publication cut, so what lies beyond it is free: a
    patient still progression-free (or alive) then gets a fresh residual time from an exponential
    law (median 14 months to progression, 30 months from progression to death; shorter with gain of
    1q21 or ISS III). Observed values at the publication cut do not change (checked).
    """
    rng = np.random.default_rng(seed + 2)
    lat = lat.copy()
    fu = (CUT_PUBLICATION - ACCRUAL_START).days - lat.enrol + 1
    before = (np.minimum(lat.pfs, fu), lat.pfs <= fu, np.minimum(lat.os, fu), lat.os <= fu)
    risk = 1.0 + 0.8 * (lat.gain1q == 1) + 0.5 * (lat.iss == 3)
    pf = lat.pfs > fu            # progression-free and alive at the cut
    alive = lat.os > fu
    lat.dnp[pf] = False
    u1 = rng.exponential(14 * MONTH / np.log(2) / risk, lat.n)
    u2 = rng.exponential(30 * MONTH / np.log(2) / risk, lat.n)
    u3 = rng.exponential(30 * MONTH / np.log(2) / risk, lat.n)
    lat.pfs = np.where(pf, fu + 1 + u1.astype(int), lat.pfs)
    lat.os = np.where(pf, lat.pfs + 1 + u2.astype(int),
                      np.where(alive, fu + 1 + u3.astype(int), lat.os))
    # a death without progression stays one; its PFS follows the death date
    lat.pfs = np.where(lat.dnp, lat.os, lat.pfs)
    after = (np.minimum(lat.pfs, fu), lat.pfs <= fu, np.minimum(lat.os, fu), lat.os <= fu)
    if not all(np.array_equal(x, y) for x, y in zip(before, after)):
        raise CalibrationError("redrawing the tails changed the publication cut")
    return lat
