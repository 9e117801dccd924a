"""Rules for a client's request for a refund of a payment (rulebook §3.17, §5.9, C-11).

REF-REQ-1..3 are defined with the contract's rules (the contract records requests and
keeps the feedback window); this module adds the request's own machine rules. Sources:
help-centre pages P29 (requesting a refund, current and old) and P28 (giving one).
"""

from __future__ import annotations

from statemachines.rules import Rule, register

__all__ = ["REFUND_REQUEST_RULES"]

REFUND_REQUEST_RULES = (
    Rule(
        "REF-REQ-4",
        "refund_request",
        "Under the older help text, a refund request to an agency goes through support: support "
        "files it for the client, and the agency's owner or business manager answers it.",
        ("P29 (old)",),
        release="v0.2",
    ),
    Rule(
        "REF-REQ-EXPIRE-D",
        "refund_request",
        "A request nobody answered lapses when its payment turns 180 days old, since from then "
        "on the freelancer side can no longer give that refund (decision, ADR 0062).",
        ("rulebook §5.9", "rulebook C-11"),
        release="v0.2",
    ),
)

register(REFUND_REQUEST_RULES)
