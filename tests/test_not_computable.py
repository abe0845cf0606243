"""A column a study does not deliver makes its statistics "not computable", never a failed build.

Each case empties one optional ADSL column of the publication cut (as a sponsor's transfer without
it would arrive) and computes the survival and prognostic claims and the chapters' Cox tables.
"""

import math

import numpy as np
import pytest

from ixathaldex.analysis import cox, populations
from ixathaldex.claims import values_survival
from ixathaldex.data.snapshot import load_snapshot


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


@pytest.fixture(scope="module")
def reference():
    snap = load_snapshot("2018-06-30", validate=False)
    return {**values_survival.derive_claim_values_survival(snap),
            **values_survival.derive_claim_values_prognostic(snap)}


@pytest.mark.parametrize("column, blank, lost, kept", [
    ("HGB", np.nan, ["os.cox.hb100.hr", "os.cox.hb100.p", "os.cox.gain1q.hr"], ["pfs.itt.median", "pfs.cox.gain1q.hr"]),
    ("FRAILTY", "", ["pfs.frailty.fit.median", "os.frailty.fit.median"], ["os.cox.gain1q.hr", "pfs.pp.median"]),
    ("GAIN1Q", "", ["os.cox.gain1q.hr", "pfs.cox.gain1q.hr", "pfs.gain1q.pos.median"], ["pfs.itt.median"]),
    ("GFR", np.nan, ["pfs.gfr.ge60.median", "pfs.gfr.lt60.median"], ["pfs.itt.median", "os.itt.median"]),
])
def test_missing_column_gives_not_computable_claims(reference, column, blank, lost, kept):
    snap = load_snapshot("2018-06-30", validate=False)
    snap.adsl[column] = blank
    got = {**values_survival.derive_claim_values_survival(snap),
           **values_survival.derive_claim_values_prognostic(snap)}
    for cid in lost:
        assert not _missing(reference[cid]), cid          # computable on the full data
        assert _missing(got[cid]), (cid, got[cid])        # not computable (not "NR") without the column
    for cid in kept:
        assert got[cid] == reference[cid], cid
    # the chapters' own calls still return their tables
    multi = cox.table_cox_multivariate(snap.adsl, snap.adtte, "OS", factors=populations.PAPER_MULTIVARIATE_FACTORS)
    assert list(multi["covariate"])[:1] == ["gain1q_detected"]
    assert len(cox.table_pfs_gain1q_hr(snap.adsl, snap.adtte)) == 2


def test_an_empty_group_has_no_median_but_a_group_without_half_events_has_nr(reference):
    # OS of the ITT population is not reached: "NR" is a fact of the data, not a gap
    assert reference["os.itt.median"] == "NR"
