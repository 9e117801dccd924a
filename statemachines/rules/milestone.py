"""Rules for fixed-price milestones and their review (rulebook §3.14, §5.3).

Sources: seed ``001_23b8128dddb6d3ea.txt`` (S1, line 77: resubmission restarts the
client's 14 days) and help-centre pages P10 to P17, P50 and P56.
"""

from __future__ import annotations

from datetime import timedelta

from statemachines.core.money import Money
from statemachines.rules import Rule, register

__all__ = [
    "MILESTONE_MIN",
    "MILESTONE_RULES",
    "REVIEW_WINDOW",
    "SECURITY_HOLD",
]

MILESTONE_MIN = Money(500)
"""MS-1: the smallest amount a milestone may be funded with (US$5.00)."""

REVIEW_WINDOW = timedelta(days=14)
"""MS-REVIEW-1: the client's review period, counted from the latest submission."""

SECURITY_HOLD = timedelta(days=5)
"""MS-PAY-1: how long released money stays pending before it is available."""

MILESTONE_RULES = (
    Rule(
        "MS-1",
        "milestone",
        "A milestone must be worth at least US$5.00 before it can be funded.",
        ("P11", "P14", "P50"),
    ),
    Rule(
        "MS-2",
        "milestone",
        "Only one milestone of a contract is funded or under review at a time, and money left "
        "over from a partial release funds the next one.",
        ("P14", "P15", "P56"),
    ),
    Rule(
        "MS-3",
        "milestone",
        "Milestones not yet funded may be edited or deleted; a funded or submitted milestone "
        "cannot be edited.",
        ("P14",),
    ),
    Rule(
        "MS-4",
        "milestone",
        "Only money held in escrow is protected, so work can be submitted only on a funded "
        "milestone.",
        ("P16", "P50"),
    ),
    Rule(
        "MS-SUBMIT-1",
        "milestone",
        "The freelancer side (the freelancer, or an agency's member or business manager) submits "
        "the work, which is what starts the client's review.",
        ("P13", "P16"),
    ),
    Rule(
        "MS-REVIEW-1",
        "milestone",
        "After a submission the client has 14 days, measured in UTC, to approve the work or ask "
        "for changes.",
        ("S1 l.77", "P10", "P11", "P13"),
    ),
    Rule(
        "MS-REVIEW-2",
        "milestone",
        "If the client neither approves nor asks for changes within 14 days, the milestone is "
        "approved automatically and its full funded amount released.",
        ("P10", "P11", "P15", "P17", "P50"),
    ),
    Rule(
        "MS-REVIEW-3",
        "milestone",
        "Asking for changes stops the review clock; nothing is released automatically until the "
        "freelancer submits again.",
        ("P12", "P37"),
    ),
    Rule(
        "MS-REVIEW-4",
        "milestone",
        "A resubmission gives the client a fresh 14 days counted from the moment of resubmission.",
        ("S1 l.77", "P12", "P13"),
    ),
    Rule(
        "MS-REVIEW-5",
        "milestone",
        "On approval the client releases the full amount, part of it, or more than it; what is "
        "not released stays held for the next milestone or a refund at the end.",
        ("P10", "P11", "P13", "P15"),
    ),
    Rule(
        "MS-REVIEW-6",
        "milestone",
        "The client may release a funded milestone's money without waiting for a submission.",
        ("P56",),
    ),
    Rule(
        "MS-PAY-1",
        "milestone",
        "Released milestone money is pending for a 5-day security hold before it becomes "
        "available to withdraw.",
        ("P13", "P16", "P56"),
    ),
)

register(MILESTONE_RULES)
