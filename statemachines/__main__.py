"""``python -m statemachines``: see :mod:`statemachines.cli` for the commands."""

from __future__ import annotations

import sys

from statemachines.cli import main, summary

__all__ = ["main", "summary"]

if __name__ == "__main__":
    sys.exit(main())
