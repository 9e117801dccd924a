"""Step invariants read from the aggregates a step changed, and system events left to their key.

Two shortcuts of the search (ADR 0090), each with its premise checked and a guard broken
on purpose to show it is still caught:

* the invariants of a step (closed stays closed, no way back, money never shrinks, settled
  with nothing left) compare only the aggregates whose entry the step changed;
* a system event (which starts no state of its own) that reaches a key already stored
  leaves the invariants of its state to the state stored under the key.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from statemachines.verify import search
from statemachines.verify.search import check
from statemachines.verify.world import Bounds, Snapshot
from tests.verify.conftest import release_escrow_twice, reopen_closed_accounts


def test_a_closed_account_that_reopens_is_caught_from_the_changed_aggregates_alone(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    reopen_closed_accounts(monkeypatch, request)

    report = check(Bounds(contracts=0, team=False, depth=5, full_check=0.0))

    assert not report.ok
    assert "left closed" in (report.violation or "")


def test_escrow_released_twice_is_caught_from_the_changed_aggregates_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release_escrow_twice(monkeypatch)

    report = check(Bounds(contracts=1, milestones=1, team=False, depth=4, full_check=0.0))

    assert not report.ok


def test_the_changed_aggregates_give_every_step_what_the_whole_world_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = {"compared": 0, "changed": 0}
    original = search._Search.step_invariants

    def both(self: Any, before: Any, snap: Snapshot, *, full: bool) -> list[str]:
        whole = original(self, before, snap, full=True)
        mine = original(self, before, snap, full=False)
        assert sorted(mine) == sorted(whole)
        steps["compared"] += 1
        steps["changed"] += bool(mine)
        return mine

    monkeypatch.setattr(search._Search, "step_invariants", both)

    report = check(Bounds(contracts=1, milestones=1, team=False, amounts=(500,), depth=5))

    assert report.ok, report.summary()
    assert steps["compared"] > report.states


def test_system_events_left_to_their_key_reach_what_checking_them_all_reaches() -> None:
    bounds = Bounds(contracts=1, milestones=0, payments=0, team=False, amounts=(500,), depth=6)

    left = check(bounds)
    every = check(attrs.evolve(bounds, full_check=1.0))

    assert left.ok, left.summary()
    assert every.ok, every.summary()
    assert (left.states, left.merged) == (every.states, every.merged)
    assert left.coverage == every.coverage
    assert left.left_to_key > 0
    assert every.left_to_key == 0
