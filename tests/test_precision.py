"""The one definition of *exact* (claims.precision.is_exact) and the four verdicts of a claim.

Expected values are worked out by hand from how the paper prints numbers, not taken from the code.
"""

import math

import pytest

from ixathaldex.claims.precision import is_exact, printed_decimals, printed_number
from ixathaldex.claims.registry import compare, validate_claims
from ixathaldex.exceptions import ClaimsError


def C(rule, published, **kw):
    return {"id": "x.y", "rule": rule, "published": published, **kw}


@pytest.mark.parametrize("claim, value, exact", [
    (C("exact", 46), 46, True),
    (C("exact", 46), 46.0, True),
    (C("exact", 46), 45, False),
    (C("percent_printed", 51.1, decimals=1), 46 / 90 * 100, True),      # 51.11 -> 51.1
    (C("percent_printed", 51.1, decimals=1), 51.149, True),
    (C("percent_printed", 51.1, decimals=1), 51.15, False),              # half-up: 51.2
    (C("median", 8.5, decimals=1), 8.41, False),                         # prints 8.4: within tolerance only
    (C("median", 8.5, decimals=1), 8.45, True),                          # half-up
    (C("median", 8.5, decimals=1), 8.549, True),
    (C("median", 19.1, decimals=1), 19.25, False),
    (C("pvalue", 0.81, decimals=3), 0.8104, True),                       # printed "0.810"
    (C("pvalue", 0.81, decimals=3), 0.8106, False),                      # prints 0.811
    (C("pvalue", 0.81), 0.814, True),                                    # two places printed when no decimals
    (C("pvalue", "<0.0001"), 0.00009, True),
    (C("pvalue", "<0.0001"), 0.0001, False),                             # a bound is strict
    (C("pvalue", "<0.05"), 0.049, True),
    (C("pvalue", "<0.05"), 0.051, False),
    (C("hr", 0.61, decimals=2), 0.605, True),
    (C("hr", 0.61, decimals=2), 0.6149, True),
    (C("hr", 0.61, decimals=2), 0.615, False),
    # printed as the reciprocal of a two-decimal number: 14.29 = 1/0.07, 100 = 1/0.01, 5.00 = 1/0.20
    (C("hr", 14.29, decimals=2, reciprocal_decimals=2), 1 / 0.0711, True),   # 1/x = 0.0711 -> 0.07
    (C("hr", 14.29, decimals=2, reciprocal_decimals=2), 14.29, True),
    (C("hr", 14.29, decimals=2, reciprocal_decimals=2), 13.4, True),         # 1/13.4 = 0.0746 -> 0.07
    (C("hr", 14.29, decimals=2, reciprocal_decimals=2), 13.0, False),        # 1/13 = 0.0769 -> 0.08 -> 12.50
    (C("hr", 100, decimals=0, reciprocal_decimals=2), 150.0, True),          # 1/150 = 0.0067 -> 0.01
    (C("hr", 100, decimals=0, reciprocal_decimals=2), 60.0, False),          # 1/60 = 0.0167 -> 0.02 -> 50
    (C("hr", 5.0, decimals=2, reciprocal_decimals=2), 4.39, False),          # 1/4.39 = 0.228 -> 0.23 -> 4.35
    (C("hr", 5.0, decimals=2, reciprocal_decimals=2), 4.9, True),            # 1/4.9 = 0.204 -> 0.20 -> 5.00
    (C("not_reached", "NR"), "NR", True),
    (C("not_reached", "NR"), math.inf, True),
    (C("not_reached", "NR"), 25.3, False),
    (C("median", 8.5, decimals=1), "NR", False),
    (C("median", 8.5, decimals=1), None, False),
    (C("median", 8.5, decimals=1), float("nan"), False),
])
def test_is_exact(claim, value, exact):
    assert is_exact(claim, value) is exact


def test_reciprocal_of_13_4_prints_14_29():
    # 1/13.4 = 0.0746 rounds to 0.07, whose reciprocal prints 14.29
    claim = C("hr", 14.29, decimals=2, reciprocal_decimals=2)
    assert str(printed_number(claim, 13.4)) == "14.29"
    assert str(printed_number(claim, 12.0)) == "12.50"                      # 1/12 = 0.083 -> 0.08


def test_printed_decimals_from_the_printed_value():
    assert printed_decimals(C("pvalue", 0.0009)) == 4
    assert printed_decimals(C("pvalue", "<0.0001")) == 4
    assert printed_decimals(C("median", 8.5, decimals=2)) == 2
    assert printed_decimals(C("exact", 46)) == 0


@pytest.mark.parametrize("claim, value, verdict", [
    (C("median", 8.5, decimals=1), 8.47, "exact"),
    (C("median", 8.5, decimals=1), 8.41, "within tolerance"),
    (C("median", 8.5, decimals=1), 9.0, "differs"),
    (C("median", 8.5, decimals=1), None, "not computable"),
    (C("pvalue", 0.967, decimals=3), 0.764, "within tolerance"),
    (C("pvalue", 0.967, decimals=3), 0.9674, "exact"),
    (C("exact", 46), 45, "differs"),
    (C("exact", 46), 46, "exact"),
])
def test_four_verdicts(claim, value, verdict):
    assert compare(claim, value)[0] == verdict


def test_reciprocal_decimals_validated():
    bad = [{"id": "a.b", "locations": ["Table 1"], "quantity": "q", "population": "ITT", "published": 1.5,
            "unit": "hr", "rule": "hr", "chapter": "survival", "decimals": 2, "reciprocal_decimals": -1}]
    with pytest.raises(ClaimsError, match="reciprocal_decimals"):
        validate_claims(bad)
