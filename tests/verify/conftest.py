"""Helpers for the verification tests: break a machine table on purpose, for one test."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from statemachines.core.engine import Edge, MachineSpec
from statemachines.core.engine.spec import RunEffects
from statemachines.machines.account.table import ACCOUNT, AccountState
from statemachines.machines.contract import escrow as contract_escrow


def drop_guard(monkeypatch: pytest.MonkeyPatch, spec: MachineSpec[Any, Any], rule_id: str) -> None:
    """Remove every guard citing *rule_id* from *spec*'s edges, for the current test."""
    index = {
        key: tuple(
            attrs.evolve(e, guards=tuple(g for g in e.guards if g.rule_id != rule_id))
            for e in edges
        )
        for key, edges in spec._index.items()
    }
    monkeypatch.setattr(spec, "_index", index)


def add_edge(
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    spec: MachineSpec[Any, Any],
    edge: Edge[Any],
) -> None:
    """Add *edge* to *spec* (its index and its ``transitions`` machine), for the current test."""
    index = dict(spec._index)
    for source in edge.sources:
        index[(source.name, edge.event)] = (*index.get((source.name, edge.event), ()), edge)
    monkeypatch.setattr(spec, "_index", index)
    before: Any = [RunEffects(edge.effects)] if edge.effects else []
    spec.machine.add_transition(edge.event, list(edge.sources), edge.target, before=before)

    def undo() -> None:
        for source in edge.sources:
            spec.machine.remove_transition(edge.event, source, edge.target)

    request.addfinalizer(undo)


def release_escrow_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every release of escrow pay the freelancer twice, for the current test."""
    paid_out = contract_escrow._paid_out

    def twice(*args: object) -> None:
        paid_out(*args)  # type: ignore[arg-type]
        paid_out(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(contract_escrow, "_paid_out", twice)


def reopen_closed_accounts(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Let support reactivate a closed account with no guard, for the current test."""
    reactivate = next(e for e in ACCOUNT.edges if e.event == "support_reactivate")
    add_edge(
        monkeypatch,
        request,
        ACCOUNT,
        attrs.evolve(reactivate, sources=(AccountState.CLOSED,), guards=()),
    )
