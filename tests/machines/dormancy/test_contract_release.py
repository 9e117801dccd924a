"""DORM-1 on the contract: ``release_dormant_funds`` releases what a dormant contract's live
milestone holds, as its watch (the client's silence) or a mediator decided; the client's
share stays in the escrow. The platform and support fire it for the marketplace."""

from __future__ import annotations

import pytest

from statemachines import SYSTEM, ManualClock, Money, TransitionRefused
from statemachines.machines.contract.table import Contract, ContractLifecycle
from statemachines.machines.invariants import check_contract
from statemachines.machines.milestone import MilestoneState
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import SUP as SUPPORT
from tests.conftest import START

M = MilestoneState


@pytest.fixture
def life(clock: ManualClock) -> ContractLifecycle:
    return ContractLifecycle(clock=clock)


def funded(life: ContractLifecycle) -> Contract:
    c = Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=START)
    life.fire(c, "add_milestone", OWNER, amount=Money(30_000))
    life.fire(c, "fund_milestone", OWNER)
    return c


def reasons(err: pytest.ExceptionInfo[TransitionRefused]) -> dict[str, str]:
    return dict(zip(err.value.rule_ids, err.value.reasons, strict=True))


@pytest.mark.rule("DORM-1")
def test_dorm_1_silence_releases_a_funded_milestone_in_full(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = funded(life)

    life.fire(c, "release_dormant_funds", SYSTEM, to_freelancer=Money(30_000))

    ms = c.milestones[0]
    assert (ms.state, ms.released, c.escrow_released, c.escrow_held) == (
        M.APPROVED,
        Money(30_000),
        Money(30_000),
        Money(0),
    )
    assert [(p.source, p.amount) for p in c.payments] == [("C-1-M1", Money(30_000))]
    assert check_contract(c, clock.now()) == []


@pytest.mark.rule("DORM-1", "FPD-5", "MS-REVIEW-3")
def test_dorm_1_a_mediator_splits_a_milestone_sent_back_for_changes(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = funded(life)
    life.fire(c, "submit_work", FREELANCER)
    life.fire(c, "request_changes", OWNER)

    life.fire(c, "release_dormant_funds", SUPPORT, to_client=Money(10_000))

    assert (c.milestones[0].released, c.unallocated) == (Money(20_000), Money(10_000))
    assert check_contract(c, clock.now()) == []


@pytest.mark.rule("DORM-1")
def test_dorm_1_nothing_for_the_freelancer_hands_the_milestone_back_to_the_escrow(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = funded(life)

    life.fire(c, "release_dormant_funds", SUPPORT, to_freelancer=Money(0))

    assert (c.milestones[0].state, c.unallocated, c.payments) == (
        M.CANCELLED,
        Money(30_000),
        (),
    )
    assert check_contract(c, clock.now()) == []


@pytest.mark.rule("DORM-1", "CTR-TYPE-D")
def test_dorm_1_a_release_names_its_shares_and_needs_money_held(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = funded(life)
    with pytest.raises(TransitionRefused) as refused:
        life.fire(c, "release_dormant_funds", SYSTEM)
    assert reasons(refused) == {
        "DORM-1": "a dormant contract's money is released as its dormancy watch or a mediator "
        "decided: give the freelancer side's share, the client's, or both"
    }
    with pytest.raises(TransitionRefused) as refused:
        life.fire(
            c,
            "release_dormant_funds",
            SYSTEM,
            to_freelancer=Money(30_000),
            to_client=Money(1),
        )
    assert reasons(refused) == {
        "DORM-1": "US$300.00 to the freelancer side and US$0.01 to the client do not make the "
        "US$300.00 held for milestone C-1-M1"
    }
    empty = Contract.fixed("C-2", client="co-1", freelancer="fl-1", started_at=START)
    with pytest.raises(TransitionRefused) as refused:
        life.fire(empty, "release_dormant_funds", SYSTEM, to_freelancer=Money(100))
    assert reasons(refused)["DORM-1"] == (
        "no milestone of contract C-2 holds money that can be released now"
    )
    hourly = Contract.hourly(
        "C-3", client="co-1", freelancer="fl-1", rate=Money(3_000), started_at=START
    )
    with pytest.raises(TransitionRefused) as refused:
        life.fire(hourly, "release_dormant_funds", SYSTEM, to_freelancer=Money(100))
    assert "CTR-TYPE-D" in refused.value.rule_ids
