"""Coverage of states, edges and guard outcomes by the checker runs and the path searches.

``known_gaps.txt`` lists what the CI bounds do not reach yet (an edge never
fired, a v0.1 guard never seen refusing or passing). The test fails when a new
gap appears, and when a listed gap closes (so that the list only shrinks):
regenerate it with ``python -m tests.verification.test_coverage``.
"""

from __future__ import annotations

from pathlib import Path

from statemachines.checker_coverage import gaps, summary, v01_rules
from tests.verification.runs import MACHINES, coverage

KNOWN = Path(__file__).with_name("known_gaps.txt")
SCOPE = Path(__file__).parents[1] / "v01_rules.txt"


def current_gaps() -> list[str]:
    """Every gap of the CI runs, sorted."""
    return sorted(gaps(coverage(), MACHINES, v01_rules(SCOPE)))


def test_no_new_gap_and_no_stale_one() -> None:
    known = [line for line in KNOWN.read_text(encoding="utf-8").splitlines() if line]
    now = current_gaps()

    new = sorted(set(now) - set(known))
    closed = sorted(set(known) - set(now))
    assert not new, "new coverage gaps:\n" + "\n".join(new)
    assert not closed, "gaps now covered (remove them from known_gaps.txt):\n" + "\n".join(closed)


def test_summary_names_every_machine() -> None:
    text = summary(coverage(), MACHINES)

    assert all(text.count(f"{m}:") == 1 for m in MACHINES)


if __name__ == "__main__":
    KNOWN.write_text("\n".join(current_gaps()) + "\n", encoding="utf-8")
    print(summary(coverage(), MACHINES))  # noqa: T201  (a script)
