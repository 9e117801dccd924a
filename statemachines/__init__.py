"""statemachines: a freelance marketplace's workflows as explicit, guarded state machines.

The public API is small: the machines (a spec, an aggregate and a workflow
each), actors and roles, the clock, money, snapshots and the exceptions.
Everything else lives in private modules.
"""

from statemachines._engine import (
    Attempt,
    Deadline,
    Decision,
    Edge,
    MachineSpec,
    Verdict,
    Workflow,
)
from statemachines.actors import SYSTEM, Actor, Role
from statemachines.clock import UTC, Clock, ManualClock, SystemClock
from statemachines.contract import CONTRACT, Contract, ContractLifecycle, ContractState
from statemachines.contract_values import ContractKind
from statemachines.errors import (
    ClockError,
    CurrencyMismatch,
    DefinitionError,
    IllegalTransition,
    InvalidAmount,
    InvalidInput,
    InvalidPayload,
    NaiveDatetime,
    NotPermitted,
    SnapshotError,
    StatemachinesError,
    TransitionError,
    TransitionRefused,
    UnknownEvent,
    Violation,
)
from statemachines.milestone import MILESTONE, Milestone, MilestoneReview, MilestoneState
from statemachines.money import Money
from statemachines.rules import RULES, Rule
from statemachines.snapshots import from_dict, to_dict

__all__ = [
    "CONTRACT",
    "MILESTONE",
    "RULES",
    "SYSTEM",
    "UTC",
    "Actor",
    "Attempt",
    "Clock",
    "ClockError",
    "Contract",
    "ContractKind",
    "ContractLifecycle",
    "ContractState",
    "CurrencyMismatch",
    "Deadline",
    "Decision",
    "DefinitionError",
    "Edge",
    "IllegalTransition",
    "InvalidAmount",
    "InvalidInput",
    "InvalidPayload",
    "MachineSpec",
    "ManualClock",
    "Milestone",
    "MilestoneReview",
    "MilestoneState",
    "Money",
    "NaiveDatetime",
    "NotPermitted",
    "Role",
    "Rule",
    "SnapshotError",
    "StatemachinesError",
    "SystemClock",
    "TransitionError",
    "TransitionRefused",
    "UnknownEvent",
    "Verdict",
    "Violation",
    "Workflow",
    "from_dict",
    "to_dict",
]
