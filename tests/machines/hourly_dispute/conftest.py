"""Fixtures for the hourly dispute tests: the parties, a dispute of week 2026-03-02, a workflow."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from statemachines import UTC, Actor, ManualClock, Money, Role
from statemachines.machines.hourly_dispute import HourlyDispute, HourlyDisputes

OWNER = Actor("ana", Role.CLIENT_OWNER, party="co-1")
HIRING = Actor("hal", Role.HIRING_MANAGER, party="co-1")
SOURCING = Actor("sam", Role.SOURCING_MEMBER, party="co-1")
OTHER_CLIENT = Actor("oz", Role.CLIENT_OWNER, party="co-2")
FREELANCER = Actor("fl-1", Role.FREELANCER, party="fl-1")
OTHER_FREELANCER = Actor("fl-2", Role.FREELANCER, party="fl-2")
AGENCY_OWNER = Actor("ao", Role.AGENCY_OWNER, party="ag-1")
BUSINESS_MANAGER = Actor("bm", Role.BUSINESS_MANAGER, party="ag-1")
MEMBER = Actor("am", Role.AGENCY_MEMBER, party="ag-1")
OTHER_MEMBER = Actor("an", Role.AGENCY_MEMBER, party="ag-1")
OUTSIDER = Actor("xm", Role.BUSINESS_MANAGER, party="ag-2")
SUPPORT = Actor("sue", Role.SUPPORT)

WEEK = datetime(2026, 3, 2, tzinfo=UTC)
"""The billed week: Monday 2 March 2026 (the test clock's START is that Monday at 09:00)."""
INVOICED = WEEK + timedelta(days=7, hours=12)
"""Monday 9 March, 12:00 UTC: the week is invoiced and its review window opens (BILL-3)."""
REVIEW_CLOSES = WEEK + timedelta(days=12)
"""Saturday 14 March, 00:00 UTC: the review window has closed (BILL-4)."""
RATE = Money(3_000)
"""US$30.00 an hour."""


def make_dispute(billed: int = 600, *, agency: bool = False, **fields: object) -> HourlyDispute:
    """A draft dispute of week 2026-03-02 of contract C-1 (10 hours billed by default)."""
    return HourlyDispute(
        id="HD-1",
        contract="C-1",
        client="co-1",
        freelancer="ag-1" if agency else "fl-1",
        week=WEEK,
        billed=billed,
        rate=RATE,
        agency=agency,
        member="am" if agency else None,
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def in_review(clock: ManualClock) -> ManualClock:
    """The test clock on Monday 9 March at 15:00, inside the week's review window."""
    clock.set(INVOICED + timedelta(hours=3))
    return clock


@pytest.fixture
def disputes(in_review: ManualClock) -> HourlyDisputes:
    """The hourly dispute workflow on the test clock, inside the review window."""
    return HourlyDisputes(clock=in_review)


@pytest.fixture
def filed(disputes: HourlyDisputes) -> HourlyDispute:
    """A dispute of 2 of the 10 billed hours, filed by the client owner."""
    d = make_dispute()
    disputes.fire(d, "file", OWNER, minutes=120, reason="no activity on Tuesday")
    return d
