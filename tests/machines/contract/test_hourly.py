"""One test per hourly rule (CTR-HR-*, BILL-*, CTR-END-2/3), on both sides of each boundary.

The first billing week is Monday 2026-03-02; it is invoiced at Monday 2026-03-09 12:00 UTC,
its client review closes at Saturday 2026-03-14 00:00 UTC, and its earnings are available
on Wednesday 2026-03-18 00:00 UTC.
"""

from __future__ import annotations

from typing import Any

import pytest

from statemachines import (
    SYSTEM,
    Actor,
    Contract,
    ContractLifecycle,
    ContractState,
    InvalidPayload,
    ManualClock,
    Money,
    NotPermitted,
    TransitionRefused,
    to_dict,
)
from statemachines.machines.contract.values import PauseReason
from statemachines.machines.invariants import check_contract
from tests.machines.contract.conftest import (
    AGENCY_MEMBER,
    BUSINESS_MANAGER,
    FREELANCER,
    HIRING,
    OTHER_MEMBER,
    OWNER,
    at,
    fixed_contract,
    hourly_contract,
)

S = ContractState


def refused(
    lifecycle: ContractLifecycle, c: Contract, event: str, actor: Actor, **payload: Any
) -> TransitionRefused:
    """Fire *event*, expect a refusal, and check that nothing changed."""
    before = to_dict(c)
    with pytest.raises(TransitionRefused) as info:
        lifecycle.fire(c, event, actor, **payload)
    assert to_dict(c) == before
    return info.value


# --------------------------------------------------------------------------- CTR-HR-3


@pytest.mark.rule("CTR-HR-3", "BILL-3")
def test_ctr_hr_3_time_over_the_weekly_limit_is_logged_and_the_invoice_bills_the_limit(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    # CTR-HR-3 is an effect (billable = min(logged, weekly limit)), not a guard.
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=300)
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=420)

    lifecycle.advance(hourly, at(9, 12))

    week = hourly.week_at(at(2, 9))
    assert (week.logged, week.billable, week.limit) == (720, 600, 600)
    assert [p.amount for p in hourly.payments] == [Money(40_000)]  # 10 hours at US$40.00


@pytest.mark.rule("CTR-HR-3", "PAY-2")
def test_ctr_hr_3_time_over_the_limit_is_paid_only_by_a_bonus(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=720)
    clock.set(at(9, 13))

    lifecycle.fire(hourly, "pay_bonus", OWNER, amount=Money(8_000))  # the 2 hours over

    assert [p.amount for p in hourly.payments] == [Money(40_000), Money(8_000)]


@pytest.mark.rule("CTR-HR-3")
def test_ctr_hr_3_time_up_to_the_weekly_limit_is_accepted(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=300)

    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=300)

    assert hourly.week_at(at(2, 9)).logged == 600


@pytest.mark.rule("CTR-HR-3")
def test_ctr_hr_3_a_lowered_limit_caps_the_invoice(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=600)
    lifecycle.fire(hourly, "set_weekly_limit", OWNER, hours=4)

    lifecycle.advance(hourly, at(9, 12))

    week = hourly.week_at(at(2, 9))
    assert (week.logged, week.billable, week.limit) == (600, 240, 240)
    assert hourly.payments[0].amount == Money(16_000)


