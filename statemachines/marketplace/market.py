"""A small in-memory marketplace: every aggregate, the events between them, and the clock.

The marketplace holds accounts, team memberships, job posts, proposals and
contracts in a :class:`Store` (a dictionary by default; a backend implements
the same three methods). It routes each event to its aggregate's workflow,
supplies the facts the guards read (an account's :class:`Obligations`, the
state of the accounts behind a job or a proposal), and applies the effects
that cross machines:

* suspending an account pauses its hourly contracts (SUSP-1); reinstating it
  restarts the ones the suspension paused; closing it for good from suspension
  ends its running contracts from the freelancer side, which returns held
  escrow to the client at once (CTR-END-4; rulebook §5.1 A11);
* accepting an offer starts a contract; the member who sent the offer is its
  contact person (TEAM-2);
* a team-only person left without any team is deactivated (ACC-CLOSE-TM-1);
* a closed agency unlinks its owner and recomputes their JSS (AG-7, AG-8);
* after every event, and at every deadline, each closing account is checked
  again and settles as soon as nothing blocks it.

:meth:`Marketplace.advance` fires every deadline of every aggregate in time
order, so the whole marketplace moves together.

>>> from datetime import datetime
>>> from statemachines import Actor, ManualClock, Role, UTC
>>> from statemachines.machines.account.table import Account, AccountType
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> market = Marketplace(clock=clock)
>>> co = Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1")
>>> _ = market.open_account(co)
>>> ana = Actor("ana", Role.CLIENT_OWNER, party="co-1")
>>> _ = market.draft_job("J-4", "co-1")
>>> _ = market.fire("job", "J-4", "post", ana)
>>> market.explain("account", "co-1", "request_close", ana).rule_ids
('ACC-CLOSE-CL-5', 'ACC-GEN-7')
>>> _ = market.fire("job", "J-4", "remove_posting", ana)
>>> _ = market.fire("account", "co-1", "request_close", ana, confirm=True)
>>> market.account("co-1").state.value
'deactivated'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

import attrs

from statemachines.core.actors import SYSTEM, Actor, Role
from statemachines.core.clock import Clock
from statemachines.core.engine import Attempt, Decision, Verdict, Workflow
from statemachines.core.money import Money
from statemachines.errors import TransitionError, TransitionRefused, Violation
from statemachines.machines.account.table import (
    ENDING,
    LIVE,
    Account,
    AccountLifecycle,
    AccountState,
    AccountType,
    ContractFact,
    Obligations,
    Side,
)
from statemachines.machines.contract.table import Contract, ContractLifecycle, ContractState
from statemachines.machines.contract.values import PauseReason, RefundStatus
from statemachines.machines.job import Job, JobPosting, JobState
from statemachines.machines.proposal import OPEN as OPEN_PROPOSALS
from statemachines.machines.proposal import Proposal, ProposalFlow, ProposalState
from statemachines.machines.team import (
    Membership,
    MembershipFacts,
    MembershipState,
    TeamMembership,
    invite,
    owner_membership,
)

__all__ = ["KINDS", "Export", "Marketplace", "MemoryStore", "Store", "Terms", "World"]

KINDS = ("account", "membership", "job", "proposal", "contract")
"""The kinds of aggregate the marketplace holds, in the order deadlines break ties."""

CURRENT = frozenset({MembershipState.INVITED, MembershipState.MEMBER})
"""Memberships that count as a team (ACC-TEAMS-D) and as a member to remove (CL-2, AG-2)."""

ADMIN_ROLES = frozenset({Role.CLIENT_ADMIN, Role.HIRING_MANAGER, Role.BUSINESS_MANAGER})
"""Invitees with these roles and no account of their own get a team-admin account."""

FREEZING = frozenset({"add_milestone", "fund_milestone"})
"""Contract events that start new activity, refused for a frozen client (ACC-FREEZE-D)."""


class Store(Protocol):
    """Where the marketplace keeps its aggregates and records; a backend implements these."""

    def get(self, kind: str, key: str) -> Any:
        """The item *key* of *kind*; raises ``KeyError`` when there is none."""

    def put(self, kind: str, key: str, value: Any) -> None:
        """Add or replace an item."""

    def values(self, kind: str) -> Iterable[Any]:
        """Every item of *kind*, in the order they were first put."""


class MemoryStore:
    """The default store: one dictionary per kind."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}

    def get(self, kind: str, key: str) -> Any:
        """The item *key* of *kind*."""
        return self._items[kind][key]

    def put(self, kind: str, key: str, value: Any) -> None:
        """Add or replace an item."""
        self._items.setdefault(kind, {})[key] = value

    def values(self, kind: str) -> Iterable[Any]:
        """Every item of *kind*."""
        return list(self._items.get(kind, {}).values())


