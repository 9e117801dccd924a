"""Rules for fixed-price disputes, mediation, arbitration and mediation assistance.

Rulebook §3.14 (MS-DSP-1, MS-DSP-2), §3.16 (FPD-1..10), §3.18 (FB-6), §3.7 (SUSP-2),
§3.10 (CTR-END-11), §5.7, and decisions C-07, C-08, C-09 and C-15. Sources: help-centre
pages P07 (old), P17, P22-P27 (escrow refunds, disputes, the 2023 release note,
arbitration, mediation assistance), P38 and P52 (the escrow instructions as quoted on the
community). The arbitration fee figures are not in any source: they are documented
parameters (ADR 0064).
"""

from __future__ import annotations

from datetime import timedelta

from statemachines.core.money import Money
from statemachines.rules import Rule, register

__all__ = [
    "ARBITRATION_ACCEPT",
    "ARBITRATION_FEE",
    "FIXED_DISPUTE_RULES",
    "FP_DISPUTE_CLIENT_RESPONSE",
    "FP_DISPUTE_FILE_WINDOW",
    "FP_RESOLUTION_RESPONSE",
    "MEDIATION_ASSIST_WINDOW",
    "MEDIATION_MAX",
    "PLATFORM_FEE_ABOVE",
    "PLATFORM_FEE_SHARE",
]

FP_DISPUTE_FILE_WINDOW = timedelta(days=7)
"""FPD-2: a dispute about money held when the client ended is filed within 7 days of the end."""

FP_DISPUTE_CLIENT_RESPONSE = 5
"""FPD-3, C-07: business days the client has to accept or decline (Monday to Friday, UTC)."""

FP_RESOLUTION_RESPONSE = timedelta(days=2)
"""FPD-5, C-08: how long both sides have to accept the mediator's non-binding proposal."""

MEDIATION_MAX = timedelta(days=30)
"""FPD-5, C-08: mediation never lasts longer than this; then non-resolution is noticed."""

ARBITRATION_ACCEPT = timedelta(days=7)
"""FPD-6, C-09: after the notice of non-resolution, each side has 7 days to pay its fee."""

MEDIATION_ASSIST_WINDOW = timedelta(days=30)
"""FPD-9: mediation assistance can be asked for up to 30 days after a payment is released."""

ARBITRATION_FEE = Money(20_000)
"""FPD-7: the arbitration fee of one dispute, shared by the sides (an assumed figure: no source
gives one; ADR 0064)."""

PLATFORM_FEE_ABOVE = Money(100_000)
"""FPD-7: for disputes over this amount the platform pays part of the fee (assumed, ADR 0064)."""

PLATFORM_FEE_SHARE = 2
"""FPD-7: above :data:`PLATFORM_FEE_ABOVE` the platform pays 1/PLATFORM_FEE_SHARE of the fee
(half; assumed, ADR 0064)."""

FIXED_DISPUTE_RULES = (
    Rule(
        "FPD-1",
        "fixed_dispute",
        "Only the freelancer side files a fixed-price dispute, and only when the client ended "
        "the contract while money was still held, or has not released a milestone although the "
        "work was delivered.",
        ("P23", "P24 (old)", "P07 (old)"),
        release="v0.2",
    ),
    Rule(
        "FPD-2",
        "fixed_dispute",
        "A dispute about money held when the client ended the contract must be filed within 7 "
        "days of the end, while the escrow-refund request is still open.",
        ("P25", "P23"),
        release="v0.2",
    ),
    Rule(
        "FPD-3",
        "fixed_dispute",
        "The client has 5 business days to accept or decline the dispute; if the client says "
        "nothing, the disputed money is released to the freelancer side.",
        ("P24", "P24 (old)", "P25", "rulebook C-07"),
        release="v0.2",
    ),
    Rule(
        "FPD-4",
        "fixed_dispute",
        "When the client accepts the dispute, the disputed money is released to the freelancer "
        "side.",
        ("P22", "P24"),
        release="v0.2",
    ),
    Rule(
        "FPD-5",
        "fixed_dispute",
        "A client who declines gives a reason and evidence that cannot be changed afterwards; a "
        "mediator then proposes a split that binds no one, both sides have 2 days to accept it, "
        "and mediation never lasts more than 30 days.",
        ("P24", "P25", "P22", "P23 (old)", "rulebook C-08"),
        release="v0.2",
    ),
    Rule(
        "FPD-6",
        "fixed_dispute",
        "After a notice that mediation failed, each side has 7 days to agree to arbitration by "
        "paying its fee: if both pay, the arbitrator's decision binds them; if one pays, the "
        "money goes to that side; if neither pays, it goes back to the client.",
        ("P26", "P52", "rulebook C-09"),
        release="v0.2",
    ),
    Rule(
        "FPD-7",
        "fixed_dispute",
        "The arbitration fee is shared between the freelancer side and the client, the platform "
        "pays part of it for larger disputes, and a neutral outside arbitrator decides.",
        ("P26", "P24"),
        release="v0.2",
    ),
    Rule(
        "FPD-8",
        "fixed_dispute",
        "A side that does not comply with the arbitrator's decision has its accounting entity "
        "suspended.",
        ("P26",),
        release="v0.2",
    ),
    Rule(
        "FPD-9",
        "fixed_dispute",
        "Mediation assistance, separate from a filed dispute, can be asked for within 30 days "
        "after a payment is released; it decides nothing, and after 30 days only a refund "
        "request remains.",
        ("P27", "P17"),
        release="v0.2",
    ),
    Rule(
        "FPD-10",
        "fixed_dispute",
        "Clients do not file fixed-price disputes: they ask for changes, release part of the "
        "money, or end the contract asking for the held money back.",
        ("P07 (old)", "P24 (old)", "P11", "rulebook C-15"),
        release="v0.2",
    ),
    Rule(
        "MS-DSP-1",
        "fixed_dispute",
        "On a running contract, a freelancer whose delivered work the client does not pay for "
        "may have support open a dispute, which a mediation specialist handles.",
        ("P23",),
        release="v0.2",
    ),
    Rule(
        "MS-DSP-2",
        "fixed_dispute",
        "Money already released from escrow cannot be disputed by the client; the client may ask "
        "for a refund, or for mediation assistance within 30 days.",
        ("P07 (old)", "P17"),
        release="v0.2",
    ),
    Rule(
        "FB-6",
        "fixed_dispute",
        "On an ended contract the freelancer must leave feedback for the client before filing a "
        "fixed-price dispute.",
        ("P23",),
        release="v0.2",
    ),
    Rule(
        "SUSP-2",
        "fixed_dispute",
        "Not complying with an arbitration decision suspends the accounting entity, which may "
        "stop its payments and withdrawals.",
        ("P26",),
        release="v0.2",
    ),
    Rule(
        "CTR-END-11",
        "fixed_dispute",
        "A client who releases a milestone payment is taken to have reviewed the work and agreed "
        "to pay for it, so that payment is not disputed afterwards; work the client did not pay "
        "for may not be used.",
        ("P38",),
        release="v0.2",
    ),
)

register(FIXED_DISPUTE_RULES)
