"""Milestone review: the engine against bare ``transitions`` and a plain-Python baseline.

Run: ``.venv/bin/python benchmarks/bench_milestone.py [--quick]``. Everything is
measured in one run on the same table, and the script prints ratios, not
absolute targets: speed depends on the machine, ratios much less.

What is measured:

* cost per event, accepted, refused and illegal, for
  - a plain-Python baseline: a dict from (state, event) to (target, guard) over an
    attrs class, with a list-of-tuples history;
  - bare ``transitions``: one shared ``Machine`` (model=None) with the same table,
    conditions as guards and ``before`` callbacks as effects;
  - ``statemachines``: ``MilestoneReview.fire`` (roles, every guard, atomic
    effects, history and audit trail);
* memory per milestone aggregate after a fund/submit/approve lifecycle, at 10k
  and 100k aggregates (tracemalloc), against the bare attrs object plus its history;
* time to load aggregates from snapshots at 10k and 100k (must be linear).
"""

from __future__ import annotations

import argparse
import enum
import gc
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from transitions import Machine, MachineError

from statemachines import (
    Actor,
    IllegalTransition,
    ManualClock,
    Milestone,
    MilestoneReview,
    Money,
    Role,
    TransitionRefused,
    from_dict,
    to_dict,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OWNER = Actor("ana", Role.CLIENT_OWNER, party="co-1")
FREELANCER = Actor("fl-1", Role.FREELANCER, party="fl-1")
WINDOW = timedelta(days=14)


# --------------------------------------------------------------------------- baseline


class S(enum.Enum):
    DRAFT = "draft"
    FUNDED = "funded"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"


@attrs.define
class PlainMilestone:
    id: str
    amount: int
    state: S = S.DRAFT
    funded: int = 0
    released: int = 0
    submitted_at: datetime | None = None
    review_due: datetime | None = None
    history: list[tuple[Any, ...]] = attrs.Factory(list)


def _ok(ms: PlainMilestone, now: datetime, amount: int | None) -> bool:
    return True


def _minimum(ms: PlainMilestone, now: datetime, amount: int | None) -> bool:
    return ms.amount >= 500


def _in_window(ms: PlainMilestone, now: datetime, amount: int | None) -> bool:
    return ms.review_due is None or now < ms.review_due


def _positive(ms: PlainMilestone, now: datetime, amount: int | None) -> bool:
    return _in_window(ms, now, amount) and (amount is None or amount > 0)


def _fund(ms: PlainMilestone, now: datetime, amount: int | None) -> None:
    ms.funded = ms.amount


def _submit(ms: PlainMilestone, now: datetime, amount: int | None) -> None:
    ms.submitted_at = now
    ms.review_due = now + WINDOW


def _stop(ms: PlainMilestone, now: datetime, amount: int | None) -> None:
    ms.review_due = None


def _release(ms: PlainMilestone, now: datetime, amount: int | None) -> None:
    ms.released = ms.funded if amount is None else amount
    ms.review_due = None


Guard = Callable[[PlainMilestone, datetime, int | None], bool]
Effect = Callable[[PlainMilestone, datetime, int | None], None]
TABLE: dict[tuple[S, str], tuple[S, Guard, Effect]] = {
    (S.DRAFT, "fund"): (S.FUNDED, _minimum, _fund),
    (S.FUNDED, "submit"): (S.SUBMITTED, _ok, _submit),
    (S.SUBMITTED, "request_changes"): (S.CHANGES_REQUESTED, _in_window, _stop),
    (S.RESUBMITTED, "request_changes"): (S.CHANGES_REQUESTED, _in_window, _stop),
    (S.CHANGES_REQUESTED, "resubmit"): (S.RESUBMITTED, _ok, _submit),
    (S.SUBMITTED, "approve"): (S.APPROVED, _positive, _release),
    (S.RESUBMITTED, "approve"): (S.APPROVED, _positive, _release),
    (S.FUNDED, "release"): (S.APPROVED, _positive, _release),
}


class Refused(Exception):
    pass


def plain_fire(ms: PlainMilestone, event: str, now: datetime, amount: int | None = None) -> None:
    try:
        target, guard, effect = TABLE[ms.state, event]
    except KeyError:
        msg = f"cannot {event} from {ms.state}"
        raise LookupError(msg) from None
    if not guard(ms, now, amount):
        msg = f"{event} refused"
        raise Refused(msg)
    source = ms.state
    effect(ms, now, amount)
    ms.state = target
    ms.history.append((now, "actor", event, source, target))


# --------------------------------------------------------------------------- bare transitions


def _cond(check: Guard) -> Callable[[Any], bool]:
    def condition(event: Any) -> bool:
        return check(event.model, event.kwargs["now"], event.kwargs.get("amount"))

    return condition


def _before(effect: Effect) -> Callable[[Any], None]:
    def before(event: Any) -> None:
        effect(event.model, event.kwargs["now"], event.kwargs.get("amount"))

    return before


BARE = Machine(
    model=None,
    states=list(S),
    initial=S.DRAFT,
    auto_transitions=False,
    send_event=True,
    transitions=[
        {
            "trigger": event,
            "source": source,
            "dest": target,
            "conditions": [_cond(guard)],
            "before": [_before(effect)],
        }
        for (source, event), (target, guard, effect) in TABLE.items()
    ],
)


def bare_fire(ms: PlainMilestone, event: str, now: datetime, amount: int | None = None) -> bool:
    return bool(BARE.events[event].trigger(ms, now=now, amount=amount))


# --------------------------------------------------------------------------- timing


def _per_call(fn: Callable[[], object], n: int) -> float:
    """CPU seconds per call of *fn*, best of three runs of *n* calls.

    CPU time of this process (``time.process_time``), not wall time: on a
    shared machine, time spent waiting for a core is not the engine's cost.
    Callers catch exceptions with ``try``/``except`` (free in Python 3.11 when
    nothing is raised) rather than ``contextlib.suppress``, whose two method
    calls per event would be charged to whichever side raises.
    """
    best = float("inf")
    for _ in range(3):
        gc.collect()
        start = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, time.process_time() - start)
    return best / n


