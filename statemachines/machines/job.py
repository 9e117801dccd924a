"""Job post: draft -> open -> closed / expired / filled, and reposted (rulebook §3.9, §5.11).

A client company's open job posts block its closure (ACC-CLOSE-CL-5); removing a
posting is the checked transition that clears one. A post with no activity
for 30 days expires, with a warning 5 days before (JOB-2). Candidates keep
their status when a post is closed, so a repost can still hire them (JOB-3).

>>> from datetime import datetime
>>> from statemachines import Actor, ManualClock, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> posts = JobPosting(clock=clock)
>>> job = Job(id="J-4", company="co-1")
>>> hm = Actor("bo", Role.HIRING_MANAGER, party="co-1")
>>> _ = posts.fire(job, "post", hm)
>>> [d.due.isoformat() for d in job.deadlines]
['2026-03-27T09:00:00+00:00', '2026-04-01T09:00:00+00:00']
>>> _ = posts.advance(job, datetime(2026, 4, 1, 9, 0, tzinfo=UTC))
>>> job.state.value
'expired'
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import CLIENT_DECIDERS, Actor, Role
from statemachines.core.engine import (
    Context,
    Deadline,
    Decision,
    Edge,
    Effect,
    MachineSpec,
    Param,
    Timer,
)
from statemachines.core.fields import check_fields
from statemachines.machines.facts import FactsWorkflow, starts_nothing
from statemachines.rules.account import JOB_POST_TTL, JOB_WARNING_BEFORE

__all__ = ["JOB", "Job", "JobPosting", "JobState"]

EXPIRY = "expiry"
WARNING = "expiry-warning"


class JobState(enum.Enum):
    """Where a job post is; the values are the persisted form."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    """Removed by the client (Remove Posting); may be reposted."""
    EXPIRED = "expired"
    """No activity for 30 days; may be reposted."""
    FILLED = "filled"
    """The client hired for it and closed it."""


J = JobState


@attrs.define(eq=True)
class Job:
    """One job post of a client company."""

    id: str
    company: str
    title: str = ""
    state: JobState = JobState.DRAFT
    posted_at: datetime | None = None
    last_activity_at: datetime | None = None
    warned_at: datetime | None = None
    candidates: tuple[tuple[str, str], ...] = ()
    """(freelancer, status) pairs: shortlisted, interviewed, declined, messaged (JOB-3)."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        check_fields(self)

    def status_of(self, freelancer: str) -> str | None:
        """The candidate status of *freelancer*, if they are a candidate."""
        return dict(self.candidates).get(freelancer)


def _poster(job: Job) -> tuple[tuple[str, str], ...]:
    return ((job.company, "post a job"),)


def _start_clock(job: Job, ctx: Context) -> None:
    if job.posted_at is None:
        job.posted_at = ctx.now
    job.last_activity_at = ctx.now
    job.warned_at = None
    expires = ctx.now + JOB_POST_TTL
    job.deadlines = Deadline.put(job.deadlines, Deadline(EXPIRY, "expire", expires))
    job.deadlines = Deadline.put(
        job.deadlines, Deadline(WARNING, "warn_expiry", expires - JOB_WARNING_BEFORE)
    )


def _stop_clock(job: Job, ctx: Context) -> None:
    job.deadlines = ()


def _warn(job: Job, ctx: Context) -> None:
    job.warned_at = ctx.now


def _mark(job: Job, ctx: Context) -> None:
    who, status = ctx.payload["freelancer"], ctx.payload["status"]
    kept = tuple((f, s) for f, s in job.candidates if f != who)
    job.candidates = (*kept, (who, status))


def _keep_candidates(job: Job, ctx: Context) -> None:
    # JOB-3: statuses stay as they are; only the clocks stop.
    _stop_clock(job, ctx)


def _authorize(job: Job, actor: Actor, edge: Edge[Any] | None) -> str | None:
    if actor.role in (Role.SYSTEM, Role.SUPPORT):
        return None
    if actor.party != job.company:
        return f"job {job.id} belongs to {job.company!r}, not {actor.party!r}"
    return None


POSTERS = CLIENT_DECIDERS | {Role.SOURCING_MEMBER}
"""TEAM-5: source-talent-only members may post jobs and review proposals."""
SYS = frozenset({Role.SYSTEM})
STATUS = ("shortlisted", "interviewed", "declined", "messaged", "hired")

JOB: MachineSpec[JobState, Job] = MachineSpec(
    name="job",
    description="A client company's job post, its 30-day expiry and reposting.",
    states=JobState,
    initial=J.DRAFT,
    terminal=(J.FILLED,),
    model=Job,
    authorize=_authorize,
    edges=(
        Edge(
            "post",
            (J.DRAFT,),
            J.OPEN,
            POSTERS,
            ("TEAM-5",),
            guards=starts_nothing(_poster, hidden=False),
            effects=(Effect("JOB-2", _start_clock),),
            summary="Publish the post; it expires after 30 days without activity.",
        ),
        Edge(
            "record_activity",
            (J.OPEN,),
            J.OPEN,
            POSTERS | SYS,
            ("JOB-2",),
            effects=(Effect("JOB-2", _start_clock),),
            params=(Param("what", (str,), "edit", "hire, message, application or edit"),),
            summary="Activity on the post restarts its 30 days.",
        ),
        Edge(
            "mark_candidate",
            (J.OPEN,),
            J.OPEN,
            POSTERS,
            ("TEAM-5",),
            effects=(Effect("JOB-3", _mark), Effect("JOB-2", _start_clock)),
            params=(
                Param("freelancer", (str,), doc="the candidate"),
                Param("status", (str,), doc=f"one of {', '.join(STATUS)}"),
            ),
            summary="Shortlist, interview, decline or message a candidate.",
        ),
        Edge(
            "warn_expiry",
            (J.OPEN,),
            J.OPEN,
            SYS,
            timer=Timer("JOB-2", "25 days without activity"),
            effects=(Effect("JOB-2", _warn),),
            summary="Warn the client that the post expires in 5 days.",
        ),
        Edge(
            "expire",
            (J.OPEN,),
            J.EXPIRED,
            SYS,
            timer=Timer("JOB-2", "30 days without activity"),
            effects=(Effect("JOB-3", _keep_candidates),),
            summary="No activity for 30 days: the post expires.",
        ),
        Edge(
            "remove_posting",
            (J.OPEN,),
            J.CLOSED,
            POSTERS | {Role.SUPPORT},
            ("JOB-1",),
            effects=(Effect("JOB-3", _keep_candidates),),
            summary="Jobs > Open Jobs > Remove Posting; candidates keep their status.",
        ),
        Edge(
            "repost",
            (J.CLOSED, J.EXPIRED),
            J.OPEN,
            POSTERS,
            ("JOB-1",),
            guards=starts_nothing(_poster, hidden=False),
            effects=(Effect("JOB-2", _start_clock),),
            summary="Post it again; earlier applicants can still be hired.",
        ),
        Edge(
            "fill",
            (J.OPEN,),
            J.FILLED,
            CLIENT_DECIDERS,
            ("TEAM-5",),
            effects=(Effect(None, _stop_clock),),
            summary="The client hired for the post and closes it as filled.",
        ),
    ),
)


class JobPosting(FactsWorkflow[JobState, Job]):
    """Fires job-post events; its guards read the company account's state."""

    spec = JOB
