"""The contract invariants catch what they name: each is shown a contract broken on purpose."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from statemachines import (
    Contract,
    ContractLifecycle,
    ContractState,
    Deadline,
    ManualClock,
    MilestoneState,
    Money,
)
from statemachines.machines import invariants as inv
from statemachines.machines.contract.values import RefundStatus
from tests.machines.contract.conftest import FREELANCER, OWNER, at


@pytest.fixture
def lived(lifecycle: ContractLifecycle, submitted: Contract) -> Contract:
    """A fixed-price contract: one milestone paid in part, ended paying less than held."""
    lifecycle.fire(submitted, "approve_milestone", OWNER, amount=Money(15_000))
    lifecycle.fire(submitted, "fund_milestone", OWNER)
    lifecycle.fire(submitted, "end_contract", OWNER, payment=Money(1_000))
    return submitted


@pytest.fixture
def week(lifecycle: ContractLifecycle, hourly: Contract, clock: ManualClock) -> Contract:
    """An hourly contract with one invoiced week, still active."""
    lifecycle.fire(hourly, "log_time", FREELANCER, minutes=300)
    clock.set(at(9, 12))
    lifecycle.advance(hourly)
    return hourly


def test_a_lived_contract_breaks_no_invariant(lived: Contract, week: Contract) -> None:
    assert inv.check_contract(lived, at(2, 9)) == []
    assert inv.check_contract(week, at(9, 12)) == []


Break = Callable[[Contract], None]


def _escrow(c: Contract) -> None:
    c.escrow_released += Money(1)


def _settled_with_money(c: Contract) -> None:
    c.state = ContractState.ENDED


def _partition(c: Contract) -> None:
    assert c.escrow_refund is not None
    c.escrow_refund = attrs.evolve(
        c.escrow_refund,
        status=RefundStatus.RESOLVED,
        to_freelancer=Money(1),
        to_client=Money(1),
    )


def _refund_over_payment(c: Contract) -> None:
    c.payments = (attrs.evolve(c.payments[0], refunded=c.payments[0].amount + Money(1)),)


def _refunds_total(c: Contract) -> None:
    c.refunds_total = Money(5)


def _credit(c: Contract) -> None:
    c.escrow_returned += Money(10**6)


def _ended_twice(c: Contract) -> None:
    c.ended_at = at(3)


def _refunded_label(c: Contract) -> None:
    c.state = ContractState.REFUNDED


def _two_live(c: Contract) -> None:
    c.milestones = (c.milestones[0], attrs.evolve(c.milestones[1], state=c.milestones[0].state))


FIXED_BREAKS: list[tuple[str, Break, Callable[[Contract], list[str]]]] = [
    ("INV-MONEY-1", _escrow, inv.inv_money_1_escrow_conservation),
    ("INV-MONEY-3", _settled_with_money, inv.inv_money_3_settled),
    ("INV-MONEY-4", _partition, inv.inv_money_4_dispute_partition),
    ("INV-MONEY-5", _refund_over_payment, inv.inv_money_5_refund_bound),
    ("INV-MONEY-6", _refunds_total, inv.inv_money_6_refunds_irreversible),
    ("INV-MONEY-9", _credit, inv.inv_money_9_client_side),
    ("INV-CTR-1", _ended_twice, inv.inv_ctr_1_monotone_lifecycle),
    ("INV-DERIVED-1", _refunded_label, inv.inv_derived_1_refunded),
]


@pytest.mark.parametrize(
    ("name", "damage", "check"), FIXED_BREAKS, ids=[b[0] for b in FIXED_BREAKS]
)
def test_a_fixed_price_invariant_names_the_damage(
    lived: Contract, name: str, damage: Break, check: Callable[[Contract], list[str]]
) -> None:
    damage(lived)

    problems = check(lived)

    assert problems, name
    assert all("C-2" in p for p in problems)


def test_inv_ms_1_two_live_milestones_are_reported(
    lifecycle: ContractLifecycle, funded: Contract
) -> None:
    lifecycle.fire(funded, "release_milestone", OWNER)
    lifecycle.fire(funded, "fund_milestone", OWNER)

    funded.milestones[0].state = MilestoneState.FUNDED

    assert "2 milestones are active at once: C-2-M1, C-2-M2" in inv.inv_ms_contract(funded)


def test_inv_ctr_3_billing_over_the_limit_is_reported(week: Contract) -> None:
    week.weeks = (attrs.evolve(week.weeks[0], billable=700, logged=700),)

    assert inv.inv_ctr_3_weekly_limit(week) == [
        "C-1 week 2026-03-02: billed 700 minutes over a 600 limit"
    ]


def test_inv_money_7_a_wrong_invoice_is_reported(week: Contract) -> None:
    week.weeks = (attrs.evolve(week.weeks[0], amount=Money(1)),)

    assert inv.inv_money_7_hourly_billing(week) == [
        "C-1 week 2026-03-02 invoiced US$0.01 for 300 minutes"
    ]


def test_inv_money_8_early_availability_is_reported(week: Contract) -> None:
    week.payments = (attrs.evolve(week.payments[0], available_at=at(17)),)

    assert len(inv.inv_money_8_availability(week)) == 1


def test_inv_ctr_2_an_unlocked_diary_after_the_end_is_reported(
    lifecycle: ContractLifecycle, week: Contract
) -> None:
    lifecycle.fire(week, "end_contract", OWNER)
    week.diary_locked = False

    assert inv.inv_ctr_2_diary_lock(week) == ["C-1 diary_locked is False while ending"]


def test_inv_time_5_overdue_and_impossible_deadlines_are_reported(week: Contract) -> None:
    week.deadlines = (Deadline("settle", "settle", at(20)),)

    problems = inv.inv_time_5_timers(week, at(21))

    assert problems == [
        "C-1: settle was due at 2026-03-20 00:00:00+00:00 and did not fire",
        "C-1: settle cannot fire from active",
    ]


def test_inv_time_2_a_request_pending_past_its_7_days_is_reported(lived: Contract) -> None:
    problems = inv.inv_time_2_escrow_refund(lived, at(9, 9))

    assert problems == [
        "C-2: the escrow-refund request of US$90.00 opened 2026-03-02 09:00:00 UTC is still "
        "pending at 2026-03-09 09:00:00+00:00 (due 2026-03-09 09:00:00+00:00)"
    ]
