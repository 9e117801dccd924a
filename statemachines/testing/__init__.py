"""The testing kit: what a team building on statemachines needs to test its own code.

* the cast and a world (:mod:`~statemachines.testing.cast`): named actors of every role,
  a marketplace with accounts of every type, teams, jobs, proposals and contracts;
* assertions (:mod:`~statemachines.testing.assertions`): :func:`assert_refused`,
  :func:`assert_not_permitted`, :func:`assert_illegal`, :func:`assert_unchanged`, and their
  ``with`` forms :func:`refused`, :func:`not_permitted`, :func:`illegal`;
* Hypothesis strategies (:mod:`~statemachines.testing.strategies`): actors right and wrong,
  money and times on every side of every rule's boundary, whole worlds of a checker bound;
* a state machine to subclass (:class:`MarketplaceMachine`);
* a pytest plugin (:mod:`~statemachines.testing.plugin`, loaded automatically): the
  ``manual_clock`` and ``marketplace`` fixtures.

The strategies and the state machine need Hypothesis (``pip install statemachines[testing]``);
they are imported when first used, so the rest of the kit, and the pytest plugin, work
without it. ``docs/testing.md`` walks through writing a property test of your own.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from statemachines.testing.assertions import (
    assert_illegal,
    assert_not_permitted,
    assert_refused,
    assert_unchanged,
    illegal,
    not_permitted,
    refused,
)
from statemachines.testing.cast import (
    CAST,
    START,
    parties_of,
    standard_marketplace,
    wrong_parties_of,
)

if TYPE_CHECKING:
    from statemachines.testing.stateful import DomainEvent, MarketplaceMachine, Swarm
    from statemachines.testing.strategies import (
        actors,
        amounts_near,
        bounds,
        elapsed_near_windows,
        moments_near_window_edges,
        money_near,
        money_near_boundaries,
        people,
        spans_near_windows,
        times_near_window_edges,
        worlds,
    )

__all__ = [
    "CAST",
    "START",
    "DomainEvent",
    "MarketplaceMachine",
    "Swarm",
    "actors",
    "amounts_near",
    "assert_illegal",
    "assert_not_permitted",
    "assert_refused",
    "assert_unchanged",
    "bounds",
    "elapsed_near_windows",
    "illegal",
    "moments_near_window_edges",
    "money_near",
    "money_near_boundaries",
    "not_permitted",
    "parties_of",
    "people",
    "refused",
    "spans_near_windows",
    "standard_marketplace",
    "times_near_window_edges",
    "worlds",
    "wrong_parties_of",
]

_LAZY = {
    "DomainEvent": "stateful",
    "MarketplaceMachine": "stateful",
    "Swarm": "stateful",
    "actors": "strategies",
    "amounts_near": "strategies",
    "bounds": "strategies",
    "elapsed_near_windows": "strategies",
    "moments_near_window_edges": "strategies",
    "money_near": "strategies",
    "money_near_boundaries": "strategies",
    "people": "strategies",
    "spans_near_windows": "strategies",
    "times_near_window_edges": "strategies",
    "worlds": "strategies",
}
"""Names that need Hypothesis, and the module of the kit that defines each."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'statemachines.testing' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"statemachines.testing.{module}"), name)
    globals()[name] = value
    return value
