"""docs/deploy.md runs as written on PostgreSQL: its outbox example and its lag queries."""

from __future__ import annotations

import doctest
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from statemachines import Actor, ManualClock, Role, SystemClock
from statemachines.machines.account.table import Account, AccountType
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.outbox import Consumer
from tests.marketplace import postgres_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def _sql_blocks() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


@pytest.fixture
def url() -> Iterator[str]:
    yield postgres_db.new_database()
    postgres_db.drop_all()


def test_the_outbox_example_runs_as_written(url: str) -> None:
    failures, tried = doctest.testfile(
        str(DOC),
        module_relative=False,
        globs={"URL": url},
        optionflags=doctest.ELLIPSIS,
        verbose=False,
    )

    assert tried >= 20
    assert failures == 0


def test_the_lag_queries_count_what_is_late_parked_and_unread(url: str) -> None:
    due, stuck, outbox = _sql_blocks()
    # a job posted 40 days ago by the server's clock (the queries use now()): its warning
    # is due and unfired
    clock = ManualClock(SystemClock().now() - timedelta(days=40))
    market = Marketplace(clock=clock, store=url)
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="o-1", company="co-1"))
    market.draft_job("J-1", "co-1")
    market.draft_job("J-2", "co-1")
    market.fire("job", "J-1", "post", Actor("o-1", Role.CLIENT_OWNER, party="co-1"))
    billing = Consumer(market.store, "billing", clock=clock)
    billing.ack(billing.poll(limit=1)[0])  # one event handled of all those recorded
    recorded = len(market.events())
    with psycopg.connect(url) as conn:
        late = conn.execute(due).fetchall()
        parked = conn.execute(stuck).fetchall()
        behind = conn.execute(outbox).fetchall()
    market.close()

    [(count, late_by)] = late
    assert count == 1  # J-1's warning (its expiry is the next deadline, not yet its due)
    assert timedelta(days=14) < late_by < timedelta(days=16)  # the warning fell due on day 25
    assert parked == []
    [(name, unread, since)] = behind
    assert (name, unread) == ("billing", recorded - 1)
    assert recorded >= 4
    assert since > timedelta(days=39)
