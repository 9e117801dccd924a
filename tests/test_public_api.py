"""The public surface: an explicit and complete ``__all__`` (after httpx)."""

from __future__ import annotations

import types

import statemachines


def test_all_is_sorted_and_complete() -> None:
    public = {
        name
        for name, value in vars(statemachines).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }

    # ruff's RUF022 keeps the list sorted (constants, classes, then functions).
    assert len(statemachines.__all__) == len(set(statemachines.__all__))
    assert set(statemachines.__all__) == public
