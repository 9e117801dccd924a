"""The project's own guard rails: the wall clock is banned outside ``clock.py``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = "from datetime import datetime\n\n\ndef later() -> datetime:\n    return datetime.now()\n"


def _ruff(filename: str) -> subprocess.CompletedProcess[str]:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    return subprocess.run(
        [ruff, "check", "--no-cache", "--select", "TID251", "--stdin-filename", filename, "-"],
        input=SNIPPET,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_reading_the_wall_clock_in_domain_code_is_a_lint_error() -> None:
    result = _ruff("statemachines/machines/contract/extra.py")

    assert result.returncode == 1
    assert "take the time from a statemachines.core.clock.Clock" in result.stdout


def test_the_clock_module_may_read_the_wall_clock() -> None:
    result = _ruff("statemachines/core/clock.py")

    assert result.returncode == 0, result.stdout
