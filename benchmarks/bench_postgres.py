"""PostgreSQL: commands/s and deadlines/s from several processes, beside a raw anchor.

Run against a throwaway server (started, then stopped and removed)::

    bash -c 'source scripts/postgres.sh && pg_up && trap pg_down EXIT &&
             nice -n 10 .venv/bin/python benchmarks/bench_postgres.py'

or with ``STATEMACHINES_PG_URL`` naming a server of yours (the benchmark works in schemas
of its own, ``bench_*``, which it drops at the end). Everything is measured in one run,
on one server, and the script prints ratios beside the figures:

* **Commands/s** with 1, 2 and 4 client processes at each size (100,000 and 1,000,000
  aggregates by default: a tenth client accounts, the rest their draft job posts,
  loaded with ``COPY``). A command posts a random draft job, with a command id, through
  :meth:`Marketplace.handle` (two round trips: see ``docs/deploy.md``); each process
  posts its own jobs, so the processes do not race for one row.
* **The anchor**, measured in the same run beside each figure: the raw psycopg
  transaction of the same shape, by as many processes: read one row by key, update it,
  insert two rows, commit (psycopg's defaults: six round trips, ``READ COMMITTED``,
  statements prepared from their sixth use on), on
  a table of as many rows holding the same JSON snapshots. Goal: commands/s at least
  0.5x the anchor at each client count. Beside them, the CPU time each client process
  spent per transaction, and the server's (ours / the anchor's, milliseconds; the server's
  only for the throwaway one of scripts/postgres.sh, whose processes it can see).
* **Deadlines/s** with 1, 2 and 4 worker processes (:class:`Worker`, ``drain``): a
  backlog of 10,000 due deadlines (posted jobs whose expiry warning is due), and the
  time the workers take to fire all of it.

``BENCH_PREPARE=N`` has our clients prepare statements run N times (psycopg's
``prepare_threshold``; the store's default is 0, ADR 0083), ``BENCH_PREPARE=none`` none.

Each figure is the best of *rounds* (interleaved with the anchor's) of *seconds* each:
on a machine shared with other work, the best round is the one least disturbed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import random
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

from statemachines import UTC, Actor, ManualClock, Role, to_dict
from statemachines.machines.account.table import Account, AccountType
from statemachines.machines.job import Job, JobPosting
from statemachines.marketplace.commands import Fire
from statemachines.marketplace.errors import ConcurrentModification
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.stores.postgres import PostgresStore
from statemachines.marketplace.unit_of_work import retry
from statemachines.marketplace.worker import Worker

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WARNED = START + timedelta(days=26)
"""When the workers run: every posted job's warning (day 25) is due, its expiry (day 30) not."""

SPAWN = mp.get_context("spawn")  # no connection of the parent's is inherited


