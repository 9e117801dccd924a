"""A pytest plugin: coverage of the machines over a whole test session, and the gate on it.

``pytest --machine-coverage`` installs a :class:`~statemachines.verify.coverage.Recorder`
with the engine's ``observe()`` for the whole session, so every guard outcome
and every fired edge of the unit, path, Hypothesis and checker tests is seen;
the checker runs' and path searches' own coverage (``tests/verify/runs.py``)
is merged in at the end. The session then writes ``build/machine-coverage.txt``,
prints one line per machine, and fails if any edge never fired, any state was
never reached, or any guard of a v0.1 rule (``tests/v01_rules.txt``) was never
seen refusing or passing, except the gaps excused with a reason in
``tests/coverage_exclusions.txt``.

Only a full run can be judged, so the option is off by default: ``scripts/test``
passes it; ``pytest tests/machines/milestone`` neither collects nor judges.

A test that patches anything in the ``statemachines`` package (the checker tests
that break a guard on purpose) does not count: what it saw is dropped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from statemachines.core.engine import observe
from statemachines.verify.coverage import Recorder, exclusions, gaps, render, summary, v01_rules

HERE = Path(__file__).parent
SCOPE = HERE / "v01_rules.txt"
EXCLUSIONS = HERE / "coverage_exclusions.txt"
REPORT = HERE.parent / "build" / "machine-coverage.txt"
MACHINES = ("account", "membership", "contract", "milestone")
OPTION = "--machine-coverage"


def add_option(parser: pytest.Parser) -> None:
    """Register ``--machine-coverage`` (called from ``tests/conftest.py``)."""
    group = parser.getgroup("machine coverage")
    group.addoption(
        OPTION,
        action="store_true",
        help="collect state, edge and guard coverage over the session and fail on any gap "
        "(for a full run only; see tests/coverage_plugin.py)",
    )
    group.addoption(
        f"{OPTION}-report",
        type=Path,
        default=REPORT,
        metavar="PATH",
        help="where --machine-coverage writes its report (default: build/machine-coverage.txt)",
    )


def _in_package(target: object) -> bool:
    if isinstance(target, ModuleType):
        name = target.__name__
    elif isinstance(target, type):
        name = target.__module__
    else:
        name = type(target).__module__
    return name.partition(".")[0] == "statemachines"


def _patches_the_package(item: pytest.Item) -> bool:
    """Whether the test's ``monkeypatch`` replaced anything in the ``statemachines`` package."""
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    patch = funcargs.get("monkeypatch")
    if not isinstance(patch, pytest.MonkeyPatch):
        return False
    return any(_in_package(target) for target, _, _ in getattr(patch, "_setattr", ()))


class MachineCoverage:
    """The plugin object: one recorder for the session, the report and the gate at the end."""

    def __init__(self, report: Path) -> None:
        self.report = report
        self.recorder = Recorder()
        self.gaps: list[str] = []
        self.text = ""
        self._stack = contextlib.ExitStack()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._stack.enter_context(observe(self.recorder))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self.recorder.pause()
        item.stash[_PATCHED] = False
        try:
            return (yield)
        finally:
            self.recorder.resume(keep=not item.stash[_PATCHED])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            item.stash[_PATCHED] = _patches_the_package(item)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._stack.close()
        if session.exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            return  # interrupted or nothing collected: nothing to judge
        from tests.verify.runs import coverage  # noqa: PLC0415  (only where it is wanted)

        cov = self.recorder.coverage
        cov.merge(coverage(done_only=True))
        scope = v01_rules(SCOPE)
        excused = exclusions(EXCLUSIONS)
        self.gaps = gaps(cov, MACHINES, scope, excused)
        self.text = summary(cov, MACHINES, scope)
        self.report.parent.mkdir(parents=True, exist_ok=True)
        self.report.write_text(render(cov, MACHINES, scope, excused), encoding="utf-8")
        if self.gaps and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.text:
            return
        write = terminalreporter.write_line
        terminalreporter.section("machine coverage")
        for line in self.text.splitlines():
            write(line)
        write(f"report: {self.report}")
        if self.gaps:
            write(f"FAILED: {len(self.gaps)} coverage gaps", red=True, bold=True)
            for gap in self.gaps:
                write(f"  {gap}")
        else:
            write("no coverage gap", green=True)


_PATCHED = pytest.StashKey[bool]()


def configure(config: pytest.Config) -> None:
    """Register the plugin when ``--machine-coverage`` is given (from ``tests/conftest.py``)."""
    if config.getoption(OPTION):
        report = config.getoption(f"{OPTION}-report")
        config.pluginmanager.register(MachineCoverage(report), "machine-coverage")
