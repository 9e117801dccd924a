"""The SQLite store itself: the file, its migrations, its rows, races between connections and
processes, and a process killed in the middle of a command."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from statemachines import ConcurrentModification, Contract, ManualClock, Money, to_dict
from statemachines.core import snapshots
from statemachines.core.engine import Deadline
from statemachines.errors import InvalidInput, SnapshotError
from statemachines.machines.account.table import Account, AccountType, SuspensionReason
from statemachines.machines.job import Job
from statemachines.marketplace.audit import describe, problems
from statemachines.marketplace.commands import DraftJob, Fire
from statemachines.marketplace.market import KINDS, Marketplace
from statemachines.marketplace.stores import open_store
from statemachines.marketplace.stores.schema import SchemaTooNew
from statemachines.marketplace.stores.sqlite import SqliteStore
from statemachines.marketplace.unit_of_work import UnitOfWork
from tests.conftest import START
from tests.machines.account.conftest import ANA, FL, SUP

ROOT = Path(__file__).resolve().parents[2]


def _world(path: Path, clock: ManualClock) -> Marketplace:
    m = Marketplace(clock=clock, store=path)
    m.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    m.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    for key in ("C-1", "C-2"):
        rate = Money(5_000)
        c = Contract.hourly(key, client="co-1", freelancer="fl-1", rate=rate, started_at=START)
        m.add_contract(c, contact="ana")
    return m


def _contents(market: Marketplace) -> dict[tuple[str, str], object]:
    return {(k, a.id): (to_dict(a), market.revision(k, a.id)) for k in KINDS for a in market.all(k)}


# --------------------------------------------------------------------------- the file


def test_a_file_is_created_in_wal_mode_migrated_once_and_survives_a_restart(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "market.db"
    market = _world(path, clock)
    market.fire("contract", "C-1", "log_time", FL, minutes=90)
    shown = _contents(market)
    market.close()

    again = Marketplace(clock=clock, store=f"sqlite:///{path}")

    assert _contents(again) == shown
    assert again.get("contract", "C-1").history[-1].event == "log_time"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA page_size").fetchone() == (8192,)
        rows = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert rows == [
        (1, "initial"),
        (2, "events_without_aggregate_index"),
        (3, "consumers"),
        (4, "checked"),
        (5, "case_sequences"),
        (7, "connects_and_assistance"),
    ]
    assert describe(again)["aggregates"] == {
        "account": {"active": 2},
        "membership": {"member": 1},
        "contract": {"active": 2},
    }
    assert problems(again) == []
    again.close()


def test_a_stored_row_is_the_aggregates_snapshot(tmp_path: Path, clock: ManualClock) -> None:
    market = _world(tmp_path / "m.db", clock)
    market.fire("contract", "C-1", "log_time", FL, minutes=90)

    with sqlite3.connect(tmp_path / "m.db") as conn:
        data, state, revision = conn.execute(
            "SELECT data, state, revision FROM aggregates WHERE kind = 'contract' AND key = 'C-1'"
        ).fetchone()

    contract = market.get("contract", "C-1")
    assert json.loads(data) == to_dict(contract)
    assert (state, revision) == (contract.state.value, 2)
    market.close()


def test_a_file_made_with_other_pages_keeps_them(tmp_path: Path, clock: ManualClock) -> None:
    # 8 KiB pages are for new files; a file made before (4 KiB, SQLite's default) opens
    # and works as it is
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE before_us (x)")
    market = _world(path, clock)
    market.fire("contract", "C-1", "log_time", FL, minutes=30)
    market.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA page_size").fetchone() == (4096,)
    again = Marketplace(clock=clock, store=path)
    assert again.get("contract", "C-1").history[-1].payload == {"minutes": 30}
    again.close()


def test_a_file_of_an_older_schema_is_migrated_when_it_is_opened(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as conn:  # the file as version 1 left it
        conn.execute("DELETE FROM schema_migrations WHERE version = 2")
        conn.execute("CREATE INDEX events_aggregate ON events (kind, key, position)")

    store = SqliteStore(path)

    assert store.schema_versions() == [1, 2, 3, 4, 5, 7]
    with sqlite3.connect(path) as conn:
        indexes = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert "events_aggregate" not in indexes
    assert "aggregates_due" in indexes
    store.close()


def test_a_database_migrated_by_a_newer_library_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', 'now')")

    with pytest.raises(SchemaTooNew, match="schema version 99"):
        SqliteStore(path)


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("sqlite:relative.db", "a SQLite URL is sqlite:///relative/path.db"),
        ("mysql://somewhere/market", "unknown kind of store"),
    ],
)
def test_a_store_url_that_cannot_be_opened_says_why(target: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        open_store(target)


# --------------------------------------------------------------------------- races


def test_two_connections_racing_on_one_contract_one_wins_the_other_changes_nothing(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "m.db"
    first = _world(path, clock)
    second = Marketplace(clock=clock, store=path)
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
    stored = Marketplace(clock=clock, store=path)
    assert stored.revision("contract", "C-1") == read + 1
    assert [
        p.get("minutes") for p in (d.payload for d in stored.get("contract", "C-1").history)
    ] == [30]
    assert first.get("contract", "C-1").history[-1].payload == {"minutes": 30}  # reloaded
    for m in (first, second, stored):
        m.close()


def test_a_race_on_an_account_a_command_only_glimpsed_names_that_account(
    tmp_path: Path, clock: ManualClock
) -> None:
    # ADR 0029: posting a job reads its company's state without loading the account; if
    # another connection suspends the account meanwhile, the post loses, and says why
    path = tmp_path / "m.db"
    first = _world(path, clock)
    first.draft_job("J-1", "co-1")
    second = Marketplace(clock=clock, store=path)
    read = first.revision("account", "co-1")

    with UnitOfWork(first.store) as uow:
        token = first.flows.enter(uow)
        try:
            job = uow.get("job", "J-1")
            second.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.BILLING)
            uow.changing("job", "J-1")
            decision = first.jobs.fire_at(job, "post", ANA, clock.now())
        finally:
            first.flows.leave(token)
        uow.accepted("job", "J-1", decision)
        with pytest.raises(ConcurrentModification) as info:
            uow.commit()

    err = info.value
    assert (err.kind, err.key, err.expected, err.found) == ("account", "co-1", read, read + 1)
    assert first.get("job", "J-1").state.value == "draft"
    for m in (first, second):
        m.close()


def test_a_command_costs_eight_statements_with_begin_and_commit(
    tmp_path: Path, clock: ManualClock
) -> None:
    # post a job with a command id: (1) BEGIN; (2) is the id new, and when is the first
    # deadline due, in the transaction's snapshot (ADR 0030); (3) the job by key; (4) its
    # company's account state through the party index (ADR 0029); (5) the job's row;
    # (6) its event; (7) the command's outcome; (8) COMMIT. The same-shape raw
    # transaction of benchmarks/bench_service.py costs six.
    market = _world(tmp_path / "m.db", clock)
    market.draft_job("J-1", "co-1")
    store = market.store
    assert isinstance(store, SqliteStore)
    sent: list[str] = []
    store._conn.set_trace_callback(sent.append)
    try:
        market.handle(Fire("job", "J-1", "post", ANA, command_id="post-1")).result()
    finally:
        store._conn.set_trace_callback(None)

    assert [s.split()[0] for s in sent] == [
        "BEGIN", "SELECT", "SELECT", "SELECT", "UPDATE", "INSERT", "INSERT", "COMMIT"
    ], sent  # fmt: skip
    assert "commands" in sent[1]
    assert "json_extract" in sent[3]
    assert market.get("job", "J-1").state.value == "open"
    market.close()


def test_a_write_that_keeps_the_next_due_moment_leaves_the_due_index_alone(
    tmp_path: Path, clock: ManualClock
) -> None:
    # ADR 0044: rewriting an indexed column with the value it has still rewrites its index
    # entry (one more page to the log), so the row's due_us is written only when it changed
    market = _world(tmp_path / "m.db", clock)
    market.draft_job("J-1", "co-1")
    market.fire("contract", "C-1", "log_time", FL, minutes=30)  # sets the week's invoice
    store = market.store
    assert isinstance(store, SqliteStore)
    due_before = store._conn.execute(
        "SELECT due_us FROM aggregates WHERE kind = 'contract' AND key = 'C-1'"
    ).fetchone()[0]
    sent: list[str] = []
    store._conn.set_trace_callback(sent.append)
    try:
        market.fire("contract", "C-1", "log_time", FL, minutes=30)  # the invoice stays
        market.fire("job", "J-1", "post", ANA)  # a posted job gets its first deadlines
    finally:
        store._conn.set_trace_callback(None)

    contract, job = [s for s in sent if s.startswith("UPDATE aggregates")]
    assert "due_us" not in contract
    assert "due_us" in job
    assert market.get("contract", "C-1").deadlines  # it has a next due moment, unchanged
    rows = dict(store._conn.execute("SELECT key, due_us FROM aggregates WHERE due_us IS NOT NULL"))
    assert rows["C-1"] == due_before is not None
    assert rows["J-1"] is not None
    due = store.next_due(market.get("job", "J-1").deadlines[0].due)
    assert due is not None
    market.close()


_WORKER = """
import sys
from datetime import datetime
from statemachines import Actor, ManualClock, Role, UTC, retry
from statemachines.marketplace.market import Marketplace

