"""Fixtures for the fixed-price dispute tests: parties, disputes of each case, a workflow."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from statemachines import UTC, Actor, ManualClock, Money, Role
from statemachines.machines.fixed_dispute import DisputeCase, FixedDispute, FixedDisputes

OWNER = Actor("ana", Role.CLIENT_OWNER, party="co-1")
HIRING = Actor("hal", Role.HIRING_MANAGER, party="co-1")
SOURCING = Actor("sam", Role.SOURCING_MEMBER, party="co-1")
OTHER_CLIENT = Actor("oz", Role.CLIENT_OWNER, party="co-2")
FREELANCER = Actor("fl-1", Role.FREELANCER, party="fl-1")
OTHER_FREELANCER = Actor("fl-2", Role.FREELANCER, party="fl-2")
AGENCY_OWNER = Actor("ao", Role.AGENCY_OWNER, party="ag-1")
BUSINESS_MANAGER = Actor("bm", Role.BUSINESS_MANAGER, party="ag-1")
MEMBER = Actor("am", Role.AGENCY_MEMBER, party="ag-1")
SUPPORT = Actor("sue", Role.SUPPORT)

FRIDAY = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
"""A Friday morning: 5 business days from here end the next Friday at 10:00."""
HELD = Money(15_000)


def ended(
    *,
    agency: bool = False,
    ended_ago: timedelta | None = timedelta(days=1),
    feedback: bool = True,
    amount: Money = HELD,
) -> FixedDispute:
    """Case (a): the client ended contract C-1 *ended_ago* before FRIDAY with *amount* held."""
    return FixedDispute(
        id="FD-1",
        contract="C-1",
        client="co-1",
        freelancer="ag-1" if agency else "fl-1",
        agency=agency,
        case=DisputeCase.ENDED_WITH_FUNDS,
        amount=amount,
        ended_at=None if ended_ago is None else FRIDAY - ended_ago,
        freelancer_feedback_at=FRIDAY - timedelta(hours=1) if feedback else None,
    )


def unreleased(state: str = "submitted", *, amount: Money = HELD) -> FixedDispute:
    """Case (b): milestone C-1-M1 of running contract C-1 is *state*."""
    return FixedDispute(
        id="FD-2",
        contract="C-1",
        client="co-1",
        freelancer="fl-1",
        case=DisputeCase.NOT_RELEASED,
        amount=amount,
        milestone="C-1-M1",
        milestone_state=state,
    )


def dormant() -> FixedDispute:
    """A dormant contract's disputed release (DORM-1)."""
    return FixedDispute(
        id="FD-3",
        contract="C-1",
        client="co-1",
        freelancer="fl-1",
        case=DisputeCase.DORMANT,
        amount=HELD,
    )


@pytest.fixture
def friday(clock: ManualClock) -> ManualClock:
    """The test clock on FRIDAY."""
    clock.set(FRIDAY)
    return clock


@pytest.fixture
def disputes(friday: ManualClock) -> FixedDisputes:
    """The fixed-price dispute workflow on the test clock, on FRIDAY."""
    return FixedDisputes(clock=friday)


@pytest.fixture
def filed(disputes: FixedDisputes) -> FixedDispute:
    """Case (a), filed by the freelancer on FRIDAY."""
    d = ended()
    disputes.fire(d, "file", FREELANCER)
    return d


@pytest.fixture
def mediating(disputes: FixedDisputes, filed: FixedDispute) -> FixedDispute:
    """Case (a), declined by the client with a reason and evidence: in mediation."""
    disputes.fire(filed, "decline", OWNER, reason="the pages are blank", evidence="shot-1.png")
    return filed


@pytest.fixture
def offered(disputes: FixedDisputes, mediating: FixedDispute) -> FixedDispute:
    """Case (a), mediation failed: the 7 days to pay for arbitration run."""
    disputes.fire(
        mediating, "propose", SUPPORT, to_freelancer=Money(10_000), to_client=Money(5_000)
    )
    disputes.fire(mediating, "decline_proposal", OWNER)
    return mediating
