"""Deadline workers: processes that fire the due deadlines of a marketplace in PostgreSQL.

``python -m statemachines worker --db postgresql://...`` runs one. Any number of
workers, on any number of machines, share the work:

* each takes the first due deadline no other transaction holds (``SELECT ... FOR
  UPDATE SKIP LOCKED`` on the due index, :meth:`PostgresTransaction.claim
  <statemachines.marketplace.stores.postgres.PostgresTransaction.claim>`) and fires it,
  with everything that follows from it, in that same transaction: two workers never
  fire one deadline, and a deadline taken is held until its transaction ends;
* a deadline whose firing is refused is parked with its error (the ``stuck`` table)
  and the others go on; a lost race (:class:`ConcurrentModification`: a command
  changed the aggregate first) is tried again on fresh state;
* when nothing is due, a worker sleeps until the next deadline falls due, at most
  *poll* seconds, and wakes at once when a commit makes a deadline due now (it
  ``LISTEN``\\s on the channel the store notifies);
* SIGTERM (or Ctrl-C) lets the deadline in hand commit, then the worker stops; a
  worker killed outright (SIGKILL, a lost machine) loses nothing: the server rolls its
  transaction back, which releases the row, and another worker takes it.

Time comes from the worker's clock (the system's by default): a deadline fires when
``clock.now()`` has passed it, at the moment it fell due.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from types import FrameType

import psycopg

from statemachines.core.clock import Clock, SystemClock
from statemachines.errors import StatemachinesError
from statemachines.marketplace.commands import FireDeadline
from statemachines.marketplace.errors import ConcurrentModification
from statemachines.marketplace.handlers import Handling
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.stores.base import Due
from statemachines.marketplace.stores.postgres import (
    DUE_CHANNEL,
    ConnectionLost,
    PostgresStore,
    PostgresTransaction,
)
from statemachines.marketplace.unit_of_work import UnitOfWork

__all__ = ["Worker"]

BUSY_WAIT = 0.02
"""Seconds to wait when a due deadline is held by another worker (it is being fired)."""


class Worker:
    """Fires the due deadlines of the marketplace in *store*, one transaction each."""

    def __init__(
        self,
        store: PostgresStore | str,
        *,
        clock: Clock | None = None,
        poll: float = 1.0,
        on_fired: Callable[[Due, str], None] | None = None,
        listen: str | None = None,
    ) -> None:
        if poll <= 0:
            msg = f"poll must be a positive number of seconds, got {poll}"
            raise ValueError(msg)
        self.store = store if isinstance(store, PostgresStore) else PostgresStore(store)
        self.clock = clock or SystemClock()
        self.poll = poll
        self.market = Marketplace(clock=self.clock, store=self.store)
        self.listen = listen or self.store.url
        """Where the worker ``LISTEN``\\s: the server itself when the store's URL goes
        through a pool in transaction mode, which does not keep a session's ``LISTEN``."""
        self.on_fired = on_fired
        """Called with each deadline taken and what became of it (``fired`` or ``parked``)."""
        self.fired = 0
        self.parked = 0
        self.conflicts = 0
        self.disconnections = 0
        self.last_claimed: Due | None = None
        """The deadline most recently taken (for logs and tests)."""
        self.stopping = False
        """Set by SIGTERM or :meth:`stop`: the worker ends after the deadline in hand."""

    def stop(self, *_: object) -> None:
        """Ask the worker to stop after the deadline in hand (a signal handler)."""
        self.stopping = True

    # ------------------------------------------------------------------ one deadline

    def fire_one(self) -> bool:
        """Take the first due deadline nobody holds and fire it in its own transaction
        (or park it if it is refused). False when none is due now.

        Raises :class:`ConcurrentModification` when a command changed the aggregate
        first (nothing was written; :meth:`drain` tries again).
        """
        now = self.clock.now()
        flows = self.market.flows
        refusal: StatemachinesError | None = None
        with UnitOfWork(self.store) as uow:
            txn = uow.txn
            assert isinstance(txn, PostgresTransaction)
            due = txn.claim(now)
            if due is None:
                return False
            self.last_claimed = due
            token = flows.enter(uow)
            try:
                Handling(uow, flows, now, self.market.audit).run(
                    FireDeadline(due.kind, due.key, now)
                )
            except ConcurrentModification:
                raise
            except StatemachinesError as err:
                refusal = err
            finally:
                flows.leave(token)
                self.market.audit.clear()  # a long-running worker keeps no history of refusals
            if refusal is None:
                uow.commit()
        if refusal is not None:
            self.store.park(due, str(refusal), self.clock.now())
            self.parked += 1
            self._tell(due, "parked")
        else:
            self.fired += 1
            self._tell(due, "fired")
        return True

    def _tell(self, due: Due, what: str) -> None:
        if self.on_fired is not None:
            self.on_fired(due, what)

    def drain(self) -> int:
        """Fire every deadline due now (lost races tried again) until none is left, or the
        worker is asked to stop. Returns how many deadlines it took."""
        taken = 0
        while not self.stopping:
            try:
                if not self.fire_one():
                    return taken
            except ConcurrentModification:
                self.conflicts += 1
                continue
            taken += 1
        return taken

    # ------------------------------------------------------------------ running

    def wait_time(self, now: datetime) -> float:
        """Seconds to sleep before looking again: until the next deadline falls due, at
        most :attr:`poll`."""
        first = self.store.first_due()
        if first is None:
            return self.poll
        if first <= now:  # due, but another worker holds it
            return BUSY_WAIT
        return min(self.poll, max((first - now).total_seconds(), BUSY_WAIT))

    def run(self, *, once: bool = False) -> int:
        """Fire deadlines until SIGTERM or SIGINT (or, with *once*, until none is due now).
        Returns how many deadlines were taken."""
        taken = 0
        with self._signals(), self._listening() as listener:
            while not self.stopping:
                try:
                    taken += self.drain()
                    if once or self.stopping:
                        break
                    pause = self.wait_time(self.clock.now())
                except ConnectionLost:  # the server restarted: what was in hand rolled back
                    self.disconnections += 1
                    pause = self.poll
                self._sleep(listener, pause)
        return taken

    def _sleep(self, listener: psycopg.Connection[object] | None, seconds: float) -> None:
        """Sleep *seconds* in short slices (so a stop is seen quickly); a notification that
        a deadline is due now ends the sleep."""
        end = time.monotonic() + seconds
        while not self.stopping:
            left = end - time.monotonic()
            if left <= 0:
                return
            if listener is None:
                time.sleep(min(left, 0.25))
                continue
            try:
                if any(True for _ in listener.notifies(timeout=min(left, 0.25), stop_after=1)):
                    return
            except psycopg.OperationalError:
                listener = None  # the listening connection broke: sleep and poll instead

    @contextlib.contextmanager
    def _listening(self) -> Iterator[psycopg.Connection[object] | None]:
        try:
            conn: psycopg.Connection[object] | None = psycopg.connect(
                self.listen, autocommit=True, connect_timeout=self.store.connect_timeout
            )
        except psycopg.OperationalError:
            conn = None  # polling alone still fires everything, only later
        try:
            if conn is not None:
                conn.execute(f"LISTEN {DUE_CHANNEL}")
            yield conn
        finally:
            if conn is not None:
                conn.close()

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop()

        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach the main thread only; stop() is for the caller
            return
        saved = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, old in saved.items():
                signal.signal(sig, old)
