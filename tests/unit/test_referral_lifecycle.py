"""The referral state machine: every (state, command) pair, reasons, outcomes and folding."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from events.base import DomainEvent
from events.catalogue.referrals import (
    ContactAttemptRecorded,
    ContactKind,
    PartOfDay,
    ReferralCancelled,
    ReferralClaimed,
    ReferralClosed,
    ReferralReleased,
    ReferralRequested,
    ReferralRerouted,
)
from events.catalogue.vocabulary import Outcome
from events.registry import catalogue
from services.referrals import (
    ALLOWED,
    Command,
    InvalidCommandError,
    MissingReasonError,
    Referral,
    ReferralState,
    TransitionRefused,
    apply,
    cancel,
    claim,
    close,
    fold,
    record_contact_attempt,
    release,
    request,
    reroute,
)

REFERRAL_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
CASE_ID = uuid.UUID("00000000-0000-4000-8000-000000000002")
REQUESTED_ON = date(2026, 3, 2)
AT = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
LATER = date(2026, 3, 10)

State = ReferralState


def requested_events() -> list[DomainEvent]:
    return request(
        referral_id=REFERRAL_ID,
        case_id=CASE_ID,
        project="vroeg-erop-af",
        team="wijkteam-noord",
        urgent=False,
        requested_on=REQUESTED_ON,
        rule_id="R01",
    )


def claimed_event() -> ReferralClaimed:
    return ReferralClaimed(referral_id=REFERRAL_ID, worker_id="w-17", claimed_at=AT)


def attempt_event(reached: bool = True) -> ContactAttemptRecorded:
    return ContactAttemptRecorded(
        referral_id=REFERRAL_ID,
        kind=ContactKind.PHONE,
        reached=reached,
        attempted_on=date(2026, 3, 4),
        part_of_day=PartOfDay.MORNING,
    )


def history(state: ReferralState) -> list[DomainEvent]:
    """Events that bring a referral into ``state``."""
    base = requested_events()
    return {
        State.REQUESTED: base,
        State.CLAIMED: [*base, claimed_event()],
        State.IN_PROGRESS: [*base, claimed_event(), attempt_event()],
        State.CLOSED: [
            *base,
            claimed_event(),
            attempt_event(),
            ReferralClosed(
                referral_id=REFERRAL_ID, outcome=Outcome.ADVICE_OR_QUICK_FIX, closed_on=LATER
            ),
        ],
        State.REROUTED: [
            *base,
            ReferralRerouted(
                referral_id=REFERRAL_ID,
                to_project="schuldenspecialisten",
                to_team="team-zuid",
                reason="huurachterstand en energie: schuldenspecialist",
                rerouted_at=AT,
            ),
        ],
        State.CANCELLED: [
            *base,
            ReferralCancelled(
                referral_id=REFERRAL_ID, reason="signaal ingetrokken", cancelled_at=AT
            ),
        ],
    }[state]


def in_state(state: ReferralState) -> Referral:
    return fold(history(state))


# One valid call per command; the table below says what each must do in each state.
INVOKE: dict[Command, Callable[[Referral], list[DomainEvent]]] = {
    Command.CLAIM: lambda r: claim(r, "w-17", AT),
    Command.RECORD_CONTACT_ATTEMPT: lambda r: record_contact_attempt(
        r, ContactKind.HOME_VISIT, False, LATER, PartOfDay.EVENING
    ),
    Command.CLOSE: lambda r: close(r, Outcome.REFERRAL_WITHOUT_CONTACT, LATER),
    Command.RELEASE: lambda r: release(r, "collega met Turkse taal neemt over", AT),
    Command.REROUTE: lambda r: reroute(r, "schuldenspecialisten", "team-zuid", "curatief", AT),
    Command.CANCEL: lambda r: cancel(r, "vaste-lastenpartner meldt betaald", AT),
}

ALLOWED_TRANSITIONS: dict[
    tuple[ReferralState, Command], tuple[type[DomainEvent], ReferralState]
] = {
    (State.REQUESTED, Command.CLAIM): (ReferralClaimed, State.CLAIMED),
    (State.REQUESTED, Command.REROUTE): (ReferralRerouted, State.REROUTED),
    (State.REQUESTED, Command.CANCEL): (ReferralCancelled, State.CANCELLED),
    (State.CLAIMED, Command.RECORD_CONTACT_ATTEMPT): (ContactAttemptRecorded, State.IN_PROGRESS),
    (State.CLAIMED, Command.CLOSE): (ReferralClosed, State.CLOSED),
    (State.CLAIMED, Command.RELEASE): (ReferralReleased, State.REQUESTED),
    (State.CLAIMED, Command.REROUTE): (ReferralRerouted, State.REROUTED),
    (State.CLAIMED, Command.CANCEL): (ReferralCancelled, State.CANCELLED),
    (State.IN_PROGRESS, Command.RECORD_CONTACT_ATTEMPT): (
        ContactAttemptRecorded,
        State.IN_PROGRESS,
    ),
    (State.IN_PROGRESS, Command.CLOSE): (ReferralClosed, State.CLOSED),
    (State.IN_PROGRESS, Command.RELEASE): (ReferralReleased, State.REQUESTED),
    (State.IN_PROGRESS, Command.REROUTE): (ReferralRerouted, State.REROUTED),
}

ALL_PAIRS = [(state, command) for state in ReferralState for command in Command]


def test_table_covers_every_state_and_command() -> None:
    assert len(ALL_PAIRS) == 36
    assert {pair for pair in ALL_PAIRS if pair[1] in ALLOWED[pair[0]]} == set(ALLOWED_TRANSITIONS)


@pytest.mark.parametrize(
    ("state", "command"), [pair for pair in ALL_PAIRS if pair in ALLOWED_TRANSITIONS]
)
def test_allowed_transition(state: ReferralState, command: Command) -> None:
    referral = in_state(state)
    assert referral.state is state
    event_type, next_state = ALLOWED_TRANSITIONS[(state, command)]

    events = INVOKE[command](referral)

    assert [type(e) for e in events] == [event_type]
    assert apply(referral, events[0]).state is next_state


@pytest.mark.parametrize(
    ("state", "command"), [pair for pair in ALL_PAIRS if pair not in ALLOWED_TRANSITIONS]
)
def test_refused_transition_names_the_current_state(state: ReferralState, command: Command) -> None:
    referral = in_state(state)

    with pytest.raises(TransitionRefused) as refused:
        INVOKE[command](referral)

    message = str(refused.value)
    assert f"is {state.value}:" in message
    assert command.value in message
    assert refused.value.state is state
    allowed = sorted(ALLOWED[state])
    assert f"allowed from {state.value}: {', '.join(allowed) or 'nothing'}" in message


@pytest.mark.parametrize("state", list(ReferralState))
def test_only_closed_rerouted_and_cancelled_are_final(state: ReferralState) -> None:
    referral = in_state(state)
    final = state in {State.CLOSED, State.REROUTED, State.CANCELLED}
    assert referral.is_final is final
    assert (referral.allowed_commands == frozenset()) is final


@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
@pytest.mark.parametrize(
    "command",
    [
        lambda r, reason: release(r, reason, AT),
        lambda r, reason: reroute(r, "schuldenspecialisten", "team-zuid", reason, AT),
        lambda r, reason: cancel(r, reason, AT),
    ],
    ids=["release", "reroute", "cancel"],
)
def test_negative_transitions_need_a_reason(
    command: Callable[[Referral, str | None], list[DomainEvent]], reason: str | None
) -> None:
    with pytest.raises(MissingReasonError, match="reason") as missing:
        command(in_state(State.CLAIMED), reason)
    assert missing.value.field == "reason"


def test_reason_is_stored_stripped_and_capped() -> None:
    [event] = release(in_state(State.CLAIMED), "  te complex voor wijkteam  ", AT)
    assert isinstance(event, ReferralReleased)
    assert event.reason == "te complex voor wijkteam"
    with pytest.raises(InvalidCommandError, match="reason"):
        release(in_state(State.CLAIMED), "x" * 501, AT)


# -- outcomes ---------------------------------------------------------------------------

NEEDS_REACHED = {
    Outcome.ADVICE_OR_QUICK_FIX,
    Outcome.FOLLOW_UP_FINANCIAL,
    Outcome.FOLLOW_UP_NON_FINANCIAL,
    Outcome.NO_RESPONSE_AFTER_CONTACT,
}


@pytest.mark.parametrize("outcome", list(Outcome))
@pytest.mark.parametrize("attempts", ["none", "unanswered", "reached"])
def test_outcome_must_agree_with_contact_attempts(outcome: Outcome, attempts: str) -> None:
    events = [*requested_events(), claimed_event()]
    if attempts == "unanswered":
        events.append(attempt_event(reached=False))
    if attempts == "reached":
        events += [attempt_event(reached=False), attempt_event(reached=True)]
    referral = fold(events)

    if outcome in NEEDS_REACHED:
        allowed = attempts == "reached"
    elif outcome is Outcome.NO_CONTACT:
        allowed = attempts == "unanswered"
    else:
        allowed = True

    if allowed:
        [event] = close(referral, outcome, LATER)
        closed = apply(referral, event)
        assert (closed.state, closed.outcome, closed.closed_on) == (State.CLOSED, outcome, LATER)
    else:
        with pytest.raises(TransitionRefused, match=r"needs|contradicts") as refused:
            close(referral, outcome, LATER)
        assert refused.value.state is referral.state


def test_closing_before_the_last_attempt_is_refused() -> None:
    referral = in_state(State.IN_PROGRESS)
    with pytest.raises(InvalidCommandError, match="closed_on"):
        close(referral, Outcome.ADVICE_OR_QUICK_FIX, date(2026, 3, 3))


# -- other input checks -----------------------------------------------------------------


@pytest.mark.parametrize("worker_id", ["Jan de Vries", "", "x" * 65, "jan\nvries"])
def test_worker_id_is_opaque(worker_id: str) -> None:
    with pytest.raises(InvalidCommandError, match="worker_id"):
        claim(in_state(State.REQUESTED), worker_id, AT)


def test_naive_times_are_refused() -> None:
    naive = datetime(2026, 3, 3, 9, 30)  # without tzinfo on purpose
    with pytest.raises(InvalidCommandError, match=r"^at: must carry a time zone"):
        claim(in_state(State.REQUESTED), "w-17", naive)
    with pytest.raises(InvalidCommandError, match=r"^at: must carry a time zone"):
        release(in_state(State.CLAIMED), "reden", naive)


def test_contact_attempt_cannot_precede_the_request() -> None:
    with pytest.raises(InvalidCommandError, match="attempted_on"):
        record_contact_attempt(in_state(State.CLAIMED), ContactKind.LETTER, False, date(2026, 3, 1))


def test_reroute_needs_another_queue() -> None:
    with pytest.raises(InvalidCommandError, match="to_team"):
        reroute(in_state(State.REQUESTED), "vroeg-erop-af", "wijkteam-noord", "zelfde", AT)
    with pytest.raises(InvalidCommandError, match="to_project"):
        reroute(in_state(State.REQUESTED), "Schuldhulp Almelo", "wijkteam-zuid", "reden", AT)
    with pytest.raises(InvalidCommandError, match="to_team"):
        reroute(in_state(State.REQUESTED), "rub", "", "reden", AT)
    [event] = reroute(in_state(State.REQUESTED), "vroeg-erop-af", "wijkteam-zuid", "postcode", AT)
    rerouted = apply(in_state(State.REQUESTED), event)
    assert rerouted.rerouted_to == ("vroeg-erop-af", "wijkteam-zuid")
    assert rerouted.end_reason == "postcode"


# -- release and re-claim -----------------------------------------------------------------


def test_release_keeps_attempts_and_due_dates_and_reclaim_resumes_in_progress() -> None:
    in_progress = in_state(State.IN_PROGRESS)
    released = apply(in_progress, release(in_progress, "ziek", AT)[0])
    assert released.state is State.REQUESTED
    assert released.worker_id is None
    assert released.attempts == in_progress.attempts
    assert released.release_count == 1
    assert (released.first_contact_due, released.closure_due) == (
        in_progress.first_contact_due,
        in_progress.closure_due,
    )

    second_claim = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    reclaimed = apply(released, claim(released, "w-42", second_claim)[0])
    assert reclaimed.state is State.IN_PROGRESS
    assert reclaimed.worker_id == "w-42"
    assert reclaimed.claimed_at == second_claim
    assert reclaimed.first_claimed_at == AT


def test_release_before_contact_reclaims_as_claimed() -> None:
    claimed = in_state(State.CLAIMED)
    released = apply(claimed, release(claimed, "verkeerd opgepakt", AT)[0])
    assert apply(released, claim(released, "w-42", AT)[0]).state is State.CLAIMED


# -- folding --------------------------------------------------------------------------------


def test_folding_events_reproduces_state_step_by_step() -> None:
    """Running commands and applying their events equals folding the stored stream."""
    referral = fold(requested_events())
    stream = list(requested_events())
    steps: list[Callable[[Referral], list[DomainEvent]]] = [
        lambda r: claim(r, "w-17", AT),
        lambda r: record_contact_attempt(r, ContactKind.LETTER, False, date(2026, 3, 3)),
        lambda r: release(r, "vakantie", AT),
        lambda r: claim(r, "w-42", AT),
        lambda r: record_contact_attempt(
            r, ContactKind.HOME_VISIT, True, date(2026, 3, 6), PartOfDay.AFTERNOON
        ),
        lambda r: close(r, Outcome.FOLLOW_UP_FINANCIAL, LATER),
    ]
    for step in steps:
        events = step(referral)
        for event in events:
            referral = apply(referral, event)
        stream += events
        assert fold(stream) == referral

    # Through the store's JSON and the registry, too.
    decoded = [catalogue.decode(e.type_name(), e.schema_version, e.to_json()) for e in stream]
    assert fold(decoded) == referral
    assert referral.state is State.CLOSED
    assert referral.outcome is Outcome.FOLLOW_UP_FINANCIAL
    assert [a.kind for a in referral.attempts] == [ContactKind.LETTER, ContactKind.HOME_VISIT]
    assert referral.reached


def test_requested_event_carries_the_sla_due_dates() -> None:
    [event] = requested_events()
    assert isinstance(event, ReferralRequested)
    assert (event.first_contact_due, event.closure_due) == (date(2026, 3, 16), date(2026, 3, 30))


def test_a_stream_must_start_with_the_request() -> None:
    with pytest.raises(ValueError, match="start with ReferralRequested"):
        apply(None, claimed_event())
    with pytest.raises(ValueError, match="already requested"):
        fold([*requested_events(), *requested_events()])
    with pytest.raises(ValueError, match="empty"):
        fold([])


def test_every_referral_event_is_registered() -> None:
    for name in [
        "ReferralRequested",
        "ReferralClaimed",
        "ContactAttemptRecorded",
        "ReferralClosed",
        "ReferralReleased",
        "ReferralRerouted",
        "ReferralCancelled",
    ]:
        assert name in catalogue
