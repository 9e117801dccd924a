"""HDSP-2 on the contract: ``dispute_hours`` holds billed hours out of the week's payment and
pauses the contract with a weekly limit of 0; ``settle_held_hours`` pays the hours kept
and leaves the refunded ones out, in every state the contract can be in by then.

Every edge of the two events is fired here, and the contract invariants hold after each.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from statemachines import SYSTEM, UTC, ManualClock, Money, TransitionRefused
from statemachines.machines.contract.disputed import held_minutes
from statemachines.machines.contract.table import Contract, ContractLifecycle, ContractState
from statemachines.machines.contract.values import PauseReason
from statemachines.machines.invariants import check_contract
from tests.machines.hourly_dispute.conftest import FREELANCER, INVOICED, OWNER, REVIEW_CLOSES, WEEK

S = ContractState
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TUESDAY = INVOICED + timedelta(hours=21)


@pytest.fixture
def life(clock: ManualClock) -> ContractLifecycle:
    return ContractLifecycle(clock=clock)


def billed(life: ContractLifecycle, clock: ManualClock, minutes: int = 600) -> Contract:
    """C-1 at US$30.00 an hour, *minutes* logged in week 2026-03-02, invoiced; now Tuesday."""
    c = Contract.hourly(
        "C-1", client="co-1", freelancer="fl-1", rate=Money(3_000), started_at=START
    )
    life.fire(c, "log_time", FREELANCER, minutes=minutes)
    clock.set(TUESDAY)
    life.advance(c)
    assert c.payments[0].amount == Money(3_000 * minutes // 60)
    return c


def refusal(life: ContractLifecycle, c: Contract, event: str, **payload: object) -> dict[str, str]:
    before = life.spec.save(c)
    with pytest.raises(TransitionRefused) as refused:
        life.fire(c, event, SYSTEM, **payload)
    assert life.spec.save(c) == before
    return dict(zip(refused.value.rule_ids, refused.value.reasons, strict=True))


def sound(c: Contract, clock: ManualClock) -> None:
    assert check_contract(c, clock.now()) == []


# --------------------------------------------------------------------------- holding


@pytest.mark.rule("HDSP-2", "CTR-HR-1")
def test_hdsp_2_a_dispute_pauses_the_contract_at_limit_0_and_holds_its_hours(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = billed(life, clock)

    life.fire(c, "dispute_hours", SYSTEM, week=WEEK, minutes=180)

    assert (c.state, c.pause_reason, c.paused_at, c.weekly_limit) == (
        S.PAUSED,
        PauseReason.DISPUTE,
        TUESDAY,
        0,
    )
    assert (c.payments[0].amount, c.payments[0].left) == (Money(21_000), Money(21_000))
    assert held_minutes(c) == {WEEK: 180}
    sound(c, clock)
    with pytest.raises(TransitionRefused) as refused:
        life.fire(c, "log_time", FREELANCER, minutes=30)
    assert refused.value.reasons == (
        "contract C-1 was paused by the client on 2026-03-10 09:00:00 UTC because it disputed "
        "billed hours; time can be logged again once it is restarted",
    )


@pytest.mark.rule("HDSP-2", "CTR-HR-1")
def test_hdsp_2_a_contract_the_client_paused_is_held_by_the_dispute_too(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = billed(life, clock)
    life.fire(c, "pause", OWNER)

    life.fire(c, "dispute_hours", SYSTEM, minutes=60)  # the week in review by default

    assert (c.state, c.pause_reason, c.weekly_limit) == (S.PAUSED, PauseReason.DISPUTE, 0)
    assert held_minutes(c) == {WEEK: 60}
    assert refusal(life, c, "dispute_hours", minutes=541) == {
        "HDSP-1": "9 hours 1 minute is more than the 9 hours of week 2026-03-02 that can be "
        "disputed (10 hours billed, 1 hour of them disputed already)"
    }


@pytest.mark.rule("HDSP-2")
def test_hdsp_2_the_client_restarts_only_once_the_dispute_is_over(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = billed(life, clock)
    life.fire(c, "dispute_hours", SYSTEM, minutes=120)

    with pytest.raises(TransitionRefused) as refused:
        life.fire(c, "restart", OWNER)

    assert dict(zip(refused.value.rule_ids, refused.value.reasons, strict=True)) == {
        "HDSP-2": "contract C-1 is paused while the client's dispute of hours billed for week "
        "2026-03-02 is open; it can be restarted, and its weekly limit changed, once the "
        "dispute is over"
    }
    with pytest.raises(TransitionRefused):
        life.fire(c, "set_weekly_limit", OWNER, hours=20)
    with pytest.raises(TransitionRefused) as refused:
        life.fire(c, "billing_fixed", SYSTEM)
    assert refused.value.reasons == (
        "contract C-1 was paused by the client on 2026-03-10 09:00:00 UTC because it disputed "
        "billed hours; it restarts when the client restarts it, once the dispute is over",
    )


@pytest.mark.rule("HDSP-1", "CTR-TYPE-D")
def test_hdsp_1_only_hours_invoiced_and_in_review_are_held(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = billed(life, clock)

    with pytest.raises(TransitionRefused) as refused:
        life.fire(c, "dispute_hours", SYSTEM, week=WEEK + timedelta(days=7), minutes=60)
    assert refused.value.reasons == (
        "contract C-1 has no invoice for week 2026-03-09; only invoiced hours can be disputed",
        "1 hour is more than the 0 minutes of week 2026-03-09 that can be disputed (0 minutes "
        "billed)",
    )
    assert refusal(life, c, "dispute_hours", minutes=0) == {
        "HDSP-1": "a dispute is about some hours, more than 0 minutes, not 0"
    }
    clock.set(REVIEW_CLOSES)
    assert refusal(life, c, "dispute_hours", week=WEEK, minutes=60) == {
        "HDSP-1": "the review window of week 2026-03-02 ran from 2026-03-09 12:00:00 UTC to "
        "2026-03-14 00:00:00 UTC; its hours can be disputed only then"
    }
    fixed = Contract.fixed("C-2", client="co-1", freelancer="fl-1", started_at=START)
    with pytest.raises(TransitionRefused) as refused:
        life.fire(fixed, "dispute_hours", SYSTEM, week=WEEK, minutes=60)
    assert "CTR-TYPE-D" in refused.value.rule_ids


@pytest.mark.rule("HDSP-2", "CTR-TYPE-D", "ESC-1")
def test_hdsp_2_an_ending_contract_holds_the_hours_of_its_last_review(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = billed(life, clock)
    life.fire(c, "end_contract", OWNER)
    assert c.state is S.ENDING

    life.fire(c, "dispute_hours", SYSTEM, minutes=600)

    assert (c.state, c.payments[0].amount, held_minutes(c)) == (S.ENDING, Money(0), {WEEK: 600})
    fixed = Contract.fixed("C-2", client="co-1", freelancer="fl-1", started_at=START)
    life.fire(fixed, "add_milestone", OWNER, amount=Money(5_000))
    life.fire(fixed, "fund_milestone", OWNER)
    life.fire(fixed, "end_contract", OWNER, payment=Money(0))
    assert fixed.state is S.ENDING
    with pytest.raises(TransitionRefused) as refused:
        life.fire(fixed, "dispute_hours", SYSTEM, week=WEEK, minutes=60)
    assert "CTR-TYPE-D" in refused.value.rule_ids


# --------------------------------------------------------------------------- settling


@pytest.mark.rule("HDSP-5", "HDSP-2")
def test_hdsp_5_hours_kept_are_paid_and_the_client_restarts(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = billed(life, clock)
    life.fire(c, "dispute_hours", SYSTEM, minutes=180)

    life.fire(c, "settle_held_hours", SYSTEM, week=WEEK, minutes=180, refunded=60)

    assert (c.state, c.pause_reason, c.weekly_limit) == (S.PAUSED, PauseReason.CLIENT, 0)
    assert (c.payments[0].amount, held_minutes(c)) == (Money(27_000), {})
    sound(c, clock)
    life.fire(c, "restart", OWNER)
    assert c.state is S.ACTIVE


@pytest.mark.rule("HDSP-2")
def test_hdsp_2_two_disputes_of_a_week_keep_it_paused_until_both_are_over(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = billed(life, clock)
    life.fire(c, "dispute_hours", SYSTEM, minutes=60)
    life.fire(c, "dispute_hours", SYSTEM, minutes=30)

    life.fire(c, "settle_held_hours", SYSTEM, minutes=60, refunded=60)

    assert (c.pause_reason, held_minutes(c)) == (PauseReason.DISPUTE, {WEEK: 30})
    life.fire(c, "settle_held_hours", SYSTEM)  # the rest, paid
    assert (c.pause_reason, held_minutes(c), c.payments[0].amount) == (
        PauseReason.CLIENT,
        {},
        Money(27_000),
    )


@pytest.mark.rule("HDSP-2")
def test_hdsp_2_only_hours_held_are_settled(life: ContractLifecycle, clock: ManualClock) -> None:
    c = billed(life, clock)
    life.fire(c, "pause", OWNER)
    assert refusal(life, c, "settle_held_hours") == {
        "HDSP-2": "no hours of any week are held by a dispute on contract C-1"
    }
    life.fire(c, "dispute_hours", SYSTEM, minutes=60)

    assert refusal(life, c, "settle_held_hours", minutes=90) == {
        "HDSP-2": "week 2026-03-02 has 1 hour held; 1 hour 30 minutes cannot be settled"
    }
    assert refusal(life, c, "settle_held_hours", refunded=61) == {
        "HDSP-2": "of 1 hour settled, between 0 and all can be refunded, not 1 hour 1 minute"
    }
    assert refusal(life, c, "settle_held_hours", week=WEEK + timedelta(days=7)) == {
        "HDSP-2": "no hours of week 2026-03-09 are held by a dispute on contract C-1"
    }


@pytest.mark.rule("HDSP-4", "HDSP-7", "CTR-END-3")
def test_hdsp_4_an_ending_contract_settles_while_ending_and_after_it_ended(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = billed(life, clock)
    life.fire(c, "end_contract", OWNER)
    life.fire(c, "dispute_hours", SYSTEM, minutes=120)
    life.fire(c, "dispute_hours", SYSTEM, minutes=60)

    life.fire(c, "settle_held_hours", SYSTEM, minutes=120, refunded=120)  # accepted
    assert (c.state, c.payments[0].amount) == (S.ENDING, Money(21_000))
    clock.set(REVIEW_CLOSES)
    life.advance(c)
    assert c.state is S.ENDED
    life.fire(c, "settle_held_hours", SYSTEM, refunded=0)  # withdrawn: paid

    assert (c.state, c.payments[0].amount, held_minutes(c)) == (S.ENDED, Money(24_000), {})
    sound(c, clock)


@pytest.mark.rule("HDSP-7", "REF-180-7", "FB-4")
def test_hdsp_7_hours_paid_after_the_end_bring_a_refunded_contract_back(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    # Every billed hour was disputed: the contract settled with nothing paid (REF-180-7).
    c = billed(life, clock, minutes=60)
    life.fire(c, "end_contract", OWNER)
    life.fire(c, "dispute_hours", SYSTEM, minutes=60)
    clock.set(REVIEW_CLOSES)
    life.advance(c)
    assert (c.state, c.feedback_withdrawn) == (S.REFUNDED, True)

    life.fire(c, "settle_held_hours", SYSTEM, refunded=0)

    assert (c.state, c.feedback_withdrawn, c.payments[0].amount) == (S.ENDED, False, Money(3_000))
    sound(c, clock)


@pytest.mark.rule("HDSP-4", "REF-180-7")
def test_hdsp_4_hours_refunded_after_the_end_leave_it_refunded(
    life: ContractLifecycle, clock: ManualClock
) -> None:
    c = billed(life, clock, minutes=60)
    life.fire(c, "end_contract", OWNER)
    life.fire(c, "dispute_hours", SYSTEM, minutes=60)
    clock.set(REVIEW_CLOSES)
    life.advance(c)

    life.fire(c, "settle_held_hours", SYSTEM, refunded=60)

    assert (c.state, c.payments[0].amount, held_minutes(c)) == (S.REFUNDED, Money(0), {})
    sound(c, clock)
