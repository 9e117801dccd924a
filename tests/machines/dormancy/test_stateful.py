"""Property test: random activity, windows, answers and clock moves on dormancy watches.

The table is the reference model (``tests/machines/tables.py``). On top of it: the
dormancy date is always 90 days after the later of the last activity and the latest
due date (or later, when milestones extended it); deadlines match the state; an
outcome never pays out more than was held, and only a closed or taken-back contract
ends.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import invariant, run_state_machine_as_test

from statemachines import SYSTEM, Money
from statemachines.machines.dormancy import (
    DORMANCY,
    Dormancy,
    DormancyOutcome,
    DormancyState,
    DormancyWatch,
)
from tests.machines import tables
from tests.machines.dormancy import conftest as people

D = DormancyState
HELD = st.sampled_from([30_000, 0, 500])
DUE = st.sampled_from([None, 10, 120, -5])
REPORT = st.fixed_dictionaries({"held": HELD, "due": DUE, "added": st.booleans()})
NOTHING: st.SearchStrategy[dict[str, Any]] = st.just({})


class DormancyMachine(tables.TableMachine):
    """Five watches: idle, watching, in the client's window, in the agency's window, and one
    whose release the agency asked for."""

    spec = DORMANCY
    workflow_type = DormancyWatch
    reached: ClassVar[set[str]] = set()
    steps = (
        timedelta(days=1),
        timedelta(seconds=1),
        timedelta(days=7),
        timedelta(days=14),
        timedelta(days=30),
        timedelta(days=76),
    )
    actors = (
        SYSTEM,
        people.OWNER,
        people.FREELANCER,
        people.AGENCY_OWNER,
        people.BUSINESS_MANAGER,
        people.HIRING,
        people.MEMBER,
        people.OTHER_CLIENT,
        people.OTHER_FREELANCER,
        people.SUPPORT,
    )

    def aggregates(self) -> list[Dormancy]:
        return [
            people.make_watch(),
            people.make_watch(),
            people.make_watch(),
            people.make_watch(agency=True),
            people.make_watch(agency=True),
        ]

    def prepare(self) -> None:
        # The last activity of each was that long ago; what fell due since fires now.
        for d, ago in zip(self.items[1:], (0, 91, 98, 98), strict=True):
            at = self.clock.now() - timedelta(days=ago)
            self.workflow.fire_at(d, "activity", SYSTEM, at, held=people.HELD)
            self.workflow.advance(d)
        self.workflow.fire(self.items[4], "request_release", people.BUSINESS_MANAGER)

    def payloads(self, event: str, agg: Any) -> st.SearchStrategy[dict[str, Any]]:
        if event == "activity":
            return REPORT
        return NOTHING

    def finish(self, event: str, drawn: dict[str, Any]) -> dict[str, Any]:
        if not drawn:
            return drawn
        due = drawn["due"]
        return {
            "held": Money(drawn["held"]),
            "due": None if due is None else self.clock.now() + timedelta(days=due),
            "added": drawn["added"],
        }

    @invariant()
    def the_count_runs_from_activity_or_due_date(self) -> None:
        for d in self.items:
            if d.state is D.WATCHING:
                assert d.last_activity is not None
                assert d.dormant_at is not None
                base = max(d.last_activity, d.latest_due or d.last_activity)
                assert d.dormant_at >= base + timedelta(days=90)
                assert d.held
                assert 0 <= d.notices <= 2
            if d.state is D.IDLE:
                assert d.deadlines == ()

    @invariant()
    def outcomes_pay_what_was_held(self) -> None:
        for d in self.items:
            assert d.to_freelancer + d.to_client in {Money(0), d.held}
            assert d.ends_contract == (
                d.outcome in {DormancyOutcome.NOBODY_ACTED, DormancyOutcome.CLIENT_TOOK_BACK}
            )
            assert (d.outcome is None) == (
                d.state not in {D.SETTLED, D.RELEASED, D.MEDIATION, D.CLOSED}
            )


def test_dormancy_machine() -> None:
    DormancyMachine.reached = set()

    run_state_machine_as_test(DormancyMachine)

    assert tables.reached_every_state(DORMANCY, DormancyMachine.reached) == []