path, n = sys.argv[1], int(sys.argv[2])
clock = ManualClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
market = Marketplace(clock=clock, store=path)
fl = Actor("fl-1", Role.FREELANCER, party="fl-1")
conflicts = []
for i in range(n):
    retry(
        lambda: market.fire("contract", "C-1", "log_time", fl, minutes=1),
        attempts=1000,
        on_conflict=lambda err, attempt: conflicts.append(err.expected),
    )
print(len(conflicts))
"""


def test_processes_racing_on_one_contract_lose_no_update(
    tmp_path: Path, clock: ManualClock, record_property: Callable[[str, object], None]
) -> None:
    path = tmp_path / "m.db"
    _world(path, clock).close()
    n = 40

    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(path), str(n)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(3)
    ]
    outputs = [w.communicate(timeout=120)[0] for w in workers]

    assert [w.returncode for w in workers] == [0, 0, 0]
    market = Marketplace(clock=clock, store=path)
    logged = [d for d in market.get("contract", "C-1").history if d.event == "log_time"]
    assert len(logged) == 3 * n  # every accepted command is there, exactly once
    assert market.revision("contract", "C-1") == 1 + 3 * n
    assert problems(market) == []
    record_property("conflicts resolved by retry, per process", [int(o) for o in outputs])
    market.close()


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
when = sys.argv[2]
WRITES = {"UPDATE aggregates": "update", "INSERT INTO events": "event",
          "INSERT INTO commands": "command", "INSERT INTO aggregates": "insert"}

def die():
    os.kill(os.getpid(), signal.SIGKILL)

class Connection:  # the store's connection, killing its process at a chosen statement
    def __init__(self, conn):
        self.conn = conn
    def __getattr__(self, name):
        return getattr(self.conn, name)
    def execute(self, sql, *args):
        if sql == "COMMIT" and when == "commit":
            print("COMMIT", flush=True)
            die()
        cursor = self.conn.execute(sql, *args)
        wrote = next((w for s, w in WRITES.items() if sql.startswith(s)), None)
        if wrote is not None:
            print(wrote, flush=True)
            if when == "first":
                die()
        return cursor

market.store._conn = Connection(market.store._conn)
market.fire("account", "co-1", "suspend", Actor("sup", Role.SUPPORT),
            reason=SuspensionReason.BILLING)
print("committed", flush=True)
"""


