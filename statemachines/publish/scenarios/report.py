"""What a run of scenarios prints: one line per step, and the JSON report.

>>> from datetime import datetime, UTC
>>> clock = StepResult(7, 20, datetime(2026, 4, 1, 9, tzinfo=UTC), "", "", "", "clock",
...                    ("review_lapse@M-1",), ())
>>> step_line(clock)
' 7  2026-04-01 09:00 UTC           (clock moves)                review_lapse@M-1 fired'
>>> fund = StepResult(1, 12, datetime(2026, 3, 2, 9, tzinfo=UTC), "ana", "fund", "M-1",
...                   "accepted", (), (), "-> funded")
>>> step_line(fund)
' 1  2026-03-02 09:00 UTC  ana      fund                 M-1     accepted -> funded'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from statemachines.core.clock import format_utc
from statemachines.publish.scenarios.model import Scenario
from statemachines.publish.scenarios.run import StepResult

__all__ = ["scenario_json", "step_line", "step_problems"]


def step_line(step: StepResult) -> str:
    """The step as it ran, in one line: when, who did what, and what came of it."""
    when = format_utc(step.at).removesuffix(":00 UTC") + " UTC"
    fired = ", ".join(step.fired)
    if not step.event:
        what = f"{fired} fired" if fired else "nothing falls due"
        return f"{step.number:>2}  {when}  {'':<8} {'(clock moves)':<20} {'':<6}  {what}"
    first = f" (after {fired} fired)" if fired else ""
    outcome = step.outcome.replace("_", " ")
    doing = f"{step.actor:<8} {step.event:<20} {step.target:<6}"
    return f"{step.number:>2}  {when}  {doing}  {outcome} {step.detail}{first}".rstrip()


def step_problems(path: Path, step: StepResult) -> list[str]:
    """Each unmet expectation of *step*, naming the file, line and step."""
    where = f"{path.as_posix()}:{step.line}: step {step.number}"
    return [f"{where}: {problem}" for problem in step.problems]


def scenario_json(scenario: Scenario, results: list[StepResult]) -> dict[str, Any]:
    """A scenario's run as JSON: whether it passed, and each step that ran."""
    passed = all(r.passed for r in results) and len(results) == len(scenario.steps)
    return {
        "file": scenario.path.as_posix(),
        "scenario": scenario.title,
        "passed": passed,
        "steps": [
            {
                "step": r.number,
                "line": r.line,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "event": r.event,
                "on": r.target,
                "outcome": r.outcome,
                "fired": list(r.fired),
                "problems": list(r.problems),
            }
            for r in results
        ],
    }
