"""Local datasets: service involvements, school attendance and feedback surveys.

These are what an authority's own systems hold beyond the statutory returns. The School
Attendance Project is planted with a real effect on attendance and the other services with
none, so an evaluation can be checked against the truth.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from csc_insight.synth.calendar import Calendar, Term
from csc_insight.synth.journey import birthday
from csc_insight.synth.population import Child, People


@dataclass(frozen=True)
class Service:
    name: str
    requests_per_10k: float  # per year
    median_wait_days: float
    median_duration_days: float
    age_range: tuple[float, float]
    share_known: float  # of requests for children already known to social care
    teams: tuple[str, ...]
    attendance_effect_pp: float
    feedback_mean: float
    p_never_start: float
    # Chance a request is a return: a child whose earlier request to the same service was
    # made within the last 12 months and whose involvement has ended.
    p_return_12m: float


SERVICES: tuple[Service, ...] = (
    Service(
        "Family Support",
        190.0,
        10.0,
        150.0,
        (0.0, 17.0),
        0.40,
        (
            "Family Support North",
            "Family Support South",
            "Family Support East",
            "Family Support West",
        ),
        0.0,
        4.15,
        0.07,
        0.17,
    ),
    Service(
        "School Attendance Project",
        48.0,
        25.0,
        110.0,
        (5.0, 15.5),
        0.45,
        ("Attendance Team A", "Attendance Team B"),
        6.0,
        3.85,
        0.09,
        0.15,
    ),
    Service(
        "Parenting Programme",
        55.0,
        40.0,
        77.0,
        (0.5, 15.0),
        0.35,
        ("Parenting Team",),
        0.0,
        3.35,
        0.14,
        0.08,
    ),
)
FEEDBACK_ITEMS = (
    "q_felt_listened_to",
    "q_helped",
    "q_would_recommend",
    "q_easy_to_access",
    "q_treated_with_respect",
)
_ITEM_OFFSET = (0.15, -0.05, 0.0, -0.25, 0.25)
RESPONSE_RATE = 0.30
OUTCOMES_DONE = (
    "Completed - needs met",
    "Completed - needs met",
    "Completed - needs met",
    "Completed - partially met",
    "Stepped up to social care",
    "Disengaged",
    "Moved out of area",
)

POSITIVE = {
    "Family Support": (
        "Our worker really listened and helped us get back on track.",
        "Having someone to talk to every week made a big difference.",
        "They helped with the housing forms and the school meetings.",
        "Things at home are calmer now.",
        "I felt like they were on our side.",
    ),
    "School Attendance Project": (
        "My son is going to school most days now.",
        "The mentor got on well with her and she wants to go in.",
        "They sorted things out with the school quickly.",
        "Mornings are much easier now.",
        "Good to have someone checking in with school.",
    ),
    "Parenting Programme": (
        "The group was useful and I met other parents.",
        "Some of the tips on routines worked for us.",
        "The course leader was kind and patient.",
        "I use the calm-down ideas at home.",
    ),
}
NEGATIVE = {
    "Family Support": (
        "We had three different workers in six months.",
        "It took a while to get started.",
        "Sometimes appointments were cancelled at short notice.",
    ),
    "School Attendance Project": (
        "Felt like we were being blamed.",
        "Not much changed with the school.",
        "Meetings were always at times I was at work.",
    ),
    "Parenting Programme": (
        "Waited months for a place on the course.",
        "The sessions did not fit our situation.",
        "Too far to travel to the venue.",
        "It felt like a box-ticking exercise.",
        "Nobody followed up after it finished.",
    ),
}


@dataclass(slots=True)
class Involvement:
    involvement_id: str
    child: Child
    service: str
    team: str
    requested: int
    started: int | None
    ended: int | None
    outcome: str


@dataclass(slots=True)
class AttendanceRow:
    child: Child
    term: Term
    possible: int
    attended: int


@dataclass(slots=True)
class FeedbackRow:
    response_id: str
    service: str
    date: int
    respondent: str
    child: Child | None
    scores: tuple[int | None, ...]
    text: str


class LocalData:
    def __init__(self) -> None:
        self.involvements: list[Involvement] = []
        self.attendance: list[AttendanceRow] = []
        self.feedback: list[FeedbackRow] = []


def simulate_local(
    rng: random.Random,
    people: People,
    cal: Calendar,
    population: int,
    first: int,
    horizon: int,
    known: list[Child],
) -> LocalData:
    """Requests for each service between ``first`` and ``horizon``."""
    out = LocalData()
    years = (horizon - first) / 365.25
    n_id = rng.randint(10_000, 40_000)
    for svc in SERVICES:
        n = round(population / 10_000 * svc.requests_per_10k * years)
        days = sorted(first + rng.randint(0, horizon - first) for _ in range(n))
        returns = _Returns()
        # School-based services are requested in term time.
        for day in days:
            if svc.name == "School Attendance Project" and not cal.in_term[day - cal.start]:
                day = day + rng.randint(14, 50)
                if day > horizon:
                    continue
            child = None
            if rng.random() < svc.p_return_12m:
                child = returns.pick(rng, svc, day)
            if child is None:
                child = _pick_child(rng, people, svc, day, known)
            if child is None:
                continue
            n_id += rng.randint(1, 4)
            wait = max(0, int(svc.median_wait_days * math.exp(rng.gauss(0, 0.55))))
            started: int | None = day + wait
            ended: int | None = None
            if rng.random() < svc.p_never_start:
                started = None
                outcome = rng.choice(("Declined", "Withdrawn", "No longer required"))
                ended = day + wait // 2 + rng.randint(0, 10)
            else:
                assert started is not None
                dur = max(14, int(svc.median_duration_days * math.exp(rng.gauss(0, 0.45))))
                ended = started + dur
                outcome = rng.choice(OUTCOMES_DONE)
            if started is not None and started > horizon:
                started = None
                ended = None
                outcome = ""
            if ended is not None and ended > horizon:
                ended = None
                outcome = ""
            if ended is not None:
                returns.add(ended, day, child)
            out.involvements.append(
                Involvement(
                    f"LS{n_id:07d}",
                    child,
                    svc.name,
                    rng.choice(svc.teams),
                    day,
                    started,
                    ended,
                    outcome,
                )
            )
    _attendance(rng, cal, out, horizon)
    _feedback(rng, out, horizon)
    return out


class _Returns:
    """Children whose involvement with one service has ended, by the day it ended, so a
    later request can come back to the same child within 12 months of the last one."""

    def __init__(self) -> None:
        self._ending: list[tuple[int, int, int, Child]] = []  # (ended, requested, seq, child)
        self._ready: list[tuple[int, Child]] = []  # (requested, child), ended before today
        self._seq = 0

    def add(self, ended: int, requested: int, child: Child) -> None:
        self._seq += 1
        heapq.heappush(self._ending, (ended, requested, self._seq, child))

    def pick(self, rng: random.Random, svc: Service, day: int) -> Child | None:
        while self._ending and self._ending[0][0] < day:
            _, requested, _, child = heapq.heappop(self._ending)
            self._ready.append((requested, child))
        # Requests (processed in day order) more than a year old can no longer return.
        self._ready = [(r, c) for r, c in self._ready if day - r <= 365]
        for _ in range(4):
            if not self._ready:
                return None
            k = rng.randrange(len(self._ready))
            _, child = self._ready[k]
            if (day - child.dob) / 365.25 < svc.age_range[1]:
                self._ready[k] = self._ready[-1]
                self._ready.pop()
                return child
        return None


def _pick_child(
    rng: random.Random, people: People, svc: Service, day: int, known: list[Child]
) -> Child | None:
    lo, hi = svc.age_range
    if known and rng.random() < svc.share_known:
        for _ in range(6):
            c = known[rng.randrange(len(known))]
            age = (day - c.dob) / 365.25
            if lo <= age < hi and c.referrals and c.referrals[0].date <= day + 60:
                return c
    age = rng.uniform(lo, hi)
    return people.new_child(day - int(age * 365.25), first_seen=day, disabled_p=0.07)


def _attendance(rng: random.Random, cal: Calendar, data: LocalData, horizon: int) -> None:
    terms = [t for t in cal.terms if t.end <= horizon]
    by_child: dict[int, tuple[Child, dict[str, float]]] = {}
    for inv in data.involvements:
        if inv.started is None:
            continue
        child = inv.child
        effect = next(s.attendance_effect_pp for s in SERVICES if s.name == inv.service)
        rec = by_child.get(child.idx)
        if rec is None:
            rec = (child, {})
            by_child[child.idx] = rec
        # Three terms either side of the start; the term containing it counts as before.
        before = [t for t in terms if t.start <= inv.started][-3:]
        after = [t for t in terms if t.start > inv.started][:3]
        for t in before:
            rec[1].setdefault(t.label, 0.0)
        for t in after:
            rec[1][t.label] = rec[1].get(t.label, 0.0) + effect / 100.0
    term_by_label = {t.label: t for t in terms}
    for idx in sorted(by_child):
        child, labels = by_child[idx]
        base = min(0.985, max(0.35, rng.gauss(0.84, 0.08)))
        for label in sorted(labels, key=lambda s: term_by_label[s].start):
            term = term_by_label[label]
            age = (term.start - child.dob) / 365.25
            if not 4.9 <= age < 16.0 or term.start > birthday(child.dob, 16):
                continue
            possible = cal.school_sessions(term.start, term.end)
            if possible < 60:  # Covid closures: attendance was not recorded
                continue
            if rng.random() < 0.04:  # joined or left the school mid-term
                possible = int(possible * rng.uniform(0.4, 0.9))
            rate = min(1.0, max(0.0, base + labels[label] + rng.gauss(0, 0.035)))
            # Normal approximation to the binomial: one draw per term rather than per session.
            sd = math.sqrt(possible * rate * (1 - rate))
            attended = min(possible, max(0, round(possible * rate + rng.gauss(0, sd))))
            data.attendance.append(AttendanceRow(child, term, possible, attended))


def _feedback(rng: random.Random, data: LocalData, horizon: int) -> None:
    n = rng.randint(5_000, 9_000)
    for inv in data.involvements:
        if inv.ended is None or inv.started is None or rng.random() >= RESPONSE_RATE:
            continue
        day = inv.ended + rng.randint(0, 21)
        if day > horizon:
            continue
        svc = next(s for s in SERVICES if s.name == inv.service)
        age = (day - inv.child.dob) / 365.25
        who = "child" if age >= 8 and rng.random() < 0.4 else "parent/carer"
        person = rng.gauss(0, 0.55)
        scores: list[int | None] = []
        for off in _ITEM_OFFSET:
            if rng.random() < 0.06:
                scores.append(None)
                continue
            s = round(svc.feedback_mean + off + person + rng.gauss(0, 0.55))
            scores.append(min(5, max(1, s)))
        got = [s for s in scores if s is not None]
        mean = sum(got) / len(got) if got else 3.0
        text = ""
        if rng.random() < 0.62:
            pool = POSITIVE[svc.name] if mean >= 3.5 else NEGATIVE[svc.name]
            text = rng.choice(pool)
        n += rng.randint(1, 3)
        data.feedback.append(
            FeedbackRow(
                f"FB{n:06d}",
                svc.name,
                day,
                who,
                inv.child if rng.random() < 0.85 else None,
                tuple(scores),
                text,
            )
        )
