"""The marketplace: the machines composed, with the effects that cross them.

It routes each event to its aggregate's workflow, gives guards the facts they
read about other aggregates, and applies what one machine's decision means for
another's (a suspension pauses contracts, an accepted offer starts one).
"""

from statemachines.marketplace.market import Marketplace, MemoryStore, Store

__all__ = ["Marketplace", "MemoryStore", "Store"]
