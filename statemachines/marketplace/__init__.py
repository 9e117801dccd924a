"""The marketplace as a service: the machines composed, one unit of work per command.

:class:`Marketplace` is the facade. Underneath, shaped like cosmicpython's
allocation service: :mod:`~statemachines.marketplace.commands` (what is asked),
:mod:`~statemachines.marketplace.handlers` (what each command and each decision
leads to), :mod:`~statemachines.marketplace.unit_of_work` (one transaction per
command), :mod:`~statemachines.marketplace.messagebus` (the loop that ties them),
:mod:`~statemachines.marketplace.events` (domain events and outcomes),
:mod:`~statemachines.marketplace.reads` (the facts the guards read, from indexes)
and :mod:`~statemachines.marketplace.stores` (memory and SQLite).
"""

from statemachines.marketplace.commands import Command, Fire
from statemachines.marketplace.errors import AlreadyExists, ConcurrentModification
from statemachines.marketplace.events import Outcome, StoredEvent
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.stores import MemoryStore, Store, open_store
from statemachines.marketplace.unit_of_work import UnitOfWork, retry

__all__ = [
    "AlreadyExists",
    "Command",
    "ConcurrentModification",
    "Fire",
    "Marketplace",
    "MemoryStore",
    "Outcome",
    "Store",
    "StoredEvent",
    "UnitOfWork",
    "open_store",
    "retry",
]
