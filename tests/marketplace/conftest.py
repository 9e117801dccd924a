"""One suite for every store: the ``store`` fixture runs each marketplace test on each.

``store`` is ``"memory"``, ``"sqlite"`` (a new file in the test's temporary folder)
or ``"postgres"`` (a new schema on the server of ``tests/marketplace/postgres_db.py``).
``make_market(clock)`` opens a marketplace on it. After each test, every aggregate's
recorded events must agree with its history (the outbox tells the same story as the
aggregates); on SQLite and PostgreSQL the database is also opened again with a fresh
store (nothing cached) and every aggregate and record it holds must equal what the
test's marketplace shows, so what the tests checked is what the database keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from statemachines import Contract, ManualClock, Money, to_dict
from statemachines.machines.account.table import Account, AccountType
from statemachines.marketplace.audit import history_problems
from statemachines.marketplace.market import KINDS, Marketplace
from statemachines.marketplace.model import RECORDS, dump_record
from statemachines.marketplace.stores import open_store
from statemachines.marketplace.stores.base import Store
from statemachines.marketplace.stores.sqlite import SqliteStore
from statemachines.testing.cast import ANA, FL
from tests.marketplace import postgres_db

STORES = ("memory", "sqlite", "postgres")

MakeMarket = Callable[[ManualClock], Marketplace]


def work_submitted(market: Marketplace) -> Marketplace:
    """*market* with co-1 (owner ana), fl-1 and fixed-price contract C-1 between them, whose
    US$300.00 milestone is funded and its work submitted, now."""
    now = market.clock.now()
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    market.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    market.add_contract(Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=now))
    market.fire("contract", "C-1", "add_milestone", ANA, amount=Money(30_000))
    market.fire("contract", "C-1", "fund_milestone", ANA)
    market.fire("contract", "C-1", "submit_work", FL)
    return market


def open_market(kind: str, folder: Path, clock: ManualClock) -> Marketplace:
    """A marketplace on a new store of *kind* (a SQLite file goes in *folder*)."""
    if kind == "memory":
        return Marketplace(clock=clock)
    if kind == "postgres":
        return Marketplace(clock=clock, store=postgres_db.new_database())
    n = sum(1 for p in folder.glob("market-*.db"))
    return Marketplace(clock=clock, store=folder / f"market-{n}.db")


def assert_stored(market: Marketplace) -> None:
    """The database, read afresh, holds exactly what *market* shows."""
    store = market.store
    fresh: Store = (
        SqliteStore(store.path, cache=0)
        if isinstance(store, SqliteStore)
        else open_store(store.url)
    )
    assert fresh is not store
    assert type(fresh) is type(store)
    try:
        for kind in KINDS:
            shown = [to_dict(a) for a in market.all(kind)]
            assert [to_dict(a) for a in fresh.values(kind)] == shown, kind
            for agg in market.all(kind):
                assert fresh.revision(kind, agg.id) == store.revision(kind, agg.id) > 0
        for kind in RECORDS:
            shown = [dump_record(kind, r) for r in market.all(kind)]
            assert [dump_record(kind, r) for r in fresh.values(kind)] == shown, kind
    finally:
        fresh.close()


def assert_events_agree(market: Marketplace) -> None:
    """Every aggregate's events are its created snapshot and then its decisions, in order."""
    problems = [
        problem
        for kind in KINDS
        for agg in market.all(kind)
        for problem in history_problems(market, kind, agg.id)
    ]
    assert problems == []


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    """Which store the test runs on (PostgreSQL only with a server: see postgres_db)."""
    kind: str = request.param
    if kind == "postgres":
        postgres_db.server()
    return kind


@pytest.fixture
def make_market(store: str, tmp_path: Path) -> Iterator[MakeMarket]:
    """Opens marketplaces on the test's store; checks SQLite files afterwards."""
    opened: list[Marketplace] = []

    def make(clock: ManualClock) -> Marketplace:
        market = open_market(store, tmp_path, clock)
        opened.append(market)
        return market

    yield make
    for market in opened:
        assert_events_agree(market)
        if store != "memory":
            assert_stored(market)
        market.close()
    postgres_db.drop_all()
