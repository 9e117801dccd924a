"""Bad input stopped at the door: an aggregate refuses wrong field values when it is built.

``Milestone(amount=5.0)`` or ``state="approved"`` used to be accepted and fail later, deep
in an event; now each raises one :class:`InvalidInput` naming the field.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from statemachines import (
    UTC,
    Account,
    AccountType,
    Contract,
    InvalidInput,
    Job,
    Membership,
    Milestone,
    MilestoneState,
    Money,
    NaiveDatetime,
    Proposal,
    Role,
)
from statemachines.machines.contract.values import ContractKind

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _milestone(**fields: Any) -> Milestone:
    base: dict[str, Any] = {
        "id": "M-1",
        "contract": "C-1",
        "client": "co-1",
        "freelancer": "fl-1",
        "amount": Money(20_000),
    }
    return Milestone(**(base | fields))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": 5.0}, "Milestone.amount must be Money, got float 5.0"),
        ({"state": "approved"}, "Milestone.state must be MilestoneState, got str 'approved'"),
        ({"submissions": -1}, "Milestone.submissions is a count, never negative; got -1"),
        ({"submissions": True}, "Milestone.submissions must be a whole number, got bool True"),
        ({"agency": 1}, "Milestone.agency must be bool, got int 1"),
        ({"client": None}, "Milestone.client must be str, got NoneType None"),
        ({"released": Money(500, "EUR")}, "Milestone.released: EUR 5.00 is in EUR, but M-1"),
        (
            {"submitted_at": datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=2)))},
            "Milestone.submitted_at must be in UTC, got 2026-03-02T09:00:00+02:00",
        ),
        ({"deadlines": [1]}, "Milestone.deadlines must be a tuple, got list [1]"),
    ],
)
def test_a_milestone_refuses_a_wrong_field_when_it_is_built(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        _milestone(**fields)


def test_a_naive_datetime_is_refused_as_naive() -> None:
    with pytest.raises(NaiveDatetime, match=r"Milestone\.approved_at must be an aware datetime"):
        _milestone(approved_at=datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001  (the point)


def test_a_milestone_in_another_currency_counts_nothing_in_that_currency() -> None:
    ms = _milestone(amount=Money.of("5000", "JPY"), state=MilestoneState.DRAFT)

    assert ms.funded == Money(0, "JPY")
    assert ms.currency == "JPY"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Contract("C-1", "hourly", "co-1", "fl-1", NOW),  # type: ignore[arg-type]
            "Contract.kind must be ContractKind",
        ),
        (
            lambda: Contract("C-1", ContractKind.FIXED, "co-1", "fl-1", NOW, weekly_limit=-5),
            "Contract.weekly_limit is a count, never negative",
        ),
        (
            lambda: Contract("C-1", ContractKind.FIXED, "co-1", "fl-1", NOW, currency="XYZ"),
            "money is not kept in XYZ",
        ),
        (
            lambda: Contract(
                "C-1", ContractKind.HOURLY, "co-1", "fl-1", NOW, rate=Money(4_000, "EUR")
            ),
            "Contract.rate: EUR 40.00 is in EUR, but C-1 counts in USD",
        ),
        (
            lambda: Account(id="fl-1", type="freelancer", owner="fl-1"),  # type: ignore[arg-type]
            "Account.type must be AccountType",
        ),
        (
            lambda: Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1", visible=None),  # type: ignore[arg-type]
            "Account.visible must be bool",
        ),
        (
            lambda: Job(id="J-1", company="co-1", candidates=(("fl-1", 3),)),  # type: ignore[arg-type]
            "Job.candidates",
        ),
        (
            lambda: Proposal(id="P-1", job="J-1", company="co-1", freelancer="fl-1", state="open"),  # type: ignore[arg-type]
            "Proposal.state must be ProposalState",
        ),
        (
            lambda: Membership(id="co-1/ada", team="co-1", person="ada", role="client_admin"),  # type: ignore[arg-type]
            "Membership.role must be Role",
        ),
    ],
)
def test_every_aggregate_refuses_a_wrong_field_when_it_is_built(make: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        make()


def test_well_formed_aggregates_are_built_as_before() -> None:
    Contract.hourly("C-1", client="co-1", freelancer="fl-1", rate=Money(4_000), started_at=NOW)
    Contract.fixed("C-2", client="co-1", freelancer="fl-1", started_at=NOW, currency="KWD")
    Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1")
    Membership(id="co-1/ada", team="co-1", person="ada", role=Role.CLIENT_ADMIN)