def _loop_plain(n: int) -> dict[str, float]:
    ms = PlainMilestone("M-1", 20_000)
    plain_fire(ms, "fund", START)
    plain_fire(ms, "submit", START)
    flip = ["request_changes", "resubmit"]
    i = [0]

    def accepted() -> None:
        plain_fire(ms, flip[i[0] & 1], START)
        i[0] += 1

    def refused() -> None:
        try:
            plain_fire(ms, "approve", START, 0)
        except Refused:
            pass

    def illegal() -> None:
        try:
            plain_fire(ms, "fund", START)
        except LookupError:
            pass

    out = {"accepted": _per_call(accepted, n)}
    if ms.state is S.CHANGES_REQUESTED:
        plain_fire(ms, "resubmit", START)
    out["refused"] = _per_call(refused, n)
    out["illegal"] = _per_call(illegal, n)
    return out


def _loop_bare(n: int) -> dict[str, float]:
    ms = PlainMilestone("M-1", 20_000)
    bare_fire(ms, "fund", START)
    bare_fire(ms, "submit", START)
    flip = ["request_changes", "resubmit"]
    i = [0]

    def accepted() -> None:
        bare_fire(ms, flip[i[0] & 1], START)
        ms.history.append((START, "actor", flip[i[0] & 1], None, ms.state))
        i[0] += 1

    def refused() -> None:
        if bare_fire(ms, "approve", START, 0):
            raise AssertionError

    def illegal() -> None:
        try:
            bare_fire(ms, "fund", START)
        except MachineError:
            pass

    out = {"accepted": _per_call(accepted, n)}
    if ms.state is S.CHANGES_REQUESTED:
        bare_fire(ms, "resubmit", START)
    out["refused"] = _per_call(refused, n)
    out["illegal"] = _per_call(illegal, n)
    return out


def _loop_engine(n: int) -> dict[str, float]:
    review = MilestoneReview(clock=ManualClock(START), audit=_NullAudit())
    ms = _milestone("M-1")
    review.fire(ms, "fund", OWNER)
    review.fire(ms, "submit", FREELANCER)
    flip = [("request_changes", OWNER), ("resubmit", FREELANCER)]
    i = [0]

    def accepted() -> None:
        event, actor = flip[i[0] & 1]
        review.fire(ms, event, actor)
        i[0] += 1

    zero = Money(0)

    def refused() -> None:
        try:
            review.fire(ms, "approve", OWNER, amount=zero)
        except TransitionRefused:
            pass

    def illegal() -> None:
        try:
            review.fire(ms, "fund", OWNER)
        except IllegalTransition:
            pass

    out = {"accepted": _per_call(accepted, n)}
    if ms.state.value == "changes_requested":
        review.fire(ms, "resubmit", FREELANCER)
    out["refused"] = _per_call(refused, n)
    out["illegal"] = _per_call(illegal, n)
    return out


