"""Step invariants read from the aggregates a step changed, and system events left to their key.

Shortcuts of the search (ADR 0090), each with its premise checked and a guard broken on
purpose to show it is still caught:

* the invariants of a step (closed stays closed, no way back, money never shrinks, settled
  with nothing left) compare only the aggregates whose entry the step changed;
* a system event (which starts no state of its own) that reaches a key already stored
  leaves the invariants of its state to the state stored under the key;
* a step whose step invariants passed is known again by the versions of the aggregates it
  changed (versions are given by content), and a contract's place within the bounds by its
  version.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from statemachines.verify import search
from statemachines.verify.invariants import StepPart, step_problems
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


def test_a_step_that_passed_is_kept_by_its_versions_and_one_that_failed_is_read_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    original = step_problems

    def counted(was: Any, now: Any) -> list[str]:
        calls.append(1)
        return original(was, now)

    monkeypatch.setattr(search, "step_problems", counted)
    searcher = search._Search(Bounds(contracts=1, milestones=1, team=False, depth=1))
    paid = StepPart((("C-1", "ACTIVE"),), ("C-1", (500, 0)))
    more = StepPart((("C-1", "ACTIVE"),), ("C-1", (1000, 0)))
    less = StepPart((("C-1", "ACTIVE"),), ("C-1", (0, 0)))

    assert searcher.step_problems(((1, 2),), [paid], [more]) == []
    assert searcher.step_problems(((1, 2),), [paid], [more]) == []
    assert len(calls) == 1  # the second time, the passed step is known by its versions
    shrunk = searcher.step_problems(((1, 3),), [paid], [less])
    assert shrunk
    assert searcher.step_problems(((1, 3),), [paid], [less]) == shrunk
    assert len(calls) == 3  # a step that failed is never kept


def test_the_bound_read_once_per_contract_version_agrees_with_the_world_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared = {"in": 0, "out": 0}
    original = search._Search.within

    def both(self: Any, snap: Snapshot) -> bool:
        mine = original(self, snap)
        contracts = self.world.market.store.values("contract")
        assert mine == all(self.contract_in_bound(c) for c in contracts)
        compared["in" if mine else "out"] += 1
        return mine

    monkeypatch.setattr(search._Search, "within", both)

    report = check(
        Bounds(contracts=1, milestones=1, payments=0, team=False, amounts=(500,), depth=7)
    )

    assert report.ok, report.summary()
    assert compared["in"] > report.states
    assert compared["out"] > 0  # states past the bound were met and left unexpanded
