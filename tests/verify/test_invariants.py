"""The invariants the checker adds: each one of a step passes a good step and names a bad one."""

from __future__ import annotations

from statemachines.verify.invariants import (
    STEP_INVARIANTS,
    moneys_of,
    offers_start_contracts,
    states_of,
    step_closed_stays_closed,
    step_money_never_shrinks,
    step_no_way_back,
)
from statemachines.verify.world import Bounds, World


def test_a_closed_account_that_leaves_closed_is_named() -> None:
    before = {"fl-1": "closed", "co-1": "active"}

    assert step_closed_stays_closed(before, {"fl-1": "closed", "co-1": "closing"}) == []
    assert step_closed_stays_closed(before, {"fl-1": "active", "co-1": "active"}) == [
        "account fl-1 left closed for active"
    ]


def test_work_after_the_end_and_a_settled_milestone_that_moves_are_named() -> None:
    before = {"C-1": "ended", "C-1-M1": "approved", "C-2": "active"}

    assert step_no_way_back(before, {"C-1": "refunded", "C-1-M1": "approved", "C-2": "ended"}) == []
    assert step_no_way_back(before, {"C-1": "active", "C-1-M1": "funded", "C-2": "active"}) == [
        "contract C-1 went from ended back to active",
        "milestone C-1-M1 went from approved to funded",
    ]


def test_released_or_refunded_money_that_goes_down_is_named() -> None:
    before = {"C-1": (500, 0)}

    assert step_money_never_shrinks(before, {"C-1": (500, 100)}) == []
    assert step_money_never_shrinks(before, {"C-1": (0, 0)}) == [
        "contract C-1: released/refunded went from (500, 0) to (0, 0)"
    ]


def test_the_step_invariants_read_the_world_the_search_reads() -> None:
    world = World(Bounds(contracts=1, milestones=1, team=False))
    states, moneys = states_of(world.market), moneys_of(world.market)

    # the owner's membership of the company is there from the start
    assert states == {"fl-1": "active", "co-1": "active", "co-1/ana": "member", "C-1": "active"}
    assert moneys == {"C-1": (0, 0)}
    assert len(STEP_INVARIANTS) == 3
    assert all(inv(states, states) == [] for inv in STEP_INVARIANTS[:2])


def test_a_world_without_accepted_offers_started_no_contract() -> None:
    world = World(Bounds(contracts=1, jobs=1, team=False))

    assert offers_start_contracts(world.market, initial=1) == []
    assert offers_start_contracts(world.market, initial=0) == [
        "accepted offers [] but contracts started [('co-1', 'fl-1', False, None, None)]"
    ]
