"""Planted rates and code mixes, calibrated by hand against DfE's published England figures.

Everything the generator plants on purpose lives here, so ground_truth.json can report it
and docs/synthetic-data.md can explain it.
"""

from __future__ import annotations

# Referrals per 10,000 children aged 0-17 per year (England 2024-25: ~520).
REFERRAL_RATE_PER_10K = 520.0
# Contacts per referral (contacts that do not become referrals end in advice, early help
# or no further action).
CONTACTS_PER_REFERRAL = 3.4
TREND_PER_YEAR = 0.015

# ReferralSource mix (CIN census codes). 2A and 2B are the school-sourced ones.
REFERRAL_SOURCES: tuple[tuple[str, float], ...] = (
    ("1A", 0.040),
    ("1B", 0.010),
    ("1C", 0.020),
    ("1D", 0.010),
    ("2A", 0.185),
    ("2B", 0.015),
    ("3A", 0.030),
    ("3B", 0.030),
    ("3C", 0.010),
    ("3D", 0.030),
    ("3E", 0.030),
    ("3F", 0.025),
    ("4", 0.020),
    ("5A", 0.050),
    ("5B", 0.020),
    ("5C", 0.030),
    ("5D", 0.030),
    ("6", 0.300),
    ("7", 0.020),
    ("8", 0.045),
    ("9", 0.015),
    ("10", 0.015),
)
SCHOOL_SOURCES = ("2A", "2B")

# Weekday profile (Monday first), relative to a mean weekday; police refer every day.
WEEKDAY_PROFILE = (1.30, 1.12, 1.08, 1.05, 0.98, 0.26, 0.21)
POLICE_WEEKDAY_PROFILE = (1.12, 1.02, 1.0, 1.0, 1.02, 0.92, 0.92)
BANK_HOLIDAY_FACTOR = 0.25

# School-sourced referrals: level on a school day that is not in term (holidays) relative to
# a term day, and the lift in the first weeks after the September return.
SCHOOL_HOLIDAY_FACTOR = 0.18
AUTUMN_RETURN_LIFT = 1.25
AUTUMN_RETURN_WEEKS = 8

# Covid school closures: factor applied to school-sourced referrals while closed, the
# rebound after reopening, and the milder dip for other sources in spring 2020.
COVID_SCHOOL_FACTOR = {"2020-03-23": 0.35, "2021-01-05": 0.45}
COVID_REBOUND = 1.20
COVID_REBOUND_WEEKS = 6
COVID_OTHER_FACTOR = 0.85

# Age at referral: (lower, upper) in years with weights; "unborn" is referred pre-birth.
REFERRAL_AGE_BANDS: tuple[tuple[float, float, float], ...] = (
    (-0.4, 0.0, 0.035),
    (0.0, 1.0, 0.075),
    (1.0, 5.0, 0.19),
    (5.0, 10.0, 0.25),
    (10.0, 16.0, 0.34),
    (16.0, 17.95, 0.11),
)

