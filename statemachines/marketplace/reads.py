"""What the guards read about other aggregates, from indexed lookups in a unit of work.

Each function takes a :class:`Reader` (a unit of work) and asks it only for the
aggregates that name the parties in question ("the contracts of co-1", "the
memberships of ada"), never for every aggregate: the cost of a fact depends on
how much the account has, not on how big the marketplace is. The party index
returns candidates; each function checks the exact field it means (a contract
whose *client* is co-1, not one where co-1 is the freelancer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

import attrs

from statemachines.core.money import Money
from statemachines.machines.account.table import (
    ENDING,
    LIVE,
    Account,
    AccountState,
    AccountType,
    ContractFact,
    Obligations,
    Side,
)
from statemachines.machines.connects import ConnectsState
from statemachines.machines.contract.table import Contract
from statemachines.machines.contract.values import Balance, RefundStatus
from statemachines.machines.job import JobState
from statemachines.machines.proposal import OPEN as OPEN_PROPOSALS
from statemachines.machines.proposal import Proposal, ProposalState
from statemachines.machines.team import Membership, MembershipFacts, MembershipState

__all__ = [
    "CURRENT",
    "GLANCED",
    "Export",
    "Reader",
    "World",
    "account_of",
    "account_states",
    "balance",
    "contact",
    "export",
    "membership_facts",
    "obligations",
    "running_contracts",
    "team_count",
    "world",
]

CURRENT = frozenset({MembershipState.INVITED, MembershipState.MEMBER})
"""Memberships that count as a team (ACC-TEAMS-D) and as a member to remove (CL-2, AG-2)."""


class Reader(Protocol):
    """The reads a unit of work offers (:class:`~.unit_of_work.UnitOfWork`)."""

    def get(self, kind: str, key: str) -> Any:
        """The aggregate *key* of *kind*; raises ``KeyError``."""

    def find(self, kind: str, key: str) -> Any:
        """The aggregate *key* of *kind*, or ``None``."""

    def related(self, kind: str, *names: str | None) -> list[Any]:
        """Aggregates of *kind* naming any of *names*, oldest first."""

    def record(self, kind: str, key: str) -> Any:
        """The record *key* of *kind*, or ``None``."""

    def records(self, kind: str, party: str) -> list[Any]:
        """The records of *kind* indexed by *party*."""


@attrs.frozen
class World:
    """Facts for job and proposal guards: account states by account or company id, job
    states, and the Connects a proposal's freelancer or agency holds (CONNECTS-D)."""

    accounts: Mapping[str, str]
    jobs: Mapping[str, str]
    connects: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen
class Export:
    """The records of an account, as offered for download before closing (ACC-EXPORT-D)."""

    account: str
    contracts: tuple[str, ...]
    invoices: tuple[str, ...]
    """The payments made on those contracts (weeks, milestones, bonuses)."""
    proposals: tuple[str, ...]
    jobs: tuple[str, ...]


def _cents(payload: Mapping[str, Any]) -> int:
    amount = payload.get("amount")
    return int(amount["cents"]) if isinstance(amount, Mapping) else 0


# --------------------------------------------------------------------------- accounts


def account_of(uow: Reader, party: str) -> Account | None:
    """The first account whose id or owned company is *party*."""
    for acc in uow.related("account", party):
        if party in (acc.id, acc.company):
            return acc  # type: ignore[no-any-return]
    return None


_TEAM_ONLY = frozenset(t.value for t in AccountType if t.team_only)


def account_states(uow: Reader, names: Iterable[str]) -> dict[str, str]:
    """The state of each account or company in *names* (the last account that holds it).

    Read from the accounts' stored states when the reader offers them (a unit of work's
    ``glimpse``, ADR 0029), without loading the accounts; otherwise from the accounts.
    """
    wanted = set(names)
    out: dict[str, str] = {}
    glimpse = getattr(uow, "glimpse", None)
    if glimpse is not None:
        for g in glimpse("account", *wanted):
            if g.key in wanted:
                out[g.key] = g.state
            if g.company in wanted and g.type not in _TEAM_ONLY:
                out[g.company] = g.state
        return out
    for acc in uow.related("account", *wanted):
        if acc.id in wanted:
            out[acc.id] = acc.state.value
        if acc.company in wanted and not acc.type.team_only:
            out[acc.company] = acc.state.value
    return out


