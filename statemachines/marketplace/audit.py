"""What a stored marketplace holds, and whether it is sound: for ``check --db`` and scripts/main.

:func:`describe` counts the aggregates by kind and state and the events recorded;
:func:`problems` checks a marketplace as it was stored: every account invariant
of rulebook §6.1 (:func:`~statemachines.marketplace.invariants.check_accounts`),
and for every aggregate, the invariants its machine registered (a store reads the
rows it wrote checked without running them again, ADR 0028) and that its recorded
events agree with its history (its ``created`` event's snapshot, then one event per
later decision, in order), so the outbox and the aggregates tell the same story.
Both scan everything: they are for reports and checks, never for a command's path.

>>> from datetime import datetime
>>> from statemachines import ManualClock, UTC
>>> from statemachines.marketplace.market import Marketplace
>>> market = Marketplace(clock=ManualClock(datetime(2026, 3, 2, tzinfo=UTC)))
>>> _ = market.draft_job("J-1", "co-1")
>>> describe(market)
{'aggregates': {'job': {'draft': 1}}, 'events': 1, 'stuck': 0}
>>> problems(market)
[]
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from statemachines.core.clock import Clock
from statemachines.core.snapshots import broken_invariants, from_dict
from statemachines.errors import InvalidInput
from statemachines.marketplace.events import CREATED, StoredEvent
from statemachines.marketplace.invariants import check_accounts
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.model import KINDS

__all__ = ["check_files", "describe", "history_problems", "problems"]


def describe(market: Marketplace) -> dict[str, Any]:
    """Aggregates by kind and state, how many events are recorded, how many deadlines failed."""
    aggregates: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        states = Counter(agg.state.value for agg in market.all(kind))
        if states:
            aggregates[kind] = dict(sorted(states.items()))
    events = market.events()
    return {
        "aggregates": aggregates,
        "events": len(events),
        "stuck": len(market.stuck),
    }


def history_problems(
    market: Marketplace, kind: str, key: str, events: list[StoredEvent] | None = None
) -> list[str]:
    """Where the events recorded for one aggregate (*events*, or read now) disagree with its
    history."""
    agg = market.get(kind, key)
    if events is None:
        events = market.history(kind, key)
    created = [e for e in events if e.name == CREATED]
    if len(created) != 1 or events[0] is not created[0]:
        return [f"{kind} {key}: {len(created)} created events, expected one, first"]
    first = created[0]
    assert first.snapshot is not None
    start = from_dict(first.snapshot).history
    decisions = [e.decision for e in events[1:]]
    problems = []
    if [e.position for e in events[1:]] != list(range(len(start), len(start) + len(decisions))):
        problems.append(f"{kind} {key}: events are not numbered in history order")
    if start + decisions != agg.history:
        problems.append(
            f"{kind} {key}: its history has {len(agg.history)} decisions but its events "
            f"give {len(start) + len(decisions)}, or they differ"
        )
    return problems


def problems(market: Marketplace) -> list[str]:
    """Every broken account invariant, and every aggregate whose events and history differ
    (the outbox is read once)."""
    found = check_accounts(market)
    by_aggregate: dict[tuple[str, str], list[StoredEvent]] = {}
    for event in market.events():
        by_aggregate.setdefault((event.kind, event.key), []).append(event)
    for kind in KINDS:
        for agg in market.all(kind):
            broken = broken_invariants(agg)
            if broken:
                found.append(f"{kind} {agg.id} breaks its invariants: {'; '.join(broken)}")
            events = sorted(by_aggregate.get((kind, agg.id), []), key=_place)
            found += history_problems(market, kind, agg.id, events)
    return found


def _place(event: StoredEvent) -> tuple[int, int]:
    return event.position, event.seq


def _summary(facts: dict[str, Any]) -> str:
    kinds = "; ".join(
        f"{kind}: " + ", ".join(f"{state} {n}" for state, n in states.items())
        for kind, states in facts["aggregates"].items()
    )
    total = sum(n for states in facts["aggregates"].values() for n in states.values())
    return f"{total} aggregates ({kinds or 'none'}), {facts['events']} events recorded"


def check_files(target: Path, clock: Clock) -> tuple[list[str], bool]:
    """Describe and check the SQLite marketplace at *target* (a file, or a folder of
    ``*.db`` files): lines to print, and whether everything holds."""
    if target.is_dir():
        files = sorted(target.glob("*.db"))
    elif target.is_file():
        files = [target]
    else:
        msg = f"--db {target}: no such file or folder"
        raise InvalidInput(msg)
    if not files:
        msg = f"--db {target}: the folder holds no .db file"
        raise InvalidInput(msg)
    lines = []
    ok = True
    totals: Counter[str] = Counter()
    for path in files:
        with Marketplace(clock=clock, store=path) as market:
            facts = describe(market)
            found = problems(market)
        stuck = f", {facts['stuck']} failed deadlines" if facts["stuck"] else ""
        verdict = "invariants hold, events agree" if not found else f"{len(found)} problems"
        lines.append(f"{path}: {_summary(facts)}{stuck}; {verdict}")
        lines += [f"  {problem}" for problem in found]
        ok = ok and not found
        for kind, states in facts["aggregates"].items():
            for state, n in states.items():
                totals[f"{kind} {state}"] += n
        totals["events"] += facts["events"]
    if len(files) > 1:
        events = totals.pop("events")
        by_state = ", ".join(f"{k} {n}" for k, n in sorted(totals.items()))
        lines.append(f"{len(files)} files: {by_state}; {events} events recorded")
    return lines, ok
