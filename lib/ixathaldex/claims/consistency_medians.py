"""Reviewer page, arithmetic recheck: the paper's medians against their intervals and their subgroups.

Three families, every number read from ``data/published/claims.yaml``:

- ``interval``: a median (or a central value) inside its printed CI, range or IQR;
- ``pooled median``: a pooled median between the medians of the subgroups that partition its
  population, and which printed population (ITT or PP) a subgroup pair fits;
- ``same group``: one group's median printed in two analyses.
"""

from __future__ import annotations

from typing import Mapping

from ixathaldex.claims.printed import (
    EPS,
    finding,
    median_value,
    missing_finding,
    presence,
    show,
    show_median,
    value_of,
)

#: a central value within its printed range or CI: (slug, low, centre, high); a number is itself
INTERVALS = [
    ("prior_lines", "flow.prior_lines.min", "flow.prior_lines.median", "flow.prior_lines.max"),
    ("age", "t1.age.min", "t1.age.median", "t1.age.max"),
    ("months_since_first_line", "t1.months_since_first_line.q1", "t1.months_since_first_line.median",
     "t1.months_since_first_line.q3"),
    ("pfs.itt", "pfs.itt.median.ci_low", "pfs.itt.median", "pfs.itt.median.ci_high"),
    ("os.itt", "os.itt.median.ci_low", "os.itt.median", "os.itt.median.ci_high"),
    ("upgrade_time", "mnt.upgrade.time.min", "mnt.upgrade.time.max", 11.04),  # 12 cycles of 28 days
    ("mnt_duration", 0, "flow.mnt.duration.median", 11.04),
]

#: a pooled median (stated population, alternative population or None) and the subgroups that split it
POOLED = [
    ("pfs.itt.median", "pfs.pp.median", [f"pfs.{s}.median" for s in pair]) for pair in
    (("iss.i", "iss.ii_iii"), ("lines.one", "lines.more"), ("age.lt75", "age.ge75"),
     ("frailty.fit", "frailty.unfit_frail"), ("gfr.ge60", "gfr.lt60"), ("imid.naive", "imid.exposed"))
] + [
    ("os.itt.median", "os.pp.median", [f"os.{s}.median" for s in pair]) for pair in
    (("iss.i_ii", "iss.iii"), ("lines.one", "lines.more"), ("frailty.fit", "frailty.unfit_frail"),
     ("age.lt75", "age.ge75"))
] + [
    # FISH sub-partitions, reading the three-group split as isolated gain / HR FISH / neither
    ("pfs.hr_or_gain1q.pos.median", None, ["pfs.risk3.gain1q.median", "pfs.risk3.hr.median"]),
    ("pfs.hrcyto.sr.median", None, ["pfs.risk3.gain1q.median", "pfs.risk3.neither.median"]),
    ("os.hr_or_gain1q.pos.median", None, ["os.risk3.gain1q.median", "os.risk3.hr.median"]),
    ("os.hrcyto.sr.median", None, ["os.risk3.gain1q.median", "os.risk3.neither.median"]),
]

#: the same group's median printed in two analyses: (id, id, the group, reading when they differ)
SAME_GROUP = [
    ("pfs.hr_or_gain1q.neg.median", "pfs.risk3.neither.median", "patients with neither feature", ""),
    ("pfs.hrcyto.hr.median", "pfs.risk3.hr.median", "high-risk FISH group", ""),
    ("pfs.gain1q.pos.median", "pfs.risk3.gain1q.median", "patients with gain of 1q21",
     "the three-group split is read as isolated gain of 1q21 / high-risk FISH / neither, as the OS text names it"),
    ("os.hr_or_gain1q.neg.median", "os.risk3.neither.median", "patients with neither feature", ""),
]


def derive_interval_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Central values within their printed ranges and confidence intervals."""
    rows = []
    for slug, lo, mid, hi in INTERVALS:
        state = presence(by, [lo, mid, hi])
        if state != "all":
            rows += [missing_finding("interval." + slug, "interval", [lo, mid, hi], by, slug)] if state == "some" else []
            continue
        vals = [median_value(value_of(by, x)) for x in (lo, mid, hi)]
        ok = vals[0] - EPS <= vals[1] <= vals[2] + EPS
        ids = [x for x in (mid, lo, hi) if isinstance(x, str)]
        shown = " <= ".join(show(by, x) if isinstance(x, str) else f"{x:g}" for x in (lo, mid, hi))
        rows.append(finding("interval." + slug, "interval", ids, by, shown,
                            f"{show_median(vals[1])} in [{show_median(vals[0])}, {show_median(vals[2])}]",
                            "consistent" if ok else "inconsistent",
                            "A median lies inside its interval." if ok else "The value lies outside its interval."))
    return rows


def _fits(by, ref, lo, hi) -> bool:
    return lo - EPS <= median_value(value_of(by, ref)) <= hi + EPS


def derive_pooled_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """Pooled medians between their subgroups' medians, and the population a subgroup pair fits."""
    rows = []
    for pooled, alt, subs in POOLED:
        spec, fid = [pooled] + subs, f"pooled.{subs[0]}.{subs[1].split('.')[-2]}"
        state = presence(by, spec)
        if state != "all":
            rows += [missing_finding(fid, "pooled median", spec, by, pooled)] if state == "some" else []
            continue
        vals = [median_value(value_of(by, s)) for s in subs]
        lo, hi = min(vals), max(vals)
        ok = _fits(by, pooled, lo, hi)
        text = f"{by[pooled]['population']} {show(by, pooled)} {'inside' if ok else 'outside'} " \
               f"[{show_median(lo)}, {show_median(hi)}]"
        reading = ""
        if alt and alt in by:
            alt_ok = _fits(by, alt, lo, hi)
            text += f"; {by[alt]['population']} {show(by, alt)} {'inside' if alt_ok else 'outside'}"
            if not ok:
                reading = ("the pair fits the per-protocol median: read as computed in the PP population" if alt_ok
                           else "the pair fits neither the ITT nor the PP median")
        rows.append(finding(fid, "pooled median", subs + [pooled] + ([alt] if alt else []), by,
                            f"pooled {show(by, pooled)}; subgroups " + " vs ".join(show(by, s) for s in subs), text,
                            "consistent" if ok else "inconsistent",
                            "The median of a population lies between the medians of the groups that split it." + (
                                "" if ok else " Both subgroup medians lie on one side of the stated population's."),
                            reading))
    return rows


def derive_same_group_checks(by: Mapping[str, Mapping]) -> list[dict]:
    """One group's median printed in two analyses."""
    rows = []
    for a, b, what, reading in SAME_GROUP:
        state = presence(by, [a, b])
        if state != "all":
            rows += [missing_finding(f"same.{b}", "same group", [a, b], by, what)] if state == "some" else []
            continue
        same = median_value(value_of(by, a)) == median_value(value_of(by, b))
        rows.append(finding(f"same.{b}", "same group", [b, a], by, f"{show(by, b)} vs {show(by, a)} ({what})",
                            "equal" if same else f"differ by {abs(median_value(value_of(by, a)) - median_value(value_of(by, b))):.1f}",
                            "consistent" if same else "inconsistent",
                            "One group of patients has one median." + ("" if same else
                            " Two medians are printed, so the two analyses did not use the same group."),
                            "" if same else reading))
    return rows
