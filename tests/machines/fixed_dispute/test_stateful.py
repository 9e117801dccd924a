"""Property test: random answers, proposals, fees, awards and clock moves on fixed disputes.

The table is the reference model (``tests/machines/tables.py``). On top of it: a settled
dispute splits the disputed amount exactly (INV-MONEY-4), nothing is split before; the
evidence never changes once given (FPD-5); only an award can be reported for
non-compliance (FPD-8); the fee shares and the platform's part add up to the fee (FPD-7).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import invariant, run_state_machine_as_test

from statemachines import SYSTEM, Money
from statemachines.machines.contract.values import Side
from statemachines.machines.fixed_dispute import (
    FIXED_DISPUTE,
    FixedDispute,
    FixedDisputes,
    FixedDisputeState,
)
from statemachines.rules.fixed_dispute import ARBITRATION_FEE
from tests.machines import tables
from tests.machines.fixed_dispute import conftest as people

F = FixedDisputeState
TEXT = st.sampled_from(["blank pages", "", " "])
CENTS = st.sampled_from([(5_000, 10_000), (15_000, 0), (0, 15_000), (10_000, 4_000)])
DECLINE = st.fixed_dictionaries({"reason": TEXT, "evidence": TEXT})
SPLIT = st.fixed_dictionaries({"split": CENTS})
REPORT = st.fixed_dictionaries({"side": st.sampled_from([Side.CLIENT, Side.FREELANCER])})
NOTHING: st.SearchStrategy[dict[str, Any]] = st.just({})


class FixedDisputeMachine(tables.TableMachine):
    """Disputes of each case: held at the end, by an agency, a milestone not released, dormant."""

    spec = FIXED_DISPUTE
    workflow_type = FixedDisputes
    reached: ClassVar[set[str]] = set()
    start = people.FRIDAY
    steps = (
        timedelta(days=1),
        timedelta(seconds=1),
        timedelta(days=2),
        timedelta(days=7),
        timedelta(days=30),
    )
    actors = (
        people.FREELANCER,
        people.OWNER,
        people.SUPPORT,
        SYSTEM,
        people.AGENCY_OWNER,
        people.BUSINESS_MANAGER,
        people.HIRING,
        people.MEMBER,
        people.SOURCING,
        people.OTHER_CLIENT,
        people.OTHER_FREELANCER,
    )

    def aggregates(self) -> list[FixedDispute]:
        return [
            people.ended(),
            people.ended(agency=True),
            people.unreleased(),
            people.dormant(),
            people.ended(),
            people.ended(),
        ]

    def prepare(self) -> None:
        # The last two are in mediation already, one with the client's arbitration fee paid,
        # so runs reach arbitration and awards.
        for d in self.items[4:]:
            self.workflow.fire(d, "file", people.FREELANCER)
            self.workflow.fire(d, "decline", people.OWNER, reason="blank", evidence="shot.png")
        last = self.items[5]
        self.workflow.fire(
            last, "propose", people.SUPPORT, to_freelancer=people.HELD, to_client=Money(0)
        )
        self.workflow.fire(last, "decline_proposal", people.OWNER)
        self.workflow.fire(last, "pay_fee", people.OWNER)

    def payloads(self, event: str, agg: Any) -> st.SearchStrategy[dict[str, Any]]:
        if event == "decline":
            return DECLINE
        if event in {"propose", "settle", "award"}:
            return SPLIT
        if event == "report_non_compliance":
            return REPORT
        return NOTHING

    def finish(self, event: str, drawn: dict[str, Any]) -> dict[str, Any]:
        if "split" in drawn:
            x, y = drawn["split"]
            return {"to_freelancer": Money(x), "to_client": Money(y)}
        return drawn

    @invariant()
    def money_is_split_exactly_once_settled(self) -> None:
        for d in self.items:
            if d.state in {F.RESOLVED, F.AWARDED}:
                assert d.resolution is not None
                assert d.to_freelancer + d.to_client == d.amount
            else:
                assert d.resolution is None
                assert d.to_freelancer == d.to_client == Money(0)

    @invariant()
    def evidence_is_given_once(self) -> None:
        for d in self.items:
            declines = [x for x in d.history if x.event == "decline"]
            assert len(declines) <= 1
            if declines:
                assert d.evidence == (declines[0].payload["evidence"].strip(),)

    @invariant()
    def fees_and_reports_are_consistent(self) -> None:
        for d in self.items:
            if d.freelancer_fee or d.client_fee:
                assert d.platform_fee + d.freelancer_fee + d.client_fee == ARBITRATION_FEE
            assert len(set(d.fees_paid)) == len(d.fees_paid)
            assert len(d.suspend) == len(d.non_compliant)
            if d.non_compliant:
                assert d.state is F.AWARDED


def test_fixed_dispute_machine() -> None:
    FixedDisputeMachine.reached = set()

    run_state_machine_as_test(FixedDisputeMachine)

    assert tables.reached_every_state(FIXED_DISPUTE, FixedDisputeMachine.reached) == []
