"""Fixtures for the milestone review tests: a workflow, the parties and their milestone."""

from __future__ import annotations

import pytest

from statemachines import Actor, ManualClock, Milestone, MilestoneReview, Money, Role

OWNER = Actor("ana", Role.CLIENT_OWNER, party="co-1")
ADMIN = Actor("ada", Role.CLIENT_ADMIN, party="co-1")
HIRING = Actor("hal", Role.HIRING_MANAGER, party="co-1")
SOURCING = Actor("sam", Role.SOURCING_MEMBER, party="co-1")
COLLEAGUE = Actor("tom", Role.TEAM_MEMBER, party="co-1")
OTHER_CLIENT = Actor("oz", Role.CLIENT_OWNER, party="co-2")
FREELANCER = Actor("fl-1", Role.FREELANCER, party="fl-1")
OTHER_FREELANCER = Actor("fl-2", Role.FREELANCER, party="fl-2")
AGENCY_OWNER = Actor("ao", Role.AGENCY_OWNER, party="ag-1")
BUSINESS_MANAGER = Actor("bm", Role.BUSINESS_MANAGER, party="ag-1")
AGENCY_MEMBER = Actor("am", Role.AGENCY_MEMBER, party="ag-1")
OUTSIDE_MEMBER = Actor("xm", Role.AGENCY_MEMBER, party="ag-2")
SUPPORT = Actor("sup", Role.SUPPORT)

CLIENT_SIDE = (OWNER, ADMIN, HIRING)
"""Client roles allowed to fund, approve, release and ask for changes (TEAM-5)."""


def make_milestone(cents: int = 20_000, *, agency: bool = False) -> Milestone:
    """A draft milestone of client co-1, worked by fl-1 (or agency ag-1)."""
    return Milestone(
        id="M-1",
        contract="C-1",
        client="co-1",
        freelancer="ag-1" if agency else "fl-1",
        agency=agency,
        amount=Money(cents),
    )


@pytest.fixture
def review(clock: ManualClock) -> MilestoneReview:
    """The milestone workflow on the test clock."""
    return MilestoneReview(clock=clock)


@pytest.fixture
def ms() -> Milestone:
    """A draft milestone of US$200.00."""
    return make_milestone()


@pytest.fixture
def funded(review: MilestoneReview, ms: Milestone) -> Milestone:
    """The milestone, funded by the client owner."""
    review.fire(ms, "fund", OWNER)
    return ms


@pytest.fixture
def submitted(review: MilestoneReview, funded: Milestone) -> Milestone:
    """The milestone, funded and submitted by the freelancer at START."""
    review.fire(funded, "submit", FREELANCER)
    return funded
