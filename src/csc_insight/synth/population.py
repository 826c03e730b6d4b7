"""The pretend authority and its children: identity, localities and characteristics."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

# The default identity for scale "la": a real upper-tier authority of typical size
# (ONS mid-2024 estimate of children aged 0-17). Only its name, codes and population are
# used; every record is invented.
DEFAULT_LA = {
    "name": "Wakefield",
    "old_la_code": "384",
    "new_la_code": "E08000036",
    "region": "Yorkshire and The Humber",
    "population_0_17": 77481,
    "postcode_area": "WF",
}

# DfE ethnicity codes with a population mix of a mostly White British authority; BCRB and
# MWBC are set a little higher than such an area would have so the planted
# disproportionality is measurable at small scale.
ETHNICITY_MIX: tuple[tuple[str, float], ...] = (
    ("WBRI", 0.700),
    ("WIRI", 0.004),
    ("WIRT", 0.002),
    ("WOTH", 0.055),
    ("WROM", 0.004),
    ("MWBC", 0.030),
    ("MWBA", 0.009),
    ("MWAS", 0.013),
    ("MOTH", 0.016),
    ("AIND", 0.018),
    ("APKN", 0.035),
    ("ABAN", 0.006),
    ("AOTH", 0.010),
    ("BCRB", 0.030),
    ("BAFR", 0.024),
    ("BOTH", 0.005),
    ("CHNE", 0.004),
    ("OOTH", 0.014),
    ("REFU", 0.008),
    ("NOBT", 0.013),
)
DISPROPORTIONATE_GROUP = ("BCRB", "MWBC")

# CIN census disability codes, weighted roughly as recorded for children in need.
DISABILITY_CODES: tuple[tuple[str, float], ...] = (
    ("AUT", 0.28),
    ("BEH", 0.16),
    ("LD", 0.14),
    ("COMM", 0.12),
    ("CON", 0.07),
    ("MOB", 0.06),
    ("HAND", 0.04),
    ("PC", 0.03),
    ("INC", 0.03),
    ("HEAR", 0.03),
    ("VIS", 0.02),
    ("DDA", 0.02),
)

LOCALITIES: tuple[str, ...] = ("North", "South", "East", "West", "Central")
LOCALITY_WEIGHTS: tuple[float, ...] = (0.24, 0.22, 0.20, 0.18, 0.16)

# Unit letters never used in the second position of a real inward code (C I K M O V):
# putting one there keeps every postcode well-formed but certainly fictitious.
_UNUSED_UNIT = "CIKMOV"
_UNIT = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass(frozen=True)
class Identity:
    """Which authority the synthetic data pretends to be."""

    name: str
    old_la_code: str
    new_la_code: str
    population_0_17: int
    postcode_area: str
    region: str = ""

    def districts(self) -> dict[str, list[str]]:
        """Two or three postcode districts per locality, numbered like a real area."""
        out: dict[str, list[str]] = {}
        n = 1
        for i, loc in enumerate(LOCALITIES):
            k = 3 if i % 2 == 0 else 2
            out[loc] = [f"{self.postcode_area}{n + j}" for j in range(k)]
            n += k
        return out


def fake_postcode(rng: random.Random, district: str) -> str:
    return f"{district} {rng.randint(1, 9)}{rng.choice(_UNIT)}{rng.choice(_UNUSED_UNIT)}"


@dataclass(slots=True)
class Child:
    """A child known to the authority. Dates are day numbers (see calendar.to_day)."""

    idx: int
    child_id: str
    sex: str
    dob: int
    ethnicity: str
    disabilities: tuple[str, ...]
    locality: str
    postcode: str
    upn: str | None
    unborn_first_seen: int | None = None
    uasc: bool = False
    death: int | None = None
    prior_cpp: int = 0
    mother: bool = False
    mc_dob: int | None = None
    referrals: list = field(default_factory=list)  # list[journey.Referral]
    cla: list = field(default_factory=list)  # list[journey.CLAPeriod]
    oc3: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    last_contact: int | None = None
    n_cpp: int = 0

    @property
    def disabled(self) -> bool:
        return bool(self.disabilities)


class People:
    """Allocates children with characteristics drawn from the authority's population."""

    def __init__(self, rng: random.Random, identity: Identity) -> None:
        self.rng = rng
        self.identity = identity
        self.children: list[Child] = []
        self._next_id = rng.randint(180_000, 420_000)
        self._eth_codes = [c for c, _ in ETHNICITY_MIX]
        self._eth_cum = list(np.cumsum([w for _, w in ETHNICITY_MIX]))
        self._dis_codes = [c for c, _ in DISABILITY_CODES]
        self._dis_w = [w for _, w in DISABILITY_CODES]
        self.districts = identity.districts()
        self._loc_w = list(LOCALITY_WEIGHTS)
        self._upn_serial = 0

    def new_child(
        self,
        dob: int,
        *,
        first_seen: int,
        disabled_p: float = 0.09,
        sex: str | None = None,
        ethnicity: str | None = None,
    ) -> Child:
        rng = self.rng
        # Case-management IDs are issued in sequence with gaps (other client types share
        # the same number range), so they grow with the date a child is first recorded.
        self._next_id += 1 + int(rng.expovariate(0.35))
        cid = str(self._next_id)
        if sex is None:
            sex = "1" if rng.random() < 0.515 else "2"
        if ethnicity is None:
            ethnicity = self._eth_codes[_bisect(self._eth_cum, rng.random())]
        dis: tuple[str, ...] = ()
        if rng.random() < disabled_p:
            k = 1 if rng.random() < 0.7 else 2
            dis = tuple(sorted(set(rng.choices(self._dis_codes, self._dis_w, k=k))))
        loc = rng.choices(LOCALITIES, self._loc_w)[0]
        pc = fake_postcode(rng, rng.choice(self.districts[loc]))
        child = Child(
            idx=len(self.children),
            child_id=cid,
            sex=sex,
            dob=dob,
            ethnicity=ethnicity,
            disabilities=dis,
            locality=loc,
            postcode=pc,
            upn=self._upn(dob),
        )
        if dob > first_seen:
            child.unborn_first_seen = first_seen
            child.ethnicity = ethnicity
        self.children.append(child)
        return child

    def _upn(self, dob: int) -> str | None:
        """UPN issued at school entry: check letter, LA code, school number, year, serial."""
        rng = self.rng
        if rng.random() < 0.03:
            return None
        self._upn_serial = (self._upn_serial + rng.randint(1, 40)) % 1000
        entry_year = 1970 + int((dob + 4.6 * 365.25) / 365.25)
        school = rng.choice((2, 2, 2, 3, 4, 7)) * 1000 + rng.randint(0, 999)
        letter = "ABCDEFGHJKLMNPQRTUVWXYZ"[rng.randrange(23)]
        return (
            f"{letter}{self.identity.old_la_code}{school:04d}{entry_year % 100:02d}"
            f"{self._upn_serial:03d}"
        )


def _bisect(cum: list[float], u: float) -> int:
    u *= cum[-1]
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] < u:
            lo = mid + 1
        else:
            hi = mid
    return lo
