"""Connects (JOB-4, PROP-3, TEAM-8, CONNECTS-D): rules, table and a property run."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import invariant, run_state_machine_as_test

from statemachines import SYSTEM, Actor, ManualClock, NotPermitted, Role, TransitionRefused, to_dict
from statemachines.machines.connects import (
    CONNECTS,
    ConnectsLedger,
    ConnectsState,
    ConnectsWallet,
    ReturnReason,
)
from statemachines.testing.cast import AM as MEMBER
from statemachines.testing.cast import ANA as CLIENT
from statemachines.testing.cast import FL as FREELANCER
from statemachines.testing.cast import OTHER_FL as OTHER
from tests.machines import tables

MANAGER = Actor("bm", Role.BUSINESS_MANAGER, party="ag-1")
OUTSIDER = Actor("xm", Role.AGENCY_MEMBER, party="ag-2")
R = ReturnReason


def wallet(balance: int = 20, *, agency: bool = False) -> ConnectsWallet:
    owner = "ag-1" if agency else "fl-1"
    return ConnectsWallet(id=owner, owner=owner, agency=agency, balance=balance)


@pytest.fixture
def ledger(clock: ManualClock) -> ConnectsLedger:
    return ConnectsLedger(clock=clock)


@pytest.fixture
def spent(ledger: ConnectsLedger) -> ConnectsWallet:
    w = wallet()
    ledger.fire(w, "spend", FREELANCER, proposal="P-1", connects=6)
    return w


@pytest.mark.rule("JOB-4")
@pytest.mark.parametrize("reason", [R.CLIENT_CANCELLED, R.REMOVED_FOR_TERMS])
def test_job_4_a_cancelled_or_removed_post_returns_the_connects_once(
    ledger: ConnectsLedger, spent: ConnectsWallet, reason: ReturnReason
) -> None:
    assert spent.balance == 14

    ledger.fire(spent, "return_connects", SYSTEM, proposal="P-1", reason=reason)

    assert (spent.balance, spent.returned) == (20, ("P-1",))
    with pytest.raises(TransitionRefused, match="were already returned") as err:
        ledger.fire(spent, "return_connects", SYSTEM, proposal="P-1", reason=reason)
    assert err.value.rule_ids == ("JOB-4",)
    assert spent.balance == 20


@pytest.mark.rule("JOB-4")
def test_job_4_only_connects_that_were_spent_come_back(
    ledger: ConnectsLedger, spent: ConnectsWallet
) -> None:
    with pytest.raises(TransitionRefused, match="spent no Connects") as err:
        ledger.fire(spent, "return_connects", SYSTEM, proposal="P-9", reason=R.CLIENT_CANCELLED)

    assert err.value.rule_ids == ("JOB-4",)


@pytest.mark.rule("PROP-3")
@pytest.mark.parametrize(
    ("reason", "says"),
    [
        (R.WITHDRAWN, "the freelancer withdrew the proposal"),
        (R.DECLINED, "the client declined the proposal"),
        (R.HIRED_SOMEONE_ELSE, "the client hired someone else"),
        (R.EXPIRED, "the post expired without a hire"),
    ],
)
def test_prop_3_no_return_when_the_proposal_simply_failed(
    ledger: ConnectsLedger, spent: ConnectsWallet, reason: ReturnReason, says: str
) -> None:
    before = to_dict(spent)

    with pytest.raises(TransitionRefused, match=f"not returned when {says}") as err:
        ledger.fire(spent, "return_connects", SYSTEM, proposal="P-1", reason=reason)

    assert err.value.rule_ids == ("PROP-3",)
    assert to_dict(spent) == before


@pytest.mark.rule("CONNECTS-D")
@pytest.mark.parametrize(
    ("proposal", "n", "says"),
    [
        ("P-2", 21, "has 20 Connects; the proposal needs 21"),
        ("P-2", 0, "more than 0"),
        ("P-1", 1, "already spent 6"),
    ],
)
def test_connects_d_a_balance_never_goes_below_zero(
    ledger: ConnectsLedger, proposal: str, n: int, says: str
) -> None:
    w = wallet()
    if proposal == "P-1":
        ledger.fire(w, "spend", FREELANCER, proposal="P-1", connects=6)
        w.balance = 20

    with pytest.raises(TransitionRefused, match=says) as err:
        ledger.fire(w, "spend", FREELANCER, proposal=proposal, connects=n)

    assert set(err.value.rule_ids) == {"CONNECTS-D"}
    assert w.balance == 20


@pytest.mark.rule("TEAM-8")
@pytest.mark.parametrize("actor", [MEMBER, MANAGER], ids=["member", "manager"])
def test_team_8_every_agency_member_spends_the_agencys_connects(
    ledger: ConnectsLedger, actor: Actor
) -> None:
    w = wallet(agency=True)

    ledger.fire(w, "spend", actor, proposal="P-1", connects=4)

    assert w.balance == 16


@pytest.mark.rule("TEAM-8")
@pytest.mark.parametrize(
    "actor", [OUTSIDER, FREELANCER, CLIENT], ids=["other-agency", "fl", "client"]
)
def test_team_8_no_one_else_spends_them(ledger: ConnectsLedger, actor: Actor) -> None:
    with pytest.raises(NotPermitted):
        ledger.fire(wallet(agency=True), "spend", actor, proposal="P-1", connects=4)


ILLEGAL = tables.illegal_pairs(CONNECTS)


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=tables.pair_ids(ILLEGAL))
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    ledger: ConnectsLedger, state: ConnectsState, event: str
) -> None:
    actor = tables.actor_for(CONNECTS, event, (FREELANCER,))

    tables.assert_illegal(ledger, wallet(), state, event, actor)


def test_a_wallet_round_trips_and_replays(ledger: ConnectsLedger) -> None:
    first = to_dict(wallet())
    w = wallet()
    ledger.fire(w, "add", SYSTEM, connects=10)
    ledger.fire(w, "spend", FREELANCER, proposal="P-1", connects=6)
    ledger.fire(w, "return_connects", SYSTEM, proposal="P-1", reason=R.REMOVED_FOR_TERMS)

    tables.assert_round_trip(w)
    tables.assert_replays(ConnectsLedger, first, w)


SPEND = st.fixed_dictionaries(
    {
        "proposal": st.sampled_from(["P-1", "P-2", "P-3"]),
        "connects": st.sampled_from([4, 16, 0, 30]),
    }
)
ADD = st.fixed_dictionaries({"connects": st.sampled_from([10, 0, -1])})
RETURN = st.fixed_dictionaries(
    {"proposal": st.sampled_from(["P-1", "P-2", "P-3"]), "reason": st.sampled_from(list(R))}
)
NOTHING: st.SearchStrategy[dict[str, Any]] = st.just({})
PAYLOADS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "spend": SPEND,
    "add": ADD,
    "return_connects": RETURN,
}


class ConnectsMachine(tables.TableMachine):
    """A freelancer's wallet and an agency's, with spends, returns and top-ups."""

    spec = CONNECTS
    workflow_type = ConnectsLedger
    reached: ClassVar[set[str]] = set()
    actors = (FREELANCER, SYSTEM, MEMBER, MANAGER, OTHER, OUTSIDER, CLIENT)

    def aggregates(self) -> list[ConnectsWallet]:
        return [wallet(), wallet(agency=True)]

    def payloads(self, event: str, agg: Any) -> st.SearchStrategy[dict[str, Any]]:
        return PAYLOADS.get(event, NOTHING)

    @invariant()
    def the_balance_adds_up_and_never_goes_negative(self) -> None:
        for w in self.items:
            added = sum(d.payload["connects"] for d in w.history if d.event == "add")
            spent = sum(n for _, n in w.spent)
            back = sum(w.spent_on(p) for p in w.returned)
            assert w.balance == 20 + added - spent + back >= 0
            assert len(set(w.returned)) == len(w.returned)


def test_connects_machine() -> None:
    ConnectsMachine.reached = set()

    run_state_machine_as_test(ConnectsMachine, settings=tables.DETERMINISTIC)

    assert tables.reached_every_state(CONNECTS, ConnectsMachine.reached) == []
