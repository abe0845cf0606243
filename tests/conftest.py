"""Shared test hygiene."""

import os

import pytest

from ixathaldex.paths import ENV_VAR


@pytest.fixture(autouse=True)
def _project_environment_restored():
    """`ixathaldex --project DIR` names the project in the process environment (so that the kernels
    and Sphinx it starts find it); a test that calls the CLI in-process must not leave it set for the
    next test."""
    saved = os.environ.get(ENV_VAR)
    yield
    if saved is None:
        os.environ.pop(ENV_VAR, None)
    else:
        os.environ[ENV_VAR] = saved
