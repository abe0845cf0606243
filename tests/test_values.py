"""The one representation of a reported value and the one way to print p-values and months."""

import math

import numpy as np
import pytest

from ixathaldex.values import (BOUND, MISSING, NOT_REACHED, NUMBER, Value, bound_text, format_months, format_number,
                               format_p, read_value)


@pytest.mark.parametrize("raw, kind, number, plain", [
    (3, NUMBER, 3.0, 3), (np.int64(46), NUMBER, 46.0, 46), (8.41, NUMBER, 8.41, 8.41),
    (np.float64(0.5), NUMBER, 0.5, 0.5), (None, MISSING, None, None), (math.nan, MISSING, None, None),
    ("NR", NOT_REACHED, None, "NR"), (" nc ", NOT_REACHED, None, "NR"), (math.inf, NOT_REACHED, None, "NR"),
    ("< 0.0001", BOUND, 0.0001, "< 0.0001"), ("<0.05", BOUND, 0.05, "< 0.05"),
])
def test_every_spelling_reads_as_one_value(raw, kind, number, plain):
    v = Value.parse(raw)
    assert (v.kind, v.number, v.plain()) == (kind, number, plain)


@pytest.mark.parametrize("raw", ["8.5 months", True, np.bool_(False), -math.inf, [1]])
def test_what_is_not_a_value_is_refused(raw):
    with pytest.raises(ValueError):
        Value.parse(raw)


def test_p_values_print_one_way():
    assert format_p(0.0009) == "<0.001"
    assert format_p(0.001) == "0.001"
    assert format_p(0.5778, decimals=4) == "0.5778"
    assert format_p(0.00004, decimals=4) == "<0.0001"
    assert format_p(math.nan) == "–" and format_p(None, missing="NA") == "NA"
    assert format_p("< 0.0001") == "<0.0001"
    with pytest.raises(ValueError):
        format_p("NR")


def test_months_print_one_way():
    assert format_months(8.41) == "8.4"
    assert format_months(math.inf) == "NR" and format_months("NC", not_reached="NC") == "NC"
    assert format_months(19.25, decimals=2) == "19.25"


def test_integers_stay_integers_and_floats_stay_floats():
    assert type(Value.parse(np.int64(46)).plain()) is int
    assert type(Value.parse(3.0).plain()) is float and Value.parse(3.0).plain() == 3.0
    assert Value.parse(3) == Value.parse(3.0)  # one value, whatever its spelling


def test_bounds_print_as_decimals():
    assert bound_text(0.00001) == "0.00001" and bound_text(0.05) == "0.05"
    assert Value.parse("<0.00001").plain() == "< 0.00001" and format_p("<0.00001") == "<0.00001"


def test_numbers_print_one_way():
    assert format_number(8.888) == "8.9" and format_number(12, 0) == "12"
    assert format_number(math.nan) == "–" and format_number(math.inf, otherwise="NR") == "NR"
    assert format_number(None, otherwise="NC") == "NC"


def test_read_value_reports_what_is_no_value():
    assert read_value("8.5 months") is None and read_value(True) is None
    assert read_value("NR").is_not_reached and read_value(None).is_missing and read_value("<0.05").is_bound