@pytest.mark.rule("SUSP-1")
@pytest.mark.parametrize(
    ("when", "written"),
    [
        ("first", ["update"]),  # after the first write
        # every write (the three events in one statement), not COMMIT
        ("commit", ["update"] * 3 + ["event", "COMMIT"]),
    ],
)
def test_a_process_killed_in_the_middle_of_a_command_leaves_nothing_of_it(
    tmp_path: Path, clock: ManualClock, when: str, written: list[str]
) -> None:
    path = tmp_path / "m.db"
    market = _world(path, clock)
    before = _contents(market)
    events = market.events()
    market.close()

    child = subprocess.run(
        [sys.executable, "-c", _CRASH, str(path), when],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )

    assert child.returncode == -signal.SIGKILL, child.stderr
    # killed in the suspension's unit of work (the account, then its two hourly contracts)
    assert child.stdout.split() == written
    reopened = Marketplace(clock=clock, store=path)
    assert _contents(reopened) == before  # nothing of that command, everything else intact
    assert reopened.events() == events
    assert problems(reopened) == []
    clock.advance(hours=1)
    reopened.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.BILLING)
    assert [reopened.get("contract", k).state.value for k in ("C-1", "C-2")] == ["paused"] * 2
    assert problems(reopened) == []
    reopened.close()


