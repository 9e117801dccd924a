"""Property test: random actors, answers, reviews and clock moves on hourly disputes.

The table is the reference model (``tests/machines/tables.py``). On top of it:
the disputed minutes never exceed the billed ones, a finished dispute splits the
disputed amount exactly between the two sides (INV-MONEY-4, INV-MONEY-7), and the
contract stays paused exactly while the dispute is open (HDSP-2, INV-CTR-3).
"""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import invariant, run_state_machine_as_test

from statemachines import SYSTEM, Money
from statemachines.machines.hourly_dispute import (
    HOURLY_DISPUTE,
    HourlyDispute,
    HourlyDisputes,
    HourlyDisputeState,
    NoResponsePolicy,
)
from tests.machines import tables
from tests.machines.hourly_dispute import conftest as people

H = HourlyDisputeState
MINUTES = st.sampled_from([120, 600, 1, 59, 599, 0, 601, -1])  # valid ones first: drawn more
FILE = st.fixed_dictionaries({"minutes": MINUTES})
NOTHING: st.SearchStrategy[dict[str, Any]] = st.just({})
REVIEW = st.fixed_dictionaries(
    {},
    optional={
        "manual": st.sampled_from([30, 0, 600, -1]),
        "idle": st.sampled_from([0, 15]),
        "over_limit": st.sampled_from([0, 60]),
        "unsupported": st.sampled_from([0, 45]),
        "id_verified": st.booleans(),
        "billing_verified": st.booleans(),
        "good_standing": st.booleans(),
    },
)


class HourlyDisputeMachine(tables.TableMachine):
    """Three disputes of one billed week: individual, agency, and under the older policy."""

    spec = HOURLY_DISPUTE
    workflow_type = HourlyDisputes
    reached: ClassVar[set[str]] = set()
    start = people.INVOICED
    actors = (
        people.OWNER,
        people.HIRING,
        people.SOURCING,
        people.OTHER_CLIENT,
        people.FREELANCER,
        people.OTHER_FREELANCER,
        people.AGENCY_OWNER,
        people.BUSINESS_MANAGER,
        people.MEMBER,
        people.OTHER_MEMBER,
        people.OUTSIDER,
        people.SUPPORT,
        SYSTEM,
    )

    def aggregates(self) -> list[HourlyDispute]:
        # The clock starts as the review window opens (its edges are unit-tested).
        return [
            people.make_dispute(),
            people.make_dispute(agency=True),
            people.make_dispute(120, policy=NoResponsePolicy.REFUND_ALL, suspend_on_silence=True),
        ]

    def prepare(self) -> None:
        # The third dispute is filed at once, so the runs spend their steps on its answers.
        self.workflow.fire(self.items[2], "file", people.OWNER, minutes=120)

    def payloads(self, event: str, agg: Any) -> st.SearchStrategy[dict[str, Any]]:
        if event == "file":
            return FILE
        if event == "decide":
            return REVIEW
        return NOTHING

    @invariant()
    def money_is_split_exactly(self) -> None:
        for d in self.items:
            assert 0 <= d.minutes <= d.billed
            assert d.refunded + d.paid == (d.minutes if d.state in {H.RESOLVED, H.CANCELLED} else 0)
            if d.state in {H.RESOLVED, H.CANCELLED}:
                assert d.refund_amount + d.paid_amount == d.disputed_amount
            else:
                assert d.paid_amount == Money(0)

    @invariant()
    def the_contract_pauses_while_open(self) -> None:
        for d in self.items:
            assert d.pauses_contract == (d.state in {H.AWAITING_FREELANCER, H.SUPPORT_REVIEW})
            assert d.held == (d.minutes if d.pauses_contract else 0)
            assert (d.respond_by is not None) == (d.state is H.AWAITING_FREELANCER)

    @invariant()
    def only_the_older_policy_suspends(self) -> None:
        for d in self.items:
            if d.suspend:
                assert d.silent
                assert d.policy is NoResponsePolicy.REFUND_ALL


def test_hourly_dispute_machine() -> None:
    HourlyDisputeMachine.reached = set()

    run_state_machine_as_test(HourlyDisputeMachine, settings=tables.DETERMINISTIC)

    assert tables.reached_every_state(HOURLY_DISPUTE, HourlyDisputeMachine.reached) == []
