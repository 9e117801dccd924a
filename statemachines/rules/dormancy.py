"""Rules for fixed-price contracts that hold money and go quiet (rulebook §3.19, §5.8, C-30).

Sources: help-centre page P33 (contracts gone dormant) and P55 (an older version of the
escrow instructions, quoted on the community). The step sequence follows the current P33
(C-30): notices on days 76 and 83, the client's 7 days, the freelancer's 7 days, the
client's 14 days; when nobody acts the money goes back to the client.
"""

from __future__ import annotations

from datetime import timedelta

from statemachines.rules import Rule, register

__all__ = [
    "CLIENT_WINDOW",
    "DORMANCY_RULES",
    "DORMANT_AFTER",
    "FIRST_NOTICE",
    "FREELANCER_WINDOW",
    "MILESTONE_EXTENSION",
    "RELEASE_REVIEW",
    "SECOND_NOTICE",
]

DORMANT_AFTER = timedelta(days=90)
"""DORM-1: quiet this long after its latest activity or milestone due date, it is dormant."""

FIRST_NOTICE = timedelta(days=76)
"""DORM-1: the first notice, 14 days before the contract goes dormant."""

SECOND_NOTICE = timedelta(days=83)
"""DORM-1: the second notice, 7 days before."""

CLIENT_WINDOW = timedelta(days=7)
"""DORM-1: once dormant, the client has this long to release or take back the money."""

FREELANCER_WINDOW = timedelta(days=7)
"""DORM-1: then the freelancer side has this long to ask for the money to be released."""

RELEASE_REVIEW = timedelta(days=14)
"""DORM-1: the client's time to approve or dispute that request; silence releases it."""

MILESTONE_EXTENSION = timedelta(days=90)
"""DORM-1: adding a milestone pushes the dormancy date this much further."""

DORMANCY_RULES = (
    Rule(
        "DORM-1",
        "dormancy",
        "A fixed-price contract that holds money and sees no activity for 90 days after its "
        "latest milestone due date goes dormant: notices on days 76 and 83, then 7 days for the "
        "client to act, 7 for the freelancer to ask for release, 14 for the client to approve or "
        "dispute (silence releases, a dispute goes to mediation); if nobody acts the money goes "
        "back to the client. Any activity restarts the count, a new milestone adds 90 days, and "
        "a milestone due in the future keeps the contract from closing.",
        ("P33", "P55", "rulebook C-30"),
        release="v0.2",
    ),
)

register(DORMANCY_RULES)
