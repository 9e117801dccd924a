"""Account lifecycle for every account type: the table, the aggregate, the guards.

``table`` holds the machine and the workflow; ``model`` the aggregate and the
obligations its guards read; ``checks`` the guards and effects.
"""

from statemachines.machines.account.table import (
    ACCOUNT,
    Account,
    AccountLifecycle,
    AccountState,
    AccountType,
    ContractFact,
    Obligations,
    SuspensionReason,
)

__all__ = [
    "ACCOUNT",
    "Account",
    "AccountLifecycle",
    "AccountState",
    "AccountType",
    "ContractFact",
    "Obligations",
    "SuspensionReason",
]