# The child journey.
P_REFERRAL_NFA = 0.065
P_REREFERRAL_DRAW = 0.37  # chance a referral is drawn from recently closed cases
ASSESSMENT_MEDIAN_WD = 28.0
ASSESSMENT_SIGMA = 0.47
P_S47 = 0.27
P_ICPC_GIVEN_S47 = 0.43
P_CPP_GIVEN_ICPC = 0.88
ICPC_MEDIAN_WD = 10.5
ICPC_SIGMA = 0.45
P_NOT_IN_NEED_NO_S47 = 0.41
P_CIN_PLAN_IF_IN_NEED = 0.55
P_CLA_DIRECT = 0.023
P_CLA_FROM_CPP = 0.16
P_CLA_FROM_CIN_PLAN = 0.02
CPP_MEDIAN_DAYS = 245.0
CPP_SIGMA = 0.6
CIN_PLAN_MEDIAN_DAYS = 170.0
# Placement moves per year by placement type (U1/U4 long-term fostering is the most stable),
# raised for children aged 12 or more and, in foster care, lowered once the child has been
# in care a while (PLACEMENT_SETTLED_*).
PLACEMENT_MOVES_PER_YEAR: dict[str, float] = {
    "U1": 0.12,
    "U4": 0.12,
    "K2": 0.9,
    "H5": 0.55,
    "K1": 2.0,
    "R3": 2.5,
    "P1": 0.5,
    "other": 0.34,
}
PLACEMENT_MOVES_TEEN_FACTOR = 1.4
# Chance the first placement, and each later one begun in the first months of care, ends
# within 5-90 days (early breakdowns and bridging placements).
EARLY_MOVE_FIRST_P = 0.38
EARLY_MOVE_LATER_P = 0.25
EARLY_MOVE_WINDOW_DAYS = 180
PLACEMENT_SETTLED_AFTER_DAYS = 540
PLACEMENT_SETTLED_FACTOR = 0.5
PLACEMENT_SETTLED_PLACES = ("U1", "U2", "U3", "U4", "U5", "U6")
# Babies (referred before birth or in their first year) enter care far more often than older
# children: England's starts are about 18% under 1, and most adoptions come from them.
INFANT_CARE_ENTRY_FACTOR = 6.0  # on direct entry from an assessment
INFANT_CARE_FROM_CPP_FACTOR = 1.8  # on entry from a CP plan
# How a period of care begun under 1 / aged 1-4 is planned to end: weights of adoption,
# special guardianship, return home and long-term care.
EXIT_PATH_UNDER_1 = (0.48, 0.17, 0.22, 0.13)
EXIT_PATH_1_TO_4 = (0.24, 0.21, 0.33, 0.22)
# Adoption timeline (days): entering care to the decision (lognormal median), decision to
# placement order (uniform), placement order to match (lognormal median; scorecard A2),
# match to moving in (uniform), moving in to the adoption order (lognormal median).
ADOPTION_DECISION_MEDIAN_DAYS = 185.0
ADOPTION_PLACEMENT_ORDER_DAYS = (30, 110)
ADOPTION_MATCH_MEDIAN_DAYS = 165.0
ADOPTION_MOVE_IN_DAYS = (7, 35)
ADOPTION_ORDER_MEDIAN_DAYS = 250.0
# Plans before the authority's records start (other authorities, earlier systems).
P_UNSEEN_PRIOR_CPP = 0.12
PRIOR_CPP_MULTIPLIER = 2.2

# Deliberate disproportionality: relative rate (vs WBRI) of a CP plan / entering care,
# given a referral. Referral rates themselves follow the population (relative rate 1.0).
DISPROPORTIONALITY_RR = 1.8

# Looked-after children.
UASC_PER_10K_PER_YEAR = 2.6
SHORT_BREAK_CHILDREN_PER_10K = 1.5
LEGACY_CLA_STARTS_PER_10K = 24.0

ABUSE_CATEGORIES: tuple[tuple[str, float], ...] = (
    ("NEG", 0.50),
    ("EMO", 0.36),
    ("PHY", 0.06),
    ("SAB", 0.04),
    ("MUL", 0.04),
)

# Assessment factors: CIN census codes weighted by England 2024-25 counts (thousands).
ASSESSMENT_FACTORS: tuple[tuple[str, float], ...] = (
    ("1A", 10.6),
    ("1B", 73.3),
    ("1C", 11.6),
    ("2A", 24.6),
    ("2B", 72.6),
    ("2C", 15.9),
    ("3A", 57.9),
    ("3B", 162.9),
    ("3C", 25.6),
    ("4A", 90.4),
    ("4B", 171.8),
    ("4C", 23.6),
    ("5A", 63.2),
    ("5B", 15.2),
    ("5C", 7.5),
    ("6A", 24.2),
    ("6B", 27.6),
    ("6C", 5.3),
    ("7A", 19.0),
    ("8B", 1.9),
    ("10A", 16.9),
    ("11A", 12.4),
    ("12A", 2.3),
    ("13A", 8.9),
    ("14A", 36.0),
    ("15A", 25.5),
    ("16A", 90.4),
    ("17A", 97.7),
    ("18B", 15.3),
    ("18C", 61.4),
    ("19B", 12.6),
    ("19C", 18.9),
    ("22A", 0.8),
    ("23A", 2.2),
    ("24A", 16.3),
    ("21", 83.8),
)

PRIMARY_NEED_IN_NEED: tuple[tuple[str, float], ...] = (
    ("N1", 0.55),
    ("N2", 0.05),
    ("N3", 0.05),
    ("N4", 0.10),
    ("N5", 0.17),
    ("N6", 0.04),
    ("N7", 0.01),
    ("N8", 0.03),
)

