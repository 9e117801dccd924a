"""One suite for every store: the ``store`` fixture runs each marketplace test on each.

``store`` is ``"memory"`` or ``"sqlite"`` (a new file in the test's temporary
folder). ``make_market(clock)`` opens a marketplace on it. After each test, every
aggregate's recorded events must agree with its history (the outbox tells the same
story as the aggregates); on SQLite the file is also opened again with a fresh store
(nothing cached) and every aggregate and record it holds must equal what the test's
marketplace shows, so what the tests checked is what the database keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from statemachines import ManualClock, to_dict
from statemachines.marketplace.audit import history_problems
from statemachines.marketplace.market import KINDS, Marketplace
from statemachines.marketplace.model import RECORDS, dump_record
from statemachines.marketplace.stores.sqlite import SqliteStore

STORES = ("memory", "sqlite")

MakeMarket = Callable[[ManualClock], Marketplace]


def open_market(kind: str, folder: Path, clock: ManualClock) -> Marketplace:
    """A marketplace on a new store of *kind* (a SQLite file goes in *folder*)."""
    if kind == "memory":
        return Marketplace(clock=clock)
    n = sum(1 for p in folder.glob("market-*.db"))
    return Marketplace(clock=clock, store=folder / f"market-{n}.db")


def assert_stored(market: Marketplace) -> None:
    """The SQLite file, read afresh, holds exactly what *market* shows."""
    store = market.store
    assert isinstance(store, SqliteStore)
    fresh = SqliteStore(store.path, cache=0)
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
    """Which store the test runs on."""
    kind: str = request.param
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
        if store == "sqlite":
            assert_stored(market)
        market.close()
