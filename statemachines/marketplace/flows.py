"""The five workflows of the marketplace, whose guards read facts from the current unit of work.

A workflow holds no aggregate, so one set serves every command. Its guards read
facts about other aggregates (an account's obligations, the state of the
account behind a job post); :class:`Flows` supplies them from the unit of work
the current command runs in, so they come from indexed lookups in that
transaction and see what the command changed so far. Asked outside a command
(``workflow.facts(aggregate, now)``, as the checker's predictor does), they are
read in a unit of work of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import datetime
from typing import Any, TypeVar

from statemachines.core.clock import Clock
from statemachines.core.engine import AuditSink, Workflow
from statemachines.machines.account.table import Account, AccountLifecycle, Obligations
from statemachines.machines.assistance import AssistanceDesk
from statemachines.machines.connects import ConnectsLedger
from statemachines.machines.contract.table import Contract, ContractLifecycle
from statemachines.machines.contract.values import Balance
from statemachines.machines.dormancy import DormancyWatch
from statemachines.machines.fixed_dispute import FixedDisputes
from statemachines.machines.hourly_dispute import HourlyDisputes
from statemachines.machines.job import JobPosting
from statemachines.machines.mid_feedback import MidFeedbackRequests
from statemachines.machines.proposal import ProposalFlow
from statemachines.machines.refund_request import RefundRequests
from statemachines.machines.relationship import Relationships
from statemachines.machines.standing import StandingDesk
from statemachines.machines.team import Membership, MembershipFacts, TeamMembership
from statemachines.marketplace import reads
from statemachines.marketplace.reads import Reader, World
from statemachines.marketplace.stores.base import Store
from statemachines.marketplace.unit_of_work import UnitOfWork

T = TypeVar("T")

__all__ = ["Flows"]


class Flows:
    """The account, membership, job, proposal and contract workflows, wired to a reader."""

    def __init__(self, *, clock: Clock, audit: AuditSink, store: Store) -> None:
        self.store = store
        self._reader: ContextVar[Reader | None] = ContextVar("reader", default=None)
        self.accounts = AccountLifecycle(clock=clock, obligations=self._obligations, audit=audit)
        self.teams = TeamMembership(clock=clock, facts=self._membership_facts, audit=audit)
        self.jobs = JobPosting(clock=clock, facts=self._world, audit=audit)
        self.proposals = ProposalFlow(clock=clock, facts=self._world, audit=audit)
        self.contracts = ContractLifecycle(clock=clock, audit=audit, balances=self._balance)
        self.refund_requests = RefundRequests(clock=clock, audit=audit)
        self.hourly_disputes = HourlyDisputes(clock=clock, audit=audit)
        self.fixed_disputes = FixedDisputes(clock=clock, audit=audit)
        self.dormancy = DormancyWatch(clock=clock, audit=audit)
        self.mid_feedback = MidFeedbackRequests(clock=clock, audit=audit)
        self.relationships = Relationships(clock=clock, audit=audit)
        self.standing = StandingDesk(clock=clock, audit=audit)
        self.connects = ConnectsLedger(clock=clock, audit=audit)
        self.assistance = AssistanceDesk(clock=clock, audit=audit)
        self.by_kind: dict[str, Workflow[Any, Any]] = {
            "account": self.accounts,
            "membership": self.teams,
            "job": self.jobs,
            "proposal": self.proposals,
            "contract": self.contracts,
            "refund_request": self.refund_requests,
            "hourly_dispute": self.hourly_disputes,
            "fixed_dispute": self.fixed_disputes,
            "dormancy": self.dormancy,
            "mid_feedback": self.mid_feedback,
            "relationship": self.relationships,
            "standing": self.standing,
            "connects": self.connects,
            "assistance": self.assistance,
        }

    @contextmanager
    def reading(self, reader: Reader) -> Iterator[Reader]:
        """Guards read their facts from *reader* inside the block."""
        token = self._reader.set(reader)
        try:
            yield reader
        finally:
            self._reader.reset(token)

    def enter(self, reader: Reader) -> Token[Reader | None]:
        """Guards read from *reader* until :meth:`leave` (a faster :meth:`reading`)."""
        return self._reader.set(reader)

    def leave(self, token: Token[Reader | None]) -> None:
        """Undo the :meth:`enter` that returned *token*."""
        self._reader.reset(token)

    def read(self, read: Callable[[Reader], T]) -> T:
        """*read* applied to the current command's reader, or to a unit of work of its own."""
        reader = self._reader.get()
        if reader is not None:
            return read(reader)
        with UnitOfWork(self.store) as uow:  # asked outside a command: a read of its own
            return read(uow)

    def _obligations(self, acc: Account, now: datetime) -> Obligations:
        return self.read(lambda r: reads.obligations(r, acc, now))

    def _membership_facts(self, m: Membership, now: datetime) -> MembershipFacts:
        return self.read(lambda r: reads.membership_facts(r, m))

    def _balance(self, c: Contract, now: datetime) -> Balance:
        # INV-MONEY-10, REF-180-3: from the marketplace's records, never from a caller
        return self.read(
            lambda r: reads.balance(r, c.freelancer, now, agency=c.agency, currency=c.currency)
        )

    def _world(self, agg: Any, now: datetime) -> World:
        reader = self._reader.get()  # every job post and proposal: no closure to build
        if reader is not None:
            return reads.world(reader, agg)
        return self.read(lambda r: reads.world(r, agg))
