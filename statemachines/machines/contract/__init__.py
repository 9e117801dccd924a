"""Contract lifecycle, hourly and fixed-price: the table and its parts by topic.

``table`` holds the machine and the workflow; ``model`` the aggregate; ``values``
the frozen records it keeps (weeks, payments, refund requests); ``escrow``,
``hourly`` and ``after`` the guards and effects of fixed-price work, hourly
billing, and everything from the end on (refunds, bonuses, feedback).
"""

from statemachines.machines.contract.table import (
    CONTRACT,
    Contract,
    ContractLifecycle,
    ContractState,
)
from statemachines.machines.contract.values import ContractKind

__all__ = ["CONTRACT", "Contract", "ContractKind", "ContractLifecycle", "ContractState"]
