"""The marketplace as a service, on every store: one unit of work per command, the cascade
and its events, idempotency, revisions, ids, deadlines by index, and reads by index."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from statemachines import (
    AlreadyExists,
    ConcurrentModification,
    Contract,
    ManualClock,
    Money,
    TransitionRefused,
    Violation,
    retry,
    to_dict,
)
from statemachines.core.engine import Deadline
from statemachines.errors import StatemachinesError
from statemachines.machines.account.table import Account, AccountType, SuspensionReason
from statemachines.machines.job import Job
from statemachines.marketplace import handlers
from statemachines.marketplace.commands import DraftJob, Fire, FireDeadline
from statemachines.marketplace.handlers import Handling
from statemachines.marketplace.market import KINDS, Marketplace, Terms
from statemachines.marketplace.unit_of_work import UnitOfWork
from tests.conftest import START
from tests.machines.account.conftest import ANA, FL, HAL, SUP
from tests.marketplace.conftest import MakeMarket

BILLING = {"reason": SuspensionReason.BILLING}


@pytest.fixture
def market(clock: ManualClock, make_market: MakeMarket) -> Marketplace:
    """Client co-1 (owner ana, hiring manager hal), freelancer fl-1, two hourly contracts."""
    m = make_market(clock)
    m.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    m.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    for key in ("C-1", "C-3"):
        c = Contract.hourly(
            key, client="co-1", freelancer="fl-1", rate=Money(5_000), started_at=START
        )
        m.add_contract(c, contact="ana")
    m.draft_job("J-1", "co-1")
    return m


def _everything(market: Marketplace) -> dict[tuple[str, str], Any]:
    return {(k, a.id): (to_dict(a), market.revision(k, a.id)) for k in KINDS for a in market.all(k)}


# --------------------------------------------------------------------------- one unit of work


@pytest.mark.rule("SUSP-1")
def test_a_command_returns_its_whole_cascade_in_order_with_its_events(
    market: Marketplace,
) -> None:
    cursor = market.events()[-1].seq

    outcome = market.handle(Fire("account", "co-1", "suspend", SUP, BILLING))

    assert [(c.kind, c.key, c.decision.event) for c in outcome.changes] == [
        ("account", "co-1", "suspend"),
        ("contract", "C-1", "billing_problem"),
        ("contract", "C-3", "billing_problem"),
    ]
    seqs = [e.seq for e in outcome.events]
    assert cursor < seqs[0] < seqs[1] < seqs[2]  # numbered after what came before, in order
    assert market.events(after=cursor) == list(outcome.events)
    assert outcome.result() == outcome.changes[0].decision


@pytest.mark.rule("SUSP-1")
def test_a_failure_half_way_through_a_cascade_changes_no_aggregate(
    market: Marketplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _everything(market)
    events = market.events()

    def provider_down(change: Any, h: Handling) -> None:
        msg = "the payment provider did not answer"
        raise RuntimeError(msg)

    # the account is suspended and both contracts paused before this handler runs
    monkeypatch.setitem(handlers.EVENT_HANDLERS, ("contract", "billing_problem"), (provider_down,))
    with pytest.raises(RuntimeError, match="did not answer"):
        market.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.BILLING)

    assert _everything(market) == before
    assert market.events() == events
    monkeypatch.undo()
    market.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.BILLING)
    assert [market.get("contract", k).state.value for k in ("C-1", "C-3")] == ["paused"] * 2


@pytest.mark.rule("SUSP-1")
def test_a_refusal_half_way_through_a_cascade_changes_no_aggregate(
    market: Marketplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _everything(market)
    events = market.events()

    def pause_again(change: Any, h: Handling) -> None:
        if change.key == "C-3":  # C-1 is already paused: the engine refuses a second pause
            first = h.uow.get("contract", "C-1")
            h.cascade("contract", first, "billing_problem", change.decision.at)

    monkeypatch.setitem(handlers.EVENT_HANDLERS, ("contract", "billing_problem"), (pause_again,))
    outcome = market.handle(Fire("account", "co-1", "suspend", SUP, BILLING))

    assert isinstance(outcome.error, StatemachinesError), outcome.error
    assert "paused" in str(outcome.error)
    assert outcome.events == ()
    assert _everything(market) == before  # the account and both contracts as they were
    assert market.events() == events


@pytest.mark.rule("ACC-CLOSE-CL-3")
def test_a_refusal_changes_nothing_and_is_returned_as_the_outcome(market: Marketplace) -> None:
    before = _everything(market)

    outcome = market.handle(Fire("account", "co-1", "request_close", ANA, {"confirm": True}))

    assert isinstance(outcome.error, TransitionRefused)
    assert "ACC-CLOSE-CL-3" in outcome.error.rule_ids
    assert outcome.events == ()
    assert _everything(market) == before


# --------------------------------------------------------------------------- idempotency


@pytest.mark.rule("PAY-2")
def test_a_retried_bonus_pays_once(market: Marketplace) -> None:
    bonus = Fire("contract", "C-1", "pay_bonus", ANA, {"amount": Money(500)}, command_id="b-17")

    first = market.handle(bonus)
    again = market.handle(bonus)

    assert (first.repeated, again.repeated) == (False, True)
    assert again.events == first.events
    assert [p.amount for p in market.get("contract", "C-1").payments] == [Money(500)]
    assert market.events()[-1] == first.events[-1]


@pytest.mark.rule("ACC-FREEZE-D")
def test_a_refused_command_sent_again_gets_the_same_refusal_without_running(
    market: Marketplace,
) -> None:
    market.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.BILLING)
    post = Fire("job", "J-1", "post", ANA, command_id="post-J-1")
    refused = market.handle(post)
    market.fire("account", "co-1", "reinstate", SUP)

    again = market.handle(post)

    assert again.repeated
    assert isinstance(again.error, TransitionRefused)
    assert isinstance(refused.error, TransitionRefused)
    assert again.error.rule_ids == refused.error.rule_ids == ("ACC-FREEZE-D",)
    assert str(again.error) == str(refused.error)
    assert market.get("job", "J-1").state.value == "draft"
    market.handle(Fire("job", "J-1", "post", ANA, command_id="post-J-1, second try"))
    assert market.get("job", "J-1").state.value == "open"


# --------------------------------------------------------------------------- revisions


def test_a_write_on_a_stale_revision_raises_and_changes_nothing(market: Marketplace) -> None:
    seen = market.revision("contract", "C-1")
    market.fire("contract", "C-1", "log_time", FL, minutes=60)
    before = _everything(market)

    with pytest.raises(ConcurrentModification) as info:
        market.fire("contract", "C-1", "log_time", FL, minutes=60, expected_revision=seen)

    err = info.value
    assert (err.kind, err.key, err.expected, err.found) == ("contract", "C-1", seen, seen + 1)
    assert _everything(market) == before
    assert "run the command again" in str(err)


def test_retry_runs_the_command_again_on_fresh_state(market: Marketplace) -> None:
    stale = market.revision("contract", "C-1")
    market.fire("contract", "C-1", "log_time", FL, minutes=60)
    tries: list[int] = []
    conflicts: list[ConcurrentModification] = []

    def log_an_hour() -> Any:
        seen = stale if not tries else market.revision("contract", "C-1")
        tries.append(seen)
        return market.fire("contract", "C-1", "log_time", FL, minutes=60, expected_revision=seen)

    decision = retry(log_an_hour, on_conflict=lambda err, n: conflicts.append(err))

    assert tries == [stale, stale + 1]
    assert len(conflicts) == 1
    assert decision.event == "log_time"
    assert market.revision("contract", "C-1") == stale + 2


def test_retry_gives_up_after_its_attempts() -> None:
    calls = []

    def always() -> None:
        calls.append(1)
        kind = "job"
        raise ConcurrentModification(kind, "J-1", 1, 2)

    with pytest.raises(ConcurrentModification):
        retry(always, attempts=4)
    assert len(calls) == 4


# --------------------------------------------------------------------------- ids


@pytest.mark.rule("TEAM-2")
def test_a_new_contract_never_takes_an_existing_id(market: Marketplace) -> None:
    market.add_contract(Contract.fixed("C-2", client="co-1", freelancer="fl-1", started_at=START))
    market.fire("job", "J-1", "post", ANA)
    market.draft_proposal("P-1", "J-1", "fl-1", terms=Terms(hourly=True, rate=Money(4_000)))
    market.fire("proposal", "P-1", "submit", FL)
    market.fire("proposal", "P-1", "send_offer", ANA)

    outcome = market.handle(Fire("proposal", "P-1", "accept_offer", FL))

    assert outcome.created == (("contract", "C-4"),)
    started = market.get("contract", "C-4")
    assert (started.client, started.freelancer, started.is_hourly) == ("co-1", "fl-1", True)
    assert [c.id for c in market.all("contract")] == ["C-1", "C-3", "C-2", "C-4"]
    assert market._contact("C-4") == "ana"


def test_adding_an_aggregate_under_a_taken_key_is_refused(market: Marketplace) -> None:
    again = Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=START)
    before = _everything(market)

    with pytest.raises(AlreadyExists, match="contract 'C-1' already exists"):
        market.add_contract(again)

    assert _everything(market) == before


# --------------------------------------------------------------------------- deadlines


@pytest.mark.rule("JOB-2")
def test_a_failing_deadline_is_recorded_and_the_others_fire(
    market: Marketplace, clock: ManualClock
) -> None:
    odd = Job(id="J-9", company="co-1", deadlines=(Deadline("odd", "expire", START),))
    market.handle(DraftJob(odd)).result()  # a draft cannot expire: this deadline fails
    market.fire("job", "J-1", "post", ANA)

    clock.advance(days=30)
    fired = market.advance()
    stuck = list(market.stuck)
    again = market.advance()

    assert [d.event for d in fired] == ["warn_expiry", "expire"]
    assert market.get("job", "J-1").state.value == "expired"
    assert [(kind, key) for kind, key, _ in stuck] == [("job", "J-9")]
    assert "cannot 'expire' job 'J-9' in state 'draft'" in stuck[0][2]
    assert again == []
    assert len(market.stuck) == 1  # parked: not tried again until J-9 changes


@pytest.mark.rule("JOB-2")
def test_each_due_deadline_is_its_own_unit_of_work(
    market: Marketplace, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    market.fire("job", "J-1", "post", ANA)
    market.draft_job("J-2", "co-1")
    market.fire("job", "J-2", "post", ANA)
    real = handlers.fire_deadline

    def fails_on_j2(cmd: Any, h: Handling) -> None:
        real(cmd, h)
        if cmd.key == "J-2":
            msg = "job 'J-2' cannot 'warn_expiry': [JOB-2] refused here"
            raise TransitionRefused(
                msg,
                machine="job",
                state="open",
                event="warn_expiry",
                violations=[Violation("JOB-2", "refused here")],
            )

    monkeypatch.setitem(handlers.COMMAND_HANDLERS, FireDeadline, fails_on_j2)
    clock.advance(days=26)
    market.advance()

    assert market.get("job", "J-1").history[-1].event == "warn_expiry"
    assert market.get("job", "J-2").history[-1].event == "post"
    assert [key for _, key, _ in market.stuck] == ["J-2"]


# --------------------------------------------------------------------------- reads by index


@pytest.mark.rule("ACC-CLOSE-CL-4", "SUSP-1")
def test_no_command_reads_every_aggregate(
    market: Marketplace, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def scan(self: Any, kind: str) -> list[Any]:
        msg = f"a command listed every {kind}"
        raise AssertionError(msg)

    monkeypatch.setattr(type(market.store), "values", scan)
    market.fire("job", "J-1", "post", ANA)
    market.fire("contract", "C-1", "log_time", FL, minutes=120)
    market.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.BILLING)
    market.fire("account", "co-1", "reinstate", SUP)
    market.invite("co-1", "hal", HAL.role, ANA)
    market.fire("contract", "C-1", "end_contract", ANA)
    market.fire("contract", "C-3", "end_contract", ANA)
    market.fire("job", "J-1", "remove_posting", ANA)
    market.fire("membership", "co-1/hal", "remove", ANA)
    market.fire("account", "co-1", "request_close", ANA, confirm=True)
    clock.advance(days=30)
    market.advance()
    monkeypatch.undo()

    assert market.account("co-1").state.value == "deactivated"


@pytest.mark.rule("ACC-FREEZE-D")
def test_a_glimpse_reads_stored_states_and_sees_what_the_unit_of_work_changed(
    market: Marketplace,
) -> None:
    # ADR 0029: the facts a job's guards read are account states, read without loading
    # the accounts; an account this unit of work changed answers as it is now
    with UnitOfWork(market.store) as uow:
        token = market.flows.enter(uow)
        try:
            seen = uow.glimpse("account", "co-1", "fl-1", None)
            assert [(g.key, g.state, g.company, g.type) for g in seen] == [
                ("co-1", "active", "co-1", "client"),
                ("fl-1", "active", None, "freelancer"),
            ]
            assert [g.revision for g in seen] == [
                market.revision("account", "co-1"),
                market.revision("account", "fl-1"),
            ]
            h = Handling(uow, market.flows, START, market.audit)
            h.fire("account", uow.get("account", "co-1"), "suspend", SUP, at=START, payload=BILLING)
            assert [(g.key, g.state) for g in uow.glimpse("account", "co-1")] == [
                ("co-1", "suspended")
            ]
            job = uow.get("job", "J-1")
            with pytest.raises(TransitionRefused) as refused:  # the guard read the new state
                h.fire("job", job, "post", ANA, at=START)
            assert "ACC-FREEZE-D" in refused.value.rule_ids
        finally:
            market.flows.leave(token)
    assert market.account("co-1").state.value == "active"
    assert market.get("job", "J-1").state.value == "draft"


# --------------------------------------------------------------------------- the outbox


def test_a_consumer_reads_every_event_once_in_order_by_cursor(market: Marketplace) -> None:
    market.fire("job", "J-1", "post", ANA)
    market.fire("account", "co-1", "suspend", SUP, reason=SuspensionReason.BILLING)
    everything = market.events()

    read: list[Any] = []
    cursor = 0
    while page := market.events(after=cursor, limit=2):
        read += page
        cursor = page[-1].seq

    assert read == everything
    seqs = [e.seq for e in everything]
    assert seqs == sorted(set(seqs))  # one global order (dense on SQLite, not on PostgreSQL)
    assert [e.name for e in everything][:3] == ["created", "created", "created"]
    assert everything[-1].to_dict()["decision"]["event"] == "billing_problem"


def test_events_after_a_deadline_in_the_same_order_as_the_history(
    market: Marketplace, clock: ManualClock
) -> None:
    market.fire("job", "J-1", "post", ANA)
    clock.advance(days=31)
    market.advance()

    events = market.history("job", "J-1")

    assert [e.name for e in events] == ["created", "post", "warn_expiry", "expire"]
    assert [e.decision for e in events[1:]] == market.get("job", "J-1").history
    assert events[-1].at == START + timedelta(days=30)
