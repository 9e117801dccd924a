"""Reading the outbox from another service: named consumers, each with its own cursor.

Every accepted decision and every aggregate created is a domain event, recorded in the
transaction that commits it and numbered in one global order (``seq``). A service that
reacts to them (billing, search, e-mail) is a :class:`Consumer` with a name; the store
keeps each consumer's cursor (the ``consumers`` table), so several services read at
their own pace and a restarted one goes on where it stopped.

Delivery is **at least once, in order**: :meth:`Consumer.poll` returns the events after
the cursor, oldest first, and :meth:`Consumer.ack` moves the cursor past the ones
handled. An event handled but not acknowledged (the consumer crashed in between) comes
again, so a handler must be idempotent: ``seq`` (or ``command_id``) is the key to
remember. On PostgreSQL, events become readable once every transaction that started
before theirs has ended, so nothing is skipped (ADR 0080).

>>> from datetime import datetime
>>> from statemachines import ManualClock, UTC
>>> from statemachines.marketplace.market import Marketplace
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> market = Marketplace(clock=clock)
>>> _ = market.draft_job("J-1", "co-1")
>>> _ = market.draft_job("J-2", "co-1")
>>> billing = Consumer(market.store, "billing", clock=clock)
>>> [(e.name, e.key) for e in billing.poll()]
[('created', 'J-1'), ('created', 'J-2')]
>>> billing.handle(lambda event: None, limit=1)  # handle one event and acknowledge it
1
>>> [(e.name, e.key) for e in billing.poll()]
[('created', 'J-2')]
>>> Consumer(market.store, "search").position  # another consumer, its own cursor
0
"""

from __future__ import annotations

import time
from collections.abc import Callable

from statemachines.core.clock import Clock, SystemClock
from statemachines.marketplace.events import StoredEvent
from statemachines.marketplace.stores.base import Store

__all__ = ["Consumer"]


class Consumer:
    """One named reader of a store's outbox; its cursor lives in the store."""

    def __init__(
        self, store: Store, name: str, *, clock: Clock | None = None, page: int = 100
    ) -> None:
        if not name or not isinstance(name, str):
            msg = f"a consumer needs a name (a non-empty string), got {name!r}"
            raise ValueError(msg)
        if page < 1:
            msg = f"page must be at least 1, got {page}"
            raise ValueError(msg)
        self.store = store
        self.name = name
        self.clock = clock or SystemClock()
        self.page = page

    def __repr__(self) -> str:
        return f"Consumer({self.name!r}, at {self.position})"

    @property
    def position(self) -> int:
        """The seq of the last event acknowledged (0 before the first)."""
        return self.store.cursor(self.name)

    def poll(self, limit: int | None = None) -> list[StoredEvent]:
        """The events after the cursor, oldest first (at most *limit*, default a page).
        The cursor does not move: :meth:`ack` what was handled."""
        return self.store.events_after(self.position, limit or self.page)

    def ack(self, upto: StoredEvent | int) -> None:
        """Everything up to *upto* (an event or its seq) is handled: move the cursor there."""
        seq = upto.seq if isinstance(upto, StoredEvent) else int(upto)
        self.store.save_cursor(self.name, seq, self.clock.now())

    def handle(self, handler: Callable[[StoredEvent], object], *, limit: int | None = None) -> int:
        """Give each event of the next page to *handler*, in order, then acknowledge them.

        If *handler* raises, the events before the failing one are acknowledged and the
        error propagates: the failing event comes again on the next call. Returns how
        many events were handled.
        """
        done: StoredEvent | None = None
        count = 0
        try:
            for event in self.poll(limit):
                handler(event)
                done = event
                count += 1
        finally:
            if done is not None:
                self.ack(done)
        return count

    def run(
        self,
        handler: Callable[[StoredEvent], object],
        *,
        idle: float = 0.5,
        stop: Callable[[], bool] = lambda: False,
    ) -> int:
        """Handle events as they come until *stop()* is true; sleeps *idle* seconds when
        there is nothing new. Returns how many events were handled."""
        total = 0
        while not stop():
            n = self.handle(handler)
            total += n
            if n == 0:
                time.sleep(idle)
        return total
