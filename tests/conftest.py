"""Shared fixtures, the Hypothesis profiles (``HYPOTHESIS_PROFILE=ci`` or ``dev``), and the
``--machine-coverage`` option (``tests/coverage_plugin.py``)."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from hypothesis import HealthCheck, settings

from statemachines import RULES, UTC, ManualClock
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a ``rule`` marker that names no rule, or a rule the rulebook does not have."""
    for item in items:
        for mark in item.iter_markers("rule"):
            unknown = [r for r in mark.args if r not in RULES]
            if not mark.args or unknown:
                msg = f"{item.nodeid}: @pytest.mark.rule needs known rule IDs, got {mark.args!r}"
                raise pytest.UsageError(msg)
