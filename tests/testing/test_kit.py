"""The kit's public face: sorted names that all resolve, and a plugin that needs no Hypothesis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

import statemachines.testing as kit
from statemachines import ManualClock, Marketplace
from statemachines.machines.account.table import Account, AccountType
from statemachines.marketplace.stores.memory import MemoryStore
from statemachines.marketplace.stores.postgres import PostgresStore
from statemachines.marketplace.stores.sqlite import SqliteStore
from statemachines.testing import START
from statemachines.testing.plugin import PG_URL, STORES, new_store
from tests.marketplace import postgres_db


def test_every_public_name_is_listed_once_and_resolves() -> None:
    # ruff's RUF022 keeps the list sorted (constants, classes, then functions)
    assert len(kit.__all__) == len(set(kit.__all__))
    for name in kit.__all__:
        assert getattr(kit, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = kit.nothing


def test_the_plugin_and_the_assertions_load_without_hypothesis() -> None:
    script = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import statemachines.testing.plugin as plugin\n"
        "from statemachines.testing import assert_refused, standard_marketplace\n"
        "try:\n"
        "    from statemachines.testing import actors\n"
        "except ImportError as err:\n"
        "    print('lazy:', err)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert "lazy: import of hypothesis halted" in done.stdout


KINDS_OF_STORE = {"memory": MemoryStore, "sqlite": SqliteStore, "postgres": PostgresStore}


def test_the_plugin_gives_a_manual_clock_and_a_marketplace_on_each_store(
    manual_clock: ManualClock,
    marketplace: Marketplace,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    kind = request.node.callspec.params["marketplace"]
    assert kind in STORES
    assert manual_clock.now() == START
    assert marketplace.clock is manual_clock
    assert marketplace.all("account") == []
    assert type(marketplace.store) is KINDS_OF_STORE[kind]
    if kind == "sqlite":
        assert Path(marketplace.store.path).parent == tmp_path  # type: ignore[attr-defined]


def test_the_plugin_runs_on_postgresql_only_when_a_server_is_named() -> None:
    def stores(url: str | None) -> str:
        env = {k: v for k, v in os.environ.items() if k != PG_URL}
        if url is not None:
            env[PG_URL] = url
        script = "from statemachines.testing.plugin import STORES; print(','.join(STORES))"
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
        )
        return done.stdout.strip()

    assert stores(None) == "memory,sqlite"
    assert stores("") == "memory,sqlite"
    assert stores("postgresql://someone@127.0.0.1:1/db") == "memory,sqlite,postgres"


def test_a_store_of_the_plugin_keeps_what_the_marketplace_wrote(tmp_path: Path) -> None:
    clock = ManualClock(START)
    with new_store("sqlite", tmp_path) as path:
        with Marketplace(clock=clock, store=path) as market:
            market.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
        with Marketplace(clock=clock, store=path) as again:
            assert [a.id for a in again.all("account")] == ["fl-1"]


def test_an_unknown_store_is_refused_with_the_names_of_the_stores(tmp_path: Path) -> None:
    refused = pytest.raises(ValueError, match="unknown store 'oracle'; the stores are memory")
    with refused, new_store("oracle", tmp_path):
        pass


def test_a_postgresql_store_is_a_schema_of_its_own_dropped_afterwards(tmp_path: Path) -> None:
    url = postgres_db.server()  # skipped without a server, failed in CI

    def schemas() -> set[str]:
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'statemachines_test_%'"
            ).fetchall()
        return {row[0] for row in rows}

    before = schemas()
    with new_store("postgres", tmp_path) as store:
        assert isinstance(store, str)
        made = schemas() - before
        assert len(made) == 1
        assert made.pop() in store
        with Marketplace(clock=ManualClock(START), store=store) as market:
            market.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
            assert [a.id for a in market.all("account")] == ["fl-1"]
    assert schemas() == before
