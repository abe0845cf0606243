"""Claim values: the mapping from computed frames to the ids of the claims registry.

``derive_claim_values_<chapter>(snap)`` returns ``{claim id: value}`` for every claim of
``data/published/claims.yaml`` whose ``chapter`` is that chapter; a chapter glues the dict with
:func:`glue_values`. Values are unrounded plain Python numbers (counts ``int``, percentages in
percent, months ``float``), ``"NR"`` for a median or limit not reached (see docs/paper-readings.md §2).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from .exceptions import ClaimsError
from .log import logger


def plain(value: Any) -> Any:
    """A claim value as a plain Python scalar: int, float, or "NR" (+inf and "NR" are not reached)."""
    if isinstance(value, str):
        if value.strip().upper() in ("NR", "NC"):
            return "NR"
        raise ClaimsError(f"claim value {value!r}: a string must be 'NR'")
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isinf(v) and v > 0:
            return "NR"
        return v
    raise ClaimsError(f"claim value {value!r} of type {type(value).__name__}: not a number")


def glue_values(values: Mapping[str, Any]) -> None:
    """Glue every ``{claim id: value}`` with ``myst_nb.glue(id, value, display=False)``.

    Values are converted with :func:`plain` first (numpy scalars become Python numbers; +inf
    becomes "NR"); a NaN is glued as NaN and later read as "not computable".
    """
    from myst_nb import glue  # imported here: the library must not need myst-nb outside notebooks

    for key, value in values.items():
        glue(key, plain(value), display=False)
    logger.debug("glued %d claim value(s)", len(values))
