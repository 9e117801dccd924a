"""``docs/testing.md`` runs as written: its test file passes, and fails when its read model
has the bug the page says the machine catches."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from statemachines.testing.plugin import STORES

DOC = Path(__file__).parents[2] / "docs" / "testing.md"
BUG = (
    "        self.status[event.kind, event.aggregate] = event.decision.target.value\n",
    "        if event.decision.deadline is None:  # forgets what the platform fires itself\n"
    "            self.status[event.kind, event.aggregate] = event.decision.target.value\n",
)


def example() -> str:
    """The page's test file: every ``python`` block whose first line names it, in order."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    parts = [b.split("\n", 1)[1] for b in blocks if b.startswith("# test_my_backend.py\n")]
    assert len(parts) == 3
    return "\n\n".join(parts)


def run(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    """pytest on *source* as a user's project would run it: the plugin from the entry point."""
    (tmp_path / "test_my_backend.py").write_text(source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPOTHESIS")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_backend.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_the_example_passes_as_written(tmp_path: Path) -> None:
    done = run(tmp_path, example())

    assert done.returncode == 0, done.stdout + done.stderr
    # two fixture tests (each once per store), the boundary property, the state machine
    assert re.search(rf"\b{2 * len(STORES) + 2} passed\b", done.stdout), done.stdout


def test_the_example_catches_a_board_that_forgets_deadlines(tmp_path: Path) -> None:
    source = example()
    assert BUG[0] in source
    # found without shrinking it (shrinking a run of the whole marketplace takes minutes)
    quick = (
        "\nfrom hypothesis import Phase\n\n"
        "BoardMachine.TestCase.settings = settings(\n"
        "    BoardMachine.TestCase.settings, phases=[Phase.explicit, Phase.reuse, Phase.generate]\n"
        ")\n"
    )
    done = run(tmp_path, source.replace(*BUG) + quick)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "the_board_shows_what_the_domain_holds" in done.stdout
    assert "1 failed" in done.stdout