def contact(uow: Reader, contract: str) -> str | None:
    """The client's contact person on *contract* (TEAM-2), if one was named."""
    found: str | None = uow.record("contact", contract)
    return found


def team_count(uow: Reader, person: str) -> int:
    """Teams *person* belongs to or is invited to (ACC-TEAMS-D)."""
    return sum(
        1 for m in uow.related("membership", person) if m.person == person and m.state in CURRENT
    )


def running_contracts(uow: Reader, acc: Account) -> list[Contract]:
    """Active or paused contracts on which *acc* (or its company) is client or freelancer."""
    names = {acc.id, acc.company} - {None}
    return [
        c
        for c in uow.related("contract", *names)
        if c.state.value in LIVE and {c.client, c.freelancer} & names
    ]


def _fact(uow: Reader, c: Contract, side: Side) -> ContractFact:
    refund = c.escrow_refund
    return ContractFact(
        c.id,
        c.state.value,
        side,
        hourly=c.is_hourly,
        ended_at=c.ended_at,
        dispute_open=refund is not None and refund.status is RefundStatus.DISPUTED,
        contact=contact(uow, c.id),
    )


def obligations(uow: Reader, acc: Account, now: datetime) -> Obligations:
    """Everything that may block *acc*'s closure, read from the aggregates that name it."""
    # read after every command that touches a closing account: the type's answers and the
    # account's names are taken once
    kind = acc.type
    freelancer_side = kind.freelancer_side
    client_side = kind.client_side
    agency = kind is AccountType.AGENCY
    me = acc.id
    company = acc.company
    contracts: list[Contract] = uow.related("contract", me, company, acc.owner)
    facts: list[ContractFact] = []
    for c in contracts:
        if freelancer_side and not c.agency and c.freelancer == me:
            facts.append(_fact(uow, c, Side.FREELANCER))
        if client_side and c.client in (me, company):
            facts.append(_fact(uow, c, Side.CLIENT))
        if agency and c.agency and c.freelancer == me:
            facts.append(_fact(uow, c, Side.AGENCY))
    pending, until, available = _balances(acc, contracts, now)
    mine: list[Proposal] = [p for p in uow.related("proposal", me) if p.freelancer == me]
    team_only = kind.team_only
    return Obligations(
        contracts=tuple(facts),
        proposals=tuple(p.id for p in mine if p.state is ProposalState.SUBMITTED),
        offers=tuple(p.id for p in mine if p.state is ProposalState.OFFER_PENDING),
        jobs=tuple(
            j.id
            for j in uow.related("job", company, me)
            if j.company in (company, me) and j.state is JobState.OPEN
        ),
        members=tuple(
            m.person
            for m in uow.related("membership", company)
            if m.team == company and m.state in CURRENT and not m.is_owner
        )
        if company is not None and not team_only
        else (),
        owed=_owed(uow, acc),
        pending=pending,
        pending_until=until,
        available=available,
        agencies=tuple(
            a.id
            for a in uow.related("account", acc.owner)
            if a.type is AccountType.AGENCY
            and a.owner == acc.owner
            and a.state is not AccountState.CLOSED
        )
        if freelancer_side
        else (),
        teams=team_count(uow, acc.owner) if team_only else 0,
        personal_contracts=tuple(
            c.id
            for c in contracts
            if (not c.agency and c.freelancer == me) or (c.agency and c.member == acc.owner)
        ),
    )


_NONE = Money(0)
"""No money (immutable, so one value serves every fact that holds none)."""


def _balances(
    acc: Account, contracts: list[Contract], now: datetime
) -> tuple[Money, datetime | None, Money]:
    agency = acc.type is AccountType.AGENCY
    if not (agency or acc.type.freelancer_side):
        return _NONE, None, _NONE
    mine = _paid_to(contracts, acc.id, agency=agency)
    until = max(
        (
            p.available_at
            for c in mine
            for p in c.payments
            if p.available_at is not None and p.available_at > now
        ),
        default=None,
    )
    b = Balance.of([p for c in mine for p in c.payments], _withdrawn(acc), now)
    return b.pending, until, b.available


