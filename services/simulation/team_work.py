"""What a team does with one referral, decided in advance: a seeded, pure work plan.

Only for the demo and tests. ``plan_work`` turns a referral (its request date, urgency and SLA
due dates) into the dated steps a team takes: claim, contact attempts, perhaps a release and a
re-claim or a reroute, and a close with a DDAS eindresultaat. The same seed and referral give
the same plan in every process; nothing here reads a clock or a database. The driver
(``services.simulation.simulate_year``) plays the steps day by day through the real referral
use cases, and leaves the steps after its last simulated day undone, so recent referrals are
still open.

Every step is on a Dutch working day (``services.referrals.sla.is_working_day``) and within a
day in DDAS part-of-day order, so the plan is one path through the state machine of
``services.referrals.lifecycle`` with dates that never go back.

The rates below are ASSUMPTIONS OF A DEMO, chosen to look like the published picture of
Dutch vroegsignalering (the brief's ranges and the Divosa Monitor's story: most residents are
reached after one to three tries, roughly half of those reached accept help), not measured in
Almelo. They are the defaults of ``WorkRates``:

* claim: urgent referrals within 0-2 working days; otherwise mostly within 0-8 working days of
  the request, and ``late_claim_share`` = 7 % only after 11-30 working days, so they are overdue
  on their first contact attempt (due 14 calendar days, about 10 working days, after request);
* release: ``release_share`` = 4 % of referrals are given back to the queue 1-3 working days
  after the claim and claimed again by another worker 1-3 working days later;
* reroute: ``reroute_share`` = 3 % of the referrals that have somewhere else to go are handed
  to that team 1-5 working days after the claim, at most one attempt first;
* contact attempts: 1-4. ``reach_share`` = 65 % of residents are reached in the end: after 0, 1
  or 2 failed tries (55/30/15 %), and in 20 % of those one follow-up attempt. The others get 1-4
  tries (10/25/35/30 %) that all fail. A reaching attempt is by phone, at the door, by text or
  by e-mail; a letter or a card through the door never counts as reaching someone;
* outcome when reached: ``help_acceptance`` = 50 % accept help (advice or quick fix 50 %,
  follow-up financial 35 %, non-financial 15 %); the others need no help (45 %), paid
  themselves (25 %), did not answer after the first contact (15 %), are already known to
  debt services (10 %) or in another trajectory (5 %);
* outcome when never reached: ``no_contact_share`` = 85 % "Definitief geen contact kunnen
  krijgen"; the rest paid themselves (60 %) or turn out to be known to debt services (40 %);
* timing of attempts: the first 0-3 working days after the claim (0-1 when urgent), the next
  ones 1-5 working days apart;
* closure: 1-8 working days after the last conversation, 1-4 after the last failed try;
  ``slow_closure_share`` = 10 % take another 10-25 working days, which mostly misses the 28-day
  closure SLA.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from events.catalogue.referrals import ContactKind, PartOfDay
from events.catalogue.vocabulary import Outcome
from services.referrals.sla import add_working_days, is_working_day
from services.synthetic_people import seeded_rng

PARTS_OF_DAY: tuple[PartOfDay, ...] = (PartOfDay.MORNING, PartOfDay.AFTERNOON, PartOfDay.EVENING)
"""DDAS EnumDagdeel in the order of a day."""

HELP_OUTCOMES: tuple[Outcome, ...] = (
    Outcome.ADVICE_OR_QUICK_FIX,
    Outcome.FOLLOW_UP_FINANCIAL,
    Outcome.FOLLOW_UP_NON_FINANCIAL,
)
_HELP_WEIGHTS = (50, 35, 15)
_REACHED_OTHER: tuple[tuple[Outcome, int], ...] = (
    (Outcome.NO_HELP_NEEDED, 45),
    (Outcome.ALREADY_PAID, 25),
    (Outcome.NO_RESPONSE_AFTER_CONTACT, 15),
    (Outcome.KNOWN_TO_DEBT_SERVICES, 10),
    (Outcome.OTHER_TRAJECTORY, 5),
)
_UNREACHED_OTHER: tuple[tuple[Outcome, int], ...] = (
    (Outcome.ALREADY_PAID, 60),
    (Outcome.KNOWN_TO_DEBT_SERVICES, 40),
)
_FIRST_KINDS: tuple[tuple[ContactKind, int], ...] = (
    (ContactKind.LETTER, 30),
    (ContactKind.PHONE, 30),
    (ContactKind.HOME_VISIT, 30),
    (ContactKind.TEXT_MESSAGE, 10),
)
_LATER_KINDS: tuple[tuple[ContactKind, int], ...] = (
    (ContactKind.HOME_VISIT, 35),
    (ContactKind.PHONE, 25),
    (ContactKind.CARD, 20),
    (ContactKind.TEXT_MESSAGE, 15),
    (ContactKind.MAIL, 5),
)
_REACHING_KINDS: tuple[tuple[ContactKind, int], ...] = (
    (ContactKind.PHONE, 45),
    (ContactKind.HOME_VISIT, 40),
    (ContactKind.TEXT_MESSAGE, 10),
    (ContactKind.MAIL, 5),
)
_ATTEMPT_PARTS = (35, 45, 20)  # home visits and calls in the evening reach working residents
_OFFICE_PARTS = (60, 40, 0)  # claims and closures are office work
_RELEASE_REASONS = (
    "Medewerker langdurig afwezig; terug naar de werkvoorraad",
    "Werkvoorraad herverdeeld binnen het team",
    "Andere medewerker spreekt de taal van de inwoner",
)
WORKERS_PER_TEAM = 6


@dataclass(frozen=True, slots=True)
class WorkRates:
    """The demo's assumptions (see the module docstring); all shares are between 0 and 1."""

    late_claim_share: float = 0.07
    release_share: float = 0.04
    reroute_share: float = 0.03
    reach_share: float = 0.65
    follow_up_share: float = 0.20
    help_acceptance: float = 0.50
    no_contact_share: float = 0.85
    slow_closure_share: float = 0.10

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")


