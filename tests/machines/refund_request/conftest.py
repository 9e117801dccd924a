"""Fixtures for the client refund request tests: the parties, a draft request, a workflow."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from statemachines import Actor, ManualClock, Money, Role
from statemachines.machines.refund_request import ClientRefundRequest, RefundRequests
from tests.conftest import START

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

PAID = Money(40_000)
"""The payment: US$400.00, all of it still refundable."""
BALANCE = Money(100_000)
"""The freelancer's available and pending balance."""


def make_request(
    age: timedelta = timedelta(days=20), *, agency: bool = False, now: datetime = START
) -> ClientRefundRequest:
    """A draft request about payment C-1-P1, made *age* before *now*."""
    return ClientRefundRequest(
        id="R-1",
        contract="C-1",
        client="co-1",
        freelancer="ag-1" if agency else "fl-1",
        payment="C-1-P1",
        paid_at=now - age,
        refundable=PAID,
        agency=agency,
    )


@pytest.fixture
def requests(clock: ManualClock) -> RefundRequests:
    """The refund request workflow on the test clock."""
    return RefundRequests(clock=clock)


@pytest.fixture
def asked(requests: RefundRequests) -> ClientRefundRequest:
    """US$100.00 asked back by the client owner, of a payment 20 days old."""
    r = make_request()
    requests.fire(r, "request", OWNER, amount=Money(10_000), reason="half the pages missing")
    return r
