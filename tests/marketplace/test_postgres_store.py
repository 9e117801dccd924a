"""The PostgreSQL store itself: migrations, rows, isolation, the outbox's order, consumers,
the documented scenarios, a process killed in the middle of a command, and failures.

(Every other marketplace test also runs on PostgreSQL through the ``store`` fixture.)
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from statemachines import ConcurrentModification, Contract, ManualClock, Money, to_dict
from statemachines.errors import InvalidInput
from statemachines.machines.account.table import Account, AccountType, SuspensionReason
from statemachines.marketplace.audit import problems
from statemachines.marketplace.commands import Fire
from statemachines.marketplace.events import StoredEvent
from statemachines.marketplace.market import KINDS, Marketplace
from statemachines.marketplace.outbox import Consumer
from statemachines.marketplace.stores import open_store
from statemachines.marketplace.stores.base import Due
from statemachines.marketplace.stores.postgres import ConnectionLost, PostgresStore
from statemachines.marketplace.stores.schema import SchemaTooNew
from statemachines.marketplace.unit_of_work import UnitOfWork
from statemachines.publish import scenarios
from tests.conftest import START
from tests.machines.account.conftest import ANA, FL, SUP
from tests.marketplace import postgres_db

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "docs" / "scenarios").glob("*.yaml"))


@pytest.fixture
def url() -> object:
    """A URL on a new, empty schema (dropped after the test)."""
    yield postgres_db.new_database()
    postgres_db.drop_all()


def _world(url: str, clock: ManualClock) -> Marketplace:
    m = Marketplace(clock=clock, store=url)
    m.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    m.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    for key in ("C-1", "C-2"):
        rate = Money(5_000)
        c = Contract.hourly(key, client="co-1", freelancer="fl-1", rate=rate, started_at=START)
        m.add_contract(c, contact="ana")
    m.draft_job("J-1", "co-1")
    return m


def _contents(market: Marketplace) -> dict[tuple[str, str], object]:
    return {(k, a.id): (to_dict(a), market.revision(k, a.id)) for k in KINDS for a in market.all(k)}


# --------------------------------------------------------------------------- the database


def test_a_database_is_migrated_once_by_processes_opening_it_together(url: str) -> None:
    opening = (
        "import sys; from statemachines.marketplace.stores.postgres import PostgresStore; "
        "print(PostgresStore(sys.argv[1]).schema_versions())"
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", opening, url], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=120)[0].strip() for child in children]

    assert outputs == ["[1, 2, 3, 4, 5, 7]"] * 3
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
    assert rows == [
        (1, "initial"),
        (2, "events_without_aggregate_index"),
        (3, "consumers"),
        (4, "checked"),
        (5, "case_sequences"),
        (7, "connects_and_assistance"),
    ]


def test_a_stored_row_is_the_aggregates_snapshot_and_survives_a_reconnect(
    url: str, clock: ManualClock
) -> None:
    market = _world(url, clock)
    market.fire("contract", "C-1", "log_time", FL, minutes=90)
    shown = _contents(market)
    market.close()

    again = Marketplace(clock=clock, store=url)

    assert _contents(again) == shown
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT data, state, revision FROM aggregates WHERE kind = 'contract' AND key = 'C-1'"
        ).fetchone()
    assert row is not None
    data, state, revision = row
    contract = again.get("contract", "C-1")
    assert data == to_dict(contract)
    assert (state, revision) == (contract.state.value, 2)
    assert problems(again) == []
    again.close()


def test_a_database_migrated_by_a_newer_library_is_refused(url: str) -> None:
    PostgresStore(url).close()
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', 'now')")

    with pytest.raises(SchemaTooNew, match="schema version 99"):
        PostgresStore(url)


def test_a_server_that_cannot_be_reached_is_named_in_one_clear_error() -> None:
    with pytest.raises(ConnectionLost, match="cannot connect to PostgreSQL at postgresql://"):
        open_store("postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")


def test_a_server_that_goes_away_while_the_store_opens_is_connection_lost(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a process opening its store while the server restarts hears ConnectionLost, the
    # error every other operation raises, and can open it again
    connect = PostgresStore.connection

    def connect_then_lose(store: PostgresStore) -> psycopg.Connection[Any]:
        conn = connect(store)
        with psycopg.connect(url, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        return conn

    monkeypatch.setattr(PostgresStore, "connection", connect_then_lose)
    with pytest.raises(ConnectionLost, match="broke while the store opened"):
        PostgresStore(url)
    monkeypatch.undo()
    PostgresStore(url).close()


def test_a_connection_lost_while_a_refused_commit_rolls_back_says_so(
    url: str, clock: ManualClock
) -> None:
    # the server refuses the commit (a lost race), then goes away before the ROLLBACK:
    # the caller hears ConnectionLost (send the command again), not a bare socket error
    market = _world(url, clock)
    store = market.store
    assert isinstance(store, PostgresStore)
    pid = store.connection().info.backend_pid

    def server_goes_away(what: str) -> None:
        with psycopg.connect(url, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (pid,))
        msg = "another command got there first"
        raise psycopg.errors.SerializationFailure(msg)

    store.on_write = server_goes_away
    with pytest.raises(ConnectionLost, match="send it again with the same command_id"):
        market.fire("job", "J-1", "post", ANA, command_id="post-J-1")
    store.on_write = None

    assert market.get("job", "J-1").state.value == "draft"  # connected again; nothing written
    assert store.outcome("post-J-1") is None
    market.fire("job", "J-1", "post", ANA, command_id="post-J-1")
    assert market.get("job", "J-1").state.value == "open"
    market.close()


# --------------------------------------------------------------------------- isolation


def test_two_connections_racing_on_one_contract_one_wins_the_other_changes_nothing(
    url: str, clock: ManualClock
) -> None:
    first = _world(url, clock)
    second = Marketplace(clock=clock, store=url)
    read = first.revision("contract", "C-1")

    with UnitOfWork(first.store) as uow:  # the first command reads C-1 ...
        contract = uow.get("contract", "C-1")
        second.fire("contract", "C-1", "log_time", FL, minutes=30)  # ... the second commits ...
        uow.changing("contract", "C-1")
        decision = first.contracts.fire_at(contract, "log_time", FL, clock.now(), minutes=60)
        uow.accepted("contract", "C-1", decision)
        with pytest.raises(ConcurrentModification) as info:  # ... the first loses
            uow.commit()

    err = info.value
    assert (err.kind, err.key, err.expected, err.found) == ("contract", "C-1", read, read + 1)
    assert [d.payload.get("minutes") for d in first.get("contract", "C-1").history] == [30]
    for m in (first, second):
        m.close()


@pytest.mark.rule("ACC-CLOSE-CL-5")
def test_a_job_posted_while_its_company_asks_to_close_one_of_them_loses(
    url: str, clock: ManualClock
) -> None:
    """Write skew: each command reads what the other writes (the post reads the account,
    the closure reads the company's jobs). Both may not commit: one must be retried."""
    first = _world(url, clock)
    for key in ("C-1", "C-2"):
        first.fire("contract", key, "end_contract", ANA)
    second = Marketplace(clock=clock, store=url)

    with UnitOfWork(first.store) as uow:
        token = first.flows.enter(uow)
        job = uow.get("job", "J-1")
        uow.changing("job", "J-1")
        decision = first.jobs.fire_at(job, "post", ANA, clock.now())  # co-1 is active: posted
        uow.accepted("job", "J-1", decision)
        first.flows.leave(token)
        closing = second.handle(  # meanwhile co-1 asks to close: no job is open yet
            Fire("account", "co-1", "request_close", ANA, {"confirm": True})
        )
        with pytest.raises(ConcurrentModification):
            uow.commit()

    assert closing.ok
    assert first.get("job", "J-1").state.value == "draft"
    assert problems(first) == []
    first.close()
    second.close()


# --------------------------------------------------------------------------- the outbox


def test_events_committed_behind_a_running_transaction_wait_for_it_and_none_is_skipped(
    url: str, clock: ManualClock
) -> None:
    market = _world(url, clock)
    store = market.store
    assert isinstance(store, PostgresStore)
    cursor = market.events()[-1].seq
    slow = psycopg.connect(url)  # a transaction that took its id first and commits last
    slow.execute(
        "INSERT INTO events (seq, kind, key, position, name, at, data) "
        "SELECT pg_current_xact_id()::text::bigint * 65536, 'job', 'J-9', 0, 'created', now(), "
        "'{}'::jsonb"
    )

    outcome = market.handle(
        Fire("account", "co-1", "suspend", SUP, {"reason": SuspensionReason.BILLING})
    )
    held = store.events_after(cursor, wait=0.2)
    slow.commit()
    after = store.events_after(cursor)
    slow.close()

    assert held == []  # readable only once the older transaction ended
    assert [(e.key, e.name) for e in after] == [
        ("J-9", "created"),  # the older transaction's event comes first: none is skipped
        ("co-1", "suspend"),
        ("C-1", "billing_problem"),
        ("C-2", "billing_problem"),
    ]
    assert after[1:] == list(outcome.events)
    market.close()


def test_consumers_read_at_least_once_in_order_each_from_its_own_cursor(
    url: str, clock: ManualClock
) -> None:
    market = _world(url, clock)
    everything = market.events()
    billing = Consumer(market.store, "billing", clock=clock, page=2)
    search = Consumer(market.store, "search", clock=clock)
    seen: list[StoredEvent] = []

    def fails_on_the_third(event: StoredEvent) -> None:
        if len(seen) == 2:
            msg = "the consumer crashed"
            raise RuntimeError(msg)
        seen.append(event)

    assert billing.handle(seen.append) == 2
    with pytest.raises(RuntimeError):
        billing.handle(fails_on_the_third, limit=5)
    again = Consumer(open_store(url), "billing", clock=clock)  # restarted: the cursor is kept
    while again.handle(seen.append):
        pass

    assert seen == everything  # each event once here: the failed one came again, in order
    assert search.poll(limit=100) == everything
    assert market.store.consumers() == {"billing": everything[-1].seq}
    again.ack(everything[0])  # a cursor never moves backwards
    assert again.position == everything[-1].seq
    again.store.close()
    market.close()


# --------------------------------------------------------------------------- deadlines


def test_a_stale_failed_deadline_is_not_recorded(url: str, clock: ManualClock) -> None:
    market = _world(url, clock)
    market.fire("job", "J-1", "post", ANA)
    job = market.get("job", "J-1")
    due = Due("job", "J-1", job.deadlines[0].due, market.revision("job", "J-1"))
    market.fire("job", "J-1", "remove_posting", ANA)  # another process changed it meanwhile

    market.store.park(due, "failed", clock.now())

    assert market.stuck == []
    market.close()


def test_a_commit_that_sets_a_deadline_due_soon_wakes_the_workers(
    url: str, clock: ManualClock
) -> None:
    market = _world(url, clock)
    market.draft_job("J-2", "co-1")
    store = market.store
    assert isinstance(store, PostgresStore)
    listener = psycopg.connect(url, autocommit=True)
    listener.execute("LISTEN statemachines_due")

    market.fire("job", "J-1", "post", ANA)  # its deadlines are days away: nobody is woken
    quiet = list(listener.notifies(timeout=0.2, stop_after=1))
    store.notify_within = timedelta(days=60)  # as if the workers slept 60 days at a time
    market.fire("job", "J-2", "post", ANA)
    woken = list(listener.notifies(timeout=5, stop_after=1))

    assert quiet == []
    assert [n.channel for n in woken] == ["statemachines_due"]
    listener.close()
    market.close()


# --------------------------------------------------------------------------- scenarios


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_documented_scenario_passes_with_its_world_in_postgresql(
    path: Path, url: str
) -> None:
    scenario = scenarios.load(path)
    store = PostgresStore(url)

    results = scenarios.run(scenario, store=store)

    assert [r.problems for r in results if r.problems] == []
    assert len(results) == len(scenario.steps)
    store.close()


# --------------------------------------------------------------------------- a crash

_CRASH = """
import os, signal, sys
from datetime import datetime
from statemachines import ManualClock, UTC
from statemachines.core.actors import Actor, Role
from statemachines.machines.account.table import SuspensionReason
from statemachines.marketplace.market import Marketplace

clock = ManualClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
market = Marketplace(clock=clock, store=sys.argv[1])

def die_once_the_writes_reached_the_server(what):
    print(what, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

market.store.on_write = die_once_the_writes_reached_the_server
market.fire("account", "co-1", "suspend", Actor("sup", Role.SUPPORT),
            reason=SuspensionReason.BILLING, command_id="suspend-co-1")
print("committed", flush=True)
"""


@pytest.mark.rule("SUSP-1")
def test_a_process_killed_before_its_commit_leaves_nothing_of_its_command(
    url: str, clock: ManualClock
) -> None:
    market = _world(url, clock)
    before = _contents(market)
    events = market.events()

    child = subprocess.run(
        [sys.executable, "-c", _CRASH, url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )

    assert child.returncode == -signal.SIGKILL
    assert child.stdout.split() == ["update"]  # its writes were on the server, uncommitted
    fresh = Marketplace(clock=clock, store=url)
    assert _contents(fresh) == before
    assert fresh.events() == events
    assert fresh.store.outcome("suspend-co-1") is None
    assert problems(fresh) == []
    clock.advance(hours=1)
    fresh.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.BILLING)
    assert [fresh.get("contract", k).state.value for k in ("C-1", "C-2")] == ["paused"] * 2
    for m in (market, fresh):
        m.close()


def test_the_describe_counts_events_not_their_numbers(url: str, clock: ManualClock) -> None:
    from statemachines.marketplace.audit import describe  # noqa: PLC0415

    market = _world(url, clock)

    facts = describe(market)

    assert facts["events"] == len(market.events()) == 6
    assert json.dumps(facts)  # plain data
    market.close()


# --------------------------------------------------------------------------- prepared statements


def test_a_command_s_statements_are_prepared_and_kept_through_a_rollback(
    url: str, clock: ManualClock
) -> None:
    # ADR 0083: prepared on first use; a rolled-back command (a refusal) keeps them
    market = _world(url, clock)
    store = market.store
    assert isinstance(store, PostgresStore)
    market.fire("job", "J-1", "post", ANA, command_id="post-1")
    conn = store.connection()
    prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert prepared is not None
    assert prepared[0] > 0
    refused = market.handle(Fire("job", "J-1", "post", ANA, command_id="post-again"))
    assert refused.error is not None  # already open: refused, rolled back
    again = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert again is not None
    assert again[0] >= prepared[0]
    market.close()


def test_a_url_can_say_to_prepare_nothing(url: str, clock: ManualClock) -> None:
    # behind a PgBouncer older than 1.21 in transaction mode
    glue = "&" if "?" in url else "?"
    store = PostgresStore(f"{url}{glue}prepare_threshold=none")
    assert store.prepare_threshold is None
    assert store.connection().prepare_threshold is None
    market = Marketplace(clock=clock, store=store)
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    market.draft_job("J-1", "co-1")
    market.fire("job", "J-1", "post", ANA, command_id="post-1")
    prepared = store.connection().execute("SELECT count(*) FROM pg_prepared_statements")
    assert prepared.fetchone() == (0,)
    market.close()
    with pytest.raises(InvalidInput, match="prepare_threshold"):
        PostgresStore(f"{url}{glue}prepare_threshold=often")