@pytest.mark.rule("CTR-HR-3")
def test_ctr_hr_3_a_weekly_limit_is_not_negative(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    err = refused(lifecycle, hourly, "set_weekly_limit", HIRING, hours=-1)

    assert err.rule_ids == ("CTR-HR-3",)
    assert err.reasons == ("a weekly limit is 0 hours or more, not -1",)


@pytest.mark.rule("CTR-HR-3")
def test_ctr_hr_3_no_limit_means_every_logged_minute_is_billed(
    lifecycle: ContractLifecycle,
) -> None:
    c = hourly_contract(limit=None)
    lifecycle.fire(c, "log_time", FREELANCER, minutes=3_000)

    lifecycle.advance(c, at(9, 12))

    assert c.weeks[0].billable == 3_000


# --------------------------------------------------------------------------- CTR-HR-1, -2


@pytest.mark.rule("CTR-HR-1")
def test_ctr_hr_1_the_client_pauses_and_restarts(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "pause", OWNER)
    assert (hourly.state, hourly.pause_reason) == (S.PAUSED, PauseReason.CLIENT)

    lifecycle.fire(hourly, "restart", HIRING)

    assert (hourly.state, hourly.pause_reason) == (S.ACTIVE, None)


@pytest.mark.rule("CTR-HR-1")
def test_ctr_hr_1_no_time_is_logged_while_paused(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "pause", OWNER)

    err = refused(lifecycle, hourly, "log_time", FREELANCER, minutes=60)

    assert err.rule_ids == ("CTR-HR-1",)
    assert err.reasons == (
        "contract C-1 was paused by the client on 2026-03-02 09:00:00 UTC; time can be logged "
        "again once it is restarted",
    )


@pytest.mark.rule("CTR-HR-2")
def test_ctr_hr_2_a_billing_pause_ends_only_when_billing_is_fixed(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "billing_problem", SYSTEM)

    err = refused(lifecycle, hourly, "restart", OWNER)
    lifecycle.fire(hourly, "billing_fixed", SYSTEM)

    assert err.rule_ids == ("CTR-HR-2",)
    assert err.reasons == (
        "contract C-1 was paused by the platform on 2026-03-02 09:00:00 UTC because of a "
        "problem with the client's billing method; it restarts when that is fixed",
    )
    assert hourly.state is S.ACTIVE


@pytest.mark.rule("CTR-HR-2")
def test_ctr_hr_2_the_platform_does_not_end_a_client_pause(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "pause", OWNER)

    err = refused(lifecycle, hourly, "billing_fixed", SYSTEM)

    assert err.rule_ids == ("CTR-HR-2",)
    assert err.reasons == (
        "contract C-1 was paused by the client on 2026-03-02 09:00:00 UTC; it restarts when "
        "the client restarts it",
    )


@pytest.mark.rule("CTR-HR-2")
def test_ctr_hr_2_only_the_platform_pauses_for_billing(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    with pytest.raises(NotPermitted) as denied:
        lifecycle.fire(hourly, "billing_problem", OWNER)

    assert denied.value.rule_ids == ("CTR-HR-2",)
    assert denied.value.reasons == (
        "a client owner cannot do this on contract C-1; only the platform itself can",
    )


@pytest.mark.rule("CTR-TYPE-D")
def test_ctr_type_d_hourly_events_are_refused_on_a_fixed_price_contract(
    lifecycle: ContractLifecycle,
) -> None:
    c = fixed_contract()

    err = refused(lifecycle, c, "pause", OWNER)

    assert err.rule_ids == ("CTR-TYPE-D",)
    assert err.reasons == (
        "contract C-2 is a fixed-price contract; time, pauses and weekly limits belong to "
        "hourly contracts",
    )


@pytest.mark.rule("CTR-TYPE-D")
def test_ctr_type_d_milestones_are_refused_on_an_hourly_contract(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    err = refused(lifecycle, hourly, "add_milestone", OWNER, amount=Money(1_000))

    assert err.rule_ids == ("CTR-TYPE-D",)
    assert "milestones and escrow belong to fixed-price contracts" in err.reasons[0]


# --------------------------------------------------------------------------- BILL-1, -2


@pytest.mark.rule("BILL-1")
def test_bill_1_sunday_night_time_belongs_to_the_week_that_ends(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    clock.set(at(9, 0, 30))

    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=30, on=at(8, 23, 59, 59))
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=45, on=at(9, 0))

    assert [(w.start.day, w.logged) for w in hourly.weeks] == [(2, 30), (9, 45)]


@pytest.mark.rule("BILL-1")
def test_bill_1_time_before_the_contract_started_is_refused(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    err = refused(lifecycle, hourly, "log_time", FREELANCER, minutes=30, on=at(2, 8))

    assert err.rule_ids == ("BILL-1",)
    assert err.reasons == (
        "2026-03-02 08:00:00 UTC is before contract C-1 started (2026-03-02 09:00:00 UTC)",
    )


@pytest.mark.rule("BILL-1")
def test_bill_1_time_is_logged_in_positive_minutes(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    err = refused(lifecycle, hourly, "log_time", FREELANCER, minutes=0)

    assert err.rule_ids == ("BILL-1",)
    assert err.reasons == ("time is logged in whole minutes, more than 0, not 0",)


@pytest.mark.rule("BILL-2")
def test_bill_2_last_week_can_be_edited_until_monday_11_59_59(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=120)
    clock.set(at(9, 11, 59, 59))

    lifecycle.fire(hourly, "delete_time", FREELANCER, minutes=60, on=at(6))
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=30, on=at(6))

    assert hourly.week_at(at(6)).logged == 90


@pytest.mark.rule("BILL-2")
def test_bill_2_last_week_is_closed_from_monday_12_00(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=120)
    clock.set(at(9, 12))

    err = refused(lifecycle, hourly, "delete_time", FREELANCER, minutes=60, on=at(6))

    assert err.rule_ids == ("BILL-2",)
    assert err.reasons == (
        "week 2026-03-02 closed for changes at 2026-03-09 12:00:00 UTC, when it was invoiced; "
        "its time can no longer be changed",
    )


@pytest.mark.rule("BILL-2")
def test_bill_2_time_cannot_be_logged_ahead(lifecycle: ContractLifecycle, hourly: Contract) -> None:
    err = refused(lifecycle, hourly, "log_time", FREELANCER, minutes=60, on=at(3))

    assert err.rule_ids == ("BILL-2",)
    assert err.reasons == (
        "time cannot be logged for 2026-03-03 00:00:00 UTC, which is still to come",
    )


@pytest.mark.rule("BILL-2")
def test_bill_2_only_logged_time_can_be_deleted(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=180)

    err = refused(lifecycle, hourly, "delete_time", FREELANCER, minutes=240)

    assert err.rule_ids == ("BILL-2",)
    assert err.reasons == ("week 2026-03-02 has only 3 hours logged; 4 hours cannot be deleted",)


@pytest.mark.rule("BILL-2")
def test_bill_2_a_week_emptied_by_deletions_is_not_invoiced(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=60)
    lifecycle.fire(hourly, "delete_time", FREELANCER, minutes=60)

    fired = lifecycle.advance(hourly, at(30))

    assert (fired, hourly.weeks, hourly.payments) == ([], (), ())


@pytest.mark.rule("TEAM-8")
def test_team_8_only_the_agency_member_on_the_contract_logs_time(
    lifecycle: ContractLifecycle,
) -> None:
    c = hourly_contract(agency=True)
    lifecycle.fire(c, "log_time", AGENCY_MEMBER, minutes=60)

    with pytest.raises(NotPermitted, match=r"only the agency member on contract C-1 \('am'\)"):
        lifecycle.fire(c, "log_time", OTHER_MEMBER, minutes=60)
    with pytest.raises(NotPermitted) as manager:
        lifecycle.fire(c, "log_time", BUSINESS_MANAGER, minutes=60)

    assert manager.value.rule_ids == ("TEAM-8",)
    assert manager.value.reasons == (
        "a business manager cannot do this on contract C-1; only the agency's members can",
    )


# --------------------------------------------------------------------------- BILL-3..7


@pytest.mark.rule("BILL-3")
def test_bill_3_nothing_is_invoiced_at_monday_11_59_59(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=90)

    fired = lifecycle.advance(hourly, at(9, 11, 59, 59))

    assert fired == []
    assert hourly.payments == ()


@pytest.mark.rule("BILL-3")
def test_bill_3_the_week_is_invoiced_once_at_monday_12_00(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=90)

    first = lifecycle.advance(hourly, at(9, 12))
    again = lifecycle.advance(hourly, at(20))

    assert [(d.event, d.at) for d in first] == [("invoice", at(9, 12))]
    assert again == []
    [payment] = hourly.payments
    assert (payment.amount, payment.source) == (Money(6_000), "2026-03-02")
    assert payment.paid_at == at(9, 12)


@pytest.mark.rule("BILL-3")
def test_bill_3_the_invoice_cannot_be_forced_early(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=90)
    clock.set(at(9, 11))

    err = refused(lifecycle, hourly, "invoice", SYSTEM)

    assert err.rule_ids == ("BILL-3",)
    assert err.reasons == (
        "the platform does this only when it falls due (Monday 12:00 UTC after a week with "
        "time); at 2026-03-09 11:00:00 UTC it is not due: the next time is 2026-03-09 12:00:00 "
        "UTC",
    )


@pytest.mark.rule("BILL-4")
def test_bill_4_an_ended_hourly_contract_is_ending_until_friday_ends(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=90)
    clock.set(at(10, 8))
    lifecycle.advance(hourly)

    lifecycle.fire(hourly, "end_contract", OWNER)
    lifecycle.advance(hourly, at(13, 23, 59, 59))

    assert hourly.state is S.ENDING


@pytest.mark.rule("BILL-4")
def test_bill_4_it_settles_at_saturday_00_00(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=90)
    clock.set(at(10, 8))
    lifecycle.advance(hourly)
    lifecycle.fire(hourly, "end_contract", OWNER)

    fired = lifecycle.advance(hourly, at(14))

    assert [(d.event, d.at) for d in fired] == [("settle", at(14))]
    assert hourly.state is S.ENDED


@pytest.mark.rule("BILL-5")
def test_bill_5_hourly_earnings_are_pending_until_tuesday_23_59_59(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=90)
    lifecycle.advance(hourly, at(9, 12))

    [payment] = hourly.payments

    assert payment.available_at == at(18)
    assert not payment.available_at <= at(17, 23, 59, 59)


@pytest.mark.rule("BILL-5")
def test_bill_5_hourly_earnings_are_available_on_wednesday_00_00(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=90)
    lifecycle.advance(hourly, at(9, 12))

    assert hourly.payments[0].available_at == at(18, 0)
    assert at(18).weekday() == 2  # Wednesday


@pytest.mark.rule("BILL-7")
def test_bill_7_only_the_freelancer_side_gives_hourly_pay_back(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=90)
    clock.set(at(20))
    lifecycle.advance(hourly)
    refund = {"payment": "C-1-P1", "amount": Money(1_000), "balance": Money(50_000)}

    with pytest.raises(NotPermitted) as client:
        lifecycle.fire(hourly, "give_refund", OWNER, **refund)
    assert client.value.rule_ids == ("REF-180-1",)
    assert client.value.reasons == (
        "a client owner cannot do this on contract C-1; only the freelancer can",
    )
    lifecycle.fire(hourly, "give_refund", FREELANCER, **refund)

    assert hourly.net_paid == Money(5_000)


# --------------------------------------------------------------------------- CTR-END-2, -3


@pytest.mark.rule("CTR-END-2")
def test_ctr_end_2_ending_locks_the_work_diary(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=60)
    lifecycle.fire(hourly, "end_contract", FREELANCER)

    err = refused(lifecycle, hourly, "delete_time", FREELANCER, minutes=60)

    assert hourly.diary_locked
    assert err.rule_ids == ("CTR-END-2",)
    assert err.reasons == (
        "the work diary of contract C-1 locked when the contract ended on 2026-03-02; time "
        "can no longer be added or changed",
    )


@pytest.mark.rule("CTR-END-3")
def test_ctr_end_3_time_logged_before_the_end_is_still_invoiced(
    lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock
) -> None:
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=120)
    clock.set(at(9, 10))
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=60)
    lifecycle.fire(hourly, "end_contract", OWNER)

    fired = lifecycle.advance(hourly, at(30))

    assert [d.event for d in fired] == ["invoice", "invoice", "settle", "close_feedback"]
    assert [p.amount for p in hourly.payments] == [Money(8_000), Money(4_000)]
    assert hourly.state is S.ENDED
    assert check_contract(hourly, at(30)) == []


@pytest.mark.rule("CTR-END-3")
def test_ctr_end_3_an_hourly_contract_with_nothing_to_review_ends_at_once(
    lifecycle: ContractLifecycle, hourly: Contract
) -> None:
    lifecycle.fire(hourly, "end_contract", OWNER)

    assert hourly.state is S.REFUNDED  # nothing was ever paid (INV-DERIVED-1)
    assert hourly.deadlines[0].event == "close_feedback"


def test_an_hourly_contract_in_euros_keeps_every_amount_in_euros(
    lifecycle: ContractLifecycle, clock: ManualClock
) -> None:
    c = Contract.hourly(
        "C-3", client="co-1", freelancer="fl-1", rate=Money(3_000, "EUR"), started_at=at(2, 9)
    )
    lifecycle.fire(c, "log_time", FREELANCER, minutes=90)
    clock.set(at(9, 12))
    lifecycle.advance(c)

    with pytest.raises(InvalidPayload, match="is in USD but 'C-3' is kept in EUR"):
        lifecycle.fire(c, "pay_bonus", OWNER, amount=Money(100))

    assert c.payments[0].amount == Money(4_500, "EUR")
    assert check_contract(c, at(9, 12)) == []


PAUSES = {
    "billing_problem": ("billing_fixed", PauseReason.BILLING),
    "client_suspended": ("client_reinstated", PauseReason.CLIENT_SUSPENDED),
    "freelancer_suspended": ("freelancer_reinstated", PauseReason.FREELANCER_SUSPENDED),
}
WHY = {
    "billing_problem": "because of a problem with the client's billing method; it restarts "
    "when that is fixed",
    "client_suspended": "because the client's account is suspended; it restarts when that "
    "account is reinstated",
    "freelancer_suspended": "because the freelancer's account is suspended; it restarts when "
    "that account is reinstated",
}


@pytest.mark.rule("SUSP-1", "SUSP-D", "CTR-HR-2")
@pytest.mark.parametrize("pause", sorted(PAUSES))
@pytest.mark.parametrize("other", sorted(PAUSES))
def test_susp_1_each_pause_ends_only_for_its_own_reason(
    lifecycle: ContractLifecycle, hourly: Contract, pause: str, other: str
) -> None:
    lifecycle.fire(hourly, pause, SYSTEM)
    restart, reason = PAUSES[pause]
    client = refused(lifecycle, hourly, "restart", OWNER)

    if other != pause:
        err = refused(lifecycle, hourly, PAUSES[other][0], SYSTEM)
        assert err.reasons == client.reasons
    lifecycle.fire(hourly, restart, SYSTEM)

    assert client.reasons == (
        f"contract C-1 was paused by the platform on 2026-03-02 09:00:00 UTC {WHY[pause]}",
    )
    assert client.violations[0].data["reason"] == reason.value
    assert (hourly.state, hourly.pause_reason) == (ContractState.ACTIVE, None)
