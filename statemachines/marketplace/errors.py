"""The service's own exceptions: a lost race, and a key that is already taken.

Both subclass the package's tree (:mod:`statemachines.errors`), so ``except
StatemachinesError`` still catches everything the library raises on purpose:

* :class:`ConcurrentModification` (a :class:`~statemachines.errors.StatemachinesError`):
  another command changed an aggregate this one read; nothing was written. Run the
  command again on fresh state (:func:`statemachines.marketplace.unit_of_work.retry`).
* :class:`AlreadyExists` (an :class:`~statemachines.errors.InvalidInput`): a new
  aggregate or record would reuse a key; ids are never reused or overwritten.
"""

from __future__ import annotations

from statemachines.errors import InvalidInput, StatemachinesError

__all__ = ["AlreadyExists", "ConcurrentModification"]


class ConcurrentModification(StatemachinesError):
    """Another command changed *kind* *key* first: *expected* revision, *found* another.

    The command that raised this changed nothing; running it again reads the new
    state and decides afresh.
    """

    def __init__(self, kind: str, key: str, expected: int, found: int | None) -> None:
        now = "is gone" if found is None else f"is at revision {found}"
        if found == expected:
            now = "was read while another command committed"
        super().__init__(
            f"{kind} {key!r} changed while this command ran: it was read at revision "
            f"{expected} and {now}; nothing was written, so run the command again"
        )
        self.kind = kind
        self.key = key
        self.expected = expected
        self.found = found


class AlreadyExists(InvalidInput):
    """A new aggregate or record would take a key that is already used."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} already exists; a key is never reused or overwritten")
        self.kind = kind
        self.key = key