REASON_PLACE_CHANGE: tuple[tuple[str, float], ...] = (
    ("CARPL", 0.36),
    ("CREQB", 0.14),
    ("CREQO", 0.10),
    ("CHILD", 0.09),
    ("LAREQ", 0.08),
    ("PLACE", 0.06),
    ("STAND", 0.03),
    ("ALLEG", 0.03),
    ("APPRR", 0.02),
    ("CUSTOD", 0.02),
    ("CLOSE", 0.02),
    ("OTHER", 0.05),
)

REVIEW_CODES: tuple[tuple[str, float], ...] = (
    ("PN1", 0.42),
    ("PN2", 0.08),
    ("PN3", 0.10),
    ("PN4", 0.22),
    ("PN5", 0.06),
    ("PN6", 0.07),
    ("PN7", 0.05),
)

# Care leavers (ACTIV, ACCOM) by age group, for those in touch, shaped on England's care
# leaver tables for 2024-25 (la_care_leavers_activity, ..._accommodation_suitability): of
# all care leavers, 64% of 17-18 and 54% of 19-21 year olds in education, employment or
# training, 91% and 89% in suitable accommodation, 6% with no information.
CARE_LEAVER_ACTIVITY: dict[str, tuple[tuple[str, float], ...]] = {
    "17-18": (
        ("F2", 0.47),  # full-time education other than higher education
        ("P2", 0.04),
        ("F1", 0.03),  # higher education
        ("F4", 0.10),  # training or employment
        ("P4", 0.03),
        ("F5", 0.03),  # apprenticeship
        ("G4", 0.035),  # not in education, employment or training: illness or disability
        ("G5", 0.245),  # NEET: other reasons
        ("G6", 0.02),  # NEET: pregnancy or parenting
    ),
    "19-21": (
        ("F2", 0.19),
        ("P2", 0.03),
        ("F1", 0.055),
        ("P1", 0.01),
        ("F4", 0.20),
        ("P4", 0.07),
        ("F5", 0.02),
        ("P5", 0.005),
        ("G4", 0.095),
        ("G5", 0.285),
        ("G6", 0.04),
    ),
}
# ACCOM letters: B parents or relatives, C community home, D semi-independent, E supported
# lodgings, G gone abroad, H deported, K ordinary lodgings, S no fixed abode, T foyer,
# U independent living, V emergency accommodation, W bed and breakfast, X custody, Y former
# foster carers (staying put), Z other. The second character is 1 suitable, 2 not.
CARE_LEAVER_ACCOM: dict[str, tuple[tuple[str, float], ...]] = {
    "17-18": (
        ("D", 0.28),
        ("Y", 0.22),
        ("B", 0.14),
        ("U", 0.09),
        ("E", 0.08),
        ("C", 0.07),
        ("T", 0.04),
        ("K", 0.02),
        ("Z", 0.025),
        ("X", 0.01),
        ("S", 0.008),
        ("V", 0.004),
        ("W", 0.004),
        ("G", 0.005),
    ),
    "19-21": (
        ("U", 0.435),
        ("B", 0.15),
        ("D", 0.10),
        ("Y", 0.08),
        ("E", 0.05),
        ("C", 0.03),
        ("T", 0.03),
        ("K", 0.03),
        ("Z", 0.038),
        ("X", 0.025),
        ("S", 0.01),
        ("V", 0.005),
        ("W", 0.005),
        ("G", 0.01),
        ("H", 0.002),
    ),
}
# Chance the accommodation is judged unsuitable. No fixed abode and custody are always
# unsuitable: DfE's code list has only S2 and X2 (903 rule 133).
ALWAYS_UNSUITABLE_ACCOM = ("S", "X")
UNSUITABLE_ACCOM_P: dict[str, float] = {"V": 0.6, "W": 0.6}
UNSUITABLE_ACCOM_OTHER_P = 0.01
IN_TOUCH: tuple[tuple[str, float], ...] = (
    ("YES", 0.905),
    ("NO", 0.035),
    ("REFU", 0.025),
    ("NREQ", 0.012),
    ("RHOM", 0.02),
    ("DIED", 0.003),
)
