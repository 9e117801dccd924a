"""Property test: random actors, events, amounts and clock moves never break the table.

The table itself is the reference model: an event with no edge must be illegal,
a failure must leave the milestone exactly as it was, and INV-MS-1..4 hold after
every step.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from statemachines import (
    MILESTONE,
    SYSTEM,
    Actor,
    IllegalTransition,
    InvalidPayload,
    ManualClock,
    Milestone,
    MilestoneReview,
    MilestoneState,
    Money,
    NotPermitted,
    TransitionRefused,
    to_dict,
)
from statemachines.machines.invariants import check_milestone
from tests.conftest import START
from tests.machines.milestone import conftest as people

ACTORS = [
    people.OWNER,
    people.ADMIN,
    people.HIRING,
    people.SOURCING,
    people.COLLEAGUE,
    people.OTHER_CLIENT,
    people.FREELANCER,
    people.OTHER_FREELANCER,
    people.AGENCY_OWNER,
    people.BUSINESS_MANAGER,
    people.AGENCY_MEMBER,
    people.OUTSIDE_MEMBER,
    people.SUPPORT,
    SYSTEM,
]
STEPS = [
    timedelta(seconds=1),
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=7),
    timedelta(days=13, hours=23, minutes=59, seconds=59),
    timedelta(days=14),
]
AMOUNTS = st.one_of(st.none(), st.sampled_from([0, 1, 499, 500, 10_000, 20_000, 25_000]))


class MilestoneReviewMachine(RuleBasedStateMachine):
    """A client and a freelancer (and strangers) working one milestone each of two kinds."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.review = MilestoneReview(clock=self.clock)
        self.milestones = [
            people.make_milestone(10_000),
            Milestone(
                id="M-2",
                contract="C-1",
                client="co-1",
                freelancer="ag-1",
                agency=True,
                amount=Money(400),
            ),
        ]
        self.auto_approvals = 0

    @rule(
        index=st.integers(0, 1),
        event=st.sampled_from(MILESTONE.events),
        actor=st.sampled_from(ACTORS),
        cents=AMOUNTS,
    )
    def fire(self, index: int, event: str, actor: Actor, cents: int | None) -> None:
        ms = self.milestones[index]
        payload = {"amount": Money(cents)} if cents is not None else {}
        before = to_dict(ms)
        state = ms.state
        edges = MILESTONE.edges_from(state, event)
        try:
            decision = self.review.fire(ms, event, actor, **payload)
        except IllegalTransition:
            assert not edges, f"{event} from {state} has an edge but was called illegal"
            assert to_dict(ms) == before
        except (NotPermitted, TransitionRefused, InvalidPayload) as err:
            assert edges or MILESTONE.forbidden_from(state, event) is not None, err
            assert to_dict(ms) == before
        else:
            assert decision.target in {e.target for e in edges}
            assert ms.state is decision.target
            assert state is not MilestoneState.APPROVED, "approved is final"

    @rule(step=st.sampled_from(STEPS))
    def time_passes(self, step: timedelta) -> None:
        self.clock.advance(seconds=step.total_seconds())

    @rule(step=st.sampled_from(STEPS))
    def deadlines_fire(self, step: timedelta) -> None:
        self.clock.advance(seconds=step.total_seconds())
        for ms in self.milestones:
            due = [d.due for d in ms.deadlines]
            fired = self.review.advance(ms)
            assert [d.at for d in fired] == [d for d in due if d <= self.clock.now()]
            self.auto_approvals += len(fired)

    @precondition(lambda self: any(ms.deadlines for ms in self.milestones))
    @rule()
    def jump_to_one_second_before_a_deadline(self) -> None:
        due = min(d.due for ms in self.milestones for d in ms.deadlines)
        if due - timedelta(seconds=1) >= self.clock.now():
            self.clock.set(due - timedelta(seconds=1))
            for ms in self.milestones:
                assert self.review.advance(ms) == []

    @invariant()
    def milestone_invariants_hold(self) -> None:
        for ms in self.milestones:
            assert check_milestone(ms) == []

    @invariant()
    def deadlines_are_in_the_future_or_pending(self) -> None:
        for ms in self.milestones:
            if ms.state is MilestoneState.APPROVED:
                assert ms.deadlines == ()

    @invariant()
    def automatic_approval_is_recorded_as_such(self) -> None:
        for ms in self.milestones:
            lapses = [d for d in ms.history if d.event == "review_lapse"]
            assert ms.auto_approved == bool(lapses)
            assert len(lapses) <= 1
            assert all(d.actor == SYSTEM and d.deadline == "review" for d in lapses)


TestMilestoneReview = MilestoneReviewMachine.TestCase
