"""Reviewer page and calibration: the one definition of an *exact* reproduction.

A reproduced value is **exact** when, printed the way the paper prints that number, it reads as the
printed figure:

- a count (rule ``exact``) equals the printed integer;
- any other plain number, rounded half-up to the printed decimals (the claim's ``decimals``, else the
  places of the printed value), equals the printed value at those decimals;
- a number the paper prints as the reciprocal of a rounded value (the claim's ``reciprocal_decimals``:
  14.29 = 1/0.07) goes through that same operation first: 1/x rounded to ``reciprocal_decimals``,
  then inverted and rounded to the printed decimals;
- a printed bound ("<0.0001", "<0.05") is exact when the value satisfies it (strictly below);
- a median printed as not reached (rule ``not_reached``) is exact when the median is not reached.

Everything that decides "exact" (the reviewer's verdicts, the printed-precision calibration of the
synthetic cohort, the counts in the calibration report) calls :func:`is_exact`; nothing else
re-implements it. Rounding is half-up on the decimal text of the number (``repr``), so 8.45 prints as
8.5, as statistical packages print it; see docs/decisions.md.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Mapping

from ixathaldex.values import bound_text, read_value


def printed_decimals(claim: Mapping) -> int:
    """The claim's printed precision: its ``decimals``, else the places of the printed value."""
    if claim.get("decimals") is not None:
        return int(claim["decimals"])
    pub = claim.get("published")
    if isinstance(pub, str):
        value = read_value(pub)
        text = bound_text(value.number) if value is not None and value.is_bound else ""
    elif isinstance(pub, float):
        text = repr(pub)
    else:
        return 1 if claim.get("rule") == "not_reached" else 0
    return len(text.split(".")[1]) if "." in text else 0


def round_half_up(x: float, decimals: int) -> Decimal:
    """``x`` rounded half-up to ``decimals`` places, as a Decimal (from the shortest repr of x)."""
    return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def printed_number(claim: Mapping, x: float) -> Decimal | None:
    """``x`` printed the way the paper prints this claim's number (None when it cannot be printed).

    Applies the reciprocal-of-a-rounded-value operation when the claim declares ``reciprocal_decimals``.
    """
    try:
        if claim.get("reciprocal_decimals") is not None:
            if x <= 0:
                return None
            inner = round_half_up(1.0 / x, int(claim["reciprocal_decimals"]))
            if inner == 0:
                return None
            x = float(Decimal(1) / inner)
        return round_half_up(x, printed_decimals(claim))
    except (InvalidOperation, OverflowError, ValueError, ZeroDivisionError):
        return None


def is_exact(claim: Mapping, reproduced: Any) -> bool:
    """True when the reproduced value, printed as the paper prints it, equals the printed figure."""
    value = read_value(reproduced)
    if value is None or value.is_missing or value.is_bound:
        return False
    published = read_value(claim.get("published"))
    if published is None or published.is_missing:
        return False
    if claim.get("rule") == "not_reached" or published.is_not_reached:
        return value.is_not_reached and published.is_not_reached
    if value.is_not_reached:
        return False
    if published.is_bound:
        return value.number < published.number
    if claim.get("rule") == "exact":
        return float(value.number) == float(published.number)
    shown = printed_number(claim, value.number)
    return shown is not None and shown == round_half_up(published.number, printed_decimals(claim))
