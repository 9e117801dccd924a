"""An account's obligations, kept by what they read (issue 18).

Reading an account's obligations (contracts, proposals, job posts, members, balances, debts)
is the dearest read of the checker: the account machine's facts, the closing invariants
and the withdrawal's argument all make it. While the world is as a snapshot holds it, the
search keeps them by the versions of what they read
(:meth:`~statemachines.verify.world.World.reads_of`: the account, its owner's other
accounts, every membership, job post, proposal and contract, the contact and past-due
records, the time), so a step that changed only the other party's account reads them
again from the cache. A share is read again and compared: a read the key forgets is caught.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
import pytest

from statemachines.machines.account.model import Obligations
from statemachines.marketplace import reads
from statemachines.verify import world as world_module
from statemachines.verify.search import check
from statemachines.verify.world import Bounds, World

BOUNDS = Bounds(contracts=1, milestones=0, team=False, amounts=(500,), depth=4)


def test_obligations_kept_reach_what_obligations_read_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = check(BOUNDS)
    monkeypatch.setattr(World, "reads_of", lambda self, acc, now, holds: None)  # never kept
    read = check(BOUNDS)

    assert kept.ok
    assert read.ok
    assert (kept.states, kept.merged, kept.transitions) == (
        read.states,
        read.merged,
        read.transitions,
    )
    assert kept.coverage == read.coverage


def test_most_obligations_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    made = 0
    obligations = reads.obligations

    def counted(uow: Any, acc: Any, now: datetime) -> Obligations:
        nonlocal made
        made += 1
        return obligations(uow, acc, now)

    monkeypatch.setattr(reads, "obligations", counted)
    keyed = unkeyed = 0
    reads_of = World.reads_of

    def asking(self: World, acc: Any, now: datetime, holds: Any) -> Any:
        nonlocal keyed, unkeyed
        memo = reads_of(self, acc, now, holds)
        if memo is None:
            unkeyed += 1  # while a command runs: read
        else:
            keyed += 1
        return memo

    monkeypatch.setattr(World, "reads_of", asking)
    report = check(BOUNDS)

    assert report.ok
    from_cache = keyed - (made - unkeyed)
    assert from_cache > keyed / 3


def test_obligations_that_read_the_other_party_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # A hidden read: the freelancer's obligations change when the client's account is
    # suspended. The cache keys them without the client's account, and the share read
    # again finds them different.
    obligations = reads.obligations

    def hidden(uow: Any, acc: Any, now: datetime) -> Obligations:
        found = obligations(uow, acc, now)
        client = next(iter(uow.related("account", "co-1")), None)
        if acc.id == "fl-1" and client is not None and client.state.value == "suspended":
            return attrs.evolve(found, personal_contracts=(*found.personal_contracts, "C-9"))
        return found

    monkeypatch.setattr(reads, "obligations", hidden)
    monkeypatch.setattr(world_module, "KEEP_OBLIGATIONS", 10**9)

    report = check(attrs.evolve(BOUNDS, cross_check=0.5))

    assert not report.ok
    assert "the obligations of fl-1 read something other" in (report.violation or "")
