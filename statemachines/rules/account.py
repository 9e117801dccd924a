"""Rules for accounts, team memberships, job posts and proposals (rulebook §3.1-3.9, §5.1, §5.11).

Sources: seed ``000_83dadd70a406c894.txt`` (S0, the "Close your account" help
text), seed ``002_41c3453167e89c82.txt`` (S2, a third-party deactivation guide),
seed ``001_23b8128dddb6d3ea.txt`` (S1, the job-post snippet) and help-centre
pages P01-P04, P35, P39-P47. Rule IDs ending in ``-D`` are this project's own
decisions, each explained in ``docs/decisions/``.

The numbers that a product decision might change are named parameters here.

>>> from datetime import datetime
>>> from statemachines.core.clock import UTC
>>> reactivation_deadline(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)).isoformat()
'2031-03-02T09:00:00+00:00'
>>> client_review_end(datetime(2026, 3, 4, 15, 0, tzinfo=UTC)).isoformat()
'2026-03-14T00:00:00+00:00'
"""

from __future__ import annotations

from datetime import datetime, timedelta

from statemachines.rules import Rule, register

__all__ = [
    "ACCOUNT_RULES",
    "COMPANY_CLOSE_AFTER",
    "JOB_POST_TTL",
    "JOB_WARNING_BEFORE",
    "REACTIVATION_LINK_TTL",
    "REACTIVATION_YEARS",
    "client_review_end",
    "reactivation_deadline",
]

REACTIVATION_YEARS = 5
"""ACC-REACT-1: a deactivated account can be restored for this many calendar years."""

REACTIVATION_LINK_TTL = timedelta(hours=4)
"""ACC-REACT-2: a self-service reactivation link works for this long after it is requested."""

COMPANY_CLOSE_AFTER = timedelta(days=12)
"""ACC-CLOSE-CL-4 (C-05): from the Monday 00:00 UTC that starts the week in which an hourly
contract ended to the end of the next Friday (Saturday 00:00 UTC), when its last client review
window closes."""

JOB_POST_TTL = timedelta(days=30)
"""JOB-2: a job post with no activity for this long expires."""

JOB_WARNING_BEFORE = timedelta(days=5)
"""JOB-2: the client is warned this long before an inactive post expires."""


def reactivation_deadline(closed_at: datetime) -> datetime:
    """ACC-REACT-1: the first moment at which a deactivated account can no longer be restored.

    Five calendar years after ``closed_at`` (a 29 February closure ends on
    28 February); restoring is allowed strictly before it (ADR 0032).
    """
    year = closed_at.year + REACTIVATION_YEARS
    try:
        return closed_at.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return closed_at.replace(year=year, day=28)