DEFAULT_RATES = WorkRates()


@dataclass(frozen=True, slots=True)
class RerouteTarget:
    """Where a team may hand a referral that turns out not to be theirs, and why."""

    project: str
    team: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReferralToWork:
    """What a team sees of a referral when it plans its work (no personal data)."""

    referral_id: uuid.UUID
    team: str
    urgent: bool
    requested_on: date
    first_contact_due: date
    closure_due: date
    reroute_to: RerouteTarget | None = None
    first_day: date | None = None
    """The first day the team can act, when later than ``requested_on`` (a referral handed
    over during a working day is taken up from the next one)."""


@dataclass(frozen=True, slots=True)
class Claim:
    worker_id: str


@dataclass(frozen=True, slots=True)
class Release:
    reason: str


@dataclass(frozen=True, slots=True)
class ContactAttemptWork:
    kind: ContactKind
    reached: bool


@dataclass(frozen=True, slots=True)
class Reroute:
    target: RerouteTarget


@dataclass(frozen=True, slots=True)
class Close:
    outcome: Outcome


Work = Claim | Release | ContactAttemptWork | Reroute | Close


@dataclass(frozen=True, slots=True)
class Step:
    """One thing a worker does on a day, in a part of that day."""

    on: date
    part_of_day: PartOfDay
    work: Work

    @property
    def slot(self) -> tuple[date, int]:
        return self.on, PARTS_OF_DAY.index(self.part_of_day)


