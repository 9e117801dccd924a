"""Real processes on one PostgreSQL marketplace: K command processes (K = 2 and 4) send random
commands at a shared set of aggregates while 2 workers fire deadlines; then one process is
killed in the middle of a transaction, and the server is restarted in the middle of a run.

Afterwards, every time (:func:`_check`):

(a) every accepted command's events are recorded exactly once, in one transaction, and
    its own decision is in its aggregate's history;
(b) replaying each aggregate's decisions on its first snapshot gives its stored state;
(c) the invariants of rulebook §6 hold (accounts and contracts), and every aggregate's
    events agree with its history;
(d) no command with an id ran twice: a repeat got the stored outcome;
(e) lost races surfaced as ``ConcurrentModification`` and the retry helper resolved each
    one (no command failed with it);

and every deadline due by the end of the run was fired, once (the workers never skip
one: nothing is left due).

Time is simulated (``postgres_processes.ScaledClock``): one real second is one day, so
the weekly invoices and 30-day job posts fall due while the processes run.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from statemachines import ManualClock, SystemClock, from_dict, to_dict
from statemachines.core.engine import Decision, Workflow
from statemachines.machines.account.table import AccountLifecycle, Obligations
from statemachines.machines.contract.table import Contract, ContractLifecycle
from statemachines.machines.invariants import check_contract
from statemachines.machines.job import JobPosting
from statemachines.machines.team import NO_FACTS, TeamMembership
from statemachines.marketplace.audit import problems
from statemachines.marketplace.market import KINDS, Marketplace
from statemachines.marketplace.reads import World
from statemachines.marketplace.stores.postgres import PostgresStore
from tests.marketplace import postgres_db
from tests.marketplace.postgres_processes import ScaledClock, build_world

ROOT = Path(__file__).resolve().parents[2]
SPEED = 86_400.0
"""Simulated seconds per real second: a day a second."""
COMMANDS = 160
"""Commands per run, shared among the K processes (each of them about 5 ms on an idle
machine, so a run takes a few seconds; the CI run's time budget decides)."""
WAIT = 300.0


@pytest.fixture
def url() -> Iterator[str]:
    """A URL on a new, empty schema (dropped after the test)."""
    try:
        yield postgres_db.new_database()
    finally:
        while RUNNING:
            RUNNING.pop().end()
        postgres_db.drop_all()


class Running:
    """A process of ``postgres_processes`` whose output lines are collected as they come."""

    def __init__(self, *args: str) -> None:
        self.errors = tempfile.TemporaryFile("w+")  # noqa: SIM115  (closed by end())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.marketplace.postgres_processes", *args],
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            cwd=ROOT,
        )
        self.lines: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        RUNNING.append(self)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(json.loads(line))

    def wait(self) -> int:
        code = self.process.wait(timeout=WAIT)
        self.reader.join(timeout=WAIT)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code

    def stderr(self) -> str:
        """What the process wrote to its standard error (a traceback, if it failed)."""
        self.errors.seek(0)
        return self.errors.read()

    def succeeded(self) -> bool:
        """Wait for the end; report (by failing the test) what made it exit non-zero."""
        code = self.wait()
        assert code == 0, f"exit {code}: {self.stderr()[-3000:]}"
        return True

    def end(self) -> None:
        """Kill the process if it still runs (a test that failed), and free its pipes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT)
        self.reader.join(timeout=WAIT)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.errors.close()

    def stop(self) -> dict[str, Any]:
        """SIGTERM (a worker): it finishes the deadline in hand and says what it did. Sent
        once the worker said it is ready for it (before that, it would kill it)."""
        end = time.monotonic() + WAIT
        while not self.lines and self.process.poll() is None:
            assert time.monotonic() < end, "the worker never said it was ready"
            time.sleep(0.02)
        assert self.lines[:1] == [{"ready": True}], (self.lines, self.stderr()[-3000:])
        self.process.send_signal(signal.SIGTERM)
        assert self.succeeded(), self.lines
        return self.lines[-1]


RUNNING: list[Running] = []
"""The processes a test started: :func:`url` ends every one of them, even if it failed."""


def _commands(url: str, k: int, epoch: datetime, kill: int | None = None) -> list[Running]:
    each = str(COMMANDS // k)
    start = epoch.isoformat()
    extra = [] if kill is None else [str(kill)]
    return [
        Running("commands", url, str(seed), each, start, str(SPEED), *(extra if seed == 1 else []))
        for seed in range(1, k + 1)
    ]


def _workers(url: str, epoch: datetime, n: int = 2) -> list[Running]:
    return [Running("worker", url, epoch.isoformat(), str(SPEED)) for _ in range(n)]


def _drained(store: PostgresStore, by: datetime) -> None:
    """Wait until nothing due by *by* is left: the workers skipped no deadline."""
    end = time.monotonic() + WAIT
    while store.lag(by)["due"]:
        assert time.monotonic() < end, f"deadlines due by {by} were never fired"
        time.sleep(0.05)


# --------------------------------------------------------------------------- checks


def _replayed(kind: str, first: Mapping[str, Any], decisions: list[Decision]) -> Any:
    """*first* (a snapshot) with *decisions* applied again by its machine. The guards that
    read other aggregates are told what they were told when the decisions were accepted
    (the company active), since the world has moved on."""
    start = from_dict(first)
    if not decisions:
        return start
    clock = ManualClock(decisions[-1].at)
    flows: dict[str, Workflow[Any, Any]] = {
        "account": AccountLifecycle(clock=clock, obligations=lambda acc, now: Obligations()),
        "membership": TeamMembership(clock=clock, facts=lambda m, now: NO_FACTS),
        "job": JobPosting(clock=clock, facts=lambda job, now: World({job.company: "active"}, {})),
        "contract": ContractLifecycle(clock=clock),
    }
    return flows[kind].replay(start, [*start.history, *decisions])


def _check(
    url: str, epoch: datetime, lines: list[dict[str, Any]], *, restarted: bool = False
) -> dict[str, Any]:
    """(a)-(e) of the module's documentation; returns counts for the test's report."""
    assert not [line for line in lines if "unresolved" in line]
    sent = [line for line in lines if "cid" in line]
    with psycopg.connect(url) as conn:
        recorded: dict[str, list[int]] = dict(
            conn.execute(
                "SELECT command_id, array_agg(seq ORDER BY seq) FROM events "
                "WHERE command_id IS NOT NULL GROUP BY command_id"
            ).fetchall()
        )
        outcomes: dict[str, bool] = dict(
            conn.execute("SELECT command_id, error IS NULL FROM commands").fetchall()
        )
        named = {
            seq: (kind, key, name)
            for seq, kind, key, name in conn.execute(
                "SELECT seq, kind, key, name FROM events WHERE command_id IS NOT NULL"
            )
        }
        twice = conn.execute(
            "SELECT kind, key, position FROM events WHERE name <> 'created' "
            "GROUP BY 1, 2, 3 HAVING count(*) > 1"
        ).fetchall()

    by_cid: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in sent:
        by_cid[line["cid"]].append(line)
    for cid, reports in by_cid.items():
        first = reports[0]
        # (d) every report of one id tells the same outcome; only one ran (the rest repeated)
        assert all(
            (r["ok"], r["seqs"], r["error"]) == (first["ok"], first["seqs"], first["error"])
            for r in reports
        ), reports
        assert sum(not r["repeated"] for r in reports) <= 1, reports
        if not restarted:
            assert not first["repeated"], reports
        assert outcomes.get(cid) is first["ok"], cid  # stored once, as it turned out
        if first["ok"]:
            # (a) its events, once, in one transaction, with its own decision; before it
            # only the deadlines of its aggregate that fell due first (ADR 0015)
            assert recorded[cid] == first["seqs"], cid
            assert len({seq >> 16 for seq in first["seqs"]}) == 1
            caused = [named[seq] for seq in first["seqs"]]
            own = (first["kind"], first["key"], first["event"])
            assert own in caused, (cid, caused)
            before = caused[: caused.index(own)]
            assert all((k, key) == own[:2] for k, key, _ in before), (cid, caused)
        else:
            assert cid not in recorded
        # (e) a lost race never reached the client: the retry helper resolved it
        assert first["error"] != "ConcurrentModification"
    assert set(recorded) <= set(by_cid)  # nothing committed that no process sent
    assert twice == []  # no decision recorded twice

    now = ScaledClock(epoch, SPEED).now()
    market = Marketplace(clock=ManualClock(now), store=PostgresStore(url))
    market.advance()  # what fell due since the workers stopped
    replays = 0
    for kind in KINDS:
        for agg in market.all(kind):
            events = market.history(kind, agg.id)
            assert events[0].snapshot is not None
            decisions = [e.decision for e in events[1:] if e.decision is not None]
            assert to_dict(_replayed(kind, events[0].snapshot, decisions)) == to_dict(agg)  # (b)
            replays += 1
    contracts: list[Contract] = market.all("contract")
    assert problems(market) == []  # (c) accounts (rulebook §6.1), events agree with histories
    assert [p for c in contracts for p in check_contract(c, now)] == []  # (c) contracts, money
    market.close()
    return {
        "commands": len(by_cid),
        "accepted": sum(1 for r in by_cid.values() if r[0]["ok"]),
        "repeats": len(sent) - len(by_cid),
        "conflicts resolved by retry": sum(line["conflicts"] for line in sent),
        "refused": dict(Counter(r[0]["error"] for r in by_cid.values() if not r[0]["ok"])),
        "aggregates replayed": replays,
    }


# --------------------------------------------------------------------------- runs


@pytest.mark.parametrize("k", [2, 4])
def test_k_command_processes_and_two_workers_on_shared_aggregates(
    url: str, k: int, record_property: Any
) -> None:
    build_world(url).close()
    epoch = SystemClock().now()
    workers = _workers(url, epoch)
    senders = _commands(url, k, epoch)

    assert all(s.succeeded() for s in senders)
    store = PostgresStore(url)
    _drained(store, ScaledClock(epoch, SPEED).now())
    # The commands fire what is due before they decide (ADR 0015), so on a busy machine
    # they may leave the workers nothing: the next deadline, due once they stopped, is
    # the workers' alone.
    later = store.first_due()
    if later is not None:
        _drained(store, later)
    summaries = [w.stop() for w in workers]
    store.close()

    counts = _check(url, epoch, [line for s in senders for line in s.lines])
    counts["deadlines fired by the workers"] = sum(s["fired"] for s in summaries)
    record_property("run", counts)
    assert counts["conflicts resolved by retry"] > 0  # the processes did race
    assert counts["accepted"] > counts["commands"] // 2
    assert counts["deadlines fired by the workers"] > 0


def test_a_command_process_killed_in_the_middle_of_a_transaction_leaves_nothing_of_it(
    url: str,
) -> None:
    build_world(url).close()
    epoch = SystemClock().now()
    workers = _workers(url, epoch, n=1)
    senders = _commands(url, 2, epoch, kill=20)  # the first dies in its 20th command

    codes = [s.wait() for s in senders]
    store = PostgresStore(url)
    _drained(store, ScaledClock(epoch, SPEED).now())
    workers[0].stop()
    store.close()

    assert codes == [-signal.SIGKILL, 0], senders[1].stderr()[-3000:]
    dying = senders[0].lines[-1]["dying"]
    assert dying == "p1-20"
    with psycopg.connect(url) as conn:
        left = conn.execute(
            "SELECT (SELECT count(*) FROM commands WHERE command_id = %s),"
            " (SELECT count(*) FROM events WHERE command_id = %s)",
            (dying, dying),
        ).fetchone()
    assert left == (0, 0)  # nothing of it is visible
    _check(url, epoch, [line for s in senders for line in s.lines if "cid" in line])


def _restart_server() -> None:
    """Restart the throwaway server at once (``-m immediate``: as if it crashed)."""
    bin_dir = os.environ.get("STATEMACHINES_PG_BIN")
    data = os.environ.get("STATEMACHINES_PG_DATA")
    if not (bin_dir and data):
        reason = "restarting needs the throwaway server of scripts/test (STATEMACHINES_PG_DATA)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    command = [
        f"{bin_dir}/pg_ctl",
        "-D",
        data,
        "-m",
        "immediate",
        "-w",
        "-t",
        "120",
        "-l",
        str(Path(data).parent / "server.log"),
        "restart",
    ]
    owner = pwd.getpwuid(os.stat(data).st_uid).pw_name
    if os.getuid() == 0 and owner != "root":
        command = ["runuser", "-u", owner, "--", *command]
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=WAIT)


def test_a_server_restarted_in_the_middle_of_a_run_loses_nothing_committed(url: str) -> None:
    build_world(url).close()
    epoch = SystemClock().now()
    workers = _workers(url, epoch, n=1)
    senders = _commands(url, 2, epoch)
    end = time.monotonic() + WAIT
    while len(senders[0].lines) < 15:  # well into the run
        assert time.monotonic() < end
        time.sleep(0.02)
    before = len(senders[0].lines) + len(senders[1].lines)

    _restart_server()

    assert all(s.succeeded() for s in senders)
    store = PostgresStore(url)
    _drained(store, ScaledClock(epoch, SPEED).now())
    summary = workers[0].stop()
    store.close()

    lines = [line for s in senders for line in s.lines]
    assert len(lines) == COMMANDS // 2 * 2 > before  # every command was answered, after too
    counts = _check(url, epoch, lines, restarted=True)
    assert counts["accepted"] > 0
    assert summary["disconnections"] >= 1  # the worker lost its connection and went on
