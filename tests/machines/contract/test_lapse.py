"""MS-REVIEW-2 on a contract used alone: a lapsed review approved its milestone at the lapse.

Nobody called ``advance``: the next decision on the contract first fires what fell due,
so money owed to the freelancer from the lapse is paid, never sent back to the client,
and ``explain`` says what ``fire`` does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import Contract, ContractLifecycle, ManualClock, MilestoneState, Money
from statemachines.machines.contract.values import PaymentKind
from statemachines.machines.invariants import check_contract
from tests.machines.contract.conftest import FREELANCER, OWNER, at

LAPSE = at(16, 9)
"""The 14-day review of the ``submitted`` fixture's milestone lapses here."""


@pytest.mark.rule("MS-REVIEW-2", "CTR-END-5")
def test_ms_review_2_a_client_ending_after_the_lapse_paying_nothing_still_pays_the_milestone(
    lifecycle: ContractLifecycle, submitted: Contract, clock: ManualClock
) -> None:
    clock.set(LAPSE + timedelta(days=1))

    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(0))

    ms = submitted.milestones[0]
    assert ms.state is MilestoneState.APPROVED
    assert ms.auto_approved
    assert ms.approved_at == LAPSE
    assert [(p.kind, p.amount, p.paid_at) for p in submitted.payments] == [
        (PaymentKind.MILESTONE, Money(20_000), LAPSE)
    ]
    assert submitted.escrow_released == Money(20_000)
    assert submitted.escrow_returned == Money(0)  # the draft milestone was never funded
    assert [d.event for d in submitted.history][-2:] == ["milestone_review_lapse", "end_contract"]
    assert check_contract(submitted, clock.now()) == []


@pytest.mark.rule("MS-REVIEW-2", "CTR-END-4")
def test_ms_review_2_a_freelancer_ending_after_the_lapse_keeps_the_lapsed_milestones_pay(
    lifecycle: ContractLifecycle, submitted: Contract, clock: ManualClock
) -> None:
    clock.set(LAPSE)

    lifecycle.fire(submitted, "end_contract", FREELANCER)

    assert submitted.milestones[0].state is MilestoneState.APPROVED
    assert submitted.net_paid == Money(20_000)
    assert submitted.escrow_returned == Money(0)
    assert check_contract(submitted, clock.now()) == []


@pytest.mark.rule("MS-REVIEW-1", "MS-REVIEW-2")
@pytest.mark.parametrize("event", ["approve_milestone", "request_changes"])
def test_ms_review_1_after_the_lapse_explain_and_fire_both_refuse_the_client(
    lifecycle: ContractLifecycle, submitted: Contract, clock: ManualClock, event: str
) -> None:
    clock.set(LAPSE)

    verdict = lifecycle.explain(submitted, event, OWNER)
    with pytest.raises(Exception) as refused:  # noqa: PT011  (compared with the verdict below)
        lifecycle.fire(submitted, event, OWNER)

    assert not verdict.allowed
    assert type(refused.value) is type(verdict.error)
    assert str(refused.value) == str(verdict.error)
    assert verdict.rule_ids == ("MS-REVIEW-1",)
    assert verdict.error is not None
    assert (
        "the 14-day review of milestone C-2-M1 ended at 2026-03-16 09:00:00 UTC; its full "
        "amount of US$200.00 was released to the freelancer automatically"
    ) in str(verdict.error)
    assert submitted.milestones[0].state is MilestoneState.SUBMITTED  # nothing changed
    assert submitted.payments == ()
