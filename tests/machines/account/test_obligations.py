"""Per-rule tests for the obligations that block closure: memberships, job posts, proposals."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest

from statemachines import (
    SYSTEM,
    Actor,
    IllegalTransition,
    ManualClock,
    NotPermitted,
    Role,
    TransitionRefused,
)
from statemachines.machines.job import Job, JobPosting, JobState
from statemachines.machines.proposal import Proposal, ProposalFlow, ProposalState
from statemachines.machines.team import (
    Membership,
    MembershipFacts,
    MembershipState,
    TeamMembership,
    invite,
    owner_membership,
)
from tests.conftest import START
from tests.machines.account.conftest import (
    ADA,
    AM,
    ANA,
    AO,
    BM,
    FL,
    HAL,
    OTHER_FL,
    OZ,
    SAM,
    SUP,
    TOM,
)

T = MembershipState
J = JobState
P = ProposalState


class Box:
    """Facts a test changes as it goes."""

    def __init__(self, value: object = None) -> None:
        self.value = value

    def __call__(self, aggregate: object, now: object) -> object:
        return self.value


def refused(flow: object, agg: object, event: str, actor: Actor, **kw: object) -> dict[str, str]:
    state = agg.state  # type: ignore[attr-defined]
    with pytest.raises(TransitionRefused) as info:
        flow.fire(agg, event, actor, **kw)  # type: ignore[attr-defined]
    assert agg.state is state  # type: ignore[attr-defined]
    return dict(zip(info.value.rule_ids, info.value.reasons, strict=True))


# --------------------------------------------------------------------------- teams


@pytest.fixture
def box() -> Box:
    return Box(MembershipFacts())


@pytest.fixture
def teams(clock: ManualClock, box: Box) -> TeamMembership:
    return TeamMembership(clock=clock, facts=box)


def _member(
    teams: TeamMembership,
    person: str = "hal",
    *,
    role: Role = Role.HIRING_MANAGER,
    team: str = "co-1",
    by: Actor = ANA,
    agency: bool = False,
) -> Membership:
    m = invite(team, person, role, by=by, agency=agency)
    teams.fire(m, "accept", Actor(person, role, party=team))
    return m


@pytest.mark.rule("TEAM-1")
@pytest.mark.parametrize("by", [HAL, SAM, TOM, OZ, FL])
def test_team_1_only_owners_and_admins_invite(by: Actor) -> None:
    with pytest.raises(NotPermitted) as denied:
        invite("co-1", "zoe", Role.HIRING_MANAGER, by=by)

    assert denied.value.rule_ids == ("TEAM-1",)
    assert denied.value.reasons == ("only the owner or an admin of co-1 invites its members",)


@pytest.mark.rule("TEAM-1")
@pytest.mark.parametrize("by", [HAL, SAM, TOM, OZ, FL, AM])
def test_team_1_only_owners_and_admins_remove(teams: TeamMembership, by: Actor) -> None:
    m = _member(teams)

    with pytest.raises(NotPermitted) as denied:
        teams.fire(m, "remove", by)

    assert denied.value.rule_ids == ("TEAM-1",)
    assert denied.value.reasons == ("only the owner or an admin of co-1 removes its members",)

    assert m.state is T.MEMBER


@pytest.mark.rule("TEAM-1")
@pytest.mark.parametrize("by", [ANA, ADA])
def test_team_1_the_owner_or_an_admin_removes_a_member(teams: TeamMembership, by: Actor) -> None:
    m = _member(teams)

    teams.fire(m, "remove", by)

    assert m.state is T.REMOVED


@pytest.mark.rule("TEAM-1")
def test_team_1_an_invitation_can_be_withdrawn_by_removing_it(teams: TeamMembership) -> None:
    m = invite("co-1", "zoe", Role.TEAM_MEMBER, by=ADA)

    teams.fire(m, "remove", ADA)

    assert m.state is T.REMOVED


@pytest.mark.rule("TEAM-2")
def test_team_2_a_contact_person_cannot_be_removed(teams: TeamMembership, box: Box) -> None:
    m = _member(teams)
    box.value = MembershipFacts(contact_on=("C-1", "C-2"))

    reasons = refused(teams, m, "remove", ANA)

    assert reasons == {
        "TEAM-2": "hal is the contact person on 2 active contracts: C-1, C-2; make someone else "
        "the contact person or end them first"
    }


@pytest.mark.rule("TEAM-3")
def test_team_3_a_member_can_be_removed_from_the_whole_company(teams: TeamMembership) -> None:
    m = _member(teams)

    teams.fire(m, "remove", ANA, whole_company=True)

    assert m.whole_company


@pytest.mark.rule("TEAM-4")
def test_team_4_a_member_leaves_on_their_own(teams: TeamMembership) -> None:
    m = _member(teams)

    teams.fire(m, "leave", Actor("hal", Role.HIRING_MANAGER, party="co-1"))

    assert m.state is T.LEFT


@pytest.mark.rule("TEAM-4")
def test_team_4_nobody_leaves_for_someone_else(teams: TeamMembership) -> None:
    m = _member(teams)

    with pytest.raises(NotPermitted) as denied:
        teams.fire(m, "leave", ANA)

    assert denied.value.rule_ids == ("TEAM-4",)
    assert denied.value.reasons == ("only hal can leave their own place on co-1",)


@pytest.mark.rule("ACC-CLOSE-TM-2")
def test_acc_close_tm_2_a_colleague_is_removed_from_their_last_team_not_leaving_it(
    teams: TeamMembership, box: Box
) -> None:
    m = _member(teams, "tom", role=Role.TEAM_MEMBER)
    box.value = MembershipFacts(last_team_of_colleague=True)

    reasons = refused(teams, m, "leave", TOM)
    teams.fire(m, "remove", ANA)

    assert reasons == {
        "ACC-CLOSE-TM-2": "tom has no admin rights and co-1 is their last team, so leaving it "
        "would close their account; only the owner or an admin of co-1 can do that, by "
        "removing them"
    }
    assert m.state is T.REMOVED


@pytest.mark.rule("TEAM-6")
def test_team_6_an_agency_member_with_open_work_cannot_be_removed(
    teams: TeamMembership, box: Box
) -> None:
    m = _member(teams, "am", role=Role.AGENCY_MEMBER, team="ag-1", by=AO, agency=True)
    box.value = MembershipFacts(agency_work=("C-5", "P-5"))

    reasons = refused(teams, m, "remove", AO)

    assert reasons == {
        "TEAM-6": "am still has 2 open agency contracts or proposals: C-5, P-5; close them first"
    }
    box.value = MembershipFacts()
    teams.fire(m, "remove", BM)
    assert m.state is T.REMOVED


@pytest.mark.rule("TEAM-6")
def test_team_6_adding_agency_members_needs_agency_plus() -> None:
    with pytest.raises(TransitionRefused) as info:
        invite("ag-1", "am", Role.AGENCY_MEMBER, by=AO, agency=True, agency_plus=False)

    assert info.value.rule_ids == ("TEAM-6",)
    assert info.value.reasons == (
        "agency ag-1 is not on the Agency Plus plan, which adding members needs",
    )


@pytest.mark.rule("TEAM-7")
def test_team_7_an_agency_member_leaves_once_their_work_is_closed(
    teams: TeamMembership, box: Box
) -> None:
    m = _member(teams, "am", role=Role.AGENCY_MEMBER, team="ag-1", by=AO, agency=True)
    box.value = MembershipFacts(agency_work=("C-5",))

    reasons = refused(teams, m, "leave", AM)
    box.value = MembershipFacts()
    teams.fire(m, "leave", AM)

    assert reasons == {
        "TEAM-7": "am still has 1 open agency contract or proposal: C-5; close it first"
    }
    assert (m.state, m.keeps_history) == (T.LEFT, True)


@pytest.mark.rule("TEAM-OWNER-D")
@pytest.mark.parametrize("event", ["leave", "remove"])
def test_team_owner_d_the_owner_never_leaves_nor_is_removed(
    teams: TeamMembership, event: str
) -> None:
    m = owner_membership("co-1", "ana")

    reasons = refused(teams, m, event, ANA)

    assert reasons == {"TEAM-OWNER-D": "ana owns co-1 and always stays a member of it"}


@pytest.mark.rule("TEAM-CONTACT-D")
def test_team_contact_d_a_contact_person_cannot_leave(teams: TeamMembership, box: Box) -> None:
    m = _member(teams)
    box.value = MembershipFacts(contact_on=("C-1",))

    reasons = refused(teams, m, "leave", Actor("hal", Role.HIRING_MANAGER, party="co-1"))

    assert set(reasons) == {"TEAM-CONTACT-D"}


def test_an_invitee_declines(teams: TeamMembership) -> None:
    m = invite("co-1", "zoe", Role.TEAM_MEMBER, by=ANA)

    teams.fire(m, "decline", Actor("zoe", Role.TEAM_MEMBER, party="co-1"))

    assert m.state is T.DECLINED


# --------------------------------------------------------------------------- job posts


@pytest.fixture
def posts(clock: ManualClock, box: Box) -> JobPosting:
    box.value = {}
    return JobPosting(clock=clock, facts=box)


def _open_job(posts: JobPosting, by: Actor = HAL) -> Job:
    job = Job(id="J-4", company="co-1")
    posts.fire(job, "post", by)
    return job


@pytest.mark.rule("JOB-1")
def test_job_1_a_client_member_removes_a_posting_and_may_repost_it(
    posts: JobPosting, clock: ManualClock
) -> None:
    job = _open_job(posts)

    posts.fire(job, "remove_posting", HAL)
    assert (job.state, job.deadlines) == (J.CLOSED, ())
    clock.advance(days=2)
    posts.fire(job, "repost", ANA)

    assert job.state is J.OPEN
    assert job.deadlines[-1].due == clock.now() + timedelta(days=30)


@pytest.mark.rule("JOB-1")
def test_job_1_another_company_cannot_touch_the_post(posts: JobPosting) -> None:
    job = _open_job(posts)

    with pytest.raises(NotPermitted, match="job J-4 belongs to 'co-1'"):
        posts.fire(job, "remove_posting", OZ)


@pytest.mark.rule("JOB-2")
def test_job_2_a_post_expires_after_30_days_without_activity(
    posts: JobPosting, clock: ManualClock
) -> None:
    job = _open_job(posts)

    early = posts.advance(job, START + timedelta(days=30, seconds=-1))
    late = posts.advance(job, START + timedelta(days=30))

    assert [d.event for d in early] == ["warn_expiry"]
    assert job.warned_at == START + timedelta(days=25)
    assert [d.event for d in late] == ["expire"]
    assert job.state is J.EXPIRED


@pytest.mark.rule("JOB-2")
def test_job_2_activity_restarts_the_30_days(posts: JobPosting, clock: ManualClock) -> None:
    job = _open_job(posts)
    clock.advance(days=20)

    posts.fire(job, "record_activity", SYSTEM, what="application")
    before = [d.event for d in posts.advance(job, START + timedelta(days=50, seconds=-1))]
    after = [d.event for d in posts.advance(job, START + timedelta(days=50))]

    assert before == ["warn_expiry"]
    assert after == ["expire"]


@pytest.mark.rule("JOB-3")
def test_job_3_candidates_keep_their_status_through_removal_and_repost(posts: JobPosting) -> None:
    job = _open_job(posts)
    posts.fire(job, "mark_candidate", SAM, freelancer="fl-1", status="shortlisted")
    posts.fire(job, "mark_candidate", SAM, freelancer="fl-2", status="declined")

    posts.fire(job, "remove_posting", HAL)
    posts.fire(job, "repost", HAL)

    assert job.status_of("fl-1") == "shortlisted"
    assert job.status_of("fl-2") == "declined"


@pytest.mark.rule("ACC-FREEZE-D")
@pytest.mark.parametrize("state", ["closing", "suspended", "deactivated", "closed"])
def test_acc_freeze_d_a_frozen_company_posts_no_job(
    posts: JobPosting, box: Box, state: str
) -> None:
    box.value = {"co-1": state}
    job = Job(id="J-4", company="co-1")

    reasons = refused(posts, job, "post", HAL)

    assert reasons == {
        "ACC-FREEZE-D": f"account co-1 is {state}, so it cannot post a job"
        if state != "deactivated"
        else "account co-1 is deactivated and hidden, so it cannot post a job"
    }


@pytest.mark.rule("TEAM-5")
def test_team_5_a_source_talent_member_posts_but_does_not_fill(posts: JobPosting) -> None:
    job = _open_job(posts, SAM)

    with pytest.raises(NotPermitted):
        posts.fire(job, "fill", SAM)
    posts.fire(job, "fill", HAL)

    assert job.state is J.FILLED


# --------------------------------------------------------------------------- proposals


@pytest.fixture
def flow(clock: ManualClock, box: Box) -> ProposalFlow:
    box.value = {}
    return ProposalFlow(clock=clock, facts=box)


def _sent(flow: ProposalFlow, agency: bool = False) -> Proposal:
    p = Proposal(
        id="P-1",
        job="J-4",
        company="co-1",
        freelancer="ag-1" if agency else "fl-1",
        agency=agency,
    )
    flow.fire(p, "submit", AM if agency else FL)
    return p


@pytest.mark.rule("PROP-1")
def test_prop_1_a_proposal_can_be_withdrawn_before_an_offer(flow: ProposalFlow) -> None:
    p = _sent(flow)

    flow.fire(p, "withdraw", FL)

    assert p.state is P.WITHDRAWN


@pytest.mark.rule("PROP-1")
def test_prop_1_after_an_offer_it_is_declined_not_withdrawn(flow: ProposalFlow) -> None:
    p = _sent(flow)
    flow.fire(p, "send_offer", HAL)

    reasons = refused(flow, p, "withdraw", FL)
    flow.fire(p, "decline_offer", FL)

    assert reasons == {
        "PROP-1": "an offer was made on proposal P-1, so it can no longer be withdrawn; decline "
        "the offer instead"
    }
    assert p.state is P.OFFER_DECLINED


@pytest.mark.rule("PROP-2")
def test_prop_2_withdrawing_or_declining_costs_nothing(flow: ProposalFlow) -> None:
    a = _sent(flow)
    b = _sent(flow)
    flow.fire(b, "send_offer", ANA)

    flow.fire(a, "withdraw", FL)
    flow.fire(b, "decline_offer", FL)

    assert (a.penalty, b.penalty) == (False, False)
    assert a.closed_at == b.closed_at == START


@pytest.mark.rule("TEAM-8")
def test_team_8_only_a_business_manager_answers_an_agency_offer(flow: ProposalFlow) -> None:
    p = _sent(flow, agency=True)
    flow.fire(p, "send_offer", HAL)

    with pytest.raises(NotPermitted):
        flow.fire(p, "accept_offer", AM)
    flow.fire(p, "accept_offer", BM)

    assert p.state is P.ACCEPTED


@pytest.mark.rule("TEAM-5")
def test_team_5_a_source_talent_member_may_not_make_offers(flow: ProposalFlow) -> None:
    p = _sent(flow)

    with pytest.raises(NotPermitted):
        flow.fire(p, "send_offer", SAM)
    flow.fire(p, "decline", SAM)

    assert p.state is P.DECLINED


@pytest.mark.rule("ACC-DEACT-1")
def test_acc_deact_1_a_deactivated_freelancer_neither_sends_nor_receives(
    flow: ProposalFlow, box: Box
) -> None:
    p = Proposal(id="P-1", job="J-4", company="co-1", freelancer="fl-1")
    box.value = {"fl-1": "deactivated"}

    reasons = refused(flow, p, "submit", FL)
    box.value = {}
    flow.fire(p, "submit", FL)
    box.value = {"fl-1": "deactivated"}
    offer = refused(flow, p, "send_offer", HAL)

    hidden = "account fl-1 is deactivated and hidden, so it cannot"
    assert reasons == {"ACC-DEACT-1": f"{hidden} send proposals"}
    assert offer == {"ACC-DEACT-1": f"{hidden} receive offers"}


@pytest.mark.rule("ACC-DEACT-1")
def test_acc_deact_1_a_deactivated_company_neither_offers_nor_starts_a_contract(
    flow: ProposalFlow, box: Box
) -> None:
    a, b = _sent(flow), _sent(flow)
    flow.fire(b, "send_offer", HAL)  # sent while the company was active
    box.value = {"co-1": "deactivated"}

    offer = refused(flow, a, "send_offer", HAL)
    accept = refused(flow, b, "accept_offer", FL)

    hidden = "account co-1 is deactivated and hidden, so it cannot"
    assert offer == {"ACC-DEACT-1": f"{hidden} make offers"}
    assert accept == {"ACC-DEACT-1": f"{hidden} start contracts"}
    assert (a.state, b.state) == (P.SUBMITTED, P.OFFER_PENDING)


@pytest.mark.rule("ACC-FREEZE-D", "ACC-DEACT-1")
def test_acc_freeze_d_every_frozen_party_is_named(flow: ProposalFlow, box: Box) -> None:
    p = _sent(flow)
    box.value = {"co-1": "suspended", "fl-1": "closing"}

    both = refused(flow, p, "send_offer", HAL)
    box.value = {"co-1": "deactivated", "fl-1": "deactivated"}
    hidden = refused(flow, p, "send_offer", HAL)

    assert both == {
        "ACC-FREEZE-D": "account co-1 is suspended, so it cannot make offers; "
        "account fl-1 is closing, so it cannot receive offers"
    }
    assert hidden == {
        "ACC-DEACT-1": "account co-1 is deactivated and hidden, so it cannot make offers; "
        "account fl-1 is deactivated and hidden, so it cannot receive offers"
    }


@pytest.mark.rule("ACC-FREEZE-D")
@pytest.mark.parametrize("state", ["closing", "suspended", "closed"])
def test_acc_freeze_d_no_proposal_offer_or_acceptance_while_frozen(
    flow: ProposalFlow, box: Box, state: str
) -> None:
    p = _sent(flow)
    box.value = {"co-1": state}
    offer = refused(flow, p, "send_offer", HAL)
    box.value = {}
    flow.fire(p, "send_offer", HAL)
    box.value = {"fl-1": state}

    accept = refused(flow, p, "accept_offer", FL)

    assert offer == {"ACC-FREEZE-D": f"account co-1 is {state}, so it cannot make offers"}
    assert accept == {"ACC-FREEZE-D": f"account fl-1 is {state}, so it cannot accept offers"}


@pytest.mark.rule("ACC-FREEZE-D")
@pytest.mark.parametrize("state", ["closing", "suspended", "closed"])
def test_acc_freeze_d_a_frozen_freelancer_receives_no_offer(
    flow: ProposalFlow, box: Box, state: str
) -> None:
    p = _sent(flow)
    box.value = {"fl-1": state}

    reasons = refused(flow, p, "send_offer", HAL)

    assert reasons == {"ACC-FREEZE-D": f"account fl-1 is {state}, so it cannot receive offers"}


@pytest.mark.rule("JOB-1")
def test_job_1_a_closed_post_takes_no_proposals(flow: ProposalFlow, box: Box) -> None:
    class Facts:
        jobs: ClassVar[dict[str, str]] = {"J-4": "closed"}

    box.value = Facts()
    p = Proposal(id="P-1", job="J-4", company="co-1", freelancer="fl-1")

    reasons = refused(flow, p, "submit", FL)

    assert reasons == {"JOB-1": "job post J-4 is not open, so it takes no proposals"}


def test_a_proposal_belongs_to_its_freelancer(flow: ProposalFlow) -> None:
    p = _sent(flow)

    with pytest.raises(NotPermitted):
        flow.fire(p, "withdraw", OTHER_FL)
    with pytest.raises(IllegalTransition):
        flow.fire(p, "accept_offer", FL)
    with pytest.raises(NotPermitted):
        flow.fire(p, "withdraw", SUP)
    assert p.state is P.SUBMITTED
