"""The social-care journey of each child, simulated day by day for one authority.

Referrals arrive on a daily intensity (weekday profile, school terms, Covid closures, a slow
trend); each is assigned to a new child or to a recently closed case (re-referral), and the
episode that follows is simulated to its end: assessment, section 47, conference, CP plan,
CIN plan, care and its placements, leaving care. Dates beyond the horizon are unknown and
stay None, which is exactly what an open case looks like in a return.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from csc_insight.synth import params as P
from csc_insight.synth.calendar import Calendar, to_date, to_day
from csc_insight.synth.population import DISPROPORTIONATE_GROUP, Child, People


@dataclass(slots=True)
class Assessment:
    start: int
    auth: int | None
    factors: tuple[str, ...]
    in_need: bool


@dataclass(slots=True)
class S47:
    start: int
    icpc: int | None
    not_required: bool
    concluded: int | None


@dataclass(slots=True)
class CPP:
    start: int
    end: int | None
    initial: str
    latest: str
    latest_from: int
    previous: int
    reviews: list[int]


@dataclass(slots=True)
class Referral:
    date: int
    source: str
    need: str
    nfa: bool
    team: str
    worker: str
    close: int | None = None
    reason: str | None = None
    # The last day of work recorded in the episode (uncensored): it cannot close before it.
    floor: int = 0
    assessments: list[Assessment] = field(default_factory=list)
    cin_plans: list[tuple[int, int | None]] = field(default_factory=list)
    s47s: list[S47] = field(default_factory=list)
    cpps: list[CPP] = field(default_factory=list)


@dataclass(slots=True)
class Episode:
    decom: int
    rne: str
    ls: str
    cin: str
    place: str
    provider: str
    pl_post: str
    urn: str
    reason_change: str = ""
    dec: int | None = None
    rec: str = ""


@dataclass(slots=True)
class Adoption:
    decision: int
    placement_order: int | None
    match: int | None
    placed: int | None
    adopted: int | None
    ceased: int | None
    reason_ceased: str
    foster_care: bool
    nb_adoptr: str
    sex_adoptr: str
    ls_adoptr: str


@dataclass(slots=True)
class CLAPeriod:
    start: int
    end: int | None
    exit_code: str
    episodes: list[Episode]
    reviews: list[tuple[int, str]]
    missing: list[tuple[str, int, int | None]]
    adoption: Adoption | None
    short_break: bool
    prev_perm: tuple[str, str, str]
    team: str
    worker: str
    distance: list[float]


# Placement types with neither a provider nor a placement postcode in the 903 (rule 178).
NO_PROVIDER_PLACES = ("T0", "T1", "T2", "T3", "T4", "Z1")
PLACEMENT_ORDERS_FROM = to_day(date(2005, 12, 30))


def birthday(dob: int, years: int) -> int:
    d = to_date(dob)
    try:
        return to_day(date(d.year + years, d.month, d.day))
    except ValueError:  # 29 February
        return to_day(date(d.year + years, 3, 1))


def _wchoice(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([c for c, _ in table], [w for _, w in table])[0]


class Teams:
    """Team names and worker codes (workers are codes, never names)."""

    def __init__(self, rng: random.Random, localities: tuple[str, ...]) -> None:
        self.rng = rng
        self.pools: dict[str, list[str]] = {}
        self._n = rng.randint(100, 300)
        self.localities = localities

    def worker(self, team: str, size: int = 12) -> str:
        pool = self.pools.get(team)
        if pool is None:
            pool = []
            for _ in range(size):
                self._n += self.rng.randint(1, 9)
                pool.append(f"SW{self._n:04d}")
            self.pools[team] = pool
        return self.rng.choice(pool)


class Simulation:
    """Runs the journey for one authority between ``start`` and ``horizon``."""

    def __init__(
        self,
        rng: random.Random,
        np_rng: np.random.Generator,
        cal: Calendar,
        people: People,
        population: int,
        start: int,
        horizon: int,
    ) -> None:
        self.rng = rng
        self.np_rng = np_rng
        self.cal = cal
        self.people = people
        self.pop = population
        self.start = start
        self.horizon = horizon
        self.teams = Teams(rng, tuple(people.districts))
        self.referrals: list[tuple[Child, Referral]] = []
        self._pending: list[tuple[int, int]] = []  # (close day, child idx)
        self._available: list[int] = []
        self._factor_codes = [c for c, _ in P.ASSESSMENT_FACTORS]
        self._factor_w = list(np.cumsum([w for _, w in P.ASSESSMENT_FACTORS]))
        fc = people.identity.new_la_code
        self._la_urn = f"SC{400000 + int(fc[-4:]) * 7 % 99999:06d}"
        self.extra_urns = [f"SC{rng.randint(380000, 499999):06d}" for _ in range(40)]
        self.home_urns = [f"SC{rng.randint(380000, 499999):06d}" for _ in range(25)]
        self.uasc_count = 0

    # --- helpers --------------------------------------------------------------------
    def _lognorm(self, median: float, sigma: float) -> float:
        return median * math.exp(self.rng.gauss(0.0, sigma))

    def _in_group(self, child: Child) -> bool:
        return child.ethnicity in DISPROPORTIONATE_GROUP

    def _cap(self, day: int | None) -> int | None:
        return None if day is None or day > self.horizon else day

    # --- arrivals -------------------------------------------------------------------
    def referral_arrivals(self) -> tuple[np.ndarray, np.ndarray]:
        """Days and source codes of every referral, from the daily intensity."""
        cal = self.cal
        days = cal.days()
        lo, hi = self.start - cal.start, self.horizon - cal.start
        days = days[lo : hi + 1]
        wd = cal.weekday[lo : hi + 1]
        bank = cal.is_bank[lo : hi + 1]
        intensity = self.school_intensity(lo, hi)
        prof = np.array(P.WEEKDAY_PROFILE)[wd]
        pol = np.array(P.POLICE_WEEKDAY_PROFILE)[wd]
        prof = np.where(bank, P.BANK_HOLIDAY_FACTOR, prof)
        pol = np.where(bank, 0.9, pol)
        years = (days - days[0]) / 365.25
        trend = (1.0 + P.TREND_PER_YEAR) ** (years - years[-1])
        other_covid = np.ones(len(days))
        c0, c1 = to_day(date(2020, 3, 23)), to_day(date(2020, 6, 30))
        other_covid[(days >= c0) & (days <= c1)] = P.COVID_OTHER_FACTOR
        daily_total = self.pop / 10_000 * P.REFERRAL_RATE_PER_10K / 365.25
        out_days: list[np.ndarray] = []
        out_src: list[np.ndarray] = []
        for code, share in P.REFERRAL_SOURCES:
            if code in P.SCHOOL_SOURCES:
                w = intensity * prof
            elif code == "6":
                w = pol * other_covid
            else:
                w = prof * other_covid
            # Normalise each source so the covid dips and holidays lose referrals rather than
            # moving them: scale by a non-covid mean weight.
            base = float((prof if code != "6" else pol).mean())
            if code in P.SCHOOL_SOURCES:
                base = float((self.school_intensity(lo, hi, covid=False) * prof).mean())
            lam = daily_total * share * trend * w / base
            n = self.np_rng.poisson(lam)
            out_days.append(np.repeat(days, n))
            out_src.append(np.full(int(n.sum()), code, dtype=object))
        all_days = np.concatenate(out_days)
        all_src = np.concatenate(out_src)
        order = np.argsort(all_days, kind="stable")
        return all_days[order], all_src[order]

    def school_intensity(self, lo: int, hi: int, covid: bool = True) -> np.ndarray:
        cal = self.cal
        in_term = cal.in_term[lo : hi + 1]
        days = cal.days()[lo : hi + 1]
        f = np.where(in_term, 1.0, P.SCHOOL_HOLIDAY_FACTOR)
        for t in cal.terms:
            if t.label.endswith("Autumn"):
                a = t.start
                b = a + 7 * P.AUTUMN_RETURN_WEEKS
                f[(days >= a) & (days < b)] *= P.AUTUMN_RETURN_LIFT
        if covid:
            for start_s, factor in P.COVID_SCHOOL_FACTOR.items():
                s = to_day(date.fromisoformat(start_s))
                closed_end = s
                while closed_end - cal.start < cal.n and cal.closed[closed_end - cal.start]:
                    closed_end += 1
                m = (days >= s) & (days < closed_end)
                f[m] = np.where(in_term[m], factor, P.SCHOOL_HOLIDAY_FACTOR * factor)
                r = (days >= closed_end) & (days < closed_end + 7 * P.COVID_REBOUND_WEEKS)
                f[r] *= P.COVID_REBOUND
        return f

    # --- population draws -------------------------------------------------------------
    def _new_referred_child(self, day: int) -> Child:
        rng = self.rng
        bands = P.REFERRAL_AGE_BANDS
        lo_a, hi_a, _ = rng.choices(bands, [b[2] for b in bands])[0]
        age = rng.uniform(lo_a, hi_a)
        dob = day - int(age * 365.25)
        if age < 0:
            dob = max(dob, day + 14)
        return self.people.new_child(dob, first_seen=day)

    def _pick_rereferral(self, day: int) -> Child | None:
        while self._pending and self._pending[0][0] < day:
            _, idx = heapq.heappop(self._pending)
            self._available.append(idx)
        children = self.people.children
        for _ in range(4):
            if not self._available:
                return None
            k = self.rng.randrange(len(self._available))
            idx = self._available[k]
            child = children[idx]
            last = child.referrals[-1]
            ok = (day - last.date) < 450 and day < birthday(child.dob, 18) - 30
            if child.cla and child.cla[-1].exit_code in ("E11", "E12", "E3", ""):
                ok = False
            if ok and last.close is not None and last.close < day:
                self._available[k] = self._available[-1]
                self._available.pop()
                return child
            if not ok:
                self._available[k] = self._available[-1]
                self._available.pop()
        return None

    # --- main loop --------------------------------------------------------------------
    def run(self, days: np.ndarray, sources: np.ndarray) -> None:
        rng = self.rng
        for day_, src_ in zip(days.tolist(), sources.tolist(), strict=True):
            day = int(day_)
            src = str(src_)
            child = None
            if rng.random() < P.P_REREFERRAL_DRAW:
                child = self._pick_rereferral(day)
            if child is None:
                child = self._new_referred_child(day)
                if rng.random() < P.P_UNSEEN_PRIOR_CPP and day - child.dob > 365:
                    child.prior_cpp = 1
            ref = self.referral(child, day, src)
            if ref.close is not None and not (child.cla and child.cla[-1].end is None):
                heapq.heappush(self._pending, (ref.close, child.idx))

    def _locality_team(self, kind: str, child: Child) -> str:
        return f"{kind} {child.locality}"

    def referral(self, child: Child, day: int, src: str, *, uasc: bool = False) -> Referral:
        rng, cal = self.rng, self.cal
        age = (day - child.dob) / 365.25
        front = "Front Door (MASH)"
        if rng.random() < P.P_REFERRAL_NFA and not uasc:
            ref = Referral(
                day,
                src,
                _wchoice(rng, (("N9", 0.6), ("N4", 0.2), ("N5", 0.2))),
                True,
                front,
                self.teams.worker(front, 10),
            )
            ref.close = self._cap(day + rng.choice((0, 0, 0, 1, 1, 2, 3)))
            ref.reason = "RC8"
            child.referrals.append(ref)
            self.referrals.append((child, ref))
            return ref
        team = self._locality_team("Assessment Team", child)
        ref = Referral(day, src, "N9", False, team, self.teams.worker(team, 9))
        child.referrals.append(ref)
        self.referrals.append((child, ref))
        start = cal.add_working_days(day, rng.choice((0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 5, 8)))
        dur = max(1, round(self._lognorm(P.ASSESSMENT_MEDIAN_WD, P.ASSESSMENT_SIGMA)))
        auth = cal.add_working_days(start, dur)
        ref.floor = auth
        group = self._in_group(child)
        rr = P.DISPROPORTIONALITY_RR if group else 1.0
        prior = P.PRIOR_CPP_MULTIPLIER if (child.n_cpp + child.prior_cpp) else 1.0
        end_day = birthday(child.dob, 18) - 1
        if uasc:
            ass = Assessment(start, self._cap(auth), self._factors(True, uasc=True), True)
            ref.assessments.append(ass)
            ref.need = "N8"
            cla = self.cla_period(child, day + rng.randint(0, 2), route="uasc")
            return self._close_after_cla(ref, cla)
        # The relative rate is split between the enquiry and the conference so that it is
        # not lost to the probability cap at the conference stage.
        s47_rr = 1.25 if group else 1.0
        s47 = rng.random() < P.P_S47 * min(prior, 1.3) * s47_rr
        outcome = "none"
        cp_start: int | None = None
        if s47:
            s_start = cal.add_working_days(start, rng.choice((0, 0, 0, 1, 2, 4)))
            p_icpc = min(0.95, P.P_ICPC_GIVEN_S47 * rr / s47_rr * prior)
            if rng.random() < p_icpc and age < 17.5:
                wd = max(1, round(self._lognorm(P.ICPC_MEDIAN_WD, P.ICPC_SIGMA)))
                icpc = cal.add_working_days(s_start, wd)
                ref.floor = max(ref.floor, icpc)
                ref.s47s.append(S47(s_start, self._cap(icpc), False, self._cap(icpc)))
                if rng.random() < P.P_CPP_GIVEN_ICPC:
                    outcome = "cpp"
                    cp_start = icpc
                else:
                    outcome = "cin_plan"
            else:
                concl = cal.add_working_days(s_start, rng.randint(5, 25))
                ref.floor = max(ref.floor, concl)
                ref.s47s.append(S47(s_start, None, True, self._cap(concl)))
                u = rng.random()
                outcome = "not_in_need" if u < 0.38 else ("cin_plan" if u < 0.72 else "support")
        else:
            u = rng.random()
            if u < P.P_NOT_IN_NEED_NO_S47:
                outcome = "not_in_need"
            elif rng.random() < P.P_CIN_PLAN_IF_IN_NEED:
                outcome = "cin_plan"
            else:
                outcome = "support"
        in_need = outcome != "not_in_need"
        ref.assessments.append(Assessment(start, self._cap(auth), self._factors(in_need), in_need))
        ref.need = (
            _wchoice(rng, P.PRIMARY_NEED_IN_NEED)
            if in_need
            else ("N9" if rng.random() < 0.6 else _wchoice(rng, P.PRIMARY_NEED_IN_NEED))
        )
        if child.disabled and in_need and rng.random() < 0.4:
            ref.need = "N2"
        # Direct entry to care (emergency protection, teenagers accommodated under s20).
        p_direct = P.P_CLA_DIRECT * rr * (1.5 if age >= 13 else 1.0)
        if age < 1:  # babies, many referred before birth, enter care far more often
            p_direct *= P.INFANT_CARE_ENTRY_FACTOR
        if in_need and rng.random() < p_direct and age < 17.7:
            cla = self.cla_period(child, start + rng.randint(0, 20), route="direct")
            return self._close_after_cla(ref, cla)
        if outcome == "not_in_need":
            ref.close = self._cap(max(auth + rng.randint(0, 6), ref.floor))
            ref.reason = "RC9" if rng.random() < 0.33 else "RC8"
            return ref
        last_end: int | None = auth
        if outcome == "cpp" and cp_start is not None:
            dur = int(self._lognorm(P.CPP_MEDIAN_DAYS, P.CPP_SIGMA))
            cp_end = min(cp_start + max(dur, 40), end_day)
            # The CP plan already carries the relative rate; applying it again would compound.
            p_cla = P.P_CLA_FROM_CPP * (P.INFANT_CARE_FROM_CPP_FACTOR if age < 1 else 1.0)
            cla_next = rng.random() < p_cla and age < 16.5
            if cla_next:
                cp_end = cp_start + int(rng.uniform(0.1, 1.0) * max(dur, 60))
                cp_end = min(cp_end, end_day - 30)
            self._add_cpp(child, ref, cp_start, cp_end)
            if cp_end > self.horizon:
                return ref
            if cla_next and cp_end > cp_start:
                cla = self.cla_period(child, cp_end, route="cp")
                return self._close_after_cla(ref, cla)
            last_end = cp_end
            outcome = "cin_plan" if rng.random() < 0.55 else "support"
        if outcome == "cin_plan":
            assert last_end is not None
            ps = last_end + (0 if ref.cpps else rng.randint(0, 12))
            pe = min(ps + int(self._lognorm(P.CIN_PLAN_MEDIAN_DAYS, 0.7)) + 20, end_day)
            if ps < end_day:
                ref.cin_plans.append((ps, self._cap(pe)))
                if pe > self.horizon:
                    return ref
                if rng.random() < P.P_CLA_FROM_CIN_PLAN * rr and age < 16.5:
                    cla = self.cla_period(child, pe, route="cin")
                    ref.cin_plans[-1] = (ps, pe - 1 if pe - 1 > ps else pe)
                    return self._close_after_cla(ref, cla)
                last_end = pe
        else:
            last_end = (last_end or auth) + int(self._lognorm(35, 0.8))
        close = max(min(last_end + rng.randint(0, 25), end_day), ref.floor)
        ref.close = self._cap(close)
        if ref.close is not None:
            u = rng.random()
            ref.reason = "RC7" if u < 0.86 else ("RC9" if u < 0.94 else "RC5")
        return ref

    def _close_after_cla(self, ref: Referral, cla: CLAPeriod) -> Referral:
        if cla.end is None:
            return ref
        reason = {
            "E11": "RC1",
            "E12": "RC1",
            "E43": "RC4",
            "E44": "RC4",
            "E45": "RC3",
            "E46": "RC3",
            "E47": "RC3",
            "E48": "RC3",
            "E41": "RC3",
            "E3": "RC2",
        }
        code = reason.get(cla.exit_code)
        if code is None:
            code = (
                "RC6" if cla.exit_code in ("E17", "E7", "E8") and self.rng.random() < 0.1 else "RC7"
            )
        close = cla.end if code in ("RC1", "RC2") else cla.end + self.rng.randint(0, 40)
        # An assessment or enquiry still running when the child leaves care keeps the
        # episode open until it is finished (CIN 8565: no work after the closure date).
        close = max(close, ref.floor)
        ref.close = self._cap(close)
        ref.reason = code if ref.close is not None else None
        return ref

    def _factors(self, in_need: bool, *, uasc: bool = False) -> tuple[str, ...]:
        rng = self.rng
        if uasc:
            return ("9A",) if rng.random() < 0.6 else ("9A", "4A")
        k = rng.choice((1, 1, 2, 2, 3, 3, 4, 5)) if in_need else rng.choice((0, 1, 1, 2))
        out: set[str] = set()
        for _ in range(k):
            u = rng.random() * self._factor_w[-1]
            out.add(self._factor_codes[bisect.bisect_left(self._factor_w, u)])
        if not out and not in_need:
            return ("21",)
        return tuple(sorted(out, key=self._factor_codes.index))

    def _add_cpp(self, child: Child, ref: Referral, start: int, end: int) -> None:
        rng = self.rng
        cat = _wchoice(rng, P.ABUSE_CATEGORIES)
        latest, latest_from = cat, start
        reviews = []
        r = self.cal.add_working_days(start, rng.randint(45, 64))  # within 3 months
        while r < end and r <= self.horizon:
            reviews.append(r)
            if rng.random() < 0.05:
                latest = _wchoice(rng, P.ABUSE_CATEGORIES)
                latest_from = r
            r = r + rng.randint(150, 190) if rng.random() < 0.92 else r + rng.randint(190, 240)
        prev = child.n_cpp + child.prior_cpp
        child.n_cpp += 1
        ref.cpps.append(CPP(start, self._cap(end), cat, latest, latest_from, prev, reviews))
        team = self._locality_team("Safeguarding Team", child)
        ref.team = team
        ref.worker = self.teams.worker(team, 14)

    # --- looked after ------------------------------------------------------------------
    def cla_period(self, child: Child, start: int, route: str) -> CLAPeriod:
        """Simulate one period of care: legal statuses, placements, reviews, exit."""
        rng = self.rng
        age = (start - child.dob) / 365.25
        if age < 0:  # removed at birth
            start = child.dob
            age = 0.0
        b18 = birthday(child.dob, 18)
        # Exit path and date.
        adopt = None
        if route == "uasc":
            path = "18" if rng.random() < 0.9 else "other"
        elif age < 1:
            path = rng.choices(("adopt", "sgo", "home", "long"), P.EXIT_PATH_UNDER_1)[0]
        elif age < 5:
            path = rng.choices(("adopt", "sgo", "home", "long"), P.EXIT_PATH_1_TO_4)[0]
        elif age < 10:
            path = rng.choices(("sgo", "home", "long"), (0.16, 0.42, 0.42))[0]
        elif age < 16:
            path = rng.choices(("sgo", "home", "long", "other"), (0.06, 0.47, 0.40, 0.07))[0]
        else:
            path = rng.choices(("home", "18", "other"), (0.42, 0.52, 0.06))[0]
        if path == "adopt":
            end, adopt = self._adoption(child, start)
            if adopt.ceased is not None:
                path = "sgo" if rng.random() < 0.5 else "long"
                end = None
        else:
            end = None
        exit_code = ""
        if end is None:
            if path == "home":
                end = start + max(1, int(self._lognorm(190 if age < 10 else 120, 1.0)))
                exit_code = rng.choices(("E4A", "E4B", "E13"), (0.80, 0.15, 0.05))[0]
            elif path == "sgo":
                end = start + int(self._lognorm(520, 0.35))
                if adopt is not None and adopt.ceased is not None:
                    end = max(end, adopt.ceased + 60)
                exit_code = rng.choices(
                    ("E43", "E44", "E45", "E46", "E47", "E48", "E41"),
                    (0.35, 0.40, 0.06, 0.04, 0.08, 0.05, 0.02),
                )[0]
            elif path == "other":
                end = start + int(self._lognorm(200, 0.9))
                exit_code = rng.choices(
                    ("E8", "E9", "E16", "E15", "E3"), (0.60, 0.25, 0.06, 0.07, 0.02)
                )[0]
            else:  # long-term care; some leave through a later order
                if rng.random() < 0.35 and b18 - start > 700:
                    end = start + int(rng.uniform(500, b18 - start - 1))
                    exit_code = rng.choice(("E43", "E44", "E45", "E4A", "E48"))
                else:
                    end = b18
            if end >= b18:
                end = b18
                exit_code = rng.choices(("E17", "E7", "E8"), (0.25, 0.42, 0.33))[0]
        else:
            exit_code = "E11" if rng.random() < 0.85 else "E12"
        end = max(end, start + 1)
        period = self._build_period(child, start, end, exit_code, route, age, adopt)
        child.cla.append(period)
        return period

    def _adoption(self, child: Child, start: int) -> tuple[int | None, Adoption]:
        rng = self.rng
        decision = start + int(self._lognorm(P.ADOPTION_DECISION_MEDIAN_DAYS, 0.35))
        po = decision + rng.randint(*P.ADOPTION_PLACEMENT_ORDER_DAYS)
        ceased: int | None = None
        if rng.random() < 0.11:
            ceased = decision + rng.randint(150, 420)
            return None, Adoption(
                decision,
                po,
                None,
                None,
                None,
                ceased,
                rng.choice(("RD1", "RD2", "RD3", "RD4", "RD4")),
                False,
                "",
                "",
                "",
            )
        match = po + int(self._lognorm(P.ADOPTION_MATCH_MEDIAN_DAYS, 0.45))
        placed = match + rng.randint(*P.ADOPTION_MOVE_IN_DAYS)
        adopted = placed + int(self._lognorm(P.ADOPTION_ORDER_MEDIAN_DAYS, 0.35))
        nb = "M" if rng.random() < 0.82 else "L"
        if nb == "M":
            sex = rng.choices(("M1", "M2", "M3"), (0.08, 0.08, 0.84))[0]
            ls = rng.choices(("L11", "L12", "L2"), (0.74, 0.10, 0.16))[0]
        else:
            sex = rng.choices(("L1", "L2"), (0.12, 0.88))[0]
            ls = "L0"
        fc = rng.random() < 0.13
        return adopted, Adoption(decision, po, match, placed, adopted, None, "", fc, nb, sex, ls)

    def _first_place(self, age: float, route: str) -> str:
        rng = self.rng
        if route == "uasc":
            return rng.choices(("H5", "U6", "U4", "K2"), (0.52, 0.38, 0.04, 0.06))[0]
        if age < 1:
            return rng.choices(("U6", "U3", "U5", "P1", "R3"), (0.58, 0.20, 0.08, 0.07, 0.07))[0]
        if age < 10:
            return rng.choices(("U6", "U3", "P1", "K2"), (0.66, 0.24, 0.08, 0.02))[0]
        if age < 16:
            return rng.choices(
                ("U6", "U3", "K2", "P1", "S1", "K1", "Z1"),
                (0.58, 0.12, 0.19, 0.06, 0.02, 0.01, 0.02),
            )[0]
        return rng.choices(
            ("H5", "U6", "U3", "K2", "P2", "R5", "Z1"), (0.36, 0.34, 0.08, 0.12, 0.04, 0.03, 0.03)
        )[0]

    def _provider(self, place: str) -> str:
        rng = self.rng
        if place in NO_PROVIDER_PLACES:  # 903 rule 178: blank where provider does not apply
            return ""
        if place == "P1" or place == "P2":
            return "PR0"
        if place.startswith("U"):
            if place in ("U1", "U2", "U3"):
                return "PR1"
            return rng.choices(("PR1", "PR4", "PR5", "PR2"), (0.55, 0.38, 0.04, 0.03))[0]
        if place in ("K2", "H5", "S1"):
            return rng.choices(("PR1", "PR4", "PR5", "PR2"), (0.18, 0.72, 0.06, 0.04))[0]
        if place.startswith("A"):
            return rng.choices(("PR1", "PR2", "PR5"), (0.55, 0.25, 0.20))[0]
        return rng.choices(("PR3", "PR4", "PR1"), (0.5, 0.3, 0.2))[0]

    def _placement_detail(self, child: Child, place: str, provider: str) -> tuple[str, str, float]:
        """Placement postcode, URN and distance (miles) from home."""
        rng = self.rng
        far = provider in ("PR4", "PR2", "PR5") and rng.random() < 0.45
        dist = self._lognorm(28.0 if far else 4.5, 0.7)
        if far:
            area = rng.choice(("LS", "BD", "HD", "S", "DN", "HG", "YO", "HX", "M", "OL"))
            district = f"{area}{rng.randint(1, 29)}"
        else:
            locs = self.people.districts
            district = rng.choice(locs[rng.choice(list(locs))])
        from csc_insight.synth.population import fake_postcode

        pc = fake_postcode(rng, district)
        if place in ("K2", "K1", "S1"):
            urn = rng.choice(self.home_urns)
        elif place.startswith("U") and provider == "PR1":
            urn = self._la_urn
        elif place.startswith("U") or place == "H5":
            urn = rng.choice(self.extra_urns)
        else:
            urn = "XXXXXXX"
        if place == "P1":  # placed with parents: the family home
            pc = child.postcode
        elif place in NO_PROVIDER_PLACES:  # 'other' and temporary placements have no address
            pc = ""
        return pc, urn, round(dist, 1)

    def _build_period(
        self,
        child: Child,
        start: int,
        end: int,
        exit_code: str,
        route: str,
        age: float,
        adopt: Adoption | None,
    ) -> CLAPeriod:
        rng = self.rng
        b18 = birthday(child.dob, 18)
        # Legal status timeline: (day, status).
        if route == "uasc" or (age >= 16 and rng.random() < 0.9):
            ls0 = "V2" if rng.random() < 0.95 else rng.choice(("J1", "L1"))
        elif age >= 10:
            ls0 = rng.choices(("V2", "C1", "L1", "J1", "J2"), (0.70, 0.20, 0.05, 0.03, 0.02))[0]
        else:
            ls0 = rng.choices(("C1", "V2", "L2", "L1"), (0.52, 0.36, 0.06, 0.06))[0]
        legal: list[tuple[int, str]] = [(start, ls0)]
        t = start
        cur = ls0
        if cur in ("L1", "L2", "J1", "J2"):
            t += rng.randint(2, 9)
            cur = "C1" if cur.startswith("L") or rng.random() < 0.3 else "V2"
            legal.append((t, cur))
        po = adopt.placement_order if adopt is not None else None
        if cur == "V2" and age < 14 and rng.random() < 0.4:
            t += rng.randint(20, 150)
            cur = "C1"
            legal.append((t, cur))
        elif cur == "V2" and po is not None:
            # A placement order follows care proceedings: no adoption from section 20.
            t = max(t + 1, min(t + rng.randint(20, 150), po - 60))
            cur = "C1"
            legal.append((t, cur))
        if cur == "C1":
            t += int(self._lognorm(260, 0.3))
            if po is not None:
                t = max(po, legal[-1][0] + 1)
                # Placement orders (E1) exist from 30 December 2005 (903 rules 445/446);
                # earlier adoptions in the back-history go through a full care order.
                cur = "E1" if t >= PLACEMENT_ORDERS_FROM else "C2"
            else:
                cur = "C2"
            legal.append((t, cur))
            if cur == "E1" and adopt is not None and adopt.ceased is not None:
                # The plan for adoption ends: the placement order is revoked, the care
                # order stays.
                legal.append((max(adopt.ceased, t + 1) + rng.randint(0, 60), "C2"))
        # Placement timeline: (day, place, reason).
        places: list[tuple[int, str, str]] = [(start, self._first_place(age, route), "")]
        cur_age = age
        t = start
        long_term_done = False
        while True:
            here = places[-1][1]
            rate = P.PLACEMENT_MOVES_PER_YEAR.get(here, P.PLACEMENT_MOVES_PER_YEAR["other"])
            if cur_age >= 12:
                rate *= P.PLACEMENT_MOVES_TEEN_FACTOR
            # Foster placements are likeliest to break down early in a period of care; once
            # the child has settled they are rarer (a piecewise constant hazard, exact because
            # the exponential is memoryless).
            settle = start + P.PLACEMENT_SETTLED_AFTER_DAYS
            settled = rate * P.PLACEMENT_SETTLED_FACTOR
            if here not in P.PLACEMENT_SETTLED_PLACES:
                gap = rng.expovariate(rate) * 365.25
            elif t >= settle:
                gap = rng.expovariate(settled) * 365.25
            else:
                gap = rng.expovariate(rate) * 365.25
                if t + gap > settle:
                    gap = settle - t + rng.expovariate(settled) * 365.25
            # Early breakdowns and bridging placements: the first placement often lasts weeks,
            # and so, less often, do the next ones in the first months of care.
            early = P.EARLY_MOVE_FIRST_P if t == start else P.EARLY_MOVE_LATER_P
            if t - start < P.EARLY_MOVE_WINDOW_DAYS and rng.random() < early:
                gap = min(gap, rng.uniform(5, 90))
            t = t + max(1, int(gap))
            if t >= end:
                break
            cur_age = (t - child.dob) / 365.25
            if (
                not long_term_done
                and here in ("U3", "U6")
                and t - start > 240
                and rng.random() < 0.5
                and adopt is None
            ):
                long_term_done = True
                places.append((t, "U1" if here == "U3" else "U4", "CARPL"))
                continue
            nxt = self._first_place(cur_age, route if cur_age >= 16 else "")
            if nxt == here and nxt.startswith("U"):
                nxt = "U6" if here != "U6" else "U4"
            places.append((t, nxt, _wchoice(rng, P.REASON_PLACE_CHANGE)))
        if adopt is not None and adopt.placed is not None and adopt.placed < end:
            places = [p for p in places if p[0] < adopt.placed]
            cur_place = places[-1][1]
            code = "A5" if cur_place in ("U5", "U2") or adopt.foster_care else "A6"
            if rng.random() < 0.05:
                code = "A3" if code == "A5" else "A4"
            places.append((adopt.placed, code, "CARPL"))
        # Merge both timelines into episodes; same-day changes become one 'U' episode.
        events: dict[int, list[str]] = {}
        for d, _ls in legal:
            if d < end:
                events.setdefault(d, []).append("L")
        for d, _p, _r in places:
            if d < end:
                events.setdefault(d, []).append("P")
        cin = _wchoice(rng, P.PRIMARY_NEED_IN_NEED)
        if route == "uasc":
            cin = "N8"
        elif age < 10 and rng.random() < 0.6:
            cin = "N1"
        home_post = child.postcode
        episodes: list[Episode] = []
        dists: list[float] = []
        li, pi = 0, 0
        ls_now, place_now, reason_now = legal[0][1], places[0][1], ""
        prov = self._provider(place_now)
        pc, urn, dist = self._placement_detail(child, place_now, prov)
        for d in sorted(events):
            kinds = events[d]
            while li + 1 < len(legal) and legal[li + 1][0] <= d:
                li += 1
                ls_now = legal[li][1]
            changed_place = False
            same_carer = False
            while pi + 1 < len(places) and places[pi + 1][0] <= d:
                pi += 1
                old = place_now
                place_now, reason_now = places[pi][1], places[pi][2]
                changed_place = True
                same_carer = (old, place_now) in (
                    ("U3", "U1"),
                    ("U6", "U4"),
                    ("U5", "A5"),
                    ("U6", "A5"),
                    ("U4", "A5"),
                )
            if d == start:
                rne = "S"
            elif "L" in kinds and "P" in kinds:
                rne = "U"
            elif "L" in kinds:
                rne = "L"
            else:
                rne = "T" if changed_place and same_carer else "P"
            if changed_place and d != start:
                if rne in ("P", "U"):
                    prov = self._provider(place_now)
                    pc, urn, dist = self._placement_detail(child, place_now, prov)
                elif place_now.startswith("A"):
                    urn = "XXXXXXX"
            if episodes:
                episodes[-1].dec = d
                episodes[-1].rec = "X1"
            episodes.append(
                Episode(
                    d,
                    rne,
                    ls_now,
                    cin,
                    place_now,
                    prov,
                    pc,
                    urn,
                    reason_now if rne in ("P", "T", "U") and d != start else "",
                )
            )
            dists.append(dist)
            _ = home_post
        episodes[-1].dec = end
        episodes[-1].rec = exit_code
        # Censor at the horizon: an episode not yet ended is open in the latest return.
        kept = [e for e in episodes if e.decom <= self.horizon]
        dists = dists[: len(kept)]
        if kept and kept[-1].dec is not None and kept[-1].dec > self.horizon:
            kept[-1].dec = None
            kept[-1].rec = ""
        real_end = self._cap(end)
        if adopt is not None:
            for f in ("placement_order", "match", "placed", "adopted", "ceased"):
                v = getattr(adopt, f)
                if v is not None and v > self.horizon:
                    setattr(adopt, f, None)
            if adopt.decision > self.horizon:
                adopt = None
        reviews = self._reviews(child, start, min(end, self.horizon + 1))
        missing = self._missing(child, start, min(end, self.horizon + 1), places)
        prev = ("Z1", "", "")
        u = rng.random()
        if u < 0.025:
            prev = ("P2", self.people.identity.old_la_code, self._partial_date(start))
        elif u < 0.035:
            prev = ("P3", self.people.identity.old_la_code, self._partial_date(start))
        elif u < 0.04:
            prev = (
                "P1",
                str(rng.choice((380, 381, 382, 383, 384, 372, 373))),
                self._partial_date(start),
            )
        team = (
            "Children with Disabilities Team"
            if child.disabled and rng.random() < 0.5
            else "Children in Care Team"
        )
        if b18 - start < 400:
            team = "Leaving Care Team"
        return CLAPeriod(
            start,
            real_end,
            exit_code if real_end is not None else "",
            kept,
            reviews,
            missing,
            adopt,
            False,
            prev,
            team,
            self.teams.worker(team, 20),
            dists,
        )

    def _partial_date(self, before: int) -> str:
        d = to_date(before - self.rng.randint(400, 3000))
        if self.rng.random() < 0.3:
            return f"zz/{d.month:02d}/{d.year}"
        return d.strftime("%d/%m/%Y")

    def _reviews(self, child: Child, start: int, end: int) -> list[tuple[int, str]]:
        rng, cal = self.rng, self.cal
        out: list[tuple[int, str]] = []
        r = cal.add_working_days(
            start, rng.randint(10, 20) if rng.random() < 0.9 else rng.randint(21, 30)
        )
        k = 0
        codes = [c for c, _ in P.REVIEW_CODES]
        weights = [w for _, w in P.REVIEW_CODES]
        while r < end:
            age = (r - child.dob) / 365.25
            code = "PN0" if age < 4 else rng.choices(codes, weights)[0]
            out.append((r, code))
            gap = rng.randint(70, 92) if k == 0 else rng.randint(150, 183)
            if rng.random() < 0.08:
                gap += rng.randint(5, 40)
            r += gap
            k += 1
        return out

    def _missing(
        self, child: Child, start: int, end: int, places: list[tuple[int, str, str]]
    ) -> list[tuple[str, int, int | None]]:
        rng = self.rng
        b11 = birthday(child.dob, 11)
        lo = max(start, b11)
        if lo >= end:
            return []
        resi = any(p[1] in ("K2", "H5") for p in places)
        if rng.random() > (0.42 if resi else 0.14):
            return []
        rate = rng.uniform(2.0, 14.0) if resi else rng.uniform(1.0, 6.0)
        out: list[tuple[str, int, int | None]] = []
        t = lo + int(rng.expovariate(rate) * 365.25)
        while t < end:
            u = rng.random()
            dur = (
                0
                if u < 0.45
                else (1 if u < 0.8 else (rng.randint(2, 7) if u < 0.98 else rng.randint(8, 40)))
            )
            kind = "M" if rng.random() < 0.85 else "A"
            # Back by the end of the period of care at the latest; not back yet at the horizon.
            back: int | None = min(t + dur, end)
            if back is not None and back > self.horizon:
                back = None
            out.append((kind, t, back))
            t = t + dur + 1 + int(rng.expovariate(rate) * 365.25)
        return out

    # --- other arrivals ------------------------------------------------------------------
    def add_uasc(self, first: int) -> None:
        """Unaccompanied asylum-seeking children: mostly boys of 15-17, direct into care."""
        rng = self.rng
        years = (self.horizon - first) / 365.25
        n = self.np_rng.poisson(self.pop / 10_000 * P.UASC_PER_10K_PER_YEAR * years)
        for _ in range(int(n)):
            day = first + rng.randint(0, self.horizon - first)
            age = rng.uniform(14.5, 17.6)
            child = self.people.new_child(
                day - int(age * 365.25),
                first_seen=day,
                sex="1" if rng.random() < 0.94 else "2",
                ethnicity=rng.choice(("AOTH", "BAFR", "OOTH", "OOTH", "BOTH", "NOBT")),
            )
            child.uasc = True
            child.upn = None
            self.uasc_count += 1
            self.referral(child, day, rng.choice(("5C", "6", "8", "7")), uasc=True)

    def add_short_breaks(self, first: int) -> None:
        """A few disabled children on series of short breaks (V3/V4)."""
        rng = self.rng
        n = max(3, round(self.pop / 10_000 * P.SHORT_BREAK_CHILDREN_PER_10K))
        for i in range(n):
            begin = first + rng.randint(0, max(1, self.horizon - first - 400))
            if i == 0:  # at least one series still running in the latest year
                begin = self.horizon - rng.randint(200, 600)
            age = rng.uniform(5, 15)
            child = self.people.new_child(
                begin - int(age * 365.25), first_seen=begin, disabled_p=1.0
            )
            team = "Children with Disabilities Team"
            ref = Referral(
                begin - rng.randint(30, 200), "5A", "N2", False, team, self.teams.worker(team, 10)
            )
            ref.assessments.append(
                Assessment(ref.date + 3, self._cap(ref.date + 40), ("5A", "6A"), True)
            )
            ref.cin_plans.append((ref.date + 45, None))
            child.referrals.append(ref)
            self.referrals.append((child, ref))
            stop = min(
                self.horizon,
                birthday(child.dob, 18) - 1,
                begin + int(rng.uniform(1.0, 5.0) * 365.25) if i else self.horizon,
            )
            t = begin
            home_pc = child.postcode
            place = rng.choice(("K2", "K2", "U6"))
            prov = "PR1" if place == "K2" else "PR4"
            urn = rng.choice(self.home_urns) if place == "K2" else self._la_urn
            while t < stop:
                nights = rng.choice((1, 2, 2, 3))
                ep = Episode(
                    t,
                    "S",
                    "V4" if rng.random() < 0.95 else "V3",
                    "N2",
                    place,
                    prov,
                    "",
                    urn,
                    "",
                    self._cap(t + nights),
                    "E13" if t + nights <= self.horizon else "",
                )
                _ = home_pc
                rev: list[tuple[int, str]] = []
                child.cla.append(
                    CLAPeriod(
                        t,
                        ep.dec,
                        ep.rec,
                        [ep],
                        rev,
                        [],
                        None,
                        True,
                        ("Z1", "", ""),
                        team,
                        ref.worker,
                        [3.0],
                    )
                )
                t += nights + rng.randint(18, 45)

    def add_legacy_cla(self, first_sim_day: int) -> None:
        """Children who entered care before the simulation starts and may still be there.

        Their referrals predate the records, so they carry a single old CIN episode that
        stays open while they are looked after.
        """
        rng = self.rng
        lo = first_sim_day - int(18 * 365.25)
        n = self.np_rng.poisson(self.pop / 10_000 * P.LEGACY_CLA_STARTS_PER_10K * 18)
        for _ in range(int(n)):
            start = lo + rng.randint(0, first_sim_day - lo - 1)
            u = rng.random()
            age = (
                rng.uniform(0, 1)
                if u < 0.2
                else rng.uniform(1, 5)
                if u < 0.35
                else rng.uniform(5, 10)
                if u < 0.5
                else rng.uniform(10, 16)
                if u < 0.82
                else rng.uniform(16, 17.8)
            )
            dob = start - int(age * 365.25)
            # Only children whose care or care-leaver years reach the records matter.
            if birthday(dob, 22) < first_sim_day:
                continue
            state = rng.getstate()
            child = self.people.new_child(dob, first_seen=start)
            team = self._locality_team("Assessment Team", child)
            ref = Referral(
                start - rng.randint(0, 40),
                _wchoice(rng, P.REFERRAL_SOURCES),
                "N1",
                False,
                team,
                self.teams.worker(team, 9),
            )
            ref.floor = ref.date + rng.randint(10, 50)
            ref.assessments.append(Assessment(ref.date, ref.floor, self._factors(True), True))
            cla = self.cla_period(child, start, route="legacy")
            child.referrals.append(ref)
            self.referrals.append((child, ref))
            self._close_after_cla(ref, cla)
            if (
                cla.end is not None
                and cla.end < first_sim_day
                and not ((cla.end - dob) / 365.25 >= 16)
            ):
                # Left care before the records with no care-leaver status: forget them.
                self.people.children.pop()
                self.referrals.pop()
                _ = state
