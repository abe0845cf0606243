"""derive_adsl's cache (keyed by the input frame's content): a repeated derivation is not recomputed,
and nothing of one snapshot's frame is ever returned for another's (or for the same frame changed)."""

import pandas as pd
import pytest

from ixathaldex.analysis import populations
from ixathaldex.analysis.populations import DERIVED_ADSL, derive_adsl, derive_population

import reference_data as ref


@pytest.fixture
def adsl():
    DERIVED_ADSL.clear()
    frame, *_ = ref.toy_frames()
    yield frame
    DERIVED_ADSL.clear()


@pytest.fixture
def derivations(monkeypatch):
    """How many times derive_adsl really derived (its cytogenetics step runs once per derivation)."""
    calls = []
    real = populations.derive_cytogenetics
    monkeypatch.setattr(populations, "derive_cytogenetics", lambda d: calls.append(1) or real(d))
    return calls


def test_a_repeated_derivation_comes_from_the_cache(adsl, derivations):
    first = derive_adsl(derive_population(adsl, "ITT"))
    again = derive_adsl(derive_population(adsl, "ITT"))  # a new copy of the same rows: same content
    assert len(derivations) == 1
    pd.testing.assert_frame_equal(first, again)
    assert first is not again


def test_the_cached_frame_is_the_derivation_itself(adsl):
    derive_adsl(adsl)
    cached = derive_adsl(adsl)
    DERIVED_ADSL.clear()
    pd.testing.assert_frame_equal(cached, derive_adsl(adsl), check_exact=True)


def test_another_snapshot_never_gets_the_first_ones_frame(adsl, derivations):
    other = adsl.copy()
    other.loc[other["USUBJID"] == "P1", "AGE"] = 80  # the one difference between the two "snapshots"
    adsl.loc[adsl["USUBJID"] == "P1", "AGE"] = 60
    a = derive_adsl(adsl).set_index("USUBJID")
    b = derive_adsl(other).set_index("USUBJID")
    assert len(derivations) == 2
    assert (a.loc["P1", "AGEGR"], b.loc["P1", "AGEGR"]) == ("<75", "≥75")


def test_a_frame_changed_in_place_is_derived_again(adsl):
    adsl.loc[adsl["USUBJID"] == "P2", "AGE"] = 60
    assert derive_adsl(adsl).set_index("USUBJID").loc["P2", "AGEGR"] == "<75"
    adsl.loc[adsl["USUBJID"] == "P2", "AGE"] = 90  # the same object, new content
    assert derive_adsl(adsl).set_index("USUBJID").loc["P2", "AGEGR"] == "≥75"


def test_a_type_change_alone_is_a_different_frame(adsl, derivations):
    derive_adsl(adsl)
    retyped = adsl.copy()
    retyped["AGE"] = retyped["AGE"].astype(object)  # equal values, another dtype
    derive_adsl(retyped)
    assert len(derivations) == 2


def test_changing_a_returned_frame_does_not_change_the_cache(adsl):
    first = derive_adsl(adsl)
    first.loc[:, "AGEGR"] = "changed"
    first["EXTRA"] = 1
    again = derive_adsl(adsl)
    assert "changed" not in set(again["AGEGR"]) and "EXTRA" not in again.columns


def test_the_cache_holds_a_bounded_number_of_rows(adsl, monkeypatch, derivations):
    monkeypatch.setattr(DERIVED_ADSL, "max_rows", len(adsl))  # room for one frame of this size
    other = adsl.copy()
    other["AGE"] = other["AGE"] + 1
    derive_adsl(adsl)
    derive_adsl(other)  # evicts the first
    derive_adsl(adsl)
    assert len(derivations) == 3
    assert DERIVED_ADSL.rows <= len(adsl)
