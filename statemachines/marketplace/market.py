"""The marketplace: every aggregate, the events between them, and the clock, over a store.

:class:`Marketplace` is the facade a program or a test talks to. It holds
accounts, team memberships, job posts, proposals and contracts in a store (in
memory by default; a SQLite file with ``store="market.db"``), and turns each
call into a command handled in one unit of work
(:mod:`statemachines.marketplace.messagebus`): the guards read the facts they need
through indexed lookups, what the decision means for other aggregates follows in
the same transaction (a suspension pauses contracts, an accepted offer starts
one, a closing account settles), and the whole cascade commits together or not
at all. :meth:`Marketplace.handle` returns that cascade and its domain events;
:meth:`Marketplace.fire` returns the command's own decision.

:meth:`Marketplace.advance` fires the deadlines due by now, earliest first, from
the store's deadline index, each in its own unit of work.

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
>>> outcome = market.handle(Fire("account", "co-1", "request_close", ana, {"confirm": True}))
>>> [(change.key, change.decision.event) for change in outcome.changes]
[('co-1', 'request_close'), ('co-1', 'settle')]
>>> market.account("co-1").state.value
'deactivated'
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from statemachines.core.actors import Actor, Role
from statemachines.core.clock import Clock
from statemachines.core.engine import Attempt, Decision, Verdict, Workflow
from statemachines.core.money import Money
from statemachines.machines.account.table import Account, Obligations
from statemachines.machines.contract.table import Contract
from statemachines.machines.job import Job
from statemachines.machines.proposal import Proposal
from statemachines.machines.team import Membership, MembershipFacts
from statemachines.marketplace import reads
from statemachines.marketplace.commands import (
    AddContract,
    Command,
    DraftJob,
    DraftProposal,
    Fire,
    Invite,
    OpenAccount,
    RecordPastDue,
)
from statemachines.marketplace.events import Outcome, StoredEvent
from statemachines.marketplace.flows import Flows
from statemachines.marketplace.handlers import FREEZING
from statemachines.marketplace.messagebus import MessageBus
from statemachines.marketplace.model import KINDS, PastDue, Terms
from statemachines.marketplace.reads import CURRENT, Export, World
from statemachines.marketplace.stores import open_store
from statemachines.marketplace.stores.base import Store
from statemachines.marketplace.stores.memory import MemoryStore
from statemachines.marketplace.unit_of_work import UnitOfWork

__all__ = [
    "CURRENT",
    "FREEZING",
    "KINDS",
    "Export",
    "Fire",
    "Marketplace",
    "MemoryStore",
    "PastDue",
    "Store",
    "Terms",
    "World",
]


class Marketplace:
    """Holds every aggregate in a store; each call is one command in one unit of work."""

    def __init__(
        self, *, clock: Clock, store: Store | str | os.PathLike[str] | None = None
    ) -> None:
        self.clock = clock
        self.store: Store = open_store(store)
        self.audit: list[Attempt] = []
        """Refused, illegal and failed attempts, for this process (not stored)."""
        self.flows = Flows(clock=clock, audit=self.audit, store=self.store)
        self.accounts = self.flows.accounts
        self.teams = self.flows.teams
        self.jobs = self.flows.jobs
        self.proposals = self.flows.proposals
        self.contracts = self.flows.contracts
        self._flows: dict[str, Workflow[Any, Any]] = self.flows.by_kind
        self.bus = MessageBus(store=self.store, clock=clock, flows=self.flows, audit=self.audit)

    def close(self) -> None:
        """Close the store (a database connection)."""
        self.store.close()

    def __enter__(self) -> Marketplace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stuck(self) -> list[tuple[str, str, str]]:
        """Deadlines whose firing failed (kind, id, message), as the store recorded them."""
        return self.store.stuck

    # ------------------------------------------------------------------ reading

    def get(self, kind: str, key: str) -> Any:
        """The aggregate *key* of *kind*; raises ``KeyError``."""
        return self.store.get(kind, key)

    def account(self, key: str) -> Account:
        """The account *key*."""
        acc: Account = self.store.get("account", key)
        return acc

    def all(self, kind: str) -> list[Any]:
        """Every aggregate of *kind*, in the order they were added (a scan: for reports)."""
        return self.store.values(kind)

    def revision(self, kind: str, key: str) -> int:
        """How many commits changed the aggregate (0 when there is none)."""
        return self.store.revision(kind, key)

    def events(self, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """The domain events numbered above *after* (a consumer's cursor), in order."""
        return self.store.events_after(after, limit)

    def history(self, kind: str, key: str) -> list[StoredEvent]:
        """The events recorded for one aggregate: ``created`` (its first snapshot), then
        one per decision, in the order of its history."""
        return self.store.history(kind, key)

    @contextmanager
    def _reading(self) -> Iterator[UnitOfWork]:
        with UnitOfWork(self.store) as uow, self.flows.reading(uow):
            yield uow

    def account_of(self, party: str) -> Account | None:
        """The account whose id or owned company is *party*."""
        return self.flows.read(lambda r: reads.account_of(r, party))

    def obligations(self, acc: Account, now: datetime) -> Obligations:
        """Everything that may block *acc*'s closure, read from the other aggregates."""
        return self.flows.read(lambda r: reads.obligations(r, acc, now))

    def explain(self, kind: str, key: str, event: str, actor: Actor, **payload: Any) -> Verdict:
        """What *event* would do now, or why not, without changing anything."""
        with self._reading() as uow:
            return self._flows[kind].explain(uow.get(kind, key), event, actor, **payload)

    def _contact(self, contract: str) -> str | None:
        try:
            contact: str = self.store.get("contact", contract)
        except KeyError:
            return None
        return contact

    def _world(self, agg: Any, now: datetime) -> World:
        return self.flows.read(lambda r: reads.world(r, agg))

    def _membership_facts(self, m: Membership, now: datetime) -> MembershipFacts:
        return self.flows.read(lambda r: reads.membership_facts(r, m))

    # ------------------------------------------------------------------ commands

    def handle(self, command: Command) -> Outcome:
        """Handle *command* in one unit of work: its decisions and events, or its refusal."""
        return self.bus.handle(command)

    def _created(self, command: Command, kind: str, key: str) -> Any:
        self.handle(command).result()
        return self.store.get(kind, key)

    def open_account(self, account: Account, *, command_id: str | None = None) -> Account:
        """Add an account; a company or agency gets its owner's membership (INV-TEAM-2)."""
        cmd = OpenAccount(account, command_id=command_id)
        acc: Account = self._created(cmd, "account", account.id)
        return acc

    def invite(
        self,
        team: str,
        person: str,
        role: Role,
        by: Actor,
        *,
        agency_plus: bool = True,
        command_id: str | None = None,
    ) -> Membership:
        """Invite *person* to *team* (TEAM-1, TEAM-6); a newcomer gets a team-only account."""
        cmd = Invite(team, person, role, by, agency_plus, command_id=command_id)
        m: Membership = self._created(cmd, "membership", f"{team}/{person}")
        return m

    def draft_job(
        self, key: str, company: str, title: str = "", *, command_id: str | None = None
    ) -> Job:
        """A draft job post of *company*; posting it is the checked step."""
        cmd = DraftJob(Job(id=key, company=company, title=title), command_id=command_id)
        job: Job = self._created(cmd, "job", key)
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
        command_id: str | None = None,
    ) -> Proposal:
        """A draft proposal on *job*; submitting it is the checked step."""
        cmd = DraftProposal(
            key, job, freelancer, agency, author, terms or Terms(), command_id=command_id
        )
        p: Proposal = self._created(cmd, "proposal", key)
        return p

    def add_contract(
        self, contract: Contract, *, contact: str | None = None, command_id: str | None = None
    ) -> Contract:
        """Add a contract started elsewhere; *contact* is the client's contact person."""
        cmd = AddContract(contract, contact, command_id=command_id)
        added: Contract = self._created(cmd, "contract", contract.id)
        return added

    def record_past_due(
        self, account: str, amount: Money, *, command_id: str | None = None
    ) -> None:
        """The platform could not charge *account*: *amount* is owed (CL-6, ACC-GEN-1)."""
        self.handle(RecordPastDue(account, amount, command_id=command_id)).result()

    def fire(
        self,
        kind: str,
        key: str,
        event: str,
        actor: Actor,
        /,
        *,
        command_id: str | None = None,
        expected_revision: int | None = None,
        **payload: Any,
    ) -> Decision:
        """Fire *event* on aggregate *key* of *kind*, with everything that follows from it.

        Deadlines already due fire first, so the event meets the world as it is now.
        Returns the event's decision; raises its refusal.
        """
        cmd = Fire(
            kind,
            key,
            event,
            actor,
            payload,
            command_id=command_id,
            expected_revision=expected_revision,
        )
        decision = self.handle(cmd).result()
        assert decision is not None
        return decision

    def export(self, key: str, actor: Actor) -> Export:
        """Download an account's records (a checked ``export_records`` event)."""
        self.fire("account", key, "export_records", actor)
        with self._reading() as uow:
            return reads.export(uow, uow.get("account", key))

    def advance(self, now: datetime | None = None) -> list[Decision]:
        """Fire every deadline due by *now* (default: the clock) of every aggregate, in order."""
        return self.bus.advance(now)
