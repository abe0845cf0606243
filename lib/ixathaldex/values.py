"""The publication's vocabulary of values: units and the representation of a reported value.

Every layer reads its constants from here, so that one number (days per month) and one spelling
(how a p-value or a value that was not reached is written) serve the whole package.
"""

from __future__ import annotations

#: months = days / DAYS_PER_MONTH (the average Gregorian month), everywhere in the package
DAYS_PER_MONTH = 30.4375
