"""Tests generated from the fixed-price dispute table: illegal pairs, snapshots, replay, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import SYSTEM, ManualClock, Money, to_dict
from statemachines.machines.fixed_dispute import (
    FIXED_DISPUTE,
    FixedDisputes,
    FixedDisputeState,
)
from tests.machines import tables
from tests.machines.fixed_dispute.conftest import FREELANCER, OWNER, SUPPORT, ended

ILLEGAL = tables.illegal_pairs(FIXED_DISPUTE)
PEOPLE = (OWNER, FREELANCER, SUPPORT)


def test_the_table_leaves_illegal_pairs_to_test() -> None:
    assert len(ILLEGAL) > 80


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=tables.pair_ids(ILLEGAL))
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    disputes: FixedDisputes, state: FixedDisputeState, event: str
) -> None:
    actor = tables.actor_for(FIXED_DISPUTE, event, PEOPLE)

    tables.assert_illegal(disputes, ended(), state, event, actor)


def test_a_snapshot_round_trips_and_keeps_the_mediation_cap(
    disputes: FixedDisputes, friday: ManualClock
) -> None:
    d = ended()
    disputes.fire(d, "file", FREELANCER)
    disputes.fire(d, "decline", OWNER, reason="late", evidence="mail of 2 March")

    restored = tables.assert_round_trip(d)

    fired = disputes.advance(restored, friday.now() + timedelta(days=30))
    assert [x.event for x in fired] == ["mediation_cap"]


def test_replaying_the_history_reproduces_the_dispute(
    disputes: FixedDisputes, friday: ManualClock
) -> None:
    first = to_dict(ended())
    d = ended()
    disputes.fire(d, "file", FREELANCER)
    friday.advance(days=1)
    disputes.fire(d, "decline", OWNER, reason="late", evidence="mail")
    disputes.fire(d, "propose", SUPPORT, to_freelancer=Money(5_000), to_client=Money(10_000))
    disputes.advance(d, friday.now() + timedelta(days=9))

    tables.assert_replays(FixedDisputes, first, d)


def test_available_follows_the_dispute(disputes: FixedDisputes, friday: ManualClock) -> None:
    d = ended()
    assert disputes.available(d, FREELANCER) == ("file",)
    assert disputes.available(d, OWNER) == ()

    disputes.fire(d, "file", FREELANCER)

    assert disputes.available(d, OWNER) == ("accept", "decline")
    assert disputes.available(d, SYSTEM) == ()
    friday.advance(days=7)
    assert disputes.available(d, SYSTEM) == ("client_silence",)
