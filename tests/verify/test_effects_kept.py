"""Outcomes of events with effects on other machines, kept by what the effects read.

An account's suspension, reinstatement or closure for good, and every event of a
membership, are followed by the marketplace's effects (contracts paused, restarted or
ended; a team-only account deactivated). Where such an event changed its aggregate alone,
its outcome is kept by the plan, the attempt and what the effects read
(:func:`statemachines.verify.attempts.context`), and put back where those are met again;
a share is fired again and compared (ADR 0091).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from statemachines.marketplace import handlers
from statemachines.verify.search import check
from statemachines.verify.world import Bounds


def test_kept_effects_reach_what_firing_every_event_reaches() -> None:
    bounds = Bounds(contracts=1, milestones=0, payments=0, amounts=(500,), depth=3)

    kept = check(bounds)
    fired = check(attrs.evolve(bounds, cross_check=1.0))

    assert kept.ok, kept.summary()
    assert fired.ok, fired.summary()
    assert kept.recalled > 0
    assert fired.recalled == 0
    assert (kept.states, kept.merged, kept.transitions) == (
        fired.states,
        fired.merged,
        fired.transitions,
    )
    assert kept.coverage == fired.coverage
    assert kept.fired == fired.fired


def test_an_effect_that_reads_beyond_what_it_is_kept_by_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The effect of a suspension here also reads the other party's account (the client's),
    # which the kept outcome's context does not hold: put back beside another client
    # account, it is wrong, and the share fired again says so.
    original = handlers.EVENT_HANDLERS[("account", "suspend")]

    def peeks(change: Any, h: Any) -> None:
        acc = h.uow.get("account", change.key)
        client = h.uow.get("account", "co-1")
        if acc.id == "fl-1" and client.state.value == "suspended":
            h.uow.changing("account", acc.id)
            acc.jss_basis = ("read the client",)

    monkeypatch.setitem(handlers.EVENT_HANDLERS, ("account", "suspend"), (*original, peeks))

    report = check(
        Bounds(contracts=1, milestones=0, payments=0, team=False, depth=4, cross_check=0.5)
    )

    assert not report.ok
    assert "did something else than before" in (report.violation or "")
