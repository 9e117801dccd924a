"""MS-DSP-1..2: a milestone delivered and not released is ``disputed`` until a fixed-price
dispute (FPD-1 case b) gives its shares; on the milestone alone and through its contract.

The contract's ``dispute_milestone`` and ``settle_milestone_dispute`` are support's (the
marketplace fires them for a dispute case); the contract invariants hold after each.
"""

from __future__ import annotations

import pytest

from statemachines import SYSTEM, ManualClock, Money, TransitionRefused
from statemachines.machines.contract.table import Contract, ContractLifecycle, ContractState
from statemachines.machines.invariants import check_contract
from statemachines.machines.milestone import Milestone, MilestoneReview, MilestoneState
from tests.conftest import START
from tests.machines.fixed_dispute.conftest import FREELANCER, OWNER, SUPPORT

M = MilestoneState


def reasons(err: pytest.ExceptionInfo[TransitionRefused]) -> dict[str, str]:
    return dict(zip(err.value.rule_ids, err.value.reasons, strict=True))


# --------------------------------------------------------------------------- the milestone


@pytest.fixture
def review(clock: ManualClock) -> MilestoneReview:
    return MilestoneReview(clock=clock)


def submitted(review: MilestoneReview) -> Milestone:
    ms = Milestone(id="M-1", contract="C-1", client="co-1", freelancer="fl-1", amount=Money(30_000))
    review.fire(ms, "fund", OWNER)
    review.fire(ms, "submit", FREELANCER)
    return ms


@pytest.mark.rule("MS-DSP-1")
def test_ms_dsp_1_a_delivered_milestone_is_disputed_and_its_review_clock_stops(
    review: MilestoneReview,
) -> None:
    ms = submitted(review)
    review.fire(ms, "request_changes", OWNER)

    review.fire(ms, "dispute", SUPPORT)

    assert (ms.state, ms.review_due, ms.held) == (M.DISPUTED, None, Money(30_000))
    with pytest.raises(TransitionRefused) as refused:
        review.fire(ms, "edit", OWNER, amount=Money(100))
    assert refused.value.rule_ids == ("MS-3",)


@pytest.mark.rule("MS-DSP-1", "FPD-5")
def test_ms_dsp_1_the_dispute_releases_a_share_and_never_more_than_is_held(
    review: MilestoneReview,
) -> None:
    ms = submitted(review)
    review.fire(ms, "dispute", SUPPORT)

    for amount, why in (
        (Money(0), "milestone M-1 is released with a positive amount, not US$0.00"),
        (Money(30_001), "milestone M-1 holds US$300.00; at most that is released"),
    ):
        with pytest.raises(TransitionRefused) as refused:
            review.fire(ms, "settle_dispute", SUPPORT, amount=amount)
        assert reasons(refused)["MS-DSP-1"].startswith(why)
    review.fire(ms, "settle_dispute", SUPPORT, amount=Money(20_000))

    assert (ms.state, ms.released, ms.held) == (M.APPROVED, Money(20_000), Money(10_000))


@pytest.mark.rule("MS-DSP-2")
def test_ms_dsp_2_released_escrow_is_not_disputed(review: MilestoneReview) -> None:
    ms = submitted(review)
    review.fire(ms, "approve", OWNER)

    with pytest.raises(TransitionRefused) as refused:
        review.fire(ms, "dispute", SUPPORT)

    assert reasons(refused) == {
        "MS-DSP-2": "milestone M-1 was released; released escrow is not disputed, but the client "
        "may request a refund or, within 30 days, ask for mediation assistance"
    }


@pytest.mark.rule("MS-DSP-1", "MS-END-D")
def test_ms_dsp_1_a_dispute_that_gives_the_freelancer_nothing_hands_the_money_back(
    review: MilestoneReview,
) -> None:
    ms = submitted(review)
    review.fire(ms, "dispute", SUPPORT)

    review.fire(ms, "cancel", SYSTEM)

    assert (ms.state, ms.returned, ms.held) == (M.CANCELLED, Money(30_000), Money(0))


# --------------------------------------------------------------------------- the contract


@pytest.fixture
def life(clock: ManualClock) -> ContractLifecycle:
    return ContractLifecycle(clock=clock)


def delivered(life: ContractLifecycle) -> Contract:
    """C-1: milestone M1 (US$300.00) funded and submitted, M2 (US$100.00) not funded yet."""
    c = Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=START)
    life.fire(c, "add_milestone", OWNER, amount=Money(30_000))
    life.fire(c, "add_milestone", OWNER, amount=Money(10_000))
    life.fire(c, "fund_milestone", OWNER)
    life.fire(c, "submit_work", FREELANCER)
    return c


def sound(c: Contract, clock: ManualClock) -> None:
    assert check_contract(c, clock.now()) == []