def plan_work(
    referral: ReferralToWork, seed: int, rates: WorkRates = DEFAULT_RATES
) -> tuple[Step, ...]:
    """The steps a team takes on ``referral``, in order, ending with a close or a reroute."""
    rng = seeded_rng(_sub_seed(seed, referral.referral_id))
    plan = _Planner(rng, referral)
    first_worker = plan.worker()
    plan.claim(first_worker, _claim_delay(rng, referral.urgent, rates))
    if rng.random() < rates.release_share:
        plan.at(rng.randint(1, 3), _OFFICE_PARTS, Release(rng.choice(_RELEASE_REASONS)))
        plan.claim(plan.worker(other_than=first_worker), rng.randint(1, 3))
    first_delay = (
        rng.choice((0, 1)) if referral.urgent else rng.choices((0, 1, 2, 3), (40, 30, 20, 10))[0]
    )
    if referral.reroute_to is not None and rng.random() < rates.reroute_share:
        if rng.random() < 0.5:
            plan.at(
                first_delay, _ATTEMPT_PARTS, ContactAttemptWork(_kind(rng, _REACHING_KINDS), True)
            )
        plan.at(rng.randint(1, 5), _OFFICE_PARTS, Reroute(referral.reroute_to))
        return plan.steps()
    reached = rng.random() < rates.reach_share
    if reached:
        failures = rng.choices((0, 1, 2), (55, 30, 15))[0]
        follow_up = rng.random() < rates.follow_up_share
        tries = [False] * failures + [True] + ([True] if follow_up else [])
    else:
        tries = [False] * rng.choices((1, 2, 3, 4), (10, 25, 35, 30))[0]
    for index, reaches in enumerate(tries):
        kinds = _REACHING_KINDS if reaches else (_FIRST_KINDS if index == 0 else _LATER_KINDS)
        delay = first_delay if index == 0 else rng.randint(1, 5)
        plan.at(delay, _ATTEMPT_PARTS, ContactAttemptWork(_kind(rng, kinds), reaches))
    closing = rng.randint(1, 8) if reached else rng.randint(1, 4)
    if rng.random() < rates.slow_closure_share:
        closing += rng.randint(10, 25)
    plan.at(closing, _OFFICE_PARTS, Close(_outcome(rng, reached, rates)))
    return plan.steps()


class _Planner:
    """Appends steps at working-day offsets from the previous step, never earlier in a day."""

    def __init__(self, rng: random.Random, referral: ReferralToWork) -> None:
        self._rng = rng
        self._team = referral.team
        self._steps: list[Step] = []
        self._day = _working_day_on_or_after(referral.first_day or referral.requested_on)
        self._part = 0

    def worker(self, other_than: str | None = None) -> str:
        numbers = [
            n for n in range(1, WORKERS_PER_TEAM + 1) if f"{self._team}.mw{n:02d}" != other_than
        ]
        # An opaque id as the lifecycle demands: team and a number, never a name.
        return f"{self._team}.mw{self._rng.choice(numbers):02d}"

    def claim(self, worker_id: str, delay: int) -> None:
        self.at(delay, _OFFICE_PARTS, Claim(worker_id))

    def at(self, working_days: int, part_weights: Sequence[int], work: Work) -> None:
        if working_days > 0:
            self._day, self._part = add_working_days(self._day, working_days), 0
        weights = [w if i >= self._part else 0 for i, w in enumerate(part_weights)]
        if not any(weights):  # the office is closed for the rest of the day: next morning
            self._day, self._part = add_working_days(self._day, 1), 0
            weights = list(part_weights)
        self._part = self._rng.choices(range(len(PARTS_OF_DAY)), weights)[0]
        self._steps.append(Step(self._day, PARTS_OF_DAY[self._part], work))

    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps)


def _sub_seed(seed: int, referral_id: uuid.UUID) -> int:
    """A stable seed per referral: the same in every process, unlike ``hash()``."""
    digest = hashlib.sha256(f"signaalhub:team-work:{seed}:{referral_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _working_day_on_or_after(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _claim_delay(rng: random.Random, urgent: bool, rates: WorkRates) -> int:
    if urgent:
        return rng.choice((0, 0, 1, 1, 2))
    if rng.random() < rates.late_claim_share:
        return rng.randint(11, 30)
    return rng.choices(range(9), (8, 20, 18, 14, 10, 8, 6, 4, 3))[0]


def _kind(rng: random.Random, weighted: tuple[tuple[ContactKind, int], ...]) -> ContactKind:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def _outcome(rng: random.Random, reached: bool, rates: WorkRates) -> Outcome:
    if reached:
        if rng.random() < rates.help_acceptance:
            return rng.choices(HELP_OUTCOMES, _HELP_WEIGHTS)[0]
        return rng.choices([o for o, _ in _REACHED_OTHER], [w for _, w in _REACHED_OTHER])[0]
    if rng.random() < rates.no_contact_share:
        return Outcome.NO_CONTACT
    return rng.choices([o for o, _ in _UNREACHED_OTHER], [w for _, w in _UNREACHED_OTHER])[0]
