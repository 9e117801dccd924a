"""Fixtures for the contract tests: the parties, a workflow, and contracts of both types."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from statemachines import (
    UTC,
    Actor,
    Contract,
    ContractLifecycle,
    ManualClock,
    Money,
    Role,
)

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
OTHER_MEMBER = Actor("am2", Role.AGENCY_MEMBER, party="ag-1")
OUTSIDE_MEMBER = Actor("xm", Role.AGENCY_MEMBER, party="ag-2")
SUPPORT = Actor("sup", Role.SUPPORT)

RATE = Money(4_000)
"""US$40.00 an hour."""

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
"""Monday 2026-03-02 00:00 UTC: the start of the first billing week."""


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A moment in March 2026 (UTC): ``at(9, 12)`` is Monday 2026-03-09 12:00."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def hourly_contract(
    *, limit: int | None = 10, agency: bool = False, started_at: datetime | None = None
) -> Contract:
    """Hourly contract C-1 of client co-1 with fl-1 (or agency ag-1, member am), US$40/hour."""
    return Contract.hourly(
        "C-1",
        client="co-1",
        freelancer="ag-1" if agency else "fl-1",
        rate=RATE,
        started_at=started_at or at(2, 9),
        weekly_limit=limit,
        agency=agency,
        member="am" if agency else None,
    )


def fixed_contract(*, agency: bool = False) -> Contract:
    """Fixed-price contract C-2 of client co-1 with fl-1 (or agency ag-1), no milestones yet."""
    return Contract.fixed(
        "C-2",
        client="co-1",
        freelancer="ag-1" if agency else "fl-1",
        started_at=at(2, 9),
        agency=agency,
    )


def day(n: float) -> timedelta:
    """*n* days."""
    return timedelta(days=n)


@pytest.fixture
def lifecycle(clock: ManualClock) -> ContractLifecycle:
    """The contract workflow on the test clock (starting Monday 2026-03-02 09:00 UTC)."""
    return ContractLifecycle(clock=clock)


@pytest.fixture
def hourly() -> Contract:
    """An active hourly contract with a 10-hour weekly limit."""
    return hourly_contract()


@pytest.fixture
def fixed() -> Contract:
    """An active fixed-price contract without milestones."""
    return fixed_contract()


@pytest.fixture
def funded(lifecycle: ContractLifecycle, fixed: Contract) -> Contract:
    """The fixed-price contract with a funded milestone of US$200.00 and a draft of US$100.00."""
    lifecycle.fire(fixed, "add_milestone", OWNER, amount=Money(20_000), title="design")
    lifecycle.fire(fixed, "add_milestone", OWNER, amount=Money(10_000), title="build")
    lifecycle.fire(fixed, "fund_milestone", OWNER)
    return fixed


@pytest.fixture
def submitted(lifecycle: ContractLifecycle, funded: Contract) -> Contract:
    """The funded contract with its first milestone submitted at START."""
    lifecycle.fire(funded, "submit_work", FREELANCER)
    return funded


# --------------------------------------------------------------------------- after the money moved

PAID = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
"""When the US$40.00 payment C-2-P1 of the :func:`paid` contract was made."""


@pytest.fixture
def jan_clock() -> ManualClock:
    """A clock at 2026-01-02 09:00 UTC."""
    return ManualClock(PAID)


@pytest.fixture
def flow(jan_clock: ManualClock) -> ContractLifecycle:
    """The contract workflow on the January clock."""
    return ContractLifecycle(clock=jan_clock)


@pytest.fixture
def paid(flow: ContractLifecycle) -> Contract:
    """A fixed-price contract that paid US$40.00 (payment C-2-P1) on 2026-01-02."""
    c = Contract.fixed("C-2", client="co-1", freelancer="fl-1", started_at=PAID)
    flow.fire(c, "add_milestone", OWNER, amount=Money(4_000))
    flow.fire(c, "fund_milestone", OWNER)
    flow.fire(c, "release_milestone", OWNER)
    return c


def refund(cents: int, balance: int = 1_000_000) -> dict[str, object]:
    """Arguments of a refund of *cents* from payment C-2-P1 of the :func:`paid` contract."""
    return {"payment": "C-2-P1", "amount": Money(cents), "balance": Money(balance)}
