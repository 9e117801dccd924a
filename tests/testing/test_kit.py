"""The kit's public face: sorted names that all resolve, and a plugin that needs no Hypothesis."""

from __future__ import annotations

import subprocess
import sys

import pytest

import statemachines.testing as kit
from statemachines import ManualClock, Marketplace
from statemachines.testing import START
from statemachines.testing.plugin import STORES


def test_every_public_name_is_listed_once_and_resolves() -> None:
    # ruff's RUF022 keeps the list sorted (constants, classes, then functions)
    assert len(kit.__all__) == len(set(kit.__all__))
    for name in kit.__all__:
        assert getattr(kit, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = kit.nothing


def test_the_plugin_and_the_assertions_load_without_hypothesis() -> None:
    script = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import statemachines.testing.plugin as plugin\n"
        "from statemachines.testing import assert_refused, standard_marketplace\n"
        "try:\n"
        "    from statemachines.testing import actors\n"
        "except ImportError as err:\n"
        "    print('lazy:', err)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert "lazy: import of hypothesis halted" in done.stdout


def test_the_plugin_gives_a_manual_clock_and_a_marketplace_on_each_store(
    manual_clock: ManualClock, marketplace: Marketplace, request: pytest.FixtureRequest
) -> None:
    assert manual_clock.now() == START
    assert marketplace.clock is manual_clock
    assert marketplace.all("account") == []
    assert request.node.callspec.params["marketplace"] in STORES
