"""Contract lifecycle: a full fixed-price life and a week of hourly billing, per contract.

Run: ``.venv/bin/python benchmarks/bench_contract.py [--quick]``. It prints the cost of one
whole lifecycle, per event (user events and fired deadlines alike), the memory one settled
contract takes with its milestones and history, and the time to snapshot and restore one.

* fixed-price: two milestones added, funded in turn (the second with the leftover of a
  partial release), submitted, one approved in part, one approved by the review lapse, the
  contract ended by the client paying less than is held, the escrow refund approved by
  silence, then a refund, a bonus and both sides' feedback;
* hourly: five days of logged time, the Monday 12:00 invoice, the end, the close of the
  client's review and of the feedback window.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime

from statemachines import (
    Actor,
    Contract,
    ContractLifecycle,
    ManualClock,
    Money,
    Role,
    from_dict,
    to_dict,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OWNER = Actor("ana", Role.CLIENT_OWNER, party="co-1")
FREELANCER = Actor("fl-1", Role.FREELANCER, party="fl-1")


def fixed_life(n: int) -> Contract:
    """One fixed-price contract through its whole life."""
    clock = ManualClock(START)
    flow = ContractLifecycle(clock=clock)
    c = Contract.fixed(f"C-{n}", client="co-1", freelancer="fl-1", started_at=START)
    flow.fire(c, "add_milestone", OWNER, amount=Money(20_000), title="design")
    flow.fire(c, "add_milestone", OWNER, amount=Money(10_000), title="build")
    flow.fire(c, "fund_milestone", OWNER)
    flow.fire(c, "submit_work", FREELANCER)
    flow.fire(c, "approve_milestone", OWNER, amount=Money(15_000))
    flow.fire(c, "fund_milestone", OWNER)
    flow.fire(c, "submit_work", FREELANCER)
    clock.advance(days=15)
    flow.advance(c)
    flow.fire(c, "add_milestone", OWNER, amount=Money(5_000))
    flow.fire(c, "fund_milestone", OWNER)
    flow.fire(c, "end_contract", OWNER, payment=Money(1_000))
    flow.fire(c, "leave_feedback", OWNER)
    clock.advance(days=8)
    flow.advance(c)
    flow.fire(
        c, "give_refund", FREELANCER, payment=f"C-{n}-P1", amount=Money(500), balance=Money(10**6)
    )
    flow.fire(c, "pay_bonus", OWNER, amount=Money(2_000))
    flow.fire(c, "leave_feedback", FREELANCER)
    return c


def hourly_week(n: int) -> Contract:
    """One hourly contract: a week of time, its invoice, the end and the settlement."""
    clock = ManualClock(START)
    flow = ContractLifecycle(clock=clock)
    c = Contract.hourly(
        f"C-{n}",
        client="co-1",
        freelancer="fl-1",
        rate=Money(4_000),
        started_at=START,
        weekly_limit=40,
    )
    for _ in range(5):
        flow.fire(c, "log_time", FREELANCER, minutes=420)
        clock.advance(days=1)
    clock.advance(days=2, hours=3)
    flow.advance(c)
    flow.fire(c, "end_contract", OWNER)
    clock.advance(days=30)
    flow.advance(c)
    return c


def _per_life(life: Callable[[int], Contract], count: int) -> tuple[float, int]:
    best = float("inf")
    events = 0
    for _ in range(3):
        gc.collect()
        began = time.perf_counter()
        for n in range(count):
            c = life(n)
        best = min(best, (time.perf_counter() - began) / count)
        events = len(c.history) + sum(len(m.history) for m in c.milestones)
    return best, events


def _memory(life: Callable[[int], Contract], count: int) -> float:
    gc.collect()
    tracemalloc.start()
    kept = [life(n) for n in range(count)]
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(kept) == count
    return size / count


def _snapshots(life: Callable[[int], Contract], count: int) -> float:
    data = [to_dict(life(n)) for n in range(count)]
    began = time.perf_counter()
    for item in data:
        from_dict(item)
    return (time.perf_counter() - began) / count


def main() -> None:
    """Print the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer contracts, for a smoke run")
    count = 50 if parser.parse_args().quick else 500
    for name, life in (("fixed-price life", fixed_life), ("hourly week", hourly_week)):
        per_life, events = _per_life(life, count)
        print(
            f"{name:>16}: {per_life * 1e3:7.3f} ms per contract, {events} decisions "
            f"({per_life / events * 1e6:6.1f} us each), "
            f"{_memory(life, count) / 1024:6.1f} KiB per contract, "
            f"restore {_snapshots(life, count) * 1e6:7.1f} us"
        )


if __name__ == "__main__":
    main()
