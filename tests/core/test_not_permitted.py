"""A wrong actor is turned away with :class:`NotPermitted`, citing the rule that says who acts.

The rule is the edge's role rule for the actor's role (TEAM-5 for a client member, TEAM-8
for an agency's people, else the edge's first), or the one a machine's ``authorize`` names;
the reason is written for a person, and the audit trail keeps the rule IDs.
"""

from __future__ import annotations

import enum

import attrs
import pytest

from statemachines import (
    SYSTEM,
    Actor,
    DefinitionError,
    InvalidInput,
    ManualClock,
    NotPermitted,
    Role,
    Violation,
    Workflow,
)
from statemachines.core.actors import CLIENT_DECIDERS, one_of
from statemachines.core.engine import Deadline, Decision, Edge, Forbidden, MachineSpec, fail
from statemachines.testing.cast import AM, ANA, FL, OZ

SAM = Actor("sam", Role.SOURCING_MEMBER, party="co-1")


class Door(enum.Enum):
    SHUT = "shut"
    OPEN = "open"


@attrs.define
class Gate:
    id: str
    client: str = "co-1"
    agency: bool = False
    state: Door = Door.SHUT
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list)


def _authorize(gate: Gate, actor: Actor, edge: Edge[Door] | None) -> str | Violation | None:
    if actor.role in CLIENT_DECIDERS and actor.party != gate.client:
        return f"gate {gate.id} belongs to client {gate.client}, not {actor.party}"
    if actor.role is Role.FREELANCER and edge is not None and edge.event == "open_wide":
        return Violation("MS-REVIEW-6", "a freelancer never opens a gate wide")
    return None


GATE: MachineSpec[Door, Gate] = MachineSpec(
    name="test_gate",
    states=Door,
    initial=Door.SHUT,
    terminal=(),
    model=Gate,
    register=False,
    authorize=_authorize,
    edges=(
        Edge("open", (Door.SHUT,), Door.OPEN, CLIENT_DECIDERS, ("CTR-GEN-1", "TEAM-5", "TEAM-8")),
        Edge(
            "open_wide",
            (Door.SHUT,),
            Door.OPEN,
            CLIENT_DECIDERS | {Role.FREELANCER},
            ("CTR-GEN-1",),
        ),
        Edge("shut", (Door.OPEN,), Door.SHUT, frozenset({Role.SYSTEM}), ("CTR-HR-2",)),
    ),
    forbidden=(
        Forbidden("shut", (Door.SHUT,), frozenset({Role.SYSTEM}), "MS-4", lambda g, c: fail("no")),
    ),
)


class Gates(Workflow[Door, Gate]):
    spec = GATE


@pytest.fixture
def gates(clock: ManualClock) -> Gates:
    return Gates(clock=clock)


def _turned_away(gates: Gates, gate: Gate, event: str, actor: Actor) -> NotPermitted:
    with pytest.raises(NotPermitted) as denied:
        gates.fire(gate, event, actor)
    assert gate.state is Door.SHUT
    assert gate.history == []
    return denied.value


@pytest.mark.rule("TEAM-5")
def test_team_5_a_client_member_the_table_does_not_name_is_turned_away_by_team_5(
    gates: Gates,
) -> None:
    err = _turned_away(gates, Gate("G-1"), "open", SAM)

    assert err.rule_ids == ("TEAM-5",)
    assert err.reasons == (
        "a sourcing member cannot do this on test gate G-1; only the client company's owner, "
        "admins or hiring managers can",
    )
    assert err.violations[0].data["role"] == "sourcing_member"


@pytest.mark.rule("TEAM-8")
def test_team_8_an_agency_member_is_turned_away_by_team_8(gates: Gates) -> None:
    assert _turned_away(gates, Gate("G-1"), "open", AM).rule_ids == ("TEAM-8",)


def test_another_role_cites_the_edges_first_role_rule(gates: Gates) -> None:
    err = _turned_away(gates, Gate("G-1"), "open", FL)

    assert err.rule_ids == ("CTR-GEN-1",)
    assert str(err) == (
        "'fl-1' (freelancer) may not 'open' test_gate 'G-1': [CTR-GEN-1] a freelancer cannot "
        "do this on test gate G-1; only the client company's owner, admins or hiring managers "
        "can"
    )