def test_a_stale_cached_aggregate_is_read_again_from_the_file(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "m.db"
    first = _world(path, clock)
    cached = first.get("contract", "C-1")
    second = Marketplace(clock=clock, store=path)
    second.fire("contract", "C-1", "end_contract", ANA)

    fresh = first.get("contract", "C-1")

    assert cached.state.value == "active"
    assert fresh.state is second.get("contract", "C-1").state
    assert fresh.state.value != "active"
    assert fresh is not cached
    first.close()
    second.close()


@pytest.mark.rule("JOB-2")
def test_a_failed_deadline_stays_recorded_and_parked_after_a_restart(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "m.db"
    market = _world(path, clock)
    odd = Job(id="J-9", company="co-1", deadlines=(Deadline("odd", "expire", START),))
    market.handle(DraftJob(odd)).result()  # a draft cannot expire: this deadline fails
    clock.advance(hours=1)
    market.advance()
    market.close()

    again = Marketplace(clock=clock, store=path)

    assert [(kind, key) for kind, key, _ in again.stuck] == [("job", "J-9")]
    assert again.store.next_due(clock.now()) is None  # parked: not taken again
    assert again.advance() == []
    assert len(again.stuck) == 1
    again.close()


# --------------------------------------------------------------------------- checked rows


def _loads_checking_invariants(
    path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, key: str
) -> tuple[object, int]:
    """Read *key* with a fresh store (nothing cached); how often its invariants ran."""
    ran = []

    def counted(agg: object) -> list[str]:
        ran.append(agg)
        return []

    registered = snapshots._INVARIANTS[Contract]
    monkeypatch.setitem(snapshots._INVARIANTS, Contract, (*registered, counted))
    store = SqliteStore(path, cache=0)
    try:
        return store.get(kind, key), len(ran)
    finally:
        store.close()
        monkeypatch.setitem(snapshots._INVARIANTS, Contract, registered)


def test_a_row_the_store_wrote_is_read_without_running_its_invariants_again(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.db"
    market = _world(path, clock)
    market.fire("contract", "C-1", "log_time", FL, minutes=90)  # loaded, changed, written
    with sqlite3.connect(path) as conn:
        data, checked = conn.execute(
            "SELECT data, checked FROM aggregates WHERE kind = 'contract' AND key = 'C-1'"
        ).fetchone()
        (accounts,) = conn.execute(
            "SELECT count(*) FROM aggregates WHERE kind = 'account' AND checked IS NULL"
        ).fetchone()

    loaded, runs = _loads_checking_invariants(path, monkeypatch, "contract", "C-1")

    assert checked == zlib.crc32(data.encode())
    assert accounts == 2  # accounts have no registered invariants: nothing to record
    assert runs == 0
    assert to_dict(loaded) == to_dict(market.get("contract", "C-1"))
    market.close()


def test_a_row_edited_outside_the_library_gets_every_check(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.db"
    _world(path, clock).close()
    with sqlite3.connect(path) as conn:  # valid JSON and types; an active contract never hides
        conn.execute(
            "UPDATE aggregates SET data = json_set(data, '$.feedback_withdrawn', json('true')) "
            "WHERE kind = 'contract' AND key = 'C-1'"
        )

    _, runs = _loads_checking_invariants(path, monkeypatch, "contract", "C-2")
    with pytest.raises(SnapshotError, match="C-1 is active but feedback_withdrawn=True"):
        _loads_checking_invariants(path, monkeypatch, "contract", "C-1")
    assert runs == 0  # C-2's row is as the store wrote it


def test_an_imported_aggregate_that_breaks_its_invariants_is_not_marked_checked(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "m.db"
    market = _world(path, clock)
    odd = Contract.hourly(
        "C-9", client="co-1", freelancer="fl-1", rate=Money(5_000), started_at=START
    )
    odd.feedback_withdrawn = True  # built by hand: the machine would never leave it so
    market.add_contract(odd)
    market.close()

    with sqlite3.connect(path) as conn:
        (checked,) = conn.execute(
            "SELECT checked FROM aggregates WHERE kind = 'contract' AND key = 'C-9'"
        ).fetchone()
    store = SqliteStore(path, cache=0)

    assert checked is None
    with pytest.raises(SnapshotError, match="C-9 is active but feedback_withdrawn=True"):
        store.get("contract", "C-9")
    store.close()


def test_check_db_runs_every_invariant_the_loads_of_checked_rows_skip(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "m.db"
    _world(path, clock).close()
    with sqlite3.connect(path) as conn:  # edited, and its checksum forged to match
        conn.execute(
            "UPDATE aggregates SET data = json_set(data, '$.feedback_withdrawn', json('true')) "
            "WHERE kind = 'contract' AND key = 'C-1'"
        )
        (data,) = conn.execute(
            "SELECT data FROM aggregates WHERE kind = 'contract' AND key = 'C-1'"
        ).fetchone()
        conn.execute(
            "UPDATE aggregates SET checked = ? WHERE kind = 'contract' AND key = 'C-1'",
            (zlib.crc32(data.encode()),),
        )

    market = Marketplace(clock=clock, store=path)

    assert market.get("contract", "C-1").feedback_withdrawn is True  # read as checked
    assert problems(market) == [
        "contract C-1 breaks its invariants: C-1 is active but feedback_withdrawn=True"
    ]
    market.close()
