"""statemachines: a freelance marketplace's workflows as explicit, guarded state machines.

The public API is small: the machines (a spec, an aggregate and a workflow
each), actors and roles, the clock, money, snapshots and the exceptions.
Everything else lives in private modules.
"""

from importlib.metadata import PackageNotFoundError as _NotInstalled
from importlib.metadata import version as _version

from statemachines.core.actors import SYSTEM, Actor, Role
from statemachines.core.clock import UTC, Clock, ManualClock, SystemClock
from statemachines.core.engine import (
    Attempt,
    Deadline,
    Decision,
    Edge,
    MachineSpec,
    Verdict,
    Workflow,
)
from statemachines.core.money import Money
from statemachines.core.snapshots import from_dict, to_dict
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
from statemachines.machines.contract.table import (
    CONTRACT,
    Contract,
    ContractLifecycle,
    ContractState,
)
from statemachines.machines.contract.values import ContractKind
from statemachines.machines.dormancy import DORMANCY, Dormancy, DormancyState, DormancyWatch
from statemachines.machines.fixed_dispute import (
    FIXED_DISPUTE,
    FixedDispute,
    FixedDisputes,
    FixedDisputeState,
)
from statemachines.machines.hourly_dispute import (
    HOURLY_DISPUTE,
    HourlyDispute,
    HourlyDisputes,
    HourlyDisputeState,
)
from statemachines.machines.job import JOB, Job, JobPosting, JobState
from statemachines.machines.milestone import MILESTONE, Milestone, MilestoneReview, MilestoneState
from statemachines.machines.proposal import PROPOSAL, Proposal, ProposalFlow, ProposalState
from statemachines.machines.refund_request import (
    REFUND_REQUEST,
    ClientRefundRequest,
    RefundRequests,
    RefundRequestState,
)
from statemachines.machines.team import MEMBERSHIP, Membership, MembershipState, TeamMembership
from statemachines.marketplace.errors import AlreadyExists, ConcurrentModification
from statemachines.marketplace.events import Outcome
from statemachines.marketplace.market import Marketplace, MemoryStore, Store
from statemachines.marketplace.unit_of_work import retry
from statemachines.rules import RULES, Rule

__all__ = [
    "ACCOUNT",
    "CONTRACT",
    "DORMANCY",
    "FIXED_DISPUTE",
    "HOURLY_DISPUTE",
    "JOB",
    "MEMBERSHIP",
    "MILESTONE",
    "PROPOSAL",
    "REFUND_REQUEST",
    "RULES",
    "SYSTEM",
    "UTC",
    "Account",
    "AccountLifecycle",
    "AccountState",
    "AccountType",
    "Actor",
    "AlreadyExists",
    "Attempt",
    "ClientRefundRequest",
    "Clock",
    "ClockError",
    "ConcurrentModification",
    "Contract",
    "ContractFact",
    "ContractKind",
    "ContractLifecycle",
    "ContractState",
    "CurrencyMismatch",
    "Deadline",
    "Decision",
    "DefinitionError",
    "Dormancy",
    "DormancyState",
    "DormancyWatch",
    "Edge",
    "FixedDispute",
    "FixedDisputeState",
    "FixedDisputes",
    "HourlyDispute",
    "HourlyDisputeState",
    "HourlyDisputes",
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
    "Outcome",
    "Proposal",
    "ProposalFlow",
    "ProposalState",
    "RefundRequestState",
    "RefundRequests",
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
    "retry",
    "to_dict",
]

try:
    __version__ = _version("statemachines")
    """The installed version (pyproject.toml's, the one source of it)."""
except _NotInstalled:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

# Importing the machines' invariants registers them with the snapshot loader (last, so that
# the machines above are built in the order they are listed).
from statemachines.machines import invariants as _invariants  # noqa: F401
