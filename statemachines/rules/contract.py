"""Rules for contracts, hourly billing, escrow refunds, refunds, bonuses and feedback.

Rulebook §3.10-3.12, §3.15, §3.17-3.19 and the decisions of §4 (C-04..C-18,
C-27). Sources: seeds ``001_23b8128dddb6d3ea.txt`` (S1: billing after a contract
ends, 180-day refunds, escrow-refund steps) and ``003_ea89150c5655883c.txt``
(S3: the freelancer's view of ending a contract), and help-centre pages P05-P06,
P18-P23, P28-P31, P34-P35 and P49. Rule IDs ending in ``-D`` are this project's
own decisions; each has an ADR in ``docs/decisions/``.
"""

from __future__ import annotations

from datetime import timedelta

from statemachines.core.money import Money
from statemachines.rules import Rule, register

__all__ = [
    "AVAILABLE_OFFSET",
    "BONUS_AFTER_END",
    "CLIENT_REVIEW_END",
    "CONTRACT_RULES",
    "ESCROW_REFUND_RESPONSE",
    "FEEDBACK_DAYS",
    "FREELANCER_EDIT_END",
    "IN_PRODUCT_REQUEST_WINDOW",
    "REFUND_WINDOW",
    "SUPPORT_REQUEST_WINDOW",
    "WEEK",
    "WEEK_AVAILABLE",
    "WORK_HISTORY_MIN",
]

WEEK = timedelta(days=7)
"""BILL-1: a billing week runs from Monday 00:00 UTC for seven days."""

FREELANCER_EDIT_END = WEEK + timedelta(hours=12)
"""BILL-2 and BILL-3: from the start of a week to the Monday 12:00 UTC after it, when the
freelancer's edits stop and the week is invoiced."""

CLIENT_REVIEW_END = timedelta(days=12)
"""BILL-4 and C-27: from the start of a week to the Saturday 00:00 UTC after it (exclusive),
when the client's review of the invoiced week closes."""

AVAILABLE_OFFSET = timedelta(0)
"""BILL-5 and C-27: hours after Wednesday 00:00 UTC at which hourly earnings become available
(0 follows the help centre's "Wednesday"; 24 hours gives the strict 5 x 24 h reading)."""

WEEK_AVAILABLE = timedelta(days=16) + AVAILABLE_OFFSET
"""BILL-5: from the start of a week to the Wednesday, 10 days after the week ended, when its
earnings become available."""

ESCROW_REFUND_RESPONSE = timedelta(days=7)
"""ESC-2: how long the freelancer side has to answer an escrow-refund request."""

FEEDBACK_DAYS = 14
"""FB-1: feedback closes at the end of the 14th UTC day after the contract ended."""

REFUND_WINDOW = timedelta(days=180)
"""REF-180-1: how old a payment may be for the freelancer side to refund it."""

IN_PRODUCT_REQUEST_WINDOW = timedelta(days=180)
"""REF-REQ-1: how old a payment may be for the client to request a refund in the product."""

SUPPORT_REQUEST_WINDOW = timedelta(days=365)
"""REF-REQ-1: how old a payment may be for the client to request a refund through support."""

BONUS_AFTER_END = timedelta(days=365)
"""PAY-2: how long after the end the client may still pay a bonus."""

WORK_HISTORY_MIN = Money(100)
"""REF-180-7, FB-4, C-13: net pay below US$1.00 hides a finished contract (state ``refunded``)."""

