"""The message bus: each command in its own unit of work, then every event it caused, in order.

:meth:`MessageBus.handle` runs the command's handler, then the handlers of each
accepted decision (and of the decisions those cause), then lets closing accounts
settle, and commits it all at once. A refusal rolls everything back and is
returned as the :class:`~statemachines.marketplace.events.Outcome`'s error. A
command with a ``command_id`` seen before gets its stored outcome back.

Before a :class:`~statemachines.marketplace.commands.Fire`, every deadline due by
now fires (:meth:`MessageBus.advance`), each in its own unit of work, so the
command meets the world as it is now. The command's own transaction looks first
(with its first read, ADR 0030): if its id was handled, the stored outcome is
returned; if a deadline is due, it rolls back, the deadlines fire, and the command
runs again. A deadline that fails is parked with its
error (the store's ``stuck`` list) and the others go on.
"""

from __future__ import annotations

from datetime import datetime

from statemachines.core.clock import Clock, ensure_utc
from statemachines.core.engine import AuditSink, Decision
from statemachines.errors import StatemachinesError
from statemachines.marketplace.commands import Command, Fire, FireDeadline
from statemachines.marketplace.errors import ConcurrentModification
from statemachines.marketplace.events import Outcome
from statemachines.marketplace.flows import Flows
from statemachines.marketplace.handlers import Handling
from statemachines.marketplace.stores.base import Check, CommandSeen, Preempted, Store
from statemachines.marketplace.unit_of_work import UnitOfWork

__all__ = ["MessageBus"]

_new = tuple.__new__
"""Named tuples built on the hot path skip their generated (Python) ``__new__``."""

CONFLICTS = 100
"""How many lost races in a row :meth:`MessageBus.advance` tolerates before it gives up."""


class MessageBus:
    """Handles commands against one store, with one set of workflows."""

    def __init__(self, *, store: Store, clock: Clock, flows: Flows, audit: AuditSink) -> None:
        self.store = store
        self.clock = clock
        self.flows = flows
        self.audit = audit

    def handle(self, command: Command) -> Outcome:
        """Handle *command* in one unit of work and return what it did (or why not).

        Raises :class:`~statemachines.marketplace.errors.ConcurrentModification` when
        another command changed what this one read (nothing was written: retry), and
        ``KeyError`` for an aggregate that does not exist.
        """
        cid = command.command_id
        fire = isinstance(command, Fire)
        if cid is None and not fire:
            return self._handle(command)
        try:  # the command's transaction looks first: handled already? anything due?
            check = _new(Check, (cid, self.clock.now() if fire else None))
            return self._handle(command, check)
        except Preempted as first:
            if first.outcome is not None:
                return first.outcome
        self.advance()
        return self._handle(command)

    def _handle(self, command: Command, check: Check | None = None) -> Outcome:
        cid = command.command_id
        now = self.clock.now()
        with UnitOfWork(self.store, check) as uow:
            token = self.flows.enter(uow)
            refusal: StatemachinesError | None = None
            try:
                Handling(uow, self.flows, now, self.audit).run(command)
            except ConcurrentModification:
                raise
            except StatemachinesError as err:
                refusal = err
            finally:
                self.flows.leave(token)
            if refusal is not None:
                uow.rollback()
                if cid is not None:
                    self.store.save_refusal(cid, refusal, now)
                return Outcome(error=refusal, command_id=cid)
            try:
                events = uow.commit(cid)
            except CommandSeen:
                assert cid is not None
                stored = self.store.outcome(cid)
                assert stored is not None, f"command {cid!r} was committed but has no outcome"
                return stored
        return Outcome(events, command_id=cid)

    def advance(self, now: datetime | None = None) -> list[Decision]:
        """Fire every deadline due by *now* (default: the clock), earliest first.

        Each deadline is one unit of work (with what follows from it); a deadline whose
        firing fails is parked with its error and does not hold up the others.
        """
        limit = self.clock.now() if now is None else ensure_utc(now, what="now")
        fired: list[Decision] = []
        conflicts = 0
        while True:
            due = self.store.next_due(limit)
            if due is None:
                return fired
            try:
                outcome = self._handle(FireDeadline(due.kind, due.key, limit))
            except ConcurrentModification:
                conflicts += 1  # another process fired or changed it: look again
                if conflicts > CONFLICTS:
                    raise
                continue
            if outcome.error is not None:
                self.store.park(due, str(outcome.error), self.clock.now())
                continue
            fired.extend(outcome.decisions)
