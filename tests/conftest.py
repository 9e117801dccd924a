"""Shared fixtures, the Hypothesis profiles (``HYPOTHESIS_PROFILE=ci`` or ``dev``), and the
``--machine-coverage`` option (``tests/coverage_plugin.py``)."""

from __future__ import annotations

import os
from collections.abc import Generator
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """In CI (``CI=true``) a skipped test fails, saying why it skipped: what CI cannot run
    is a defect of CI, never a silent pass."""
    report = yield
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may skip: {reason}"
    return report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a ``rule`` marker that names no rule, or a rule the rulebook does not have."""
    for item in items:
        for mark in item.iter_markers("rule"):
            unknown = [r for r in mark.args if r not in RULES]
            if not mark.args or unknown:
                msg = f"{item.nodeid}: @pytest.mark.rule needs known rule IDs, got {mark.args!r}"
                raise pytest.UsageError(msg)
