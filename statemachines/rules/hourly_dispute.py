"""Rules for a client's dispute of an hourly week (rulebook §3.13, §3.11 CTR-HR-5, §5.5, C-10).

Sources: seed ``001_23b8128dddb6d3ea.txt`` (S1, line 27: billed hours "may be disputed
according to the usual weekly billing cycle") and help-centre pages P07 (disputing
hours, current and old), P08 (the freelancer's side, three versions), P09 (the 2023
release note) and P48 (Hourly Payment Protection). Where the versions disagree the
rulebook's decision C-10 is followed: 3 calendar days to answer, and silence goes to
support's review unless :data:`HOURLY_NO_RESPONSE_POLICY` says otherwise (ADR 0061).
"""

from __future__ import annotations

import enum
from datetime import timedelta

from statemachines.rules import Rule, register

__all__ = [
    "HOURLY_DISPUTE_RESPONSE",
    "HOURLY_DISPUTE_RULES",
    "HOURLY_NO_RESPONSE_POLICY",
    "SUSPEND_ON_NO_RESPONSE",
    "NoResponsePolicy",
]

HOURLY_DISPUTE_RESPONSE = timedelta(days=3)
"""HDSP-3, C-10: how long the freelancer side has to accept or decline (calendar days)."""


class NoResponsePolicy(enum.Enum):
    """What happens when the freelancer side lets the 3 days pass (HDSP-6, C-10)."""

    REVIEW = "review"
    """Support reviews the diary and protects the qualifying hours (current help centre)."""
    REFUND_ALL = "refund_all"
    """Every disputed hour is refunded to the client (older help centre)."""


HOURLY_NO_RESPONSE_POLICY = NoResponsePolicy.REVIEW
"""HDSP-6, C-10: the platform's policy for silence; each dispute records the policy in force
when it was filed, so a change applies to new disputes only."""

SUSPEND_ON_NO_RESPONSE = False
"""SUSP-4: with :attr:`NoResponsePolicy.REFUND_ALL`, also suspend the freelancer's account
until they speak with a dispute specialist (the oldest help-centre text). Off by default."""

HOURLY_DISPUTE_RULES = (
    Rule(
        "HDSP-1",
        "hourly_dispute",
        "Only the client files an hourly dispute, only about hours billed for the week just "
        "invoiced, and only while that week's review window is open (Monday noon to the end of "
        "Friday, UTC); asking support or requesting a refund is not a dispute.",
        ("S1 l.27", "P07", "P07 (old)"),
        release="v0.2",
    ),
    Rule(
        "HDSP-2",
        "hourly_dispute",
        "Filing a dispute pauses the contract and sets its weekly limit to 0 until the dispute "
        "is over; the client must restart the contract for work to resume.",
        ("P08", "P08 (oldest)"),
        release="v0.2",
    ),
    Rule(
        "HDSP-3",
        "hourly_dispute",
        "The freelancer side has 3 calendar days from the filing to accept or decline the "
        "dispute (an older text said 3 business days).",
        ("P08", "P09"),
        release="v0.2",
    ),
    Rule(
        "HDSP-4",
        "hourly_dispute",
        "When the freelancer side accepts, every disputed hour is refunded to the client.",
        ("P08",),
        release="v0.2",
    ),
    Rule(
        "HDSP-5",
        "hourly_dispute",
        "When the freelancer side declines, a specialist checks the work diary against the "
        "Hourly Payment Protection criteria: the hours that qualify are paid on the usual "
        "schedule and the rest are refunded to the client.",
        ("P08", "P09"),
        release="v0.2",
    ),
    Rule(
        "HDSP-6",
        "hourly_dispute",
        "When the freelancer side does not answer in time, support investigates and protects "
        "the hours that qualify; the older policy of refunding every hour is kept as a setting.",
        ("P08", "P08 (old)", "P08 (oldest)"),
        release="v0.2",
    ),
    Rule(
        "HDSP-7",
        "hourly_dispute",
        "The client may withdraw the dispute, and the disputed hours are then paid on the usual "
        "weekly schedule.",
        ("P08",),
        release="v0.2",
    ),
    Rule(
        "HDSP-8",
        "hourly_dispute",
        "On an agency's contract both the freelancer who worked and the agency's managers are "
        "told of the dispute, and either may answer it.",
        ("P08",),
        release="v0.2",
    ),
    Rule(
        "CTR-HR-5",
        "hourly_dispute",
        "Hourly Payment Protection covers only qualifying hours: an ID-verified freelancer, a "
        "client with a verified billing method, accounts in good standing, time tracked by the "
        "desktop app with memos and enough activity, within the weekly limit; manual and idle "
        "time, time over the limit, bonuses and one-time payments are not covered.",
        ("P48",),
        release="v0.2",
    ),
    Rule(
        "SUSP-4",
        "hourly_dispute",
        "Under the oldest policy a freelancer who never answered an hourly dispute was "
        "suspended until they spoke with a dispute specialist; kept only as an optional setting.",
        ("P08 (oldest)",),
        release="v0.2",
    ),
)

register(HOURLY_DISPUTE_RULES)
