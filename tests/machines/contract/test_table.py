"""Tests generated from the contract table: illegal pairs, forbidden rows, snapshots, atomicity."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from statemachines import (
    CONTRACT,
    SYSTEM,
    Actor,
    Contract,
    ContractLifecycle,
    ContractState,
    IllegalTransition,
    ManualClock,
    Money,
    TransitionRefused,
    from_dict,
    to_dict,
)
from statemachines.machines.contract.escrow import REVIEW
from statemachines.machines.invariants import check_contract, replays_identically
from tests.machines.contract.conftest import (
    FREELANCER,
    OWNER,
    SUPPORT,
    at,
    fixed_contract,
    hourly_contract,
)

S = ContractState


def _actor_for(event: str) -> Actor:
    roles = {r for e in CONTRACT.edges if e.event == event for r in e.roles}
    if SYSTEM.role in roles:
        return SYSTEM
    if SUPPORT.role in roles:
        return SUPPORT
    return OWNER if OWNER.role in roles else FREELANCER


ILLEGAL = [
    (state, event)
    for state, event in itertools.product(S, CONTRACT.events)
    if not CONTRACT.edges_from(state, event) and CONTRACT.forbidden_from(state, event) is None
]
FORBIDDEN = [(state, row.event, row.rule_id) for row in CONTRACT.forbidden for state in row.sources]


def test_the_table_leaves_illegal_pairs_to_test() -> None:
    # Guard against a generator that silently produces nothing.
    assert len(ILLEGAL) > 40
    assert len(FORBIDDEN) > 30


@pytest.mark.parametrize("make", [hourly_contract, fixed_contract], ids=["hourly", "fixed"])
@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=[f"{s.value}-{e}" for s, e in ILLEGAL])
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    lifecycle: ContractLifecycle, state: ContractState, event: str, make: Any
) -> None:
    c = make()
    c.state = state
    before = to_dict(c)

    with pytest.raises(IllegalTransition, match=f"cannot '{event}' contract '{c.id}' in state"):
        lifecycle.fire(c, event, _actor_for(event))

    assert to_dict(c) == before
    assert lifecycle.audit[-1].outcome == "illegal"  # type: ignore[index]


@pytest.mark.parametrize(
    ("state", "event", "rule_id"), FORBIDDEN, ids=[f"{s.value}-{e}" for s, e, _ in FORBIDDEN]
)
def test_a_forbidden_pair_is_refused_with_its_rule_and_changes_nothing(
    lifecycle: ContractLifecycle, state: ContractState, event: str, rule_id: str
) -> None:
    c = hourly_contract()
    c.state = state
    c.ended_at = at(2, 9)
    freelancer_side = {"log_time", "delete_time", "give_refund", "approve_refund", "dispute_refund"}
    actor = FREELANCER if event in freelancer_side else OWNER
    before = to_dict(c)

    with pytest.raises(TransitionRefused) as refused:
        lifecycle.fire(c, event, actor, **_arguments(event))

    assert refused.value.rule_ids == (rule_id,)
    assert refused.value.reasons[0]
    assert to_dict(c) == before


def _arguments(event: str) -> dict[str, Any]:
    arguments: dict[str, dict[str, Any]] = {
        "log_time": {"minutes": 60},
        "delete_time": {"minutes": 60},
        "add_milestone": {"amount": Money(1_000)},
        "edit_milestone": {"milestone": "C-1-M1"},
        "delete_milestone": {"milestone": "C-1-M1"},
        "give_refund": {"payment": "C-1-P1", "amount": Money(100), "balance": Money(100)},
    }
    return arguments.get(event, {})


def test_no_state_is_terminal_because_money_moves_after_the_end() -> None:
    assert CONTRACT.terminal == frozenset()
    for state in (S.ENDING, S.ENDED, S.REFUNDED):
        targets = {e.target for e in CONTRACT.edges if state in e.sources}
        assert targets <= {S.ENDING, S.ENDED, S.REFUNDED}


@pytest.mark.rule("CTR-END-9")
def test_ctr_end_9_nothing_leads_back_to_work_after_the_end() -> None:
    back = [
        e.event
        for e in CONTRACT.edges
        if set(e.sources) & {S.ENDING, S.ENDED, S.REFUNDED} and e.target in {S.ACTIVE, S.PAUSED}
    ]

    assert back == []


# --------------------------------------------------------------------------- a full history


def _lived_fixed(lifecycle: ContractLifecycle, clock: ManualClock) -> Contract:
    c = fixed_contract()
    lifecycle.fire(c, "add_milestone", OWNER, amount=Money(20_000), title="design")
    lifecycle.fire(c, "add_milestone", OWNER, amount=Money(10_000), title="build")
    lifecycle.fire(c, "fund_milestone", OWNER)
    lifecycle.fire(c, "submit_work", FREELANCER)
    lifecycle.fire(c, "approve_milestone", OWNER, amount=Money(15_000))
    lifecycle.fire(c, "fund_milestone", OWNER)
    clock.advance(days=1)
    lifecycle.fire(c, "submit_work", FREELANCER)
    lifecycle.fire(c, "request_refund", OWNER, payment="C-2-P1", amount=Money(1_000))
    return c


def _lived_hourly(lifecycle: ContractLifecycle, clock: ManualClock) -> Contract:
    c = hourly_contract()
    lifecycle.fire(c, "log_time", FREELANCER, minutes=300)
    clock.set(at(9, 12))
    lifecycle.advance(c)
    lifecycle.fire(c, "log_time", FREELANCER, minutes=90)
    lifecycle.fire(c, "end_contract", OWNER)
    return c


@pytest.mark.parametrize("live", [_lived_fixed, _lived_hourly], ids=["fixed", "hourly"])
def test_a_snapshot_round_trips_exactly_through_json(
    lifecycle: ContractLifecycle, clock: ManualClock, live: Any
) -> None:
    c = live(lifecycle, clock)
    data = json.loads(json.dumps(to_dict(c)))

    restored = from_dict(data)

    assert restored == c
    assert to_dict(restored) == data
    assert restored.history == c.history
    assert [m.history for m in restored.milestones] == [m.history for m in c.milestones]
    assert restored.deadlines == c.deadlines
    assert data["schema"] == "statemachines/contract"


def test_a_restored_contract_keeps_its_state_and_deadlines_fire(
    lifecycle: ContractLifecycle, clock: ManualClock
) -> None:
    c = from_dict(to_dict(_lived_hourly(lifecycle, clock)))

    fired = lifecycle.advance(c, at(21))

    assert [d.event for d in fired] == ["invoice", "settle"]
    assert c.state is S.ENDED


@pytest.mark.parametrize("live", [_lived_fixed, _lived_hourly], ids=["fixed", "hourly"])
def test_inv_time_5_replaying_the_history_rebuilds_the_contract(
    lifecycle: ContractLifecycle, clock: ManualClock, live: Any
) -> None:
    first = to_dict(fixed_contract() if live is _lived_fixed else hourly_contract())

    c = live(lifecycle, clock)

    assert replays_identically(first, c)
    assert check_contract(c, clock.now()) == []


def test_a_failing_effect_puts_every_field_and_every_milestone_back(
    lifecycle: ContractLifecycle, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = _lived_fixed(lifecycle, clock)
    before = to_dict(c)

    class Broken:
        def __init__(self, *args: Any) -> None:
            pass

        @staticmethod
        def put(*args: Any) -> None:
            msg = "the payment processor is down"
            raise RuntimeError(msg)

    # The end cancels the live milestone (a child event) and returns the escrow before the
    # last effect (opening the feedback window) fails.
    monkeypatch.setattr("statemachines.machines.contract.after.Deadline", Broken)
    with pytest.raises(RuntimeError, match="processor is down"):
        lifecycle.fire(c, "end_contract", FREELANCER)

    assert to_dict(c) == before
    assert c.milestones[1].state.value == "submitted"
    assert lifecycle.audit[-1].outcome == "failed"  # type: ignore[index]


@pytest.mark.rule("MS-REVIEW-5")
def test_ms_review_5_paying_nothing_is_refused_before_the_milestone_is_touched(
    lifecycle: ContractLifecycle, clock: ManualClock
) -> None:
    c = _lived_fixed(lifecycle, clock)
    before = to_dict(c)

    with pytest.raises(TransitionRefused) as refused:
        lifecycle.fire(c, "approve_milestone", OWNER, amount=Money(0))

    assert refused.value.rule_ids == ("MS-REVIEW-5",)
    assert refused.value.reasons == (
        "paying milestone C-2-M2 must release a positive amount, not US$0.00; to pay nothing, "
        "ask for changes or end the contract",
    )
    assert to_dict(c) == before


def test_child_milestones_are_fired_at_the_contract_time(
    lifecycle: ContractLifecycle, clock: ManualClock
) -> None:
    c = _lived_fixed(lifecycle, clock)

    times = [d.at for m in c.milestones for d in m.history]

    assert set(times) <= {d.at for d in c.history}
    assert REVIEW.audit is not lifecycle.audit


@pytest.mark.parametrize("make", [hourly_contract, fixed_contract], ids=["hourly", "fixed"])
@pytest.mark.parametrize("state", list(S), ids=[s.value for s in S])
def test_every_verdict_can_be_asked_in_every_state(
    lifecycle: ContractLifecycle, state: ContractState, make: Any
) -> None:
    c = make()
    c.state = state
    if state in {S.ENDING, S.ENDED, S.REFUNDED}:
        c.ended_at = at(2, 9)
    before = to_dict(c)

    verdicts = [
        v for actor in (OWNER, FREELANCER, SUPPORT, SYSTEM) for v in lifecycle.verdicts(c, actor)
    ]

    assert len(verdicts) == 4 * len(CONTRACT.events)
    assert all(str(v) for v in verdicts)
    assert to_dict(c) == before