CONTRACT_RULES = (
    # -- general and ending (§3.10)
    Rule(
        "CTR-GEN-1",
        "contract",
        "Either side may end a contract whenever it likes: the freelancer, the agency's owner or "
        "business manager, or a client member allowed to end contracts. No notice is required.",
        ("S1 l.53-55", "S3 l.14", "P18", "P21"),
    ),
    Rule(
        "CTR-END-2",
        "contract",
        "Ending an hourly contract locks its work diary at once: no time can be added or changed.",
        ("S3 l.28", "P18", "P19", "P21"),
    ),
    Rule(
        "CTR-END-3",
        "contract",
        "Hourly time logged before the end is still invoiced on the normal weekly schedule and "
        "stays open to the client's review; the contract settles when that review closes.",
        ("S1 l.27", "S3 l.28", "P19", "rulebook C-18"),
    ),
    Rule(
        "CTR-END-4",
        "contract",
        "When the freelancer side ends a fixed-price contract, every dollar still held goes back "
        "to the client at once, with no refund request and no dispute, and reviews stop.",
        ("S3 l.30", "P18", "P36", "rulebook C-06"),
    ),
    Rule(
        "CTR-END-5",
        "contract",
        "A client ending a fixed-price contract with money held pays the whole remainder, another "
        "amount, or nothing; paying less than is held asks the freelancer to refund the rest.",
        ("S1 l.67-73", "P20", "P22"),
    ),
    Rule(
        "CTR-END-6",
        "contract",
        "Once a contract ends, each side may leave feedback for the other, double-blind.",
        ("S1 l.27", "S3 l.14", "P19", "P21"),
    ),
    Rule(
        "CTR-END-7",
        "contract",
        "After the end the freelancer side may still refund payments up to 180 days old.",
        ("S1 l.27", "P18", "P19"),
    ),
    Rule(
        "CTR-END-8",
        "contract",
        "After the end the client may still pay a bonus, for up to 365 days.",
        ("P18 (old)", "P49"),
    ),
    Rule(
        "CTR-END-9",
        "contract",
        "Ending is final: an ended contract is never reopened, and more work needs a new contract.",
        ("P21", "P54"),
    ),
    Rule(
        "CTR-END-10",
        "contract",
        "When the client pays out the last milestone, the product suggests ending the contract "
        "(the client may keep it open).",
        ("P14",),
    ),
    # -- hourly (§3.11)
    Rule(
        "CTR-HR-1",
        "contract",
        "The client may pause an hourly contract, which stops time logging, and restart it.",
        ("P34",),
    ),
    Rule(
        "CTR-HR-2",
        "contract",
        "The platform pauses hourly contracts while the client's billing method has a problem "
        "and restarts them once it is fixed; the client cannot restart them meanwhile.",
        ("P35",),
    ),
    Rule(
        "CTR-HR-3",
        "contract",
        "Billable time per week is capped by the contract's weekly limit; time above it is not "
        "invoiced and can only be paid with a bonus.",
        ("P06",),
    ),
    # -- weekly billing (§3.12)
    Rule(
        "BILL-1",
        "contract",
        "A billing week runs from Monday 00:00:00 to Sunday 23:59:59 UTC; time is logged into the "
        "week in which the work was done.",
        ("P05", "S1 l.27"),
    ),
    Rule(
        "BILL-2",
        "contract",
        "The freelancer may change the current week's time at any time and the week just closed "
        "until Monday 12:00 UTC; older weeks are closed.",
        ("P05", "P28"),
    ),
    Rule(
        "BILL-3",
        "contract",
        "At Monday 12:00 UTC the platform invoices the billable time of the week just closed, "
        "exactly once.",
        ("P05", "P06"),
    ),
    Rule(
        "BILL-4",
        "contract",
        "The client reviews an invoiced week from Monday 12:00 UTC until Friday ends "
        "(Saturday 00:00 UTC), even after the contract has ended.",
        ("P05", "P07", "S1 l.27", "rulebook C-27"),
    ),
    Rule(
        "BILL-5",
        "contract",
        "Hourly earnings become available on the Wednesday ten days after their week ended.",
        ("P05", "P06", "rulebook C-27"),
    ),
    Rule(
        "BILL-6",
        "contract",
        "Manual payments (final payments, bonuses) skip the review and become available five days "
        "after they are made.",
        ("P05", "P06"),
    ),
    Rule(
        "BILL-7",
        "contract",
        "Hourly funds not disputed in the review window are paid on schedule; afterwards only a "
        "voluntary refund by the freelancer side returns them.",
        ("P07",),
    ),
    # -- escrow-refund request (§3.15)
    Rule(
        "ESC-1",
        "contract",
        "A client who ends a fixed-price contract paying less than is held opens an escrow-refund "
        "request for the rest.",
        ("S1 l.69-73", "P20", "P22"),
    ),
    Rule(
        "ESC-2",
        "contract",
        "The freelancer side has seven days to approve or dispute an escrow-refund request.",
        ("P22", "P23", "P13"),
    ),
    Rule(
        "ESC-3",
        "contract",
        "An approved escrow-refund request, or one left unanswered for seven days, returns the "
        "requested money to the client.",
        ("P22", "P23"),
    ),
    Rule(
        "ESC-4",
        "contract",
        "To dispute an escrow-refund request the freelancer must first leave feedback for the "
        "client; the dispute then goes to support.",
        ("P23",),
    ),
    Rule(
        "ESC-5",
        "contract",
        "An escrow-refund request covers only money still held, never earnings already released.",
        ("P23",),
    ),
    Rule(
        "ESC-SPLIT-D",
        "contract",
        "Until the full mediation machine exists, support settles a disputed escrow-refund request "
        "by splitting the held amount between the two sides, to the cent.",
        ("rulebook §5.6", "P24"),
    ),
    Rule(
        "MS-END-D",
        "milestone",
        "When its contract ends, a milestone not yet paid is cancelled and the money held for it "
        "goes back to the contract's escrow, which refunds or settles it as the end requires.",
        ("rulebook §5.3", "rulebook C-06"),
    ),
    Rule(
        "CTR-TYPE-D",
        "contract",
        "Hourly and fixed-price contracts share one machine; events of one type (time, pauses, "
        "weekly limits; milestones, escrow) are refused on the other with a reason.",
        ("rulebook §5.2",),
    ),
    # -- refunds (§3.17)
    Rule(
        "REF-180-1",
        "contract",
        "The freelancer side may refund a payment up to 180 days old on an active, paused, ending "
        "or ended contract.",
        ("S1 l.27", "P18", "P19", "P28", "P29"),
    ),
    Rule(
        "REF-180-2",
        "contract",
        "A refund returns all of a payment or part of it, and never more than is left of it.",
        ("P29",),
    ),
    Rule(
        "REF-180-3",
        "contract",
        "A refund may not exceed what the contract paid in the last 180 days, less refunds already "
        "given, nor the freelancer's balance (available plus pending).",
        ("P28", "P29 (old)", "rulebook C-12"),
    ),
    Rule(
        "REF-180-4",
        "contract",
        "A refund takes effect at once and cannot be undone.",
        ("P28", "P29"),
    ),
    Rule(
        "REF-180-5",
        "contract",
        "Only money already billed can be refunded; unbilled time is deleted from the diary "
        "instead.",
        ("P28", "P29 (old)"),
    ),
    Rule(
        "REF-180-6",
        "contract",
        "Refunded amounts come off the lifetime billings with the client.",
        ("P28",),
    ),
    Rule(
        "REF-180-7",
        "contract",
        "A finished contract whose net pay falls below US$1.00 leaves both work histories and "
        "loses its feedback: its state becomes refunded.",
        ("P29", "P29 (old)", "rulebook C-13"),
    ),
    Rule(
        "REF-REQ-1",
        "contract",
        "The client may ask for a refund of a payment up to 180 days old in the product, and "
        "through support up to 365 days; older payments cannot be refunded.",
        ("P29", "P37", "P38", "rulebook C-11"),
    ),
    Rule(
        "REF-REQ-2",
        "contract",
        "Refunds go through the platform, against a payment made on this contract.",
        ("P29",),
    ),
    Rule(
        "REF-REQ-3",
        "contract",
        "Waiting for a refund does not extend the feedback window of an ended contract.",
        ("P29 (old)",),
    ),
    # -- feedback (§3.18)
    Rule(
        "FB-1",
        "contract",
        "Each side has until the end of the 14th UTC day after the contract ended to leave "
        "feedback, once.",
        ("P30", "P31"),
    ),
    Rule(
        "FB-2",
        "contract",
        "Feedback is double-blind: published when both sides have left it or when the window "
        "closes.",
        ("P30", "P31", "P19", "S1 l.27"),
    ),
    Rule(
        "FB-3",
        "contract",
        "After the window closes, one side may let the other leave late feedback.",
        ("P30", "P29 (old)"),
    ),
    Rule(
        "FB-4",
        "contract",
        "Public feedback shows only on contracts that paid at least US$1.00 net.",
        ("P31", "rulebook C-13"),
    ),
    # -- payments (§3.19)
    Rule(
        "PAY-1",
        "contract",
        "Every manual payment (final payment, bonus, settlement) waits five days in a security "
        "hold before it is available.",
        ("P05", "P13", "P49"),
    ),
    Rule(
        "PAY-2",
        "contract",
        "The client may pay a bonus while the contract runs and up to 365 days after it ended.",
        ("P49",),
    ),
)

register(CONTRACT_RULES)
