"""Fixtures for the dormancy tests: the parties, a watch on contract C-1, a workflow."""

from __future__ import annotations

import pytest

from statemachines import SYSTEM, Actor, ManualClock, Money, Role
from statemachines.machines.dormancy import Dormancy, DormancyWatch

OWNER = Actor("ana", Role.CLIENT_OWNER, party="co-1")
HIRING = Actor("hal", Role.HIRING_MANAGER, party="co-1")
OTHER_CLIENT = Actor("oz", Role.CLIENT_OWNER, party="co-2")
FREELANCER = Actor("fl-1", Role.FREELANCER, party="fl-1")
OTHER_FREELANCER = Actor("fl-2", Role.FREELANCER, party="fl-2")
AGENCY_OWNER = Actor("ao", Role.AGENCY_OWNER, party="ag-1")
BUSINESS_MANAGER = Actor("bm", Role.BUSINESS_MANAGER, party="ag-1")
MEMBER = Actor("am", Role.AGENCY_MEMBER, party="ag-1")
SUPPORT = Actor("sue", Role.SUPPORT)
PLATFORM = SYSTEM

HELD = Money(30_000)
"""US$300.00 held in escrow."""


def make_watch(*, agency: bool = False) -> Dormancy:
    """The dormancy watch of contract C-1, with nothing held yet."""
    return Dormancy(
        id="DW-1",
        contract="C-1",
        client="co-1",
        freelancer="ag-1" if agency else "fl-1",
        agency=agency,
    )


@pytest.fixture
def watch(clock: ManualClock) -> DormancyWatch:
    """The dormancy workflow on the test clock."""
    return DormancyWatch(clock=clock)


@pytest.fixture
def watching(watch: DormancyWatch) -> Dormancy:
    """Contract C-1 holds US$300.00 since START, with no milestone due date."""
    d = make_watch()
    watch.fire(d, "activity", PLATFORM, held=HELD)
    return d
