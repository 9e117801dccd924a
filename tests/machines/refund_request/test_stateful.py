"""Property test: random requests, answers and clock moves on client refund requests.

The table is the reference model (``tests/machines/tables.py``). On top of it: what
is granted never exceeds what was asked nor the payment, a grant is made only while
the payment is at most 180 days old, and a full grant is exactly the amount asked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import invariant, run_state_machine_as_test

from statemachines import SYSTEM, Money
from statemachines.machines.refund_request import (
    REFUND_REQUEST,
    ClientRefundRequest,
    RefundRequests,
    RefundRequestState,
)
from tests.machines import tables
from tests.machines.refund_request import conftest as people

R = RefundRequestState
CENTS = st.sampled_from([10_000, 2_500, 40_000, 1, 0, 40_001])
BALANCES = st.sampled_from([100_000, 2_500, 0])
REQUEST = st.fixed_dictionaries({"amount": CENTS})
GRANT = st.fixed_dictionaries({"amount": CENTS, "balance": BALANCES})
NOTHING: st.SearchStrategy[dict[str, Any]] = st.just({})


class RefundRequestMachine(tables.TableMachine):
    """Requests about a fresh payment, a 170-day-old one, a 200-day-old one, an agency's."""

    spec = REFUND_REQUEST
    workflow_type = RefundRequests
    reached: ClassVar[set[str]] = set()
    steps = (timedelta(days=1), timedelta(seconds=1), timedelta(days=10), timedelta(days=100))
    actors = (
        people.OWNER,
        people.HIRING,
        people.FREELANCER,
        people.AGENCY_OWNER,
        people.BUSINESS_MANAGER,
        people.SUPPORT,
        people.SOURCING,
        people.OTHER_CLIENT,
        people.OTHER_FREELANCER,
        people.MEMBER,
        SYSTEM,
    )

    def aggregates(self) -> list[ClientRefundRequest]:
        return [
            people.make_request(),
            people.make_request(timedelta(days=170)),
            people.make_request(timedelta(days=200)),
            people.make_request(agency=True),
        ]

    def prepare(self) -> None:
        for r in self.items[:2]:
            self.workflow.fire(r, "request", people.OWNER, amount=Money(10_000))

    def payloads(self, event: str, agg: Any) -> st.SearchStrategy[dict[str, Any]]:
        if event == "request":
            return REQUEST
        if event == "give_refund":
            return GRANT
        return NOTHING

    def finish(self, event: str, drawn: dict[str, Any]) -> dict[str, Any]:
        return {name: Money(cents) for name, cents in drawn.items()}

    @invariant()
    def grants_stay_within_the_request(self) -> None:
        for r in self.items:
            assert r.granted <= r.amount <= r.refundable
            if r.state is R.GRANTED_FULL:
                assert r.granted == r.amount
            if r.state is R.GRANTED_PARTIAL:
                assert Money(0) < r.granted < r.amount
            if r.state in {R.GRANTED_FULL, R.GRANTED_PARTIAL}:
                assert r.answered_at is not None
                assert r.answered_at - r.paid_at <= timedelta(days=180)
            else:
                assert r.granted == Money(0)

    @invariant()
    def only_a_waiting_request_has_a_deadline(self) -> None:
        for r in self.items:
            assert bool(r.deadlines) == (r.state is R.REQUESTED)


def test_refund_request_machine() -> None:
    RefundRequestMachine.reached = set()

    run_state_machine_as_test(RefundRequestMachine, settings=tables.DETERMINISTIC)

    assert tables.reached_every_state(REFUND_REQUEST, RefundRequestMachine.reached) == []
