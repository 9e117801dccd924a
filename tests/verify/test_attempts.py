"""Plans of attempts, read off the tables once per aggregate version, facts and time.

A plan made for an aggregate is used again wherever the aggregate is met unchanged in the
same context. That rests on the oracle reading nothing else; a search that makes every plan
afresh must reach the same states, fire the same transitions and see the same coverage.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from statemachines.verify.attempts import Plan, Planner
from statemachines.verify.search import check
from statemachines.verify.world import Bounds


@pytest.mark.parametrize(
    "bounds",
    [
        Bounds(contracts=1, milestones=1, team=False, depth=4),
        Bounds(contracts=1, agency_contracts=1, team=True, depth=2),
        Bounds(contracts=0, jobs=1, agency=True, team=False, focus=("job", "proposal")),
    ],
    ids=["milestone", "agency-and-team", "jobs"],
)
def test_plans_used_again_agree_with_plans_made_afresh(
    monkeypatch: pytest.MonkeyPatch, bounds: Bounds
) -> None:
    kept = check(bounds)
    made = Planner.plan

    def afresh(
        self: Planner, kind: str, agg: Any, version: int, now: datetime
    ) -> tuple[Plan, bool]:
        self.plans.clear()
        return made(self, kind, agg, version, now)

    monkeypatch.setattr(Planner, "plan", afresh)
    fresh = check(bounds)

    assert kept.ok
    assert fresh.ok
    assert (kept.states, kept.merged, kept.transitions) == (
        fresh.states,
        fresh.merged,
        fresh.transitions,
    )
    assert kept.coverage == fresh.coverage
    assert kept.fired == fresh.fired
