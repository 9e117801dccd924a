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
from statemachines.account import (
    ACCOUNT,
    Account,
    AccountLifecycle,
    AccountState,
    AccountType,
    ContractFact,
    Obligations,
    SuspensionReason,
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
from statemachines.job import JOB, Job, JobPosting, JobState
from statemachines.marketplace import Marketplace, MemoryStore, Store
from statemachines.milestone import MILESTONE, Milestone, MilestoneReview, MilestoneState
from statemachines.money import Money
from statemachines.proposal import PROPOSAL, Proposal, ProposalFlow, ProposalState
from statemachines.rules import RULES, Rule
from statemachines.snapshots import from_dict, to_dict
from statemachines.team import MEMBERSHIP, Membership, MembershipState, TeamMembership

__all__ = [
    "ACCOUNT",
    "CONTRACT",
    "JOB",
    "MEMBERSHIP",
    "MILESTONE",
    "PROPOSAL",
    "RULES",
    "SYSTEM",
    "UTC",
    "Account",
    "AccountLifecycle",
    "AccountState",
    "AccountType",
    "Actor",
    "Attempt",
    "Clock",
    "ClockError",
    "Contract",
    "ContractFact",
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
    "Job",
    "JobPosting",
    "JobState",
    "MachineSpec",
    "ManualClock",
    "Marketplace",
    "Membership",
    "MembershipState",
    "MemoryStore",
    "Milestone",
    "MilestoneReview",
    "MilestoneState",
    "Money",
    "NaiveDatetime",
    "NotPermitted",
    "Obligations",
    "Proposal",
    "ProposalFlow",
    "ProposalState",
    "Role",
    "Rule",
    "SnapshotError",
    "StatemachinesError",
    "Store",
    "SuspensionReason",
    "SystemClock",
    "TeamMembership",
    "TransitionError",
    "TransitionRefused",
    "UnknownEvent",
    "Verdict",
    "Violation",
    "Workflow",
    "from_dict",
    "to_dict",
]
