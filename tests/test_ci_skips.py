"""In CI a skipped test fails and says why (tests/conftest.py): nothing passes there silently."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_needs_a_thing.py"
    test.write_text(
        "import pytest\n\n\ndef test_needs_a_thing():\n    pytest.skip('the thing is missing')\n"
    )
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p"]
    command += ["tests.conftest", "--rootdir", str(tmp_path), str(test)]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(("ci", "code", "said"), [("true", 1, "1 failed"), ("", 0, "1 skipped")])
def test_a_skip_fails_in_ci_and_only_there(tmp_path: Path, ci: str, code: int, said: str) -> None:
    done = _run(tmp_path, ci)

    assert (done.returncode, said in done.stdout) == (code, True), done.stdout + done.stderr
    if ci:
        assert "skipped in CI, where nothing may skip: Skipped: the thing is missing" in done.stdout
