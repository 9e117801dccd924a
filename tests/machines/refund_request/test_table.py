"""Tests generated from the refund request table: illegal pairs, snapshots, replay, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import SYSTEM, ManualClock, Money, to_dict
from statemachines.machines.refund_request import (
    REFUND_REQUEST,
    RefundRequests,
    RefundRequestState,
)
from tests.machines import tables
from tests.machines.refund_request.conftest import BALANCE, FREELANCER, OWNER, make_request

ILLEGAL = tables.illegal_pairs(REFUND_REQUEST)
PEOPLE = (OWNER, FREELANCER)


def test_the_table_leaves_illegal_pairs_to_test() -> None:
    assert len(ILLEGAL) > 20


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=tables.pair_ids(ILLEGAL))
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    requests: RefundRequests, state: RefundRequestState, event: str
) -> None:
    actor = tables.actor_for(REFUND_REQUEST, event, PEOPLE)

    tables.assert_illegal(requests, make_request(), state, event, actor)


def test_a_snapshot_round_trips_and_keeps_its_lapse(
    requests: RefundRequests, clock: ManualClock
) -> None:
    r = make_request()
    requests.fire(r, "request", OWNER, amount=Money(7_000))

    restored = tables.assert_round_trip(r)

    fired = requests.advance(restored, clock.now() + timedelta(days=161))
    assert [d.deadline for d in fired] == ["expiry"]


def test_replaying_the_history_reproduces_the_request(
    requests: RefundRequests, clock: ManualClock
) -> None:
    first = to_dict(make_request())
    r = make_request()
    requests.fire(r, "request", OWNER, amount=Money(7_000))
    clock.advance(days=3)
    requests.fire(r, "give_refund", FREELANCER, amount=Money(3_000), balance=BALANCE)

    tables.assert_replays(RefundRequests, first, r)


def test_available_follows_the_request(requests: RefundRequests) -> None:
    r = make_request()
    assert requests.available(r, OWNER) == ("request",)

    requests.fire(r, "request", OWNER, amount=Money(7_000))

    assert requests.available(r, FREELANCER) == ("give_refund", "decline")
    assert requests.available(r, OWNER) == ()
    assert requests.available(r, SYSTEM) == ()