def accounts_of(n: int) -> int:
    return max(n // 10, 1)


def world(n: int) -> Iterator[tuple[str, Any]]:
    """*n* aggregates: client accounts co-0.. (a tenth) and their draft jobs J-0.."""
    accounts = accounts_of(n)
    for i in range(accounts):
        yield (
            "account",
            Account(id=f"co-{i}", type=AccountType.CLIENT, owner=f"o-{i}", company=f"co-{i}"),
        )
    for j in range(n - accounts):
        yield "job", Job(id=f"J-{j}", company=f"co-{j % accounts}")


def owner(job: int, n: int) -> Actor:
    i = job % accounts_of(n)
    return Actor(f"o-{i}", Role.CLIENT_OWNER, party=f"co-{i}")


def posted_world(jobs: int) -> Iterator[tuple[str, Any]]:
    """*jobs* posted jobs (posted at START) and their accounts: a backlog for the workers."""
    n = jobs * 10 // 9 + 1
    posting = JobPosting(clock=ManualClock(START))
    for kind, agg in world(n):
        if kind == "job":
            j = int(agg.id.removeprefix("J-"))
            if j >= jobs:
                continue
            posting.fire(agg, "post", owner(j, n))
        yield kind, agg


# --------------------------------------------------------------------------- the server


def with_schema(url: str, schema: str) -> str:
    glue = "&" if "?" in url else "?"
    return f"{url}{glue}options={quote(f'-c search_path={schema}')}"


def fresh_schema(url: str, name: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        conn.execute(f"CREATE SCHEMA {name}")
    return with_schema(url, name)


def drop_schemas(url: str, names: list[str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for name in names:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def load_anchor(url: str, n: int) -> None:
    """The anchor's tables: *n* rows holding a draft job's snapshot, and two logs."""
    draft = json.dumps(to_dict(Job(id="J-0", company="co-0")))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE anchor_items (key text PRIMARY KEY, revision int NOT NULL, "
            "data jsonb NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE anchor_log (seq bigserial PRIMARY KEY, key text NOT NULL, "
            "at timestamptz NOT NULL, data jsonb NOT NULL)"
        )
        conn.execute("CREATE TABLE anchor_done (id text PRIMARY KEY, data jsonb NOT NULL)")
        conn.execute(
            "INSERT INTO anchor_items SELECT 'J-' || i, 1, %s::jsonb "
            "FROM generate_series(0, %s - 1) AS i",
            (draft, n),
        )
        conn.execute("ANALYZE")


# --------------------------------------------------------------------------- client processes


Task = tuple[str, int, list[int], float]
"""A client's work: the server's URL, the size, its keys, and for how many seconds."""


def anchor_client(task: Task, go: Any, out: Any) -> None:
    """The anchor: one raw transaction per key (read, update, two inserts, commit)."""
    url, n, keys, seconds = task
    posted = Job(id="J-0", company="co-0")
    JobPosting(clock=ManualClock(START)).fire(posted, "post", owner(0, n))
    body = json.dumps(to_dict(posted))
    with psycopg.connect(url) as conn:
        go.wait()
        start, cpu = time.perf_counter(), time.process_time()
        done = 0
        for k in keys:
            key = f"J-{k}"
            row = conn.execute(
                "SELECT revision, data FROM anchor_items WHERE key = %s", (key,)
            ).fetchone()
            assert row is not None
            conn.execute(
                "UPDATE anchor_items SET revision = revision + 1, data = %s::jsonb "
                "WHERE key = %s AND revision = %s",
                (body, key, row[0]),
            )
            conn.execute(
                "INSERT INTO anchor_log (key, at, data) VALUES (%s, now(), %s::jsonb)",
                (key, '{"event":"post"}'),
            )
            conn.execute("INSERT INTO anchor_done VALUES (%s, '[1]')", (f"cmd-{k}",))
            conn.commit()
            done += 1
            if time.perf_counter() - start >= seconds:
                break
        out.put((done, time.perf_counter() - start, 0, time.process_time() - cpu))


def command_client(task: Task, go: Any, out: Any) -> None:
    """Our commands: post each job, with a command id, through the marketplace."""
    url, n, jobs, seconds = task
    prepare = os.environ.get("BENCH_PREPARE")  # psycopg's prepare_threshold
    if prepare:
        threshold = None if prepare == "none" else int(prepare)
        store = PostgresStore(url, prepare_threshold=threshold)
    else:
        store = PostgresStore(url)
    market = Marketplace(clock=ManualClock(START), store=store)
    conflicts = 0

    def count(err: ConcurrentModification, attempt: int) -> None:
        nonlocal conflicts
        conflicts += 1

    go.wait()
    start, cpu = time.perf_counter(), time.process_time()
    done = 0
    for j in jobs:
        post = Fire("job", f"J-{j}", "post", owner(j, n), command_id=f"post-{j}")

        def send(post: Fire = post) -> None:
            market.handle(post).result()

        retry(send, attempts=20, on_conflict=count)
        done += 1
        if time.perf_counter() - start >= seconds:
            break
    out.put((done, time.perf_counter() - start, conflicts, time.process_time() - cpu))
    market.close()


def worker_client(url: str, go: Any, out: Any) -> None:
    """A deadline worker draining the backlog."""
    worker = Worker(PostgresStore(url), clock=ManualClock(WARNED))
    go.wait()
    start, cpu = time.perf_counter(), time.process_time()
    worker.drain()
    out.put(
        (worker.fired, time.perf_counter() - start, worker.conflicts, time.process_time() - cpu)
    )
    worker.market.close()


Result = tuple[int, float, int, float]
"""What a client process did: how many, in how many seconds, conflicts, CPU seconds."""


def together(target: Any, argsets: list[tuple[Any, ...]]) -> list[Result]:
    """Run one process per argument set, started together; what each did."""
    go = SPAWN.Barrier(len(argsets))
    out = SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*a, go, out)) for a in argsets]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        if p.exitcode != 0:
            msg = f"a benchmark process failed (exit code {p.exitcode})"
            raise RuntimeError(msg)
    return results


def server_cpu() -> float | None:
    """CPU seconds the server's processes have used so far (the postmaster, its children,
    and the children it reaped), or ``None`` without ``STATEMACHINES_PG_DATA`` (the data
    folder of the throwaway server of scripts/postgres.sh) or /proc."""
    data = os.environ.get("STATEMACHINES_PG_DATA")
    if not data:
        return None
    try:
        pid = int(Path(data, "postmaster.pid").read_text().split()[0])
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # it ended meanwhile
            if proc.name == str(pid):
                total += sum(int(f) for f in fields[11:15])  # its own and its reaped children's
            elif fields[1] == str(pid):
                total += int(fields[11]) + int(fields[12])
        return total / ticks
    except (OSError, ValueError, IndexError):
        return None


def on_server(target: Any, argsets: list[tuple[Any, ...]]) -> tuple[list[Result], float]:
    """:func:`together`, and the server's CPU seconds meanwhile (NaN if they cannot be read)."""
    before = server_cpu()
    results = together(target, argsets)
    after = server_cpu()
    spent = float("nan") if before is None or after is None else after - before
    return results, spent


def rate(results: list[Result]) -> float:
    return sum(count / seconds for count, seconds, _, _ in results)


def cpu_ms(results: list[Result]) -> float:
    """Client CPU milliseconds per transaction."""
    return 1e3 * sum(r[3] for r in results) / max(sum(r[0] for r in results), 1)


# --------------------------------------------------------------------------- the runs


def commands_run(
    url: str, n: int, clients: list[int], rounds: int, seconds: float
) -> dict[int, dict[str, float]]:
    """Commands/s and anchor transactions/s at *n* aggregates, best round per client count."""
    accounts = accounts_of(n)
    jobs = random.Random(21).sample(range(n - accounts), n - accounts)
    keys = random.Random(22).sample(range(n), n)
    slices = sum(clients) * rounds
    per = min((n - accounts) // slices, 20_000)
    pool_jobs = iter(jobs[i * per : (i + 1) * per] for i in range(slices))
    pool_keys = iter(keys[i * per : (i + 1) * per] for i in range(slices))
    figures: dict[int, dict[str, float]] = {}
    for k in clients:
        ours, anchor, conflicts, used = [], [], 0, 0
        ours_cpu, anchor_cpu, ours_server, anchor_server = [], [], [], []
        for _ in range(rounds):
            raw = [((url, n, next(pool_keys), seconds),) for _ in range(k)]
            mine = [((url, n, next(pool_jobs), seconds),) for _ in range(k)]
            a, a_server = on_server(anchor_client, raw)
            c, c_server = on_server(command_client, mine)
            anchor_server.append(a_server / max(sum(r[0] for r in a), 1))
            ours_server.append(c_server / max(sum(r[0] for r in c), 1))
            anchor.append(rate(a))
            ours.append(rate(c))
            anchor_cpu.append(cpu_ms(a))
            ours_cpu.append(cpu_ms(c))
            conflicts += sum(x[2] for x in c)
            used = max(used, *(x[0] for x in c), *(x[0] for x in a))
        if used >= per:
            print(f"  (note: a process ran out of its {per:,} keys before {seconds} s)")
        figures[k] = {
            "commands": max(ours),
            "anchor": max(anchor),
            "conflicts": conflicts,
            "cpu": min(ours_cpu),
            "anchor_cpu": min(anchor_cpu),
            "server": 1e3 * min(ours_server),
            "anchor_server": 1e3 * min(anchor_server),
        }
    return figures


def deadlines_run(url: str, backlog: int, workers: int) -> dict[str, float]:
    """Fire a backlog of due deadlines with *workers* processes."""
    store = PostgresStore(url)
    store.bulk_load(posted_world(backlog))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    due = store.lag(WARNED)["due"]
    assert due == backlog, (due, backlog)
    results = together(worker_client, [(url,) for _ in range(workers)])
    left = store.lag(WARNED)["due"]
    store.close()
    fired = sum(r[0] for r in results)
    drain = max(r[1] for r in results)
    assert left == 0, f"{left} deadlines still due"
    assert fired == backlog, (fired, backlog)
    return {
        "fired": fired,
        "drain_s": drain,
        "per_s": fired / drain,
        "conflicts": sum(r[2] for r in results),
    }


def server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated sizes")
    parser.add_argument("--clients", default="1,2,4", help="client process counts")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts")
    parser.add_argument("--backlog", type=int, default=10_000, help="due deadlines to drain")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per round")
    parser.add_argument("--quick", action="store_true", help="10,000 aggregates, 1 round")
    parser.add_argument("--only", choices=("commands", "deadlines"), help="measure one part")
    args = parser.parse_args()
    url = os.environ.get("STATEMACHINES_PG_URL")
    if not url:
        print(
            "set STATEMACHINES_PG_URL, or run: bash -c 'source scripts/postgres.sh && pg_up && "
            "trap pg_down EXIT && .venv/bin/python benchmarks/bench_postgres.py'",
            file=sys.stderr,
        )
        return 2
    sizes = [int(s) for s in args.sizes.split(",")] if args.only != "deadlines" else []
    clients = [int(c) for c in args.clients.split(",")]
    workers = [int(w) for w in args.workers.split(",")] if args.only != "commands" else []
    if args.quick:
        sizes, args.rounds, args.backlog = [10_000] if sizes else [], 1, 2_000
    made: list[str] = []
    print(
        f"PostgreSQL {server_version(url)}, psycopg {psycopg.__version__}, Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} CPUs; best of {args.rounds} rounds of "
        f"{args.seconds:g} s, anchor and commands interleaved"
    )
    try:
        print()
        print(
            ""
            if not sizes
            else f"{'aggregates':>10}  {'load s':>6}  {'clients':>7}  {'commands/s':>10}  "
            f"{'anchor tx/s':>11}  {'ratio':>5}  {'conflicts':>9}  {'client CPU ms':>13}  "
            f"{'server CPU ms':>13}"
        )
        for n in sizes:
            name = f"bench_{n}"
            made.append(name)
            sized = fresh_schema(url, name)
            started = time.perf_counter()
            store = PostgresStore(sized)
            store.bulk_load(world(n))
            store.close()
            load_anchor(sized, n)
            loaded = time.perf_counter() - started
            for k, f in commands_run(sized, n, clients, args.rounds, args.seconds).items():
                print(
                    f"{n:>10,}  {loaded:>6.0f}  {k:>7}  {f['commands']:>10,.0f}  "
                    f"{f['anchor']:>11,.0f}  {f['commands'] / f['anchor']:>5.2f}  "
                    f"{f['conflicts']:>9,.0f}  {f['cpu']:>6.2f}/{f['anchor_cpu']:<6.2f}  "
                    f"{f['server']:>6.2f}/{f['anchor_server']:<6.2f}",
                    flush=True,
                )
            drop_schemas(url, [name])
        if workers:
            print()
            print(
                f"{'workers':>7}  {'due':>6}  {'drained in s':>12}  {'deadlines/s':>11}  "
                f"{'conflicts':>9}  (of deadline firings: retried)"
            )
        for w in workers:
            name = f"bench_due_{w}"
            made.append(name)
            d = deadlines_run(fresh_schema(url, name), args.backlog, w)
            print(
                f"{w:>7}  {d['fired']:>6,.0f}  {d['drain_s']:>12.1f}  {d['per_s']:>11,.0f}  "
                f"{d['conflicts']:>9,.0f}",
                flush=True,
            )
            drop_schemas(url, [name])
    finally:
        with contextlib.suppress(psycopg.Error):
            drop_schemas(url, made)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
