"""The publication's vocabulary of values: units and the representation of a reported value.

Every layer reads its constants from here, so that one number (days per month) and one spelling
(how a p-value or a value that was not reached is written) serve the whole package.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any

#: months = days / DAYS_PER_MONTH (the average Gregorian month), everywhere in the package
DAYS_PER_MONTH = 30.4375


#: how the paper and the site write a value that is not reached (a median) or not calculable (a limit)
NOT_REACHED_CODES = ("NR", "NC")
#: a printed bound such as "< 0.0001" or "<0.05"
BOUND_PATTERN = re.compile(r"^<\s*(\d+(?:\.\d+)?)$")
NUMBER, NOT_REACHED, BOUND, MISSING = "number", "not reached", "bound", "missing"


@dataclass(frozen=True)
class Value:
    """One reported value, in the one representation every layer uses.

    ``kind`` is ``number`` (``number`` holds it), ``not reached`` (a median or limit beyond
    follow-up), ``bound`` (a printed "< b": ``number`` holds b) or ``missing`` (not computed).
    ``integral`` remembers that a number was given as an integer (a count), so that its plain
    form is an int again and a float stays a float (3 -> 3, 3.0 -> 3.0).
    """

    kind: str
    number: float | None = None
    integral: bool = field(default=False, compare=False)

    @classmethod
    def parse(cls, x: Any) -> "Value":
        """Read any spelling: None/NaN -> missing; "NR", "NC", +inf -> not reached; "< b" -> bound;
        a number (Python or numpy; bool is not one) -> number. Anything else raises ValueError."""
        if isinstance(x, Value):
            return x
        if x is None:
            return cls(MISSING)
        if isinstance(x, str):
            text = x.strip()
            if text.upper() in NOT_REACHED_CODES:
                return cls(NOT_REACHED)
            m = BOUND_PATTERN.match(text)
            if m:
                return cls(BOUND, float(m.group(1)))
            raise ValueError(f"{x!r} is not a value (a number, NR/NC or '< b')")
        if type(x).__name__ in ("bool", "bool_"):  # Python and numpy truth values
            raise ValueError(f"{x!r} is a truth value, not a number")
        try:
            f = float(x)
        except (TypeError, ValueError):
            raise ValueError(f"{x!r} is not a value (a number, NR/NC or '< b')") from None
        if math.isnan(f):
            return cls(MISSING)
        if math.isinf(f):
            if f > 0:
                return cls(NOT_REACHED)
            raise ValueError(f"{x!r}: -inf is not a value")
        return cls(NUMBER, f, integral=isinstance(x, numbers.Integral))

    @property
    def is_number(self) -> bool:
        return self.kind == NUMBER

    @property
    def is_missing(self) -> bool:
        return self.kind == MISSING

    @property
    def is_not_reached(self) -> bool:
        return self.kind == NOT_REACHED

    @property
    def is_bound(self) -> bool:
        return self.kind == BOUND

    def plain(self) -> Any:
        """The JSON form: the number (an int when given as an integer, else a float), "NR",
        "< b", or None."""
        if self.kind == NUMBER:
            return int(self.number) if self.integral else self.number
        if self.kind == NOT_REACHED:
            return "NR"
        if self.kind == BOUND:
            return f"< {bound_text(self.number)}"
        return None


def bound_text(b: float) -> str:
    """A printed bound's number as printed: 0.0001 -> "0.0001" (never "1e-04")."""
    text = f"{b:.12f}".rstrip("0").rstrip(".")
    return text or "0"


def read_value(x: Any) -> Value | None:
    """``Value.parse(x)``, or None when ``x`` is no value at all (e.g. a word): for readers of
    foreign input that report what they cannot read instead of failing."""
    try:
        return Value.parse(x)
    except ValueError:
        return None


def format_number(v: Any, decimals: int = 1, otherwise: str = "–") -> str:
    """A number at ``decimals`` places; anything else (missing, not reached, a bound) prints as
    ``otherwise``."""
    value = Value.parse(v)
    return f"{value.number:.{decimals}f}" if value.is_number else otherwise


def format_p(p: Any, decimals: int = 3, missing: str = "–") -> str:
    """A p-value as the site prints it: ``decimals`` places, "<0.001" (at 3 places) below the
    smallest printable value, ``missing`` when there is none; a printed bound stays a bound."""
    v = Value.parse(p)
    if v.kind == MISSING:
        return missing
    if v.kind == BOUND:
        return f"<{bound_text(v.number)}"
    if v.kind == NOT_REACHED:
        raise ValueError("a p-value cannot be 'not reached'")
    floor = 10.0 ** (-decimals)
    return f"<{floor:.{decimals}f}" if 0 <= v.number < floor else f"{v.number:.{decimals}f}"


def format_months(v: Any, not_reached: str = "NR", decimals: int = 1) -> str:
    """Months at ``decimals`` places; a value not reached (or missing) prints as ``not_reached``."""
    return format_number(v, decimals, not_reached)
