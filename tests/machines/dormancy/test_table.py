"""Tests generated from the dormancy table: illegal pairs, snapshots, replay, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import ManualClock, to_dict
from statemachines.machines.dormancy import DORMANCY, DormancyState, DormancyWatch
from tests.machines import tables
from tests.machines.dormancy.conftest import FREELANCER, HELD, OWNER, PLATFORM, make_watch

ILLEGAL = tables.illegal_pairs(DORMANCY)
PEOPLE = (OWNER, FREELANCER)


def test_the_table_leaves_illegal_pairs_to_test() -> None:
    assert len(ILLEGAL) > 40


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=tables.pair_ids(ILLEGAL))
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    watch: DormancyWatch, state: DormancyState, event: str
) -> None:
    actor = tables.actor_for(DORMANCY, event, PEOPLE)

    tables.assert_illegal(watch, make_watch(), state, event, actor)


def test_a_snapshot_round_trips_and_keeps_its_windows(
    watch: DormancyWatch, clock: ManualClock
) -> None:
    d = make_watch()
    watch.fire(d, "activity", PLATFORM, held=HELD, due=clock.now() + timedelta(days=3))
    watch.advance(d, clock.now() + timedelta(days=93))

    restored = tables.assert_round_trip(d)

    assert restored.state is DormancyState.CLIENT_WINDOW
    fired = watch.advance(restored, clock.now() + timedelta(days=100))
    assert [x.event for x in fired] == ["client_window_lapse"]


def test_replaying_the_history_reproduces_the_watch(
    watch: DormancyWatch, clock: ManualClock
) -> None:
    first = to_dict(make_watch())
    d = make_watch()
    watch.fire(d, "activity", PLATFORM, held=HELD)
    watch.advance(d, clock.now() + timedelta(days=98))
    clock.set(clock.now() + timedelta(days=99))
    watch.fire(d, "request_release", FREELANCER)
    watch.advance(d, clock.now() + timedelta(days=14))

    tables.assert_replays(DormancyWatch, first, d)


def test_available_follows_the_windows(watch: DormancyWatch, clock: ManualClock) -> None:
    d = make_watch()
    watch.fire(d, "activity", PLATFORM, held=HELD)
    assert watch.available(d, OWNER) == ()

    watch.advance(d, clock.now() + timedelta(days=90))
    clock.advance(days=90)

    assert watch.available(d, OWNER) == ("release_funds", "take_back_funds")
    assert watch.available(d, FREELANCER) == ()