@pytest.mark.rule("TEAM-5")
def test_team_5_a_wrong_party_in_words_cites_the_edges_role_rule(gates: Gates) -> None:
    err = _turned_away(gates, Gate("G-1"), "open", OZ)

    assert err.rule_ids == ("TEAM-5",)
    assert err.reasons == ("gate G-1 belongs to client co-1, not co-2",)


def test_a_violation_from_authorize_cites_its_own_rule(gates: Gates) -> None:
    err = _turned_away(gates, Gate("G-1"), "open_wide", FL)

    assert err.rule_ids == ("MS-REVIEW-6",)
    assert err.reasons == ("a freelancer never opens a gate wide",)


def test_explain_and_the_audit_trail_carry_the_rule_ids(gates: Gates) -> None:
    gate = Gate("G-1")

    verdict = gates.explain(gate, "open", SAM)
    _turned_away(gates, gate, "open", SAM)

    assert verdict.rule_ids == ("TEAM-5",)
    audit = gates.audit
    assert isinstance(audit, list)
    assert [(a.outcome, a.rule_ids) for a in audit] == [("not_permitted", ("TEAM-5",))]


def test_a_forbidden_row_cites_the_role_rules_of_its_events_edges(gates: Gates) -> None:
    err = _turned_away(gates, Gate("G-1"), "shut", ANA)

    assert err.rule_ids == ("CTR-HR-2",)
    assert err.reasons == (
        "a client owner cannot do this on test gate G-1; only the platform itself can",
    )


def test_the_platform_acting_where_people_act_is_named_as_the_platform(gates: Gates) -> None:
    err = _turned_away(gates, Gate("G-1"), "open", SYSTEM)

    assert err.reasons[0].startswith("the platform itself cannot do this on test gate G-1")


def test_who_may_act_leaves_out_the_side_that_does_not_hold_the_aggregate() -> None:
    roles = frozenset({Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER, Role.SYSTEM})

    assert one_of(roles, agency=False) == "the freelancer"
    assert one_of(roles, agency=True) == "the agency's owner or business managers"
    assert one_of(roles) == "the freelancer, or the agency's owner or business managers"


def test_an_edge_must_name_the_rule_that_says_who_may_fire_it() -> None:
    with pytest.raises(DefinitionError, match="edge 'open' names no rule that says who may"):
        MachineSpec(
            name="test-gate-2",
            states=Door,
            initial=Door.SHUT,
            terminal=(),
            model=Gate,
            register=False,
            edges=(
                Edge("open", (Door.SHUT,), Door.OPEN, CLIENT_DECIDERS),
                Edge("shut", (Door.OPEN,), Door.SHUT, CLIENT_DECIDERS, ("CTR-GEN-1",)),
            ),
        )


# --------------------------------------------------------------------------- bad actors


@pytest.mark.parametrize(
    "actor", [None, "ana", Role.CLIENT_OWNER, {"id": "ana", "role": "client_owner"}]
)
def test_an_actor_that_is_not_an_actor_is_invalid_input(gates: Gates, actor: object) -> None:
    gate = Gate("G-1")

    with pytest.raises(InvalidInput, match="an event is fired by an Actor"):
        gates.fire(gate, "open", actor)  # type: ignore[arg-type]
    verdict = gates.explain(gate, "open", actor)  # type: ignore[arg-type]

    assert isinstance(verdict.error, InvalidInput)
    assert gate.state is Door.SHUT
    assert gate.history == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("ana", "client_owner"), r"a Role such as Role.FREELANCER, got 'client_owner'; pass"),
        (("ana", None), "a Role such as Role.FREELANCER, got None"),
        (("", Role.CLIENT_OWNER), "id is a non-empty string"),
        ((7, Role.CLIENT_OWNER), "id is a non-empty string"),
        (("ana", Role.CLIENT_OWNER, 3), "party is an account id or None"),
    ],
)
def test_an_actor_is_built_from_an_id_and_a_role(
    arguments: tuple[object, ...], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        Actor(*arguments)  # type: ignore[arg-type]
