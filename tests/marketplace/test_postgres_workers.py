"""Deadline workers on PostgreSQL: several share a backlog and fire each deadline once, one
killed in the middle of a transaction loses nothing, a notification wakes a sleeping one,
SIGTERM stops one cleanly, and the ``worker`` command."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from statemachines import ManualClock, SystemClock
from statemachines.cli import main
from statemachines.marketplace.audit import problems
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.stores.postgres import PostgresStore
from statemachines.marketplace.worker import Worker
from tests.marketplace import postgres_db
from tests.marketplace.postgres_processes import START, build_world, owner
from tests.marketplace.postgres_wire import WireCounter

ROOT = Path(__file__).resolve().parents[2]
WAIT = 120.0
"""Seconds any one process may take (a loaded machine is slow; a hung one fails)."""


@pytest.fixture
def url() -> Iterator[str]:
    """A URL on a new, empty schema (dropped after the test)."""
    yield postgres_db.new_database()
    postgres_db.drop_all()


def _worker(url: str, *, kill: bool = False) -> subprocess.Popen[str]:
    """A worker process on real time (speed 1, START at the wall clock's now)."""
    args = ["worker", url, SystemClock().now().isoformat(), "1", *(["kill"] if kill else [])]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.marketplace.postgres_processes", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _due(store: PostgresStore) -> int:
    return int(store.lag(START)["due"])


def _until(condition: Any, what: str) -> None:
    end = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < end, f"waited {WAIT:.0f}s for {what}"
        time.sleep(0.05)


def _stop(worker: subprocess.Popen[str]) -> dict[str, Any]:
    """SIGTERM, once the worker handles it (a signal before that would kill it)."""
    assert worker.stdout is not None
    ready = worker.stdout.readline()
    assert json.loads(ready) == {"ready": True}, ready
    worker.send_signal(signal.SIGTERM)
    out = worker.communicate(timeout=WAIT)[0]
    assert worker.returncode == 0, out
    summary: dict[str, Any] = json.loads(out.splitlines()[-1])
    return summary


def _fired(market: Marketplace, kind: str, key: str, event: str) -> int:
    return sum(1 for d in market.get(kind, key).history if d.event == event)


def test_two_workers_share_a_backlog_and_fire_each_deadline_exactly_once(url: str) -> None:
    jobs = 12
    market = build_world(url, jobs=jobs, since=timedelta(days=40))  # every deadline is due
    store = market.store
    assert isinstance(store, PostgresStore)
    backlog = _due(store)

    workers = [_worker(url), _worker(url)]
    _until(lambda: _due(store) == 0, "the backlog to drain")
    summaries = [_stop(w) for w in workers]

    taken = Counter(tuple(item) for s in summaries for item in s["taken"])
    assert backlog >= jobs  # aggregates with a deadline due (each job has two)
    assert sum(s["fired"] for s in summaries) == len(taken) >= backlog
    assert max(taken.values()) == 1  # no deadline was taken twice
    assert [s["parked"] for s in summaries] == [0, 0]
    for n in range(1, jobs + 1):
        assert _fired(market, "job", f"J-{n}", "warn_expiry") == 1
        assert _fired(market, "job", f"J-{n}", "expire") == 1
    assert problems(market) == []
    market.close()


def test_a_worker_killed_in_the_middle_of_a_transaction_loses_nothing(url: str) -> None:
    market = build_world(url, jobs=3, since=timedelta(days=40))
    store = market.store
    assert isinstance(store, PostgresStore)
    doomed = _worker(url, kill=True)
    out = doomed.communicate(timeout=WAIT)[0]
    dying = json.loads(out.splitlines()[-1])["dying"]  # what it held when it died
    assert doomed.returncode == -signal.SIGKILL
    assert _due(store) > 0  # its transaction rolled back: the deadline is due again

    survivor = _worker(url)
    _until(lambda: _due(store) == 0, "the other worker to fire everything")
    summary = _stop(survivor)

    assert dying in [item[:2] for item in summary["taken"]]  # the row was released, taken
    for n in range(1, 4):
        assert _fired(market, "job", f"J-{n}", "expire") == 1
    assert problems(market) == []
    market.close()


def test_a_sleeping_worker_wakes_when_a_commit_sets_a_deadline_due_soon(url: str) -> None:
    market = build_world(url, jobs=0)
    market.draft_job("J-9", "co-1")
    worker = Worker(url, clock=ManualClock(START + timedelta(days=60)), poll=30)
    worker.store.notify_within = timedelta(days=60)  # unused by the worker: it only listens
    store = market.store
    assert isinstance(store, PostgresStore)
    store.notify_within = timedelta(days=60)  # the deadline is due "soon": within 60 days
    running = threading.Thread(target=worker.run)
    running.start()
    time.sleep(0.5)  # it has found nothing due and sleeps, up to 30 s

    clock = market.clock
    assert isinstance(clock, ManualClock)
    clock.set(START)
    market.fire("job", "J-9", "post", owner("co-1"))
    _until(lambda: market.get("job", "J-9").state.value == "expired", "the worker to wake")
    worker.stop()
    running.join(timeout=WAIT)

    assert not running.is_alive()
    assert worker.fired >= 2  # warned, then expired: long before its 30 s sleep ended
    worker.store.close()
    market.close()


def test_a_worker_behind_a_pool_listens_on_the_server_itself(url: str) -> None:
    # the store's URL goes through a proxy (a stand-in for PgBouncer in transaction mode,
    # which would not keep a LISTEN); the worker listens on the server's own URL
    market = build_world(url, jobs=0)
    market.draft_job("J-9", "co-1")
    store = market.store
    assert isinstance(store, PostgresStore)
    store.notify_within = timedelta(days=60)
    with WireCounter(url) as pool:
        worker = Worker(
            pool.url, clock=ManualClock(START + timedelta(days=60)), poll=30, listen=url
        )
        running = threading.Thread(target=worker.run)
        running.start()
        time.sleep(0.5)  # it has found nothing due and sleeps, up to 30 s
        clock = market.clock
        assert isinstance(clock, ManualClock)
        clock.set(START)
        market.fire("job", "J-9", "post", owner("co-1"))
        _until(lambda: market.get("job", "J-9").state.value == "expired", "the worker to wake")
        worker.stop()
        running.join(timeout=WAIT)
        sent = list(pool.log)

    assert not running.is_alive()
    assert worker.fired >= 2
    assert any(line.startswith("SELECT id, kind, key") for line in sent)  # it fired through it
    assert not any("LISTEN" in line for line in sent)
    worker.store.close()
    market.close()


def test_the_worker_command_fires_what_is_due_and_stops_cleanly_on_sigterm(url: str) -> None:
    market = build_world(url, jobs=2, since=timedelta(days=0))  # due long before today
    store = market.store
    assert isinstance(store, PostgresStore)
    command = [sys.executable, "-m", "statemachines", "worker", "--db", url, "--poll", "30"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    first = process.stdout.readline()
    _until(lambda: store.lag(SystemClock().now())["due"] == 0, "the worker to fire")
    time.sleep(0.3)  # now it sleeps, up to 30 s

    stopped = time.monotonic()
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=WAIT)[0]

    assert process.returncode == 0
    assert time.monotonic() - stopped < 5  # it did not sleep its 30 seconds out
    assert "firing due deadlines" in first
    assert "fired" in rest
    assert _fired(market, "job", "J-1", "expire") == 1
    assert problems(market) == []
    market.close()


def test_the_worker_command_refuses_what_cannot_work(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    market = build_world(url, jobs=1, since=timedelta(days=0))
    market.close()

    assert main(["worker", "--db", str(tmp_path / "market.db")]) == 2
    assert main(["worker", "--db", url, "--poll", "0"]) == 2
    assert main(["worker", "--db", url, "--once"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"statemachines: error: --db {tmp_path / 'market.db'}: a worker needs a PostgreSQL URL "
        "(postgresql://user@host/db); with SQLite, Marketplace.advance() fires the deadlines",
        "statemachines: error: --poll 0.0: give a positive number of seconds",
    ]