def client_review_end(ended_at: datetime) -> datetime:
    """ACC-CLOSE-CL-4 (C-05): when the last billing week of an hourly contract stops blocking.

    The contract's final week is the Monday-to-Sunday week in which it ended; it
    is invoiced the next Monday and the client may dispute it until the end of
    that Friday. The blocker clears at the following Saturday 00:00:00 UTC.
    """
    week_start = (ended_at - timedelta(days=ended_at.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return week_start + COMPANY_CLOSE_AFTER


ACCOUNT_RULES = (
    # ------------------------------------------------------------------ §3.1 general
    Rule(
        "ACC-GEN-1",
        "account",
        "An account starts closing only once everything it has pending, active or open is "
        "cleared; the per-type rules below say what that means, and money owed on a "
        "freelancer's own account counts too.",
        ("S0 l.4", "P01"),
    ),
    Rule(
        "ACC-GEN-2",
        "account",
        "A person's freelancer and client profiles are one account: closing either closes "
        "both, so the closure must satisfy the freelancer rules and the client-company rules "
        "together.",
        ("S0 l.6", "P01", "rulebook C-24"),
    ),
    Rule(
        "ACC-GEN-3",
        "account",
        "Closing an account yourself needs a security question and answer on file; until one "
        "is set the close option is withheld.",
        ("P01",),
    ),
    Rule(
        "ACC-GEN-4",
        "account",
        "When the platform answers a close request with 'contact support', the holder cannot "
        "finish it alone; support carries it out.",
        ("S0 l.14", "S0 l.25", "S0 l.42"),
    ),
    Rule(
        "ACC-GEN-5",
        "account",
        "Support closes an account only after its own checklist: no open job posts, no "
        "contract that has not ended, no open proposals, nothing owed, no funds left to "
        "withdraw and no dispute in progress.",
        ("P03",),
    ),
    Rule(
        "ACC-GEN-6",
        "account",
        "An account suspended by the risk or trust-and-safety teams cannot be closed while "
        "the suspension lasts; closing it needs escalation to support.",
        ("P03",),
    ),
    Rule(
        "ACC-GEN-7",
        "account",
        "Closing is two steps: the requirements are checked first, then the holder confirms "
        "explicitly.",
        ("S1 l.7-8", "P02"),
    ),
    Rule(
        "ACC-GEN-8",
        "account",
        "The platform may suspend an account, or close it for good, for breaking the Terms "
        "of Service.",
        ("S4 l.24", "P39", "P51"),
    ),
    # ------------------------------------------------------------------ §3.2 freelancer
    Rule(
        "ACC-CLOSE-FL-1",
        "account",
        "A freelancer account is closed by its holder and by nobody else.",
        ("S0 l.10-12", "S1 l.5-8", "P01"),
    ),
    Rule(
        "ACC-CLOSE-FL-2",
        "account",
        "No contract of the freelancer may still be active or paused when closing starts; "
        "contracts that are ending are waited out before the account is deactivated (C-04).",
        ("P01", "S2 l.26", "rulebook C-04"),
    ),
    Rule(
        "ACC-CLOSE-FL-3",
        "account",
        "Every proposal must be withdrawn and every pending offer answered before a "
        "freelancer account starts closing.",
        ("P01", "P03"),
    ),
    Rule(
        "ACC-CLOSE-FL-4",
        "account",
        "Every payment must have arrived and been withdrawn: nothing pending in the security "
        "hold and nothing left available. Pending money is waited out; available money "
        "waits for the holder to withdraw it.",
        ("P01", "P02", "P03", "S2 l.26", "rulebook C-29"),
    ),
    Rule(
        "ACC-CLOSE-FL-5",
        "account",
        "A freelancer who owns an agency that is not closed must close the agency first, "
        "because closing an agency leaves its owner's freelancer account open.",
        ("S0 l.27", "S0 l.43"),
    ),
    # ------------------------------------------------------------------ §3.3 client company
    Rule(
        "ACC-CLOSE-CL-1",
        "account",
        "Only the owner closes a client company; its admins, hiring managers and colleagues "
        "cannot.",
        ("S0 l.15", "P01"),
    ),
    Rule(
        "ACC-CLOSE-CL-2",
        "account",
        "Every other member must be removed from the company first, so that only the owner "
        "is left.",
        ("S0 l.16", "P01"),
    ),
    Rule(
        "ACC-CLOSE-CL-3",
        "account",
        "Every contract of the company, hourly or fixed-price, must be closed: none active or "
        "paused to start closing, and none still ending to finish it.",
        ("S0 l.17", "P01", "rulebook C-04"),
    ),
    Rule(
        "ACC-CLOSE-CL-4",
        "account",
        "After an hourly contract ends, the company cannot finish closing until the client's "
        "review window for the contract's last billing week is over (end of Friday UTC) with "
        "no hourly dispute open.",
        ("S0 l.21", "P01", "rulebook C-05"),
    ),
    Rule(
        "ACC-CLOSE-CL-5",
        "account",
        "Every open job post of the company must be closed before it starts closing.",
        ("S0 l.18", "P01", "P03"),
    ),
    Rule(
        "ACC-CLOSE-CL-6",
        "account",
        "All outstanding billing must be paid: a company with a past-due or negative balance "
        "cannot start closing.",
        ("S0 l.19", "P01", "P03"),
    ),
    Rule(
        "ACC-CLOSE-CL-8",
        "account",
        "A member who is the contact person on an active contract cannot be removed, so such "
        "contracts must be ended or handed to someone else before the company can empty its "
        "team.",
        ("P40",),
    ),
    # ------------------------------------------------------------------ §3.4 agency
    Rule(
        "ACC-CLOSE-AG-1",
        "account",
        "Only the agency owner closes the agency, whenever its requirements are met.",
        ("S0 l.33", "P02"),
    ),
    Rule(
        "ACC-CLOSE-AG-2",
        "account",
        "Every member of the agency must be removed first.",
        ("S0 l.34", "P02"),
    ),
    Rule(
        "ACC-CLOSE-AG-3",
        "account",
        "Every contract of the agency must be closed: none active or paused to start closing, "
        "none still ending to finish it.",
        ("S0 l.35", "P02"),
    ),
    Rule(
        "ACC-CLOSE-AG-4",
        "account",
        "Every proposal of the agency must be withdrawn or closed.",
        ("S0 l.36", "P02"),
    ),
    Rule(
        "ACC-CLOSE-AG-5",
        "account",
        "Every agency payment must have arrived and been withdrawn before the agency closes.",
        ("S0 l.37", "P02"),
    ),
    Rule(
        "ACC-CLOSE-AG-6",
        "account",
        "Closing an agency closes it and deletes its profile, while the owner's own "
        "freelancer account stays open.",
        ("S0 l.43-44", "P02"),
    ),
    Rule(
        "ACC-CLOSE-AG-7",
        "account",
        "After the agency closes, the owner's freelancer profile is unchanged except that it "
        "no longer points to the agency.",
        ("S0 l.45",),
    ),
    Rule(
        "ACC-CLOSE-AG-8",
        "account",
        "After the agency closes, the owner's Job Success Score is worked out again from "
        "their personal contracts only, counting agency contracts on which they were the one "
        "hired.",
        ("S0 l.46", "P02"),
    ),
    Rule(
        "ACC-CLOSE-AG-10",
        "account",
        "A closed agency has no documented way back, so it goes straight to the final closed "
        "state without a restorable stage.",
        ("rulebook §3.4",),
    ),
    # ------------------------------------------------------------------ §3.5 teams, enterprise
    Rule(
        "ACC-CLOSE-TM-1",
        "account",
        "An admin or manager with no other role closes their account by leaving every team; "
        "when the last one is gone the platform deactivates the account, and only support "
        "restores it (C-25).",
        ("S0 l.27-30", "rulebook C-25"),
    ),
    Rule(
        "ACC-CLOSE-TM-2",
        "account",
        "A colleague without admin rights cannot close their own account; they ask an admin, "
        "who removes them.",
        ("S0 l.31-32",),
    ),
    Rule(
        "ACC-CLOSE-TM-3",
        "account",
        "Leaving every team does not close the account of someone who is also a freelancer, "
        "agency owner or company owner; that other role's path applies.",
        ("S0 l.27",),
    ),
    Rule(
        "ACC-CLOSE-ENT-1",
        "account",
        "An Enterprise account cannot be closed self-service; its Upwork account team closes "
        "it, and the owner's own request is answered that the account team is needed.",
        ("S0 l.47", "rulebook C-26"),
    ),
    Rule(
        "ACC-CLOSE-ENT-2",
        "account",
        "The account team closes an Enterprise account under the client-company requirements "
        "(members removed, contracts closed, jobs closed, billing paid, billing week over).",
        ("P47", "rulebook C-26"),
    ),
    # ------------------------------------------------------------------ §3.6 deactivation
    Rule(
        "ACC-DEACT-1",
        "account",
        "A deactivated profile is hidden and can neither send nor receive proposals, while "
        "the login, messages, contracts and payment records are all kept.",
        ("S2 l.11", "S2 l.48-52"),
    ),
    Rule(
        "ACC-DEACT-2",
        "account",
        "An account is deactivated only when it has no active contract and no pending payment.",
        ("S2 l.26",),
    ),
    Rule(
        "ACC-DEACT-3",
        "account",
        "Reactivating brings back the profile, the work history and the saved data.",
        ("S2 l.54", "S2 l.93-99"),
    ),
    Rule(
        "ACC-DEL-1",
        "account",
        "Permanent deletion is final: neither the account nor its data can come back, so the "
        "holder must confirm it after being offered an export of their records.",
        ("S2 l.13", "S2 l.54", "S2 l.60-67", "S2 l.99"),
    ),
    Rule(
        "ACC-REACT-1",
        "account",
        "A deactivated freelancer-only account can be restored by its holder while fewer than "
        "5 years have passed since it was closed; the same limit binds support.",
        ("P04",),
    ),
    Rule(
        "ACC-REACT-2",
        "account",
        "Self-service reactivation goes through an emailed link that works for 4 hours after "
        "it is requested and only once; logging in again gives a new link.",
        ("P04",),
    ),
    Rule(
        "ACC-REACT-3",
        "account",
        "An account that held both freelancer and client profiles is restored only by "
        "support, even if only the freelancer side is wanted; the same goes for client-only "
        "and team accounts, which have no self-service path.",
        ("P04", "rulebook C-25"),
    ),
    Rule(
        "ACC-REACT-4",
        "account",
        "An account the platform has flagged for support cannot reactivate itself.",
        ("P04",),
    ),
    # ------------------------------------------------------------------ §3.7 suspension
    Rule(
        "SUSP-1",
        "account",
        "When a client account has a billing problem the platform pauses its contracts, and "
        "resumes them once the problem is cleared.",
        ("P35", "P57"),
    ),
    Rule(
        "CIRC-4",
        "account",
        "Ending a contract to move the work or its payment off the platform is circumvention "
        "and may lead to suspension or permanent closure of the account.",
        ("S3 l.23-24", "P20", "P18"),
    ),
    # ------------------------------------------------------------------ §3.8 teams
    Rule(
        "TEAM-1",
        "account",
        "Only the owner or a team admin invites or removes team members.",
        ("P40",),
    ),
    Rule(
        "TEAM-2",
        "account",
        "A member who is the contact person on an active contract cannot be removed until "
        "someone else takes over the contract or it is closed.",
        ("P40",),
    ),
    Rule(
        "TEAM-3",
        "account",
        "A member can be removed from a single team or from the whole company at once.",
        ("P40",),
    ),
    Rule(
        "TEAM-4",
        "account",
        "Any member may leave a team on their own.",
        ("S0 l.28-29", "P42"),
    ),
    Rule(
        "TEAM-6",
        "account",
        "An agency member can be removed only once their current agency contracts and "
        "proposals are closed, and adding agency members needs the Agency Plus plan.",
        ("P41",),
    ),
    Rule(
        "TEAM-7",
        "account",
        "An agency member may leave whenever they like and keeps their profile and work "
        "history; like a removal, leaving waits until their agency contracts and proposals "
        "are closed (C-23).",
        ("P42", "rulebook C-23"),
    ),
    # ------------------------------------------------------------------ §3.9 jobs, proposals
    Rule(
        "JOB-1",
        "account",
        "A client member closes a job post with Remove Posting and may post it again later.",
        ("S1 l.21-23",),
    ),
    Rule(
        "JOB-2",
        "account",
        "A job post with no activity for 30 days expires, with a warning 5 days before.",
        ("P46",),
    ),
    Rule(
        "JOB-3",
        "account",
        "Closing a post keeps every candidate's status so they can still be found and hired.",
        ("P46",),
    ),
    Rule(
        "PROP-1",
        "account",
        "A freelancer may withdraw a proposal at any moment before an offer arrives; after "
        "that the offer can only be declined or accepted.",
        ("P44",),
    ),
    Rule(
        "PROP-2",
        "account",
        "Withdrawing a proposal or declining an offer costs nothing.",
        ("P44",),
    ),
    # ------------------------------------------------------------------ decisions (-D)
    Rule(
        "ACC-FREEZE-D",
        "account",
        "An account that is closing, suspended, deactivated or closed starts nothing new: it "
        "posts no job, sends no proposal, makes or accepts no offer (ADR 0031).",
        ("rulebook §5.1", "S2 l.51"),
    ),
    Rule(
        "SUSP-D",
        "account",
        "Suspending a freelancer's or agency's account pauses its active hourly contracts "
        "for that reason: no time is logged or billed, the client cannot restart them, and "
        "reinstating the account restarts them. SUSP-1 covers only the client's side "
        "(ADR 0021).",
        ("rulebook §5.1", "P35"),
    ),
    Rule(
        "ACC-EXPORT-D",
        "account",
        "The holder may export contracts, invoices, messages and work submissions before "
        "and after closing; the close request offers it, and deactivation deletes nothing "
        "(ADR 0033).",
        ("S2 l.31-40", "S2 l.73"),
    ),
    Rule(
        "TEAM-OWNER-D",
        "account",
        "The owner of a company or agency is always one of its members: they can neither "
        "leave nor be removed (ADR 0034).",
        ("rulebook §6.1",),
    ),
    Rule(
        "TEAM-CONTACT-D",
        "account",
        "A client team member who is the contact person on an active contract cannot leave "
        "the team either, mirroring the removal rule (ADR 0034).",
        ("rulebook §5.1.1", "P40"),
    ),
    Rule(
        "ACC-TEAMS-D",
        "account",
        "A team-only account counts its invitations and memberships as its teams; support "
        "restores it only while it has one, and reinstating it with none leaves it "
        "deactivated (ADR 0035).",
        ("rulebook C-25", "rulebook §6.1"),
    ),
)

register(ACCOUNT_RULES)