class _NullAudit:
    """An audit sink that keeps nothing, so the loop measures the engine, not a growing list."""

    def append(self, attempt: object, /) -> None:
        pass


def _milestone(key: str) -> Milestone:
    return Milestone(id=key, contract="C-1", client="co-1", freelancer="fl-1", amount=Money(20_000))


# --------------------------------------------------------------------------- memory


def _memory(n: int, build: Callable[[int], object]) -> float:
    """Bytes per aggregate for *n* aggregates built by *build* (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    keep = [build(i) for i in range(n)]
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    size = sum(s.size_diff for s in after.compare_to(before, "filename"))
    del keep
    return size / n


_REVIEW = MilestoneReview(clock=ManualClock(START), audit=_NullAudit())


def _engine_aggregate(i: int) -> Milestone:
    ms = _milestone(f"M-{i}")
    _REVIEW.fire(ms, "fund", OWNER)
    _REVIEW.fire(ms, "submit", FREELANCER)
    _REVIEW.fire(ms, "approve", OWNER)
    return ms


def _plain_aggregate(i: int) -> PlainMilestone:
    ms = PlainMilestone(f"M-{i}", 20_000)
    plain_fire(ms, "fund", START)
    plain_fire(ms, "submit", START)
    plain_fire(ms, "approve", START)
    return ms


def _load_time(snapshots: list[dict[str, Any]]) -> float:
    gc.collect()
    start = time.perf_counter()
    for data in snapshots:
        from_dict(data)
    return time.perf_counter() - start


def _costs(n: int, rounds: int) -> dict[str, dict[str, float]]:
    """Per-event cost of each implementation: the best of *rounds* interleaved runs.

    Interleaving keeps a burst of load on the machine from favouring one side.
    """
    loops = {"plain": _loop_plain, "transitions": _loop_bare, "engine": _loop_engine}
    best: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for name, loop in loops.items():
            slot = best.setdefault(name, {})
            for kind, cost in loop(n).items():
                slot[kind] = min(slot.get(kind, cost), cost)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (for a smoke test)")
    args = parser.parse_args()
    n, rounds = (2_000, 2) if args.quick else (10_000, 5)
    small, large = (1_000, 10_000) if args.quick else (10_000, 100_000)

    cost = _costs(n, rounds)
    print(f"cost per event: best of {rounds} interleaved rounds x 3 runs x {n:,} events")
    print(f"  {'microseconds':<12}{'plain':>8}{'transitions':>13}{'engine':>8}", end="")
    print(f"{'engine/transitions':>20}{'engine/plain':>14}")
    for kind in ("accepted", "refused", "illegal"):
        p, b, e = (cost[name][kind] * 1e6 for name in ("plain", "transitions", "engine"))
        print(f"  {kind:<12}{p:>8.2f}{b:>13.2f}{e:>8.2f}{e / b:>19.2f}x{e / p:>13.2f}x")

    print("\nmemory per aggregate after fund/submit/approve (tracemalloc, bytes)")
    rows = []
    for count in (small, large):
        ours = _memory(count, _engine_aggregate)
        base = _memory(count, _plain_aggregate)
        rows.append(ours)
        print(
            f"  {count:>7,} aggregates: engine {ours:6.0f}   attrs + history {base:6.0f}"
            f"   ratio {ours / base:.2f}x"
        )
    print(
        f"  per-aggregate memory, {large:,} vs {small:,}: {rows[1] / rows[0]:.2f}x (1.00 = linear)"
    )

    snaps = [to_dict(_engine_aggregate(i)) for i in range(large)]
    t_small, t_large = _load_time(snaps[:small]), _load_time(snaps)
    print("\nloading aggregates from snapshots (from_dict)")
    print(f"  {small:>7,}: {t_small:6.2f} s ({t_small / small * 1e6:.1f} us each)")
    print(f"  {large:>7,}: {t_large:6.2f} s ({t_large / large * 1e6:.1f} us each)")
    print(
        f"  per-aggregate time, {large:,} vs {small:,}: {t_large / large / (t_small / small):.2f}x"
    )


if __name__ == "__main__":
    main()
