"""The package's single logger."""

import logging

logger = logging.getLogger("ixathaldex")


def configure(quiet: bool = False) -> None:
    """Send the package's log to stderr, one plain line per message."""
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
