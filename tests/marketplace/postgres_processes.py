"""Real processes for the PostgreSQL worker and concurrency tests, and the world they share.

    python -m tests.marketplace.postgres_processes commands URL SEED COUNT EPOCH SPEED [KILL]
    python -m tests.marketplace.postgres_processes worker URL EPOCH SPEED [KILL]

Every process keeps time with a :class:`ScaledClock`: simulated time starts at
:data:`~tests.conftest.START` at the wall-clock moment *EPOCH* (ISO) and runs *SPEED* times
faster, so all processes agree on it and deadlines days away fall due within seconds.

A command process sends *COUNT* random commands (seeded by *SEED*) at the shared world of
:func:`build_world`, each with a command id, each through :func:`statemachines.retry`;
some bonuses are sent twice with the same id (a client retrying). It prints one JSON
line per command: its id, what it asked, whether it was accepted, the seqs of its events,
the conflicts the retry helper resolved. A connection lost in between (a server
restart) is waited out and the same command is sent again with the same id; so is a
server that is not up yet when the process opens its store.

A worker process says it is ready for SIGTERM, fires deadlines until SIGTERM, then prints
what it did as JSON.

With *KILL* = ``n``, a command process kills itself with SIGKILL once the writes of its
``n``-th command reached the server (before ``COMMIT``), and a worker does so on its
first deadline; each prints ``{"dying": ...}`` first.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from statemachines import Actor, ManualClock, Money, Role, retry
from statemachines.core.clock import UTC, SystemClock
from statemachines.machines.account.table import Account, AccountType, SuspensionReason
from statemachines.machines.contract.table import Contract
from statemachines.marketplace.commands import Fire
from statemachines.marketplace.errors import ConcurrentModification
from statemachines.marketplace.events import Outcome
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.stores.base import Due
from statemachines.marketplace.stores.postgres import ConnectionLost, PostgresStore
from statemachines.marketplace.worker import Worker

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""When simulated time starts (tests.conftest.START)."""

CLIENTS = {"co-1": "ana", "co-2": "bea"}
FREELANCERS = ("fl-1", "fl-2", "fl-3")
CONTRACTS = {"C-1": ("co-1", "fl-1"), "C-2": ("co-1", "fl-2"), "C-3": ("co-2", "fl-2")}
SUPPORT = Actor("sup", Role.SUPPORT)
SETUP = timedelta(days=20)
"""The world is built this long before START: deadlines fall due as the run begins."""


class ScaledClock:
    """Simulated time shared by processes: :data:`START` at the wall-clock moment *epoch*,
    running *speed* times faster."""

    def __init__(self, epoch: datetime, speed: float) -> None:
        self.epoch = epoch
        self.speed = speed
        self.wall = SystemClock()

    def now(self) -> datetime:
        """The simulated moment now (aware UTC, microseconds)."""
        return START + (self.wall.now() - self.epoch) * self.speed


def build_world(url: str, *, jobs: int = 6, since: timedelta = SETUP) -> Marketplace:
    """Two clients, three freelancers, three hourly contracts with time logged, and *jobs*
    posted job posts, built *since* before START (by default their deadlines fall due from
    START on; 40 days before, every one of them is due at START)."""
    clock = ManualClock(START - since)
    m = Marketplace(clock=clock, store=PostgresStore(url))
    for company, holder in CLIENTS.items():
        m.open_account(Account(id=company, type=AccountType.CLIENT, owner=holder, company=company))
    for fl in FREELANCERS:
        m.open_account(Account(id=fl, type=AccountType.FREELANCER, owner=fl))
    for key, (client, fl) in CONTRACTS.items():
        rate = Money(4_000)
        started = clock.now()
        m.add_contract(
            Contract.hourly(key, client=client, freelancer=fl, rate=rate, started_at=started)
        )
        m.fire("contract", key, "log_time", _freelancer(fl), minutes=60)
    for n in range(1, jobs + 1):
        company = sorted(CLIENTS)[n % len(CLIENTS)]
        m.draft_job(f"J-{n}", company)
        clock.set(START - since + timedelta(hours=n))
        m.fire("job", f"J-{n}", "post", owner(company))
    return m


def owner(company: str) -> Actor:
    return Actor(CLIENTS[company], Role.CLIENT_OWNER, party=company)


def _freelancer(fl: str) -> Actor:
    return Actor(fl, Role.FREELANCER, party=fl)


