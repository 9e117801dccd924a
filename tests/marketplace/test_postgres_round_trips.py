"""Round trips per command on PostgreSQL (issue 15, item 6; ADRs 0081, 0030, 0083; docs/deploy.md).

Each test opens its marketplace through :class:`~tests.marketplace.postgres_wire.WireCounter`,
a proxy that counts the times the client stopped to wait for the server, and pins how
many a command costs. The numbers are the ones ``docs/deploy.md`` states.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from statemachines import Actor, ManualClock, Role
from statemachines.machines.account.table import Account, AccountType
from statemachines.machines.job import Job
from statemachines.marketplace.commands import DraftJob, Fire
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.stores.postgres import PostgresStore
from statemachines.marketplace.worker import Worker
from tests.marketplace import postgres_db
from tests.marketplace.postgres_wire import WireCounter

OWNER = Actor("o-1", Role.CLIENT_OWNER, party="co-1")


_opened: list[Marketplace | Worker] = []


@pytest.fixture
def wire() -> Iterator[WireCounter]:
    """A counting proxy in front of a new, empty schema (what was opened on it is closed)."""
    with WireCounter(postgres_db.new_database()) as counter:
        yield counter
        while _opened:
            opened = _opened.pop()
            (opened.market if isinstance(opened, Worker) else opened).close()
    postgres_db.drop_all()


def _open(market: Marketplace) -> Marketplace:
    _opened.append(market)
    return market


def _market(wire: WireCounter, clock: ManualClock, jobs: int = 2) -> Marketplace:
    market = _open(Marketplace(clock=clock, store=wire.url))
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="o-1", company="co-1"))
    for n in range(1, jobs + 1):
        market.draft_job(f"J-{n}", "co-1")
    return market


def _trips(wire: WireCounter, action: object) -> tuple[int, list[str]]:
    """How many round trips *action()* made, and what it sent (for the failure message)."""
    start, logged = wire.round_trips, len(wire.log)
    assert callable(action)
    action()
    return wire.round_trips - start, [line[:90] for line in wire.log[logged:]]


def test_a_command_that_reads_two_aggregates_costs_two_round_trips(
    wire: WireCounter, clock: ManualClock
) -> None:
    # post a job, with a command id: (1) BEGIN, is the id new and is a deadline due
    # (ADR 0030), the job by key, and the state of its company's account, found through
    # the party index from the company in the job's stored row (ADR 0029); (2) the job,
    # its event, the command's outcome and COMMIT, in one pipeline
    market = _market(wire, clock)
    post = Fire("job", "J-1", "post", OWNER, command_id="post-1")

    trips, sent = _trips(wire, lambda: market.handle(post).result())

    assert trips <= 2, sent
    assert sent[-2:] == ["COMMIT", "sync"]  # the commit rode with the writes
    assert market.get("job", "J-1").state.value == "open"


def test_a_command_sent_again_costs_two_round_trips(wire: WireCounter, clock: ManualClock) -> None:
    # (1) BEGIN, the check (the stored outcome, with its events) and the first read;
    # (2) ROLLBACK: the check rides with the first read, so a repeat pays one more
    market = _market(wire, clock)
    post = Fire("job", "J-1", "post", OWNER, command_id="post-1")
    first = market.handle(post)

    trips, sent = _trips(wire, lambda: market.handle(post))

    assert trips <= 2, sent
    assert market.handle(post).events == first.events


def test_a_command_without_an_id_costs_no_more(wire: WireCounter, clock: ManualClock) -> None:
    # (1) BEGIN, is any deadline due, the job and its account's state; (2) the commit
    market = _market(wire, clock)

    trips, sent = _trips(wire, lambda: market.fire("job", "J-2", "post", OWNER))

    assert trips <= 2, sent


def test_a_cold_cache_costs_no_extra_round_trip(wire: WireCounter, clock: ManualClock) -> None:
    # another process's marketplace (nothing cached): the snapshots come with the reads
    _market(wire, clock)
    fresh = _open(Marketplace(clock=clock, store=PostgresStore(wire.url)))
    post = Fire("job", "J-1", "post", OWNER, command_id="post-1")

    trips, sent = _trips(wire, lambda: fresh.handle(post).result())

    assert trips <= 2, sent


def test_creating_an_aggregate_costs_two_round_trips(wire: WireCounter, clock: ManualClock) -> None:
    # (1) BEGIN and is the key free; (2) the row, its party index, its event and COMMIT
    market = _market(wire, clock, jobs=0)

    trips, sent = _trips(wire, lambda: market.handle(DraftJob(Job(id="J-9", company="co-1"))))

    assert trips <= 2, sent
    assert market.get("job", "J-9").state.value == "draft"


def test_a_worker_fires_a_deadline_in_three_round_trips(
    wire: WireCounter, clock: ManualClock
) -> None:
    # (1) BEGIN with the claim (the due aggregate, locked, with its snapshot); (2) what the
    # firing reads besides (the job's account); (3) the writes and COMMIT
    market = _market(wire, clock)
    market.fire("job", "J-1", "post", OWNER)
    clock.advance(days=26)
    worker = Worker(PostgresStore(wire.url), clock=clock)
    _opened.append(worker)

    trips, sent = _trips(wire, worker.fire_one)

    assert worker.fired == 1
    assert trips <= 3, sent
