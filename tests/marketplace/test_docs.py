"""docs/service.md runs as written, on SQLite."""

from __future__ import annotations

import doctest
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"


def test_the_service_guide_runs_as_written() -> None:
    failures, tried = doctest.testfile(
        str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )

    assert tried > 20
    assert failures == 0
