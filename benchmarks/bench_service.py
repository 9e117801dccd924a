"""The marketplace service: commands and deadlines per second on SQLite and in memory, by size.

Run: ``.venv/bin/python benchmarks/bench_service.py [--quick] [--sizes 10000,100000,1000000]``.
Everything is measured in one run, and the script prints ratios beside the figures:

* **SQLite commands/s** at each size (a tenth of the aggregates are client accounts, the
  rest their draft job posts, bulk-loaded straight into the store). The command posts a
  random draft job, with a command id: it checks the id, looks for due deadlines, reads
  the job by key and its company's account through the party index, fires, writes the
  job, its event and the command's outcome, and commits. The anchor is the raw ``sqlite3``
  transaction of the same shape (read one row by key, update it, insert two rows; WAL,
  ``synchronous=NORMAL``) on a table of the same size, measured in the same run.
  Goals: at least 2,000 commands/s, at least 0.2x the anchor, flat from the smallest size
  to the largest.
* **SQLite deadlines/s**: the posted jobs' warnings and expiries, fired from the due index
  by :meth:`~statemachines.marketplace.market.Marketplace.advance`.
* **Memory**: one command (the median of many) at 1,000, 10,000 and 100,000 aggregates,
  flat; and 100 due deadlines fired at 100,000 aggregates (goal: well under 10 ms).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from statemachines import UTC, Actor, ManualClock, Role, to_dict
from statemachines.machines.account.table import Account, AccountType
from statemachines.machines.job import Job, JobPosting
from statemachines.marketplace.commands import Fire
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.stores.memory import MemoryStore
from statemachines.marketplace.stores.sqlite import SqliteStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def world(n: int) -> Iterator[tuple[str, Any]]:
    """*n* aggregates: client accounts co-0.. (a tenth) and their draft jobs J-0.."""
    accounts = max(n // 10, 1)
    for i in range(accounts):
        yield (
            "account",
            Account(id=f"co-{i}", type=AccountType.CLIENT, owner=f"o-{i}", company=f"co-{i}"),
        )
    for j in range(n - accounts):
        yield "job", Job(id=f"J-{j}", company=f"co-{j % accounts}")


def owner(job: int, n: int) -> Actor:
    accounts = max(n // 10, 1)
    i = job % accounts
    return Actor(f"o-{i}", Role.CLIENT_OWNER, party=f"co-{i}")


# --------------------------------------------------------------------------- SQLite


class Raw:
    """The anchor: read one row by key, update it, insert two rows (WAL, NORMAL).

    With *grow*, the update writes what the command writes (a posted job's snapshot, which
    is longer than a draft's): in a table whose pages are full, as a bulk load leaves them,
    a longer row splits its page, and the commit writes several pages instead of one.
    """

    def __init__(self, folder: Path, n: int, *, grow: bool = False) -> None:
        self.grow = grow
        self.conn = conn = sqlite3.connect(folder / f"raw-{n}-{grow}.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE items (key TEXT PRIMARY KEY, revision INTEGER, data TEXT)")
        conn.execute("CREATE TABLE log (seq INTEGER PRIMARY KEY, key TEXT, at TEXT, data TEXT)")
        conn.execute("CREATE TABLE done (id TEXT PRIMARY KEY, data TEXT) WITHOUT ROWID")
        body = json.dumps(to_dict(Job(id="J-0", company="co-0")))
        posted = Job(id="J-0", company="co-0")
        JobPosting(clock=ManualClock(START)).fire(posted, "post", owner(0, n))
        self.posted = json.dumps(to_dict(posted))
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO items VALUES (?, 1, ?)", ((f"J-{i}", body) for i in range(n)))
        conn.execute("COMMIT")

    def run(self, keys: list[int]) -> tuple[float, float]:
        """Seconds (wall clock, then CPU) for one transaction per key."""
        conn = self.conn
        start, cpu = time.perf_counter(), time.process_time()
        for k in keys:
            key = f"J-{k}"
            conn.execute("BEGIN")
            data, revision = conn.execute(
                "SELECT data, revision FROM items WHERE key = ?", (key,)
            ).fetchone()
            changed = self.posted if self.grow else json.dumps(json.loads(data))
            conn.execute(
                "UPDATE items SET revision = revision + 1, data = ? WHERE key = ? AND revision = ?",
                (changed, key, revision),
            )
            conn.execute("INSERT INTO log (key, at, data) VALUES (?, ?, ?)", (key, "now", "{}"))
            conn.execute("INSERT INTO done VALUES (?, ?)", (f"cmd-{k}", "[1]"))
            conn.execute("COMMIT")
        return time.perf_counter() - start, time.process_time() - cpu


def posts(market: Marketplace, n: int, jobs: list[int]) -> tuple[float, float]:
    """Seconds (wall clock, then CPU) for one command per job: post it, with a command id."""
    start, cpu = time.perf_counter(), time.process_time()
    for j in jobs:
        market.handle(Fire("job", f"J-{j}", "post", owner(j, n), command_id=f"post-{j}")).result()
    return time.perf_counter() - start, time.process_time() - cpu


def sqlite_run(folder: Path, n: int, rounds: int, per_round: int) -> dict[str, float]:
    """Commands/s and anchor transactions/s (best of interleaved rounds), deadlines/s."""
    path = folder / f"service-{n}.db"
    store = SqliteStore(path)
    started = time.perf_counter()
    store.bulk_load(world(n))
    loaded = time.perf_counter() - started
    raw = Raw(folder, n)
    growing = Raw(folder, n, grow=True)
    clock = ManualClock(START)
    market = Marketplace(clock=clock, store=store)
    accounts = max(n // 10, 1)
    jobs = random.Random(11).sample(range(n - accounts), rounds * per_round)
    keys = random.Random(12).sample(range(n), rounds * per_round)
    ours, anchor, grown = [], [], []
    for r in range(rounds):
        chunk = slice(r * per_round, (r + 1) * per_round)
        ours.append(posts(market, n, jobs[chunk]))
        anchor.append(raw.run(keys[chunk]))
        grown.append(growing.run(keys[chunk]))
    clock.advance(days=31)
    start, cpu = time.perf_counter(), time.process_time()
    fired = market.advance()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert len(fired) == 2 * len(jobs), len(fired)
    market.close()

    def best(times: list[tuple[float, float]], which: int) -> float:
        return per_round / min(t[which] for t in times)

    return {
        "load_s": loaded,
        "mb": path.stat().st_size / 1e6,
        "commands": best(ours, 0),
        "commands_cpu": best(ours, 1),
        "raw": best(anchor, 0),
        "raw_cpu": best(anchor, 1),
        "grown": best(grown, 0),
        "grown_cpu": best(grown, 1),
        "deadlines": len(fired) / wall,
        "deadlines_cpu": len(fired) / cpu,
    }


# --------------------------------------------------------------------------- memory


def _loaded(n: int) -> MemoryStore:
    store = MemoryStore()
    for kind, agg in world(n):
        store.put(kind, agg.id, agg)
    return store


def memory_run(n: int, m: int, *, due: bool) -> dict[str, float]:
    clock = ManualClock(START)
    market = Marketplace(clock=clock, store=_loaded(n))
    accounts = max(n // 10, 1)
    jobs = random.Random(13).sample(range(n - accounts), max(m, 1_100) if due else m)
    times = []
    for j in jobs[:m]:
        start = time.perf_counter()
        market.fire("job", f"J-{j}", "post", owner(j, n))
        times.append(time.perf_counter() - start)
    if not due:
        return {"command_us": statistics.median(times) * 1e6, "due100_ms": 0.0, "fired": 0}
    # 100 due deadlines among many set: 100 posts now, 1,000 a week later, then the first
    # 100 warnings fall due (the later ones are in the index, not yet due)
    later = ManualClock(START)
    fresh = Marketplace(clock=later, store=_loaded(n))
    for j in jobs[:100]:
        fresh.fire("job", f"J-{j}", "post", owner(j, n))
    later.advance(days=7)
    for j in jobs[100:1_100]:
        fresh.fire("job", f"J-{j}", "post", owner(j, n))
    gc.collect()  # the garbage of building 100,000 aggregates is not the deadlines' cost
    start, cpu = time.perf_counter(), time.process_time()
    fired = fresh.advance(START + timedelta(days=25, seconds=1))
    due_ms = (time.perf_counter() - start) * 1e3
    due_cpu = (time.process_time() - cpu) * 1e3
    return {
        "command_us": statistics.median(times) * 1e6,
        "due100_ms": due_ms,
        "due100_cpu_ms": due_cpu,
        "fired": len(fired),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 only")
    parser.add_argument("--sizes", help="comma-separated SQLite sizes")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds per size")
    parser.add_argument("--per-round", type=int, default=300, help="commands per round")
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]

    print(
        f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}; "
        f"{args.rounds} rounds of {args.per_round} commands, of {args.per_round} anchor "
        "transactions and of as many growing ones, interleaved; per second of the best round, "
        "wall clock / CPU time (on a busy machine, CPU time is the steadier ratio)"
    )
    print()
    print(
        f"{'aggregates':>10}  {'load s':>6}  {'MB':>5}  {'commands/s':>13}  "
        f"{'anchor tx/s':>13}  {'ratio':>9}  {'growing tx/s':>13}  {'ratio':>9}  "
        f"{'deadlines/s':>13}"
    )
    rates = []
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        folder = Path(tmp)
        for n in sizes:
            run = sqlite_run(folder, n, args.rounds, args.per_round)
            rates.append(run["commands_cpu"])

            def pair(key: str, run: dict[str, float] = run) -> str:
                return f"{run[key]:,.0f}/{run[key + '_cpu']:,.0f}"

            def ratio(key: str, run: dict[str, float] = run) -> str:
                wall = run["commands"] / run[key]
                cpu = run["commands_cpu"] / run[key + "_cpu"]
                return f"{wall:.2f}/{cpu:.2f}"

            print(
                f"{n:>10,}  {run['load_s']:>6.1f}  {run['mb']:>5.0f}  {pair('commands'):>13}  "
                f"{pair('raw'):>13}  {ratio('raw'):>9}  {pair('grown'):>13}  "
                f"{ratio('grown'):>9}  {pair('deadlines'):>13}"
            )
    print(f"commands/s (CPU), largest size / smallest: {rates[-1] / rates[0]:.2f}")
    print()
    print(f"{'memory':>10}  {'one command us':>14}  {'100 due deadlines ms, wall/CPU':>30}")
    singles = []
    for n in (1_000, 10_000, 100_000):
        run = memory_run(n, 500, due=n == 100_000)
        singles.append(run["command_us"])
        due = "-"
        if n == 100_000:
            due = f"{run['due100_ms']:.1f}/{run['due100_cpu_ms']:.1f} ({run['fired']:.0f} fired)"
        print(f"{n:>10,}  {run['command_us']:>14.0f}  {due:>30}")
    print(f"one command, 100,000 / 1,000 aggregates: {singles[-1] / singles[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