def _command(rng: random.Random, cid: str, bonuses: list[Fire]) -> Fire:
    """One random command: mostly time and bonuses on the contracts (C-1 most), some
    suspensions and reinstatements of the clients (which pause and restart contracts)."""
    roll = rng.random()
    key = rng.choice(("C-1", "C-1", "C-2", "C-3"))
    client, fl = CONTRACTS[key]
    if roll < 0.12 and bonuses:
        return rng.choice(bonuses)  # a client retrying: the same command, the same id
    if roll < 0.55:
        return Fire(
            "contract",
            key,
            "log_time",
            _freelancer(fl),
            {"minutes": 1 + rng.randrange(30)},
            command_id=cid,
        )
    if roll < 0.8:
        amount = Money(100 * (1 + rng.randrange(9)))
        bonus = Fire(
            "contract", key, "pay_bonus", owner(client), {"amount": amount}, command_id=cid
        )
        bonuses.append(bonus)
        return bonus
    company = rng.choice(sorted(CLIENTS))
    if roll < 0.9:
        reason = {"reason": SuspensionReason.BILLING}
        return Fire("account", company, "suspend", SUPPORT, reason, command_id=cid)
    return Fire("account", company, "reinstate", SUPPORT, command_id=cid)


def _send(market: Marketplace, command: Fire, conflicts: list[int]) -> Outcome:
    """*command* through the retry helper; a lost connection is waited out and the same
    command (same id) sent again."""
    for _ in range(600):
        try:
            return retry(
                lambda: market.handle(command),
                attempts=100,
                on_conflict=lambda err, attempt: conflicts.append(attempt),
            )
        except ConnectionLost:
            time.sleep(0.1)
    msg = "the server did not come back"
    raise RuntimeError(msg)


HOLD = 0.003
"""Seconds a command process holds each transaction open between its writes and COMMIT."""


def _open(url: str) -> PostgresStore:
    """The store at *url*, waiting out a server that is restarting."""
    for _ in range(600):
        try:
            return PostgresStore(url)
        except ConnectionLost:
            time.sleep(0.1)
    msg = "the server did not come back"
    raise RuntimeError(msg)


def send_commands(url: str, seed: int, count: int, clock: ScaledClock, kill: int | None) -> None:
    """Send *count* random commands and print what became of each."""
    store = _open(url)
    # Each transaction stays open a moment after its writes reached the server, so that
    # processes on one contract overlap and race even on an idle machine (a command alone
    # takes about a millisecond).
    store.on_write = lambda what: time.sleep(HOLD) if what == "event" else None
    market = Marketplace(clock=clock, store=store)
    rng = random.Random(seed)
    bonuses: list[Fire] = []
    for n in range(1, count + 1):
        command = _command(rng, f"p{seed}-{n}", bonuses)
        if n == kill:
            store.on_write = lambda what, cid=command.command_id: _die({"dying": cid})
        conflicts: list[int] = []
        outcome = _send(market, command, conflicts)
        line: dict[str, Any] = {
            "cid": command.command_id,
            "kind": command.kind,
            "key": command.key,
            "event": command.event,
            "ok": outcome.ok,
            "repeated": outcome.repeated,
            "seqs": [e.seq for e in outcome.events],
            "error": None if outcome.error is None else type(outcome.error).__name__,
            "conflicts": len(conflicts),
        }
        _say(line)
    market.close()


def _say(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def _die(note: dict[str, Any]) -> None:
    _say(note)
    os.kill(os.getpid(), signal.SIGKILL)


def work(url: str, clock: ScaledClock, kill: bool) -> None:
    """Fire deadlines until SIGTERM; print what was done.

    The first line, ``{"ready": true}``, says SIGTERM stops the worker cleanly from now
    on: a signal that comes before the worker runs stops it as soon as it starts.
    """
    early: list[Worker] = []
    stopped: list[int] = []

    def stop(signum: int, frame: object) -> None:
        stopped.append(signum)
        for w in early:
            w.stop()

    signal.signal(signal.SIGTERM, stop)
    _say({"ready": True})
    store = _open(url)
    taken: list[list[Any]] = []

    def note(due: Due, what: str) -> None:
        taken.append([due.kind, due.key, due.due.isoformat(), what])

    worker = Worker(store, clock=clock, poll=0.05, on_fired=note)
    if kill:

        def die(what: str) -> None:
            claimed = worker.last_claimed
            _die({"dying": None if claimed is None else [claimed.kind, claimed.key]})

        store.on_write = die
    early.append(worker)
    if stopped:
        worker.stop()
    worker.run()
    summary = {
        "fired": worker.fired,
        "parked": worker.parked,
        "conflicts": worker.conflicts,
        "disconnections": worker.disconnections,
        "taken": taken,
    }
    _say(summary)
    store.close()


def main(argv: list[str]) -> None:
    """Run a command process or a worker (see the module's documentation)."""
    role, url = argv[0], argv[1]
    if role == "commands":
        seed, count = int(argv[2]), int(argv[3])
        epoch, speed = datetime.fromisoformat(argv[4]), float(argv[5])
        kill = int(argv[6]) if len(argv) > 6 else None
        send_commands(url, seed, count, ScaledClock(epoch, speed), kill)
    elif role == "worker":
        epoch, speed = datetime.fromisoformat(argv[2]), float(argv[3])
        work(url, ScaledClock(epoch, speed), kill=len(argv) > 4)
    else:
        msg = f"unknown role {role!r}"
        raise SystemExit(msg)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ConcurrentModification as err:  # retry gave up: say so, fail
        _say({"unresolved": str(err)})
        raise
