"""Tests generated from the account, membership, job and proposal tables.

Every (state, event) pair without an edge or a forbidden row must raise
``IllegalTransition`` and leave the aggregate exactly as it was; aggregates
survive a JSON snapshot round trip; a failing effect changes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from statemachines import (
    SYSTEM,
    IllegalTransition,
    ManualClock,
    Money,
    Role,
    from_dict,
    to_dict,
)
from statemachines.core.engine import MachineSpec, Workflow
from statemachines.machines.account.table import (
    ACCOUNT,
    Account,
    AccountLifecycle,
    AccountState,
    ContractFact,
    Obligations,
    Side,
    SuspensionReason,
)
from statemachines.machines.job import JOB, Job, JobPosting
from statemachines.machines.proposal import PROPOSAL, Proposal, ProposalFlow
from statemachines.machines.team import MEMBERSHIP, Membership, TeamMembership, invite
from tests.conftest import START
from tests.machines.account.conftest import ANA, FL, HAL, SUP, Facts, company, freelancer


def _fresh(spec: MachineSpec[Any, Any]) -> Any:
    if spec is ACCOUNT:
        return freelancer()
    if spec is MEMBERSHIP:
        return Membership(id="co-1/hal", team="co-1", person="hal", role=Role.HIRING_MANAGER)
    if spec is JOB:
        return Job(id="J-1", company="co-1")
    return Proposal(id="P-1", job="J-1", company="co-1", freelancer="fl-1")


def _workflow(spec: MachineSpec[Any, Any], clock: ManualClock) -> Workflow[Any, Any]:
    kinds: dict[str, type[Workflow[Any, Any]]] = {
        "account": AccountLifecycle,
        "membership": TeamMembership,
        "job": JobPosting,
        "proposal": ProposalFlow,
    }
    return kinds[spec.name](clock=clock)


SPECS: tuple[MachineSpec[Any, Any], ...] = (ACCOUNT, MEMBERSHIP, JOB, PROPOSAL)
ILLEGAL = [
    (spec, state, event)
    for spec in SPECS
    for state in spec.states
    for event in spec.events
    if not spec.edges_from(state, event) and spec.forbidden_from(state, event) is None
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_each_table_leaves_illegal_pairs_to_test(spec: MachineSpec[Any, Any]) -> None:
    assert sum(1 for s, _, _ in ILLEGAL if s is spec) >= 10


@pytest.mark.parametrize(
    ("spec", "state", "event"),
    ILLEGAL,
    ids=[f"{s.name}-{st.value}-{e}" for s, st, e in ILLEGAL],
)
def test_an_event_without_an_edge_is_illegal_and_changes_nothing(
    clock: ManualClock, spec: MachineSpec[Any, Any], state: Any, event: str
) -> None:
    agg = _fresh(spec)
    agg.state = state
    before = to_dict(agg)
    flow = _workflow(spec, clock)

    with pytest.raises(IllegalTransition, match=f"cannot '{event}' {spec.name} '{agg.id}'"):
        flow.fire(agg, event, SYSTEM)

    assert to_dict(agg) == before
    assert flow.audit[-1].outcome == "illegal"  # type: ignore[index]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_terminal_states_have_no_exit(spec: MachineSpec[Any, Any]) -> None:
    for edge in spec.edges:
        assert not set(edge.sources) & spec.terminal, edge.event


# --------------------------------------------------------------------------- atomicity


def test_a_failing_effect_leaves_the_account_exactly_as_it_was(
    clock: ManualClock, facts: Facts
) -> None:
    life = AccountLifecycle(clock=clock, obligations=facts)
    acc = company()
    # A malformed fact from another machine (a naive end time) makes the second
    # part of the closing effect fail after the first part has changed fields.
    naive = datetime(2026, 3, 4, 15, 0)  # noqa: DTZ001
    facts.value = Obligations(
        contracts=(ContractFact("C-1", "ended", Side.CLIENT, hourly=True, ended_at=naive),)
    )
    before = to_dict(acc)

    with pytest.raises(TypeError):
        life.fire(acc, "request_close", ANA, confirm=True)

    assert to_dict(acc) == before
    assert acc.state is AccountState.ACTIVE
    assert life.audit[-1].outcome == "failed"  # type: ignore[index]


# --------------------------------------------------------------------------- snapshots


def _lived_account(clock: ManualClock) -> Account:
    facts = Facts()
    life = AccountLifecycle(clock=clock, obligations=facts)
    acc = freelancer()
    acc.agency = "ag-1"
    facts.value = Obligations(available=Money(1_000))
    life.fire(acc, "request_close", FL, confirm=True)
    clock.advance(hours=1)
    life.fire(acc, "withdraw", FL, amount=Money(1_000))
    facts.value = Obligations(personal_contracts=("C-1",))
    life.settle(acc)
    clock.advance(days=3)
    life.fire(acc, "request_reactivation_link", FL)
    clock.advance(hours=1)
    life.fire(acc, "confirm_reactivation", FL, token="fl-1-link-1")
    life.fire(acc, "unlink_agency", SYSTEM)
    life.fire(acc, "suspend", SUP, reason=SuspensionReason.CIRCUMVENTION)
    return acc


def test_an_account_survives_a_json_round_trip(clock: ManualClock) -> None:
    acc = _lived_account(clock)

    restored = from_dict(json.loads(json.dumps(to_dict(acc))))

    assert restored == acc
    assert restored.history == acc.history
    assert restored.state is AccountState.SUSPENDED
    assert restored.used_tokens == ("fl-1-link-1",)
    assert restored.suspension is SuspensionReason.CIRCUMVENTION


def test_a_restored_deactivated_account_keeps_its_5_year_deadline(clock: ManualClock) -> None:
    life = AccountLifecycle(clock=clock)
    acc = company()
    life.fire(acc, "request_close", ANA, confirm=True)
    life.settle(acc)

    restored = from_dict(json.loads(json.dumps(to_dict(acc))))
    life.advance(restored, START + timedelta(days=5 * 366))

    assert restored.state is AccountState.CLOSED


def test_memberships_jobs_and_proposals_survive_a_round_trip(clock: ManualClock) -> None:
    teams, posts, flow = (
        TeamMembership(clock=clock),
        JobPosting(clock=clock),
        ProposalFlow(clock=clock),
    )
    m = invite("co-1", "hal", Role.HIRING_MANAGER, by=ANA)
    teams.fire(m, "accept", HAL)
    teams.fire(m, "remove", ANA, whole_company=True)
    job = Job(id="J-1", company="co-1", title="Logo")
    posts.fire(job, "post", HAL)
    posts.fire(job, "mark_candidate", HAL, freelancer="fl-1", status="shortlisted")
    p = Proposal(id="P-1", job="J-1", company="co-1", freelancer="fl-1")
    flow.fire(p, "submit", FL)
    flow.fire(p, "send_offer", HAL)

    for agg in (m, job, p):
        restored = from_dict(json.loads(json.dumps(to_dict(agg))))
        assert restored == agg
        assert restored.history == agg.history


def test_replaying_an_accounts_history_reproduces_it(clock: ManualClock) -> None:
    # Facts derived from recorded decisions (the money left after the withdrawals in the
    # account's own history, as the marketplace computes it) make a replay exact.
    def earned_less_withdrawn(account: Account, now: datetime) -> Obligations:
        withdrawn = sum(
            d.payload["amount"]["cents"] for d in account.history if d.event == "withdraw"
        )
        return Obligations(available=Money(1_000 - withdrawn), personal_contracts=("C-1",))

    live = AccountLifecycle(clock=clock, obligations=earned_less_withdrawn)
    acc = freelancer()
    acc.agency = "ag-1"
    live.fire(acc, "request_close", FL, confirm=True)
    clock.advance(hours=1)
    live.fire(acc, "withdraw", FL, amount=Money(1_000))
    live.settle(acc)
    clock.advance(days=3)
    live.fire(acc, "request_reactivation_link", FL)
    live.fire(acc, "confirm_reactivation", FL, token="fl-1-link-1")
    live.fire(acc, "unlink_agency", SYSTEM)
    live.fire(acc, "suspend", SUP, reason=SuspensionReason.CIRCUMVENTION)
    first = freelancer()
    first.agency = "ag-1"

    replayed = AccountLifecycle(clock=clock, obligations=earned_less_withdrawn).replay(
        first, acc.history
    )

    assert replayed == acc
    assert replayed.history == acc.history