@pytest.mark.rule("MS-DSP-1", "MS-2")
def test_ms_dsp_1_a_disputed_milestone_holds_the_contract_until_it_is_settled(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = delivered(life)

    life.fire(c, "dispute_milestone", SUPPORT)

    ms = c.milestones[0]
    assert (ms.state, c.live_milestone, c.escrow_held, c.deadlines) == (
        M.DISPUTED,
        ms,
        Money(30_000),
        (),
    )
    sound(c, clock)
    refusals = {}
    for event, actor in (
        ("submit_work", FREELANCER),
        ("approve_milestone", OWNER),
        ("fund_milestone", OWNER),
    ):
        with pytest.raises(TransitionRefused) as refused:
            life.fire(c, event, actor)
        refusals[event] = reasons(refused)
    assert refusals == {
        "submit_work": {
            "MS-DSP-1": "milestone C-1-M1 is disputed; a mediation specialist decides what is "
            "released, and work resumes with the next milestone"
        },
        "approve_milestone": {
            "MS-REVIEW-1": "no milestone of contract C-1 is waiting for review (milestone C-1-M1 "
            "is disputed)"
        },
        "fund_milestone": {
            "MS-2": "milestone C-1-M1 is still disputed; it must be paid before the next "
            "milestone is funded"
        },
    }


@pytest.mark.rule("MS-DSP-1", "CTR-TYPE-D")
def test_ms_dsp_1_only_delivered_work_of_a_fixed_price_contract_is_disputed(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=START)
    life.fire(c, "add_milestone", OWNER, amount=Money(30_000))
    life.fire(c, "fund_milestone", OWNER)

    with pytest.raises(TransitionRefused) as refused:
        life.fire(c, "dispute_milestone", SUPPORT)
    assert reasons(refused) == {
        "MS-DSP-1": "milestone C-1-M1 is funded; only delivered work waiting for payment is "
        "disputed"
    }
    with pytest.raises(TransitionRefused) as refused:
        life.fire(c, "settle_milestone_dispute", SUPPORT)
    assert reasons(refused) == {"MS-DSP-1": "no milestone of contract C-1 is disputed"}
    hourly = Contract.hourly(
        "C-2", client="co-1", freelancer="fl-1", rate=Money(3_000), started_at=START
    )
    for event in ("dispute_milestone", "settle_milestone_dispute"):
        with pytest.raises(TransitionRefused) as refused:
            life.fire(hourly, event, SUPPORT)
        assert "CTR-TYPE-D" in refused.value.rule_ids


@pytest.mark.rule("FPD-5", "MS-DSP-1", "MS-2")
def test_fpd_5_the_shares_release_the_freelancers_and_leave_the_clients_in_escrow(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = delivered(life)
    life.fire(c, "dispute_milestone", SUPPORT)
    with pytest.raises(TransitionRefused) as refused:
        life.fire(
            c,
            "settle_milestone_dispute",
            SUPPORT,
            to_freelancer=Money(20_000),
            to_client=Money(5_000),
        )
    assert reasons(refused) == {
        "FPD-5": "US$200.00 to the freelancer side and US$50.00 to the client do not make the "
        "US$300.00 held for milestone C-1-M1"
    }

    life.fire(c, "settle_milestone_dispute", SUPPORT, to_freelancer=Money(20_000))

    ms = c.milestones[0]
    assert (ms.state, ms.released, c.unallocated) == (M.APPROVED, Money(20_000), Money(10_000))
    assert [(p.source, p.amount) for p in c.payments] == [("C-1-M1", Money(20_000))]
    sound(c, clock)
    life.fire(c, "fund_milestone", OWNER)  # the client's share funds the next milestone
    assert (c.unallocated, c.escrow_charged) == (Money(0), Money(30_000))
    sound(c, clock)


@pytest.mark.rule("FPD-5", "MS-DSP-1", "CTR-END-4")
def test_fpd_5_a_dispute_that_pays_nothing_leaves_it_all_in_escrow_for_the_client(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = delivered(life)
    life.fire(c, "dispute_milestone", SUPPORT)
    with pytest.raises(TransitionRefused) as refused:
        life.fire(c, "end_contract", FREELANCER)
    assert reasons(refused) == {
        "MS-DSP-1": "milestone C-1-M1 is disputed; the contract can end once the mediation "
        "specialist has decided who gets its money"
    }

    life.fire(c, "settle_milestone_dispute", SUPPORT, to_client=Money(30_000))

    assert (c.milestones[0].state, c.unallocated, c.payments) == (
        M.CANCELLED,
        Money(30_000),
        (),
    )
    sound(c, clock)
    life.fire(c, "end_contract", FREELANCER)  # the freelancer ends: the escrow goes back
    assert (c.state, c.escrow_returned) == (ContractState.REFUNDED, Money(30_000))
    sound(c, clock)


@pytest.mark.rule("MS-DSP-1", "ACC-GEN-8", "CTR-END-4")
def test_ms_dsp_1_the_platform_closing_an_account_still_ends_a_contract_in_dispute(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = delivered(life)
    life.fire(c, "dispute_milestone", SUPPORT)

    life.fire(c, "end_contract", SYSTEM)

    assert (c.milestones[0].state, c.escrow_returned, c.escrow_held) == (
        M.CANCELLED,
        Money(30_000),
        Money(0),
    )
    sound(c, clock)
