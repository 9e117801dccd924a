"""Circumvention (CIRC-1..3): 24 months on the platform, the exceptions, the penalty."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import invariant, run_state_machine_as_test

from statemachines import (
    SYSTEM,
    UTC,
    Actor,
    ManualClock,
    Money,
    NotPermitted,
    TransitionRefused,
    to_dict,
)
from statemachines.machines.contract.values import Side
from statemachines.machines.relationship import (
    RELATIONSHIP,
    Exemption,
    Relationship,
    Relationships,
    RelationshipState,
    add_months,
)
from statemachines.testing.cast import ANA as OWNER
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import OZ as OTHER
from statemachines.testing.cast import SUP as SUPPORT
from tests.conftest import START
from tests.machines import tables

R = RelationshipState
SECOND = timedelta(seconds=1)
TWO_YEARS = datetime(2028, 3, 2, 9, 0, tzinfo=UTC)


def make(*, off_platform: bool = False) -> Relationship:
    return Relationship(id="RL-1", client="co-1", freelancer="fl-1", off_platform=off_platform)


@pytest.fixture
def cases(clock: ManualClock) -> Relationships:
    return Relationships(clock=clock)


@pytest.fixture
def protected(cases: Relationships) -> Relationship:
    r = make()
    cases.fire(r, "start", SYSTEM)
    return r


@pytest.mark.rule("CIRC-1")
def test_circ_1_a_relationship_met_on_the_platform_is_protected_for_24_months(
    cases: Relationships, protected: Relationship
) -> None:
    assert protected.state is R.PROTECTED
    assert protected.protected_until == TWO_YEARS

    assert cases.advance(protected, TWO_YEARS - SECOND) == []
    cases.advance(protected, TWO_YEARS)

    assert protected.exemption is Exemption.TWO_YEARS
    assert protected.state.value == "exempt"


@pytest.mark.rule("CIRC-1")
@pytest.mark.parametrize("actor", [OWNER, FREELANCER, SUPPORT], ids=["client", "freelancer", "sup"])
def test_circ_1_asking_to_pay_outside_can_be_reported(
    cases: Relationships, protected: Relationship, actor: Actor
) -> None:
    cases.fire(protected, "report", actor, what="asked to be paid by bank transfer")

    assert protected.state is R.UNDER_REVIEW
    assert protected.reported_by == actor.id


@pytest.mark.rule("CIRC-1")
def test_circ_1_a_report_says_what_happened(cases: Relationships, protected: Relationship) -> None:
    with pytest.raises(TransitionRefused, match="says what was asked or agreed") as err:
        cases.fire(protected, "report", OWNER, what="  ")

    assert err.value.rule_ids == ("CIRC-1",)


@pytest.mark.rule("CIRC-2")
@pytest.mark.parametrize("how", ["fee", "off_platform", "two_years"])
def test_circ_2_an_exempt_relationship_cannot_be_reported(
    cases: Relationships, clock: ManualClock, how: str
) -> None:
    r = make(off_platform=how == "off_platform")
    cases.fire(r, "start", SYSTEM)
    if how == "fee":
        cases.fire(r, "pay_conversion_fee", OWNER, fee=Money(50_000))
    if how == "two_years":
        clock.set(TWO_YEARS)
        cases.advance(r)
    assert r.state is R.EXEMPT

    with pytest.raises(TransitionRefused, match="working off the platform is allowed") as err:
        cases.fire(r, "report", FREELANCER, what="paid by cheque")

    assert err.value.rule_ids == ("CIRC-2",)


@pytest.mark.rule("CIRC-2")
def test_circ_2_the_conversion_fee_is_more_than_nothing(
    cases: Relationships, protected: Relationship
) -> None:
    with pytest.raises(TransitionRefused, match=r"more than US\$0\.00"):
        cases.fire(protected, "pay_conversion_fee", OWNER, fee=Money(0))
    with pytest.raises(NotPermitted):
        cases.fire(protected, "pay_conversion_fee", FREELANCER, fee=Money(100))


@pytest.mark.rule("CIRC-3")
@pytest.mark.parametrize(("side", "account"), [(Side.FREELANCER, "fl-1"), (Side.CLIENT, "co-1")])
def test_circ_3_confirmed_circumvention_suspends_and_may_charge_the_fee(
    cases: Relationships, protected: Relationship, side: Side, account: str
) -> None:
    cases.fire(protected, "report", OWNER, what="offered a discount to pay outside")

    cases.fire(protected, "confirm", SUPPORT, side=side, fee=Money(25_000))

    assert protected.state is R.PENALISED
    assert (protected.suspend, protected.fee_charged) == ((account,), Money(25_000))
    assert protected.deadlines == ()


@pytest.mark.rule("CIRC-1", "CIRC-2")
@pytest.mark.parametrize(("late", "state"), [(False, R.PROTECTED), (True, R.EXEMPT)])
def test_circ_2_a_dismissed_report_returns_to_where_time_has_got(
    cases: Relationships, protected: Relationship, clock: ManualClock, late: bool, state: R
) -> None:
    cases.fire(protected, "report", OWNER, what="mentioned PayPal")
    if late:
        clock.set(TWO_YEARS)
        cases.advance(protected)
        assert protected.protection_over

    cases.fire(protected, "dismiss", SUPPORT)

    assert protected.state is state


def test_months_are_calendar_months() -> None:
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(START, 24) == TWO_YEARS


ILLEGAL = tables.illegal_pairs(RELATIONSHIP)


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=tables.pair_ids(ILLEGAL))
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    cases: Relationships, state: RelationshipState, event: str
) -> None:
    actor = tables.actor_for(RELATIONSHIP, event, (OWNER, FREELANCER, SUPPORT))

    tables.assert_illegal(cases, make(), state, event, actor)


def test_a_relationship_round_trips_and_replays(cases: Relationships) -> None:
    first = to_dict(make())
    r = make()
    cases.fire(r, "start", SYSTEM)
    cases.fire(r, "report", FREELANCER, what="asked for cash")

    tables.assert_round_trip(r)
    tables.assert_replays(Relationships, first, r)


PAYLOADS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "report": st.fixed_dictionaries({"what": st.sampled_from(["asked for cash", ""])}),
    "pay_conversion_fee": st.fixed_dictionaries({"fee": st.sampled_from([50_000, 0])}),
    "confirm": st.fixed_dictionaries(
        {"side": st.sampled_from(list(Side)), "fee": st.sampled_from([0, 25_000])}
    ),
}
NOTHING: st.SearchStrategy[dict[str, Any]] = st.just({})


class RelationshipMachine(tables.TableMachine):
    """Relationships met on the platform and brought from outside, over two years of moves."""

    spec = RELATIONSHIP
    workflow_type = Relationships
    reached: ClassVar[set[str]] = set()
    steps = (timedelta(days=30), timedelta(days=365), SECOND, timedelta(days=1))
    actors = (SYSTEM, OWNER, FREELANCER, SUPPORT, OTHER)

    def aggregates(self) -> list[Relationship]:
        return [make(), make(off_platform=True), make()]

    def payloads(self, event: str, agg: Any) -> st.SearchStrategy[dict[str, Any]]:
        return PAYLOADS.get(event, NOTHING)

    def finish(self, event: str, drawn: dict[str, Any]) -> dict[str, Any]:
        return {k: Money(v) if k == "fee" else v for k, v in drawn.items()}

    @invariant()
    def exempt_relationships_say_why(self) -> None:
        for r in self.items:
            if r.state is R.EXEMPT:
                assert r.exemption is not None
            if r.state is R.PENALISED:
                assert len(r.suspend) == 1


def test_relationship_machine() -> None:
    RelationshipMachine.reached = set()

    run_state_machine_as_test(RelationshipMachine, settings=tables.DETERMINISTIC)

    assert tables.reached_every_state(RELATIONSHIP, RelationshipMachine.reached) == []