@attrs.frozen
class Terms:
    """What an offer on a proposal would start: a fixed-price or an hourly contract."""

    hourly: bool = False
    rate: Money | None = None


@attrs.frozen
class World:
    """Facts for job and proposal guards: account states by account or company id, job states."""

    accounts: Mapping[str, str]
    jobs: Mapping[str, str]


@attrs.frozen
class Export:
    """The records of an account, as offered for download before closing (ACC-EXPORT-D)."""

    account: str
    contracts: tuple[str, ...]
    invoices: tuple[str, ...]
    """The payments made on those contracts (weeks, milestones, bonuses)."""
    proposals: tuple[str, ...]
    jobs: tuple[str, ...]


@attrs.frozen
class PastDue:
    """An amount a client failed to pay (the platform's billing), cleared by ``pay_owed``."""

    key: str
    account: str
    amount: Money


def _after_last(agg: Any, at: datetime) -> datetime:
    """*at*, or the aggregate's last decision if that is later (time never runs backwards)."""
    history = agg.history
    return max(at, history[-1].at) if history else at


def _cents(payload: Mapping[str, Any]) -> int:
    amount = payload.get("amount")
    return int(amount["cents"]) if isinstance(amount, Mapping) else 0


class Marketplace:
    """Holds every aggregate, routes events, applies cross-machine effects, moves time."""

    def __init__(self, *, clock: Clock, store: Store | None = None) -> None:
        self.clock = clock
        self.store: Store = MemoryStore() if store is None else store
        self.audit: list[Attempt] = []
        self.stuck: list[tuple[str, str, str]] = []
        """Deadlines whose timer was refused during :meth:`advance` (kind, id, message)."""
        self.accounts = AccountLifecycle(clock=clock, obligations=self.obligations)
        self.accounts.audit = self.audit
        self.teams = TeamMembership(clock=clock, facts=self._membership_facts, audit=self.audit)
        self.jobs = JobPosting(clock=clock, facts=self._world, audit=self.audit)
        self.proposals = ProposalFlow(clock=clock, facts=self._world, audit=self.audit)
        self.contracts = ContractLifecycle(clock=clock, audit=self.audit)
        self._flows: dict[str, Workflow[Any, Any]] = {
            "account": self.accounts,
            "membership": self.teams,
            "job": self.jobs,
            "proposal": self.proposals,
            "contract": self.contracts,
        }

    # ------------------------------------------------------------------ reading

    def get(self, kind: str, key: str) -> Any:
        """The aggregate *key* of *kind*."""
        return self.store.get(kind, key)

    def account(self, key: str) -> Account:
        """The account *key*."""
        acc: Account = self.store.get("account", key)
        return acc

    def all(self, kind: str) -> list[Any]:
        """Every aggregate of *kind*."""
        return list(self.store.values(kind))

    def account_of(self, party: str) -> Account | None:
        """The account whose id or owned company is *party*."""
        for acc in self._accounts():
            if party in {acc.id, acc.company}:
                return acc
        return None

    def _accounts(self) -> Iterator[Account]:
        yield from self.store.values("account")

    def _contracts(self) -> Iterator[Contract]:
        yield from self.store.values("contract")

    def _memberships(self) -> Iterator[Membership]:
        yield from self.store.values("membership")

    def _proposals(self) -> Iterator[Proposal]:
        yield from self.store.values("proposal")

    def _jobs(self) -> Iterator[Job]:
        yield from self.store.values("job")

    # ------------------------------------------------------------------ creating

    def open_account(self, account: Account) -> Account:
        """Add an account; a company or agency gets its owner's membership (INV-TEAM-2)."""
        self.store.put("account", account.id, account)
        if account.company is not None and account.type is not AccountType.TEAM_ADMIN:
            agency = account.type is AccountType.AGENCY
            m = owner_membership(account.company, account.owner, agency=agency)
            self.store.put("membership", m.id, m)
        return account

    def invite(
        self, team: str, person: str, role: Role, by: Actor, *, agency_plus: bool = True
    ) -> Membership:
        """Invite *person* to *team* (TEAM-1, TEAM-6); a newcomer gets a team-only account."""
        owner = self.account_of(team)
        agency = owner is not None and owner.type is AccountType.AGENCY
        m = invite(team, person, role, by=by, agency=agency, agency_plus=agency_plus)
        if owner is not None and owner.state is not AccountState.ACTIVE:
            self._refuse("membership", m.id, "invite", by, acc=owner, what="invite members")
        self.store.put("membership", m.id, m)
        if self.account_of(person) is None:
            kind = AccountType.TEAM_ADMIN if role in ADMIN_ROLES else AccountType.TEAM_MEMBER
            self.store.put("account", person, Account(id=person, type=kind, owner=person))
        return m

    def draft_job(self, key: str, company: str, title: str = "") -> Job:
        """A draft job post of *company*; posting it is the checked step."""
        job = Job(id=key, company=company, title=title)
        self.store.put("job", key, job)
        return job

    def draft_proposal(
        self,
        key: str,
        job: str,
        freelancer: str,
        *,
        agency: bool = False,
        author: str | None = None,
        terms: Terms | None = None,
    ) -> Proposal:
        """A draft proposal on *job*; submitting it is the checked step."""
        company = self.get("job", job).company
        p = Proposal(
            id=key, job=job, company=company, freelancer=freelancer, agency=agency, author=author
        )
        self.store.put("proposal", key, p)
        self.store.put("terms", key, terms or Terms())
        return p

    def add_contract(self, contract: Contract, *, contact: str | None = None) -> Contract:
        """Add a contract started elsewhere; *contact* is the client's contact person."""
        self.store.put("contract", contract.id, contract)
        if contact is not None:
            self.store.put("contact", contract.id, contact)
        return contract

    def record_past_due(self, account: str, amount: Money) -> None:
        """The platform could not charge *account*: *amount* is owed (CL-6, ACC-GEN-1)."""
        key = f"{account}-{sum(1 for _ in self.store.values('past_due')) + 1}"
        self.store.put("past_due", key, PastDue(key, account, amount))

    # ------------------------------------------------------------------ firing

    def explain(self, kind: str, key: str, event: str, actor: Actor, **payload: Any) -> Verdict:
        """What *event* would do now, or why not, without changing anything."""
        return self._flows[kind].explain(self.get(kind, key), event, actor, **payload)

    def fire(self, kind: str, key: str, event: str, actor: Actor, **payload: Any) -> Decision:
        """Fire *event* on aggregate *key* of *kind*, then apply what follows from it.

        Deadlines already due are fired first, so the event meets the world as it is now.
        """
        self.advance()
        agg = self.get(kind, key)
        now = self.clock.now()
        if kind == "contract" and event in FREEZING:
            client = self.account_of(agg.client)
            if client is not None and client.state is not AccountState.ACTIVE:
                self._refuse(kind, key, event, actor, acc=client, what="fund work")
        resume = self._paused_by_suspension(agg) if kind == "account" else ()
        decision = self._flows[kind].fire(agg, event, actor, **payload)
        self._after(kind, agg, decision, resume)
        self._recheck(now)
        return decision

    def export(self, key: str, actor: Actor) -> Export:
        """Download an account's records (a checked ``export_records`` event)."""
        acc = self.account(key)
        self.fire("account", key, "export_records", actor)
        parties = {acc.id, acc.company} - {None}
        contracts = [c for c in self._contracts() if {c.client, c.freelancer} & parties]
        return Export(
            key,
            tuple(c.id for c in contracts),
            tuple(p.id for c in contracts for p in c.payments),
            tuple(p.id for p in self._proposals() if p.freelancer in parties),
            tuple(j.id for j in self._jobs() if j.company in parties),
        )

    def advance(self, now: datetime | None = None) -> list[Decision]:
        """Fire every deadline due by *now* (default: the clock) of every aggregate, in order."""
        limit = self.clock.now() if now is None else now
        fired: list[Decision] = []
        skip: set[tuple[str, str]] = set()
        while True:
            due = [
                (agg.deadlines[0].due, KINDS.index(kind), agg.id, kind, agg)
                for kind in KINDS
                for agg in self.store.values(kind)
                if agg.deadlines and (kind, agg.id) not in skip
            ]
            if not due:
                break
            when, _, key, kind, agg = min(due, key=lambda d: d[:3])
            if when > limit:
                break
            deadline = agg.deadlines[0]
            try:
                decision = self._flows[kind].fire_at(agg, deadline.event, SYSTEM, deadline.due)
            except TransitionError as err:
                self.stuck.append((kind, key, str(err)))
                skip.add((kind, key))
                continue
            fired.append(decision)
            self._after(kind, agg, decision, ())
            fired.extend(self._recheck(when))
        fired.extend(self._recheck(limit))
        return fired

    def _refuse(
        self, kind: str, key: str, event: str, actor: Actor, *, acc: Account, what: str
    ) -> None:
        rule_id = "ACC-FREEZE-D"
        violation = Violation(
            rule_id, f"account {acc.id} is {acc.state.value}, so it cannot {what}"
        )
        err = TransitionRefused(
            f"{kind} {key!r} cannot {event!r}: {violation}",
            machine=kind,
            state="-",
            event=event,
            violations=[violation],
        )
        self.audit.append(
            Attempt(self.clock.now(), key, actor, event, "-", "refused", (rule_id,), str(err))
        )
        raise err

    # ------------------------------------------------------------------ effects across machines

    def _after(self, kind: str, agg: Any, decision: Decision, resume: tuple[Contract, ...]) -> None:
        at = decision.at
        if kind == "account":
            self._after_account(agg, decision.event, at, resume)
        elif kind == "membership":
            self._maybe_teamless(agg.person, at)
        elif kind == "proposal" and decision.event == "accept_offer":
            self._start_contract(agg, at)

    def _after_account(
        self, acc: Account, event: str, at: datetime, resume: tuple[Contract, ...]
    ) -> None:
        if event == "suspend":  # SUSP-1: the account's hourly contracts pause
            for c in self._running_contracts(acc):
                if c.is_hourly and c.state is ContractState.ACTIVE:
                    self.contracts.fire_at(c, "billing_problem", SYSTEM, _after_last(c, at))
        elif event == "reinstate":
            for c in resume:
                self.contracts.fire_at(c, "billing_fixed", SYSTEM, _after_last(c, at))  # SUSP-1
        elif event == "permanent_close":  # rulebook §5.1 A11, ADR 0038
            for c in self._running_contracts(acc):  # the platform ends them (ACC-GEN-8)
                self.contracts.fire_at(c, "end_contract", SYSTEM, _after_last(c, at))
        elif event == "settle" and acc.type is AccountType.AGENCY:
            self._unlink_owner(acc, at)

    def _paused_by_suspension(self, acc: Account) -> tuple[Contract, ...]:
        since = acc.suspended_at
        if acc.state is not AccountState.SUSPENDED or since is None:
            return ()
        return tuple(
            c
            for c in self._running_contracts(acc)
            if c.state is ContractState.PAUSED
            and c.pause_reason is PauseReason.BILLING
            and c.paused_at is not None
            and c.paused_at >= since
        )

    def _running_contracts(self, acc: Account) -> list[Contract]:
        parties = {acc.id, acc.company} - {None}
        return [
            c
            for c in self._contracts()
            if c.state.value in LIVE and {c.client, c.freelancer} & parties
        ]

    def _unlink_owner(self, agency: Account, at: datetime) -> None:
        for acc in self._accounts():
            if (
                acc.owner == agency.owner
                and acc.type.freelancer_side
                and acc.state is not AccountState.CLOSED
            ):
                # AG-7, AG-8: unlinked, JSS recomputed, state unchanged
                self.accounts.fire_at(acc, "unlink_agency", SYSTEM, _after_last(acc, at))

    def _maybe_teamless(self, person: str, at: datetime) -> None:
        try:
            acc = self.account(person)
        except KeyError:
            return
        if not acc.type.team_only or acc.state is not AccountState.ACTIVE:
            return
        if self._team_count(person) == 0:
            self.accounts.fire_at(acc, "teams_left", SYSTEM, _after_last(acc, at))  # ACC-CLOSE-TM-1

    def _start_contract(self, p: Proposal, at: datetime) -> None:
        terms: Terms = self.store.get("terms", p.id)
        key = f"C-{sum(1 for _ in self._contracts()) + 1}"
        if terms.hourly and terms.rate is not None:
            c = Contract.hourly(
                key,
                client=p.company,
                freelancer=p.freelancer,
                rate=terms.rate,
                started_at=at,
                agency=p.agency,
                member=p.author,
            )
        else:
            c = Contract.fixed(key, client=p.company, freelancer=p.freelancer, started_at=at)
            c.agency = p.agency
            c.member = p.author
        offer = next((d for d in p.history if d.event == "send_offer"), None)
        self.add_contract(c, contact=offer.actor.id if offer else None)

    def _recheck(self, at: datetime) -> list[Decision]:
        settled = []
        for acc in self._accounts():
            if acc.state is AccountState.CLOSING:
                decision = self.accounts.settle(acc, at)
                if decision is not None:
                    settled.append(decision)
                    self._after_account(acc, "settle", decision.at, ())
        return settled

    # ------------------------------------------------------------------ facts

    def _contact(self, contract: str) -> str | None:
        try:
            contact: str = self.store.get("contact", contract)
        except KeyError:
            return None
        return contact

    def _team_count(self, person: str) -> int:
        return sum(1 for m in self._memberships() if m.person == person and m.state in CURRENT)

    def _fact(self, c: Contract, side: Side) -> ContractFact:
        refund = c.escrow_refund
        return ContractFact(
            c.id,
            c.state.value,
            side,
            hourly=c.is_hourly,
            ended_at=c.ended_at,
            dispute_open=refund is not None and refund.status is RefundStatus.DISPUTED,
            contact=self._contact(c.id),
        )

    def obligations(self, acc: Account, now: datetime) -> Obligations:
        """Everything that may block *acc*'s closure, read from the other aggregates."""
        facts: list[ContractFact] = []
        for c in self._contracts():
            if acc.type.freelancer_side and not c.agency and c.freelancer == acc.id:
                facts.append(self._fact(c, Side.FREELANCER))
            if acc.type.client_side and c.client in {acc.id, acc.company}:
                facts.append(self._fact(c, Side.CLIENT))
            if acc.type is AccountType.AGENCY and c.agency and c.freelancer == acc.id:
                facts.append(self._fact(c, Side.AGENCY))
        pending, until, available = self._balances(acc, now)
        mine = [p for p in self._proposals() if p.freelancer == acc.id]
        return Obligations(
            contracts=tuple(facts),
            proposals=tuple(p.id for p in mine if p.state is ProposalState.SUBMITTED),
            offers=tuple(p.id for p in mine if p.state is ProposalState.OFFER_PENDING),
            jobs=tuple(
                j.id
                for j in self._jobs()
                if j.company in {acc.company, acc.id} and j.state is JobState.OPEN
            ),
            members=tuple(
                m.person
                for m in self._memberships()
                if m.team == acc.company and m.state in CURRENT and not m.is_owner
            )
            if acc.company is not None and not acc.type.team_only
            else (),
            owed=self._owed(acc),
            pending=pending,
            pending_until=until,
            available=available,
            agencies=tuple(
                a.id
                for a in self._accounts()
                if a.type is AccountType.AGENCY
                and a.owner == acc.owner
                and a.state is not AccountState.CLOSED
            )
            if acc.type.freelancer_side
            else (),
            teams=self._team_count(acc.owner) if acc.type.team_only else 0,
            personal_contracts=tuple(
                c.id
                for c in self._contracts()
                if (not c.agency and c.freelancer == acc.id) or (c.agency and c.member == acc.owner)
            ),
        )

    def _balances(self, acc: Account, now: datetime) -> tuple[Money, datetime | None, Money]:
        pending, available, until = 0, 0, None
        if not (acc.type.freelancer_side or acc.type is AccountType.AGENCY):
            return Money(0), None, Money(0)
        for c in self._contracts():
            if c.freelancer != acc.id or c.agency != (acc.type is AccountType.AGENCY):
                continue
            for pay in c.payments:
                net = pay.amount.cents - pay.refunded.cents
                if pay.available_at is not None and pay.available_at > now:
                    pending += net
                    until = pay.available_at if until is None else max(until, pay.available_at)
                else:
                    available += net
        withdrawn = sum(_cents(d.payload) for d in acc.history if d.event == "withdraw")
        return Money(pending), until, Money(max(available - withdrawn, 0))

    def _owed(self, acc: Account) -> Money:
        due = sum(p.amount.cents for p in self.store.values("past_due") if p.account == acc.id)
        paid = sum(_cents(d.payload) for d in acc.history if d.event == "pay_owed")
        return Money(max(due - paid, 0))

    def _states(self) -> dict[str, str]:
        states: dict[str, str] = {}
        for acc in self._accounts():
            states[acc.id] = acc.state.value
            if acc.company is not None and not acc.type.team_only:
                states[acc.company] = acc.state.value
        return states

    def _world(self, agg: Any, now: datetime) -> World:
        return World(self._states(), {j.id: j.state.value for j in self._jobs()})

    def _membership_facts(self, m: Membership, now: datetime) -> MembershipFacts:
        contact_on = tuple(
            c.id
            for c in self._contracts()
            if c.client == m.team and c.state.value in LIVE and self._contact(c.id) == m.person
        )
        work = tuple(
            c.id
            for c in self._contracts()
            if c.agency
            and c.freelancer == m.team
            and c.member == m.person
            and (c.state.value in LIVE or c.state.value == ENDING)
        ) + tuple(
            p.id
            for p in self._proposals()
            if p.agency
            and p.freelancer == m.team
            and p.author == m.person
            and p.state in OPEN_PROPOSALS
        )
        return MembershipFacts(contact_on=contact_on, agency_work=work)
