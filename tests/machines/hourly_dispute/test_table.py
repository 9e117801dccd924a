"""Tests generated from the hourly dispute table: illegal pairs, snapshots, replay, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import SYSTEM, ManualClock, to_dict
from statemachines.machines.hourly_dispute import (
    HOURLY_DISPUTE,
    HourlyDispute,
    HourlyDisputes,
    HourlyDisputeState,
)
from tests.machines import tables
from tests.machines.hourly_dispute.conftest import FREELANCER, OWNER, SUPPORT, make_dispute

H = HourlyDisputeState
ILLEGAL = tables.illegal_pairs(HOURLY_DISPUTE)
PEOPLE = (OWNER, FREELANCER, SUPPORT)


def test_the_table_leaves_illegal_pairs_to_test() -> None:
    assert len(ILLEGAL) > 15


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=tables.pair_ids(ILLEGAL))
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    disputes: HourlyDisputes, state: HourlyDisputeState, event: str
) -> None:
    actor = tables.actor_for(HOURLY_DISPUTE, event, PEOPLE)

    tables.assert_illegal(disputes, make_dispute(), state, event, actor)


def _lived(disputes: HourlyDisputes, clock: ManualClock) -> HourlyDispute:
    d = make_dispute()
    disputes.fire(d, "file", OWNER, minutes=240, reason="idle screenshots")
    clock.advance(days=1)
    disputes.fire(d, "decline", FREELANCER)
    return d


def test_a_snapshot_round_trips_and_keeps_the_dispute_going(
    disputes: HourlyDisputes, in_review: ManualClock
) -> None:
    d = make_dispute()
    disputes.fire(d, "file", OWNER, minutes=240)

    restored = tables.assert_round_trip(d)

    fired = disputes.advance(restored, in_review.now() + timedelta(days=3))
    assert [x.deadline for x in fired] == ["response"]
    assert restored.state is H.SUPPORT_REVIEW


def test_replaying_the_history_reproduces_the_dispute(
    disputes: HourlyDisputes, in_review: ManualClock
) -> None:
    first = to_dict(make_dispute())
    d = _lived(disputes, in_review)
    disputes.fire(d, "decide", SUPPORT, manual=60)

    tables.assert_replays(HourlyDisputes, first, d)


def test_available_follows_the_dispute(disputes: HourlyDisputes, in_review: ManualClock) -> None:
    d = make_dispute()
    assert disputes.available(d, OWNER) == ("file",)

    disputes.fire(d, "file", OWNER, minutes=60)

    assert disputes.available(d, FREELANCER) == ("accept", "decline")
    assert disputes.available(d, OWNER) == ("cancel",)
    assert disputes.available(d, SYSTEM) == ()
    in_review.advance(days=3)
    assert disputes.available(d, SYSTEM) == ("response_lapse",)
    assert disputes.available(d, FREELANCER) == ()
