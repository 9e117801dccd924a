"""Observers: coverage tools see every guard outcome and fired edge, and change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from statemachines.core.engine.rows import Edge

__all__ = ["OBSERVERS", "Observer", "muted", "observe"]


class Observer(Protocol):
    """Sees what the engine decides, for coverage reports; it must change nothing."""

    def guard(self, machine: str, edge: Edge[Any], rule_id: str, ok: bool, /) -> None:
        """One guard (or deadline check) of *edge* evaluated on a real attempt."""

    def fired(self, machine: str, edge: Edge[Any], /) -> None:
        """*edge* fired: the aggregate is now in its target state."""


OBSERVERS: list[Observer] = []


@contextmanager
def observe(observer: Observer) -> Iterator[Observer]:
    """Let *observer* see every guard outcome and fired edge until the block ends.

    Meant for test sessions and coverage runs; with no observer the hot path
    pays one list check per attempt.
    """
    OBSERVERS.append(observer)
    try:
        yield observer
    finally:
        OBSERVERS.remove(observer)


@contextmanager
def muted() -> Iterator[None]:
    """Hide every observer until the block ends (for what-if runs that are undone)."""
    hidden = OBSERVERS[:]
    OBSERVERS.clear()
    try:
        yield
    finally:
        OBSERVERS[:] = hidden