def _paid_to(contracts: Iterable[Contract], party: str, *, agency: bool) -> list[Contract]:
    return [c for c in contracts if c.freelancer == party and c.agency == agency]


def _withdrawn(acc: Account | None) -> Money:
    if acc is None:
        return _NONE
    cents = sum(_cents(d.payload) for d in acc.history if d.event == "withdraw")
    return Money(cents) if cents else _NONE


def balance(
    uow: Reader, party: str, now: datetime, *, agency: bool = False, currency: str = "USD"
) -> Balance:
    """INV-MONEY-10: the balance of freelancer (or agency) *party* at *now*, from the
    payments of its contracts, their refunds and its withdrawals; never from a caller."""
    contracts: list[Contract] = uow.related("contract", party)
    acc = next((a for a in uow.related("account", party) if a.id == party), None)
    payments = [p for c in _paid_to(contracts, party, agency=agency) for p in c.payments]
    return Balance.of(payments, _withdrawn(acc), now, currency)


def _owed(uow: Reader, acc: Account) -> Money:
    due = sum(p.amount.cents for p in uow.records("past_due", acc.id) if p.account == acc.id)
    if not due:  # nothing was ever owed (the common case): what was paid cannot matter
        return _NONE
    paid = sum(_cents(d.payload) for d in acc.history if d.event == "pay_owed")
    return Money(max(due - paid, 0))


# --------------------------------------------------------------------------- other machines


GLANCED: dict[str, tuple[str, ...]] = {"job": ("company",), "proposal": ("freelancer", "company")}
"""The fields of a job post or proposal whose accounts' states :func:`world` reads: a unit
of work glances at those accounts when it loads one (ADR 0029), in the same round trip."""


def world(uow: Reader, agg: Any) -> World:
    """The account and job states a job post or proposal's guards read."""
    if isinstance(agg, Proposal):
        job = uow.find("job", agg.job)
        jobs = {job.id: job.state.value} if job is not None else {}
        held: dict[str, int] = {}
        if agg.state is ProposalState.DRAFT:  # only sending it spends Connects (CONNECTS-D)
            wallet = uow.find("connects", agg.freelancer)
            open_ = wallet is not None and wallet.state is ConnectsState.OPEN
            held[agg.freelancer] = wallet.balance if open_ else 0
        return World(account_states(uow, (agg.freelancer, agg.company)), jobs, held)
    return World(account_states(uow, (agg.company,)), {})


def membership_facts(uow: Reader, m: Membership) -> MembershipFacts:
    """The contracts a member is contact person on, and the agency work they hold."""
    contracts: list[Contract] = uow.related("contract", m.team)
    contact_on = tuple(
        c.id
        for c in contracts
        if c.client == m.team and c.state.value in LIVE and contact(uow, c.id) == m.person
    )
    work = tuple(
        c.id
        for c in contracts
        if c.agency
        and c.freelancer == m.team
        and c.member == m.person
        and (c.state.value in LIVE or c.state.value == ENDING)
    ) + tuple(
        p.id
        for p in uow.related("proposal", m.team)
        if p.agency
        and p.freelancer == m.team
        and p.author == m.person
        and p.state in OPEN_PROPOSALS
    )
    acc = uow.find("account", m.person)
    colleague = (
        acc is not None
        and acc.type is AccountType.TEAM_MEMBER
        and acc.state is AccountState.ACTIVE
        and team_count(uow, m.person) == 1
    )
    return MembershipFacts(
        contact_on=contact_on, agency_work=work, last_team_of_colleague=colleague
    )


def export(uow: Reader, acc: Account) -> Export:
    """An account's records for download: its contracts and their payments, proposals, jobs."""
    names = {acc.id, acc.company} - {None}
    contracts = [c for c in uow.related("contract", *names) if {c.client, c.freelancer} & names]
    return Export(
        acc.id,
        tuple(c.id for c in contracts),
        tuple(p.id for c in contracts for p in c.payments),
        tuple(p.id for p in uow.related("proposal", *names) if p.freelancer in names),
        tuple(j.id for j in uow.related("job", *names) if j.company in names),
    )
