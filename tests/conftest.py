"""Shared fixtures, the Hypothesis profiles (``HYPOTHESIS_PROFILE=ci`` or ``dev``), and the
``--machine-coverage`` option (``tests/coverage_plugin.py``)."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from hypothesis import HealthCheck, settings

from statemachines import UTC, ManualClock
from tests import coverage_plugin

settings.register_profile(
    "ci",
    max_examples=150,
    stateful_step_count=40,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=60, stateful_step_count=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""A Monday morning: every test starts its clock here."""


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock at :data:`START`."""
    return ManualClock(START)


def pytest_addoption(parser: pytest.Parser) -> None:
    coverage_plugin.add_option(parser)


def pytest_configure(config: pytest.Config) -> None:
    coverage_plugin.configure(config)
