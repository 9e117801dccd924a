"""Helpers for the verification tests: break a machine table on purpose, for one test."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from statemachines.core.engine import Edge, MachineSpec, _run_effects


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
    before: Any = [_run_effects(edge.effects)] if edge.effects else []
    spec.machine.add_transition(edge.event, list(edge.sources), edge.target, before=before)

    def undo() -> None:
        for source in edge.sources:
            spec.machine.remove_transition(edge.event, source, edge.target)

    request.addfinalizer(undo)
