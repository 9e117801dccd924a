"""Tests generated from the milestone table: illegal pairs, snapshots, replay, queries."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import timedelta
from typing import Any

import pytest

from statemachines import (
    MILESTONE,
    SYSTEM,
    Actor,
    IllegalTransition,
    ManualClock,
    Milestone,
    MilestoneReview,
    MilestoneState,
    Money,
    SnapshotError,
    from_dict,
    to_dict,
)
from tests.conftest import START
from tests.machines.milestone.conftest import FREELANCER, OWNER, make_milestone

M = MilestoneState


def _actor_for(event: str) -> Actor:
    roles = {r for e in MILESTONE.edges if e.event == event for r in e.roles}
    if SYSTEM.role in roles:
        return SYSTEM
    return FREELANCER if FREELANCER.role in roles else OWNER


ILLEGAL = [
    (state, event)
    for state, event in itertools.product(M, MILESTONE.events)
    if not MILESTONE.edges_from(state, event) and MILESTONE.forbidden_from(state, event) is None
]


def test_the_table_leaves_illegal_pairs_to_test() -> None:
    # Guard against a generator that silently produces nothing.
    assert len(ILLEGAL) > 20


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=[f"{s.value}-{e}" for s, e in ILLEGAL])
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    review: MilestoneReview, state: MilestoneState, event: str
) -> None:
    ms = make_milestone()
    ms.state = state
    before = to_dict(ms)

    with pytest.raises(IllegalTransition, match=f"cannot '{event}' milestone 'M-1' in state"):
        review.fire(ms, event, _actor_for(event))

    assert to_dict(ms) == before
    assert review.audit[-1].outcome == "illegal"  # type: ignore[index]


# --------------------------------------------------------------------------- snapshots


def _lived_milestone(review: MilestoneReview, clock: ManualClock) -> Milestone:
    ms = make_milestone()
    review.fire(ms, "edit", OWNER, amount=Money(30_000), title="Landing page")
    review.fire(ms, "fund", OWNER)
    clock.advance(days=1)
    review.fire(ms, "submit", FREELANCER, message="first cut")
    clock.advance(days=3)
    review.fire(ms, "request_changes", OWNER, message="bigger font")
    clock.advance(hours=5)
    review.fire(ms, "resubmit", FREELANCER)
    return ms


def test_a_snapshot_round_trips_through_json(review: MilestoneReview, clock: ManualClock) -> None:
    ms = _lived_milestone(review, clock)

    restored = from_dict(json.loads(json.dumps(to_dict(ms))))

    assert restored == ms
    assert restored.history == ms.history
    assert restored.deadlines == ms.deadlines
    assert restored.review_due == clock.now() + timedelta(days=14)


def test_restoring_never_resets_the_state(review: MilestoneReview, clock: ManualClock) -> None:
    ms = _lived_milestone(review, clock)

    restored = from_dict(to_dict(ms))

    assert restored.state is M.RESUBMITTED
    review.advance(restored, clock.now() + timedelta(days=14))
    assert restored.state.value == "approved"


def test_a_restored_milestone_keeps_its_deadline(
    review: MilestoneReview, clock: ManualClock
) -> None:
    ms = _lived_milestone(review, clock)
    restored = from_dict(to_dict(ms))

    fired = review.advance(restored, clock.now() + timedelta(days=14))

    assert [d.deadline for d in fired] == ["review"]


def _broken(change: dict[str, Any], drop: str | None = None) -> dict[str, Any]:
    data = to_dict(make_milestone())
    data.update(change)
    if drop:
        del data[drop]
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_broken({"state": "lost"}), "field 'state': 'lost' is not a state of milestone"),
        (_broken({"version": 99}), "version 99 is not supported"),
        (_broken({"schema": "statemachines/nope"}), "unknown snapshot schema"),
        (_broken({}, drop="amount"), "missing field(s) 'amount'"),
        (_broken({"colour": "red"}), "unexpected field(s) 'colour'"),
        (_broken({"submissions": "2"}), "field 'submissions': expected int, got str '2'"),
        (_broken({"agency": 1}), "field 'agency': expected bool, got int 1"),
        (_broken({"amount": {"cents": -5, "currency": "USD"}}), "cannot be negative"),
        (_broken({"amount": {"cents": 5.5, "currency": "USD"}}), "whole number of minor units"),
        (_broken({"submitted_at": "2026-03-02T09:00:00"}), "has no UTC offset"),
        (_broken({"submitted_at": "yesterday"}), "is not an ISO-8601 timestamp"),
        (_broken({"deadlines": [{"key": "review"}]}), "a deadline has"),
        (_broken({"history": [{"event": "fund"}]}), "field 'history[0]': a decision has"),
        ([1, 2], "a snapshot is a JSON object"),
    ],
)
def test_a_malformed_snapshot_is_refused_clearly(data: Any, message: str) -> None:
    with pytest.raises(SnapshotError) as refused:
        from_dict(data)

    assert message in str(refused.value)


def test_a_snapshot_with_an_unknown_event_in_history_is_refused(
    review: MilestoneReview, clock: ManualClock
) -> None:
    data = to_dict(_lived_milestone(review, clock))
    data["history"][1]["event"] = "teleport"

    with pytest.raises(SnapshotError, match=r"history\[1\]\.event': milestone has no event"):
        from_dict(data)


# --------------------------------------------------------------------------- replay


def test_replaying_the_history_reproduces_the_milestone(
    review: MilestoneReview, clock: ManualClock
) -> None:
    initial = to_dict(make_milestone())
    ms = _lived_milestone(review, clock)
    review.advance(ms, clock.now() + timedelta(days=20))

    replayed = MilestoneReview(clock=ManualClock(START)).replay(from_dict(initial), ms.history)

    assert replayed == ms
    assert replayed.history == ms.history
    assert to_dict(replayed) == to_dict(ms)


def test_replaying_from_a_later_snapshot_skips_what_it_holds(
    review: MilestoneReview, clock: ManualClock
) -> None:
    ms = _lived_milestone(review, clock)
    halfway = from_dict(to_dict(ms))
    clock.advance(days=1)
    review.fire(ms, "approve", OWNER, amount=Money(10_000))

    replayed = review.replay(halfway, ms.history)

    assert replayed == ms


# --------------------------------------------------------------------------- queries


def test_available_lists_what_each_side_may_do(review: MilestoneReview, clock: ManualClock) -> None:
    ms = make_milestone()
    review.fire(ms, "fund", OWNER)
    review.fire(ms, "submit", FREELANCER)

    assert review.available(ms, OWNER) == ("request_changes", "approve")
    assert review.available(ms, FREELANCER) == ()
    assert "review_lapse" not in review.available(ms, SYSTEM)
    clock.advance(days=14)
    assert "review_lapse" in review.available(ms, SYSTEM)
    assert review.available(ms, OWNER) == ()


@pytest.mark.rule("MS-1")
def test_explain_says_why_not_without_changing_anything(
    review: MilestoneReview, clock: ManualClock
) -> None:
    ms = make_milestone(200)
    before = copy.deepcopy(to_dict(ms))

    verdict = review.explain(ms, "fund", OWNER)
    submit = review.explain(ms, "submit", OWNER)

    assert not verdict.allowed
    assert verdict.rule_ids == ("MS-1",)
    assert "US$2.00" in str(verdict)
    assert type(submit.error).__name__ == "NotPermitted"
    assert to_dict(ms) == before
    assert review.audit == []


def test_explain_names_the_target_when_allowed(review: MilestoneReview) -> None:
    verdict = review.explain(make_milestone(), "fund", OWNER)

    assert verdict.allowed
    assert verdict.target is M.FUNDED
    assert str(verdict) == "fund: allowed -> funded"
