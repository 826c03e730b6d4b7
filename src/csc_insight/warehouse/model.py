"""The canonical data model: every table the warehouse holds, declared once as data.

Readers map each source format onto these tables; indicators and analysis read only these.
docs/data-model.md is checked against this module by a test, so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    import ibis

# The Arrow type of each model type, as Ibis maps them (a test checks they agree): readers
# build Arrow tables without importing Ibis, which a load does not otherwise need.
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    dtype: str
    description: str
    required: bool = False


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns, natural key and the datasets that feed it."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    sources: tuple[str, ...]
    lineage: bool = True

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns + (LINEAGE if self.lineage else ())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.all_columns]

    def column(self, name: str) -> Column:
        for c in self.all_columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def has_return_year(self) -> bool:
        """Whether rows carry the year of their return (the table is fed by a return)."""
        return any(c.name == RETURN_YEAR.name for c in self.columns)

    def schema(self) -> ibis.Schema:
        import ibis
        import ibis.expr.datatypes as dt

        return ibis.schema({c.name: dt.dtype(c.dtype) for c in self.all_columns})

    def arrow_schema(self) -> pa.Schema:
        """The table's columns as an Arrow schema."""
        return _arrow_schema(self)


@cache
def _arrow_schema(t: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.dtype]) for c in t.all_columns])


# Every loaded row keeps where it came from, so any figure can be traced back to a file line.
LINEAGE: tuple[Column, ...] = (
    Column("load_id", "string", "The load that wrote this row (see the loads table).", True),
    Column("source_file", "string", "File name the row was read from.", True),
    Column(
        "source_row",
        "int64",
        "1-based data row in a CSV/xlsx sheet, or element number of the record in an XML file.",
        True,
    ),
)

LA = Column(
    "la_code",
    "string",
    "Nine-character ONS code of the local authority (E06..., E08..., E09..., E10...).",
    True,
)
CHILD = Column(
    "child_id",
    "string",
    "Pseudonymised child identifier: keyed HMAC-SHA256 of the "
    "authority's own identifier, never the identifier itself.",
    True,
)
REFERRAL = Column(
    "referral_id",
    "string",
    "Identifier of the CIN episode (referral) this record "
    "belongs to; stable across overlapping returns.",
    True,
)


# The precedence column (docs/ingest.md section 6): a row from a newer statutory return wins
# over one from an older return whatever order they were loaded in, so each row keeps the
# year of the return it came from. Annex A lists and local extracts are not returns.
RETURN_YEAR = Column(
    "return_year",
    "int64",
    "Collection year (2025 for 2024-25) of the statutory return (SSDA903 or CIN census) the "
    "row comes from; blank for Annex A and local files. A row from an older return never "
    "replaces one from a newer return; Annex A rows only fill blanks in a return's rows.",
)
STATUTORY_SOURCES = frozenset({"ssda903", "cin_census"})


def _cols(*columns: Column) -> tuple[Column, ...]:
    return columns


TABLES: tuple[Table, ...] = (
    Table(
        "children",
        "One row per child known to the authority in any dataset: the person-level facts.",
        _cols(
            LA,
            CHILD,
            Column(
                "sex",
                "string",
                "1 male, 2 female, 0 not known, 9 not stated (CIN/903 codes); blank when a "
                "local extract does not say.",
            ),
            Column("ethnicity", "string", "DfE ethnicity code (WBRI, WIRI, ..., REFU, NOBT)."),
            Column(
                "date_of_birth",
                "date",
                "Date of birth (may be degraded to the first of the "
                "month by privacy settings); null for an unborn child.",
            ),
            Column("expected_date_of_birth", "date", "Expected date of birth of an unborn child."),
            Column(
                "disability", "boolean", "True if any disability code other than NONE was recorded."
            ),
            Column(
                "disabilities",
                "string",
                "Comma-separated CIN disability codes (MOB, HAND, "
                "PC, INC, COMM, LD, HEAR, VIS, BEH, CON, AUT, DDA) or NONE.",
            ),
            Column("locality", "string", "The authority's own locality or area team name."),
            Column(
                "postcode_district",
                "string",
                "Home postcode district (e.g. BN21), or sector (BN21 4) where "
                "postcode_precision is sector; never the full postcode.",
            ),
            Column("date_of_death", "date", "Date of death, if recorded."),
            Column("uasc", "boolean", "Unaccompanied asylum-seeking child at any point."),
            RETURN_YEAR,
        ),
        key=("la_code", "child_id"),
        sources=("cin_census", "ssda903", "annex_a", "local"),
    ),
    Table(
        "contacts",
        "Contacts received by children's social care (Annex A list 1).",
        _cols(
            LA,
            CHILD,
            Column("contact_date", "date", "Date the contact was received.", True),
            Column(
                "contact_source", "string", "Source of the contact (CIN referral source codes)."
            ),
            Column("outcome", "string", "What happened next (e.g. referral, early help, NFA)."),
        ),
        key=("la_code", "child_id", "contact_date", "contact_source"),
        sources=("annex_a",),
    ),
    Table(
        "referrals",
        "CIN episodes: one row per referral to children's social care (CIN census CINdetails).",
        _cols(
            LA,
            CHILD,
            REFERRAL,
            Column("referral_date", "date", "CINreferralDate: date of the referral.", True),
            Column("referral_source", "string", "ReferralSource code (1A ... 10)."),
            Column("primary_need", "string", "PrimaryNeedCode (N1 ... N9)."),
            Column("referral_nfa", "boolean", "ReferralNFA: no further action after the referral."),
            Column(
                "closure_date", "date", "CINclosureDate: end of the CIN episode; null while open."
            ),
            Column("closure_reason", "string", "ReasonForClosure (RC1 ... RC9)."),
            Column("team", "string", "Team that held the episode, where a local extract says."),
            RETURN_YEAR,
        ),
        key=("la_code", "referral_id"),
        sources=("cin_census", "annex_a"),
    ),
    Table(
        "assessments",
        "Children and family (single) assessments (CIN census Assessments; Annex A list 4).",
        _cols(
            LA,
            CHILD,
            REFERRAL,
            Column(
                "assessment_id",
                "string",
                "Identifier of the assessment, unique within the authority.",
                True,
            ),
            Column("start_date", "date", "AssessmentActualStartDate.", True),
            Column(
                "authorised_date",
                "date",
                "AssessmentAuthorisationDate: completion; null while in progress.",
            ),
            Column(
                "factors",
                "string",
                "Comma-separated factors identified at the end of the assessment (1A ... 24A).",
            ),
            Column("team", "string", "Team that completed the assessment, where known."),
            RETURN_YEAR,
        ),
        key=("la_code", "assessment_id"),
        sources=("cin_census", "annex_a"),
    ),
    Table(
        "section47",
        "Section 47 enquiries and their initial child protection conferences.",
        _cols(
            LA,
            CHILD,
            REFERRAL,
            Column("s47_id", "string", "Identifier of the enquiry.", True),
            Column(
                "strategy_date",
                "date",
                "S47ActualStartDate: the strategy discussion that started the enquiry.",
                True,
            ),
            Column(
                "icpc_not_required",
                "boolean",
                "InitialCPCtarget not required: the enquiry concluded no conference was needed.",
            ),
            Column(
                "icpc_date",
                "date",
                "DateOfInitialCPC: the initial child protection conference, if held.",
            ),
            RETURN_YEAR,
        ),
        key=("la_code", "s47_id"),
        sources=("cin_census", "annex_a"),
    ),
    Table(
        "cin_plans",
        "Child in need plans (CIN census CINPlanDates).",
        _cols(
            LA,
            CHILD,
            REFERRAL,
            Column("plan_id", "string", "Identifier of the plan.", True),
            Column("start_date", "date", "CINPlanStartDate.", True),
            Column("end_date", "date", "CINPlanEndDate; null while open."),
            RETURN_YEAR,
        ),
        key=("la_code", "plan_id"),
        sources=("cin_census", "annex_a"),
    ),
    Table(
        "cp_plans",
        "Child protection plans (CIN census ChildProtectionPlans; Annex A list 7).",
        _cols(
            LA,
            CHILD,
            REFERRAL,
            Column("plan_id", "string", "Identifier of the plan.", True),
            Column("start_date", "date", "CPPstartDate.", True),
            Column("end_date", "date", "CPPendDate; null while open."),
            Column(
                "initial_category", "string", "InitialCategoryOfAbuse (NEG, PHY, SAB, EMO, MUL)."
            ),
            Column("latest_category", "string", "LatestCategoryOfAbuse."),
            Column(
                "previous_plans",
                "int64",
                "NumberOfPreviousCPP: plans the child had before this one, in any authority.",
            ),
            RETURN_YEAR,
        ),
        key=("la_code", "plan_id"),
        sources=("cin_census", "annex_a"),
    ),
    Table(
        "cp_reviews",
        "Child protection review conferences (CIN census CPPreviewDate).",
        _cols(
            LA,
            CHILD,
            Column("plan_id", "string", "The plan reviewed.", True),
            Column("review_date", "date", "CPPreviewDate.", True),
            RETURN_YEAR,
        ),
        key=("la_code", "plan_id", "review_date"),
        sources=("cin_census",),
    ),
    Table(
        "cp_visits",
        "Visits to children on a child protection plan: the dates a social worker saw the "
        "child (Annex A list 7 'Date Child Was Last Seen', or a local extract).",
        _cols(
            LA,
            CHILD,
            Column("visit_date", "date", "Date the child was seen.", True),
        ),
        key=("la_code", "child_id", "visit_date"),
        sources=("annex_a",),
    ),
    Table(
        "cla_episodes",
        "Looked-after episodes (SSDA903 episodes): each change of legal status or placement "
        "starts a new episode.",
        _cols(
            LA,
            CHILD,
            Column("decom", "date", "DECOM: date the episode started.", True),
            Column("rne", "string", "RNE: reason for new episode (S, P, L, T, U, B)."),
            Column(
                "ls",
                "string",
                "LS: legal status (C1, C2, D1, E1, J1, J2, J3, L1, L2, L3, V2, V3, V4).",
            ),
            Column("cin", "string", "CIN: category of need (N1 ... N8)."),
            Column(
                "place",
                "string",
                "PLACE: placement type (U1 ... U6, R1, R2, R3, R5, K1, "
                "K2, H5, P1, P2, P3, S1, T0 ... T4, Z1, A3 ... A6).",
            ),
            Column("place_provider", "string", "PLACE_PROVIDER (PR0 ... PR5)."),
            Column("dec", "date", "DEC: date the episode ceased; null while open."),
            Column("rec", "string", "REC: reason episode ceased (E11 ... E8, X1)."),
            Column(
                "reason_place_change",
                "string",
                "REASON_PLACE_CHANGE (CARPL, CLOSE, "
                "ALLEG, STAND, APPRR, CREQB, CREQO, CHILD, LAREQ, PLACE, CUSTOD, OTHER).",
            ),
            Column(
                "home_postcode_district",
                "string",
                "HOME_POST reduced to its district (BN21), or to its sector (BN21 4) where "
                "postcode_precision is sector; the district is the part before any space.",
            ),
            Column(
                "placement_postcode_district",
                "string",
                "PL_POST reduced to its district (BN21), or to its sector (BN21 4) where "
                "postcode_precision is sector; the district is the part before any space.",
            ),
            Column(
                "urn", "string", "URN: Ofsted unique reference number of the placement, or XXXXXXX."
            ),
            Column(
                "placement_distance_miles",
                "float64",
                "Straight-line distance from home to "
                "placement when the source provides it (903 XML PL_DISTANCE, Annex A).",
            ),
            RETURN_YEAR,
        ),
        key=("la_code", "child_id", "decom"),
        sources=("ssda903", "annex_a"),
    ),
    Table(
        "cla_reviews",
        "Looked-after children's reviews (SSDA903 reviews).",
        _cols(
            LA,
            CHILD,
            Column("review_date", "date", "REVIEW: date of the review.", True),
            Column("review_code", "string", "REVIEW_CODE: participation (PN0 ... PN7)."),
            RETURN_YEAR,
        ),
        key=("la_code", "child_id", "review_date"),
        sources=("ssda903",),
    ),
    Table(
        "missing",
        "Missing and away-from-placement episodes (SSDA903 missing).",
        _cols(
            LA,
            CHILD,
            Column(
                "missing_type",
                "string",
                "MISSING: M missing, A away from placement without authorisation.",
            ),
            Column("start_date", "date", "MIS_START.", True),
            Column("end_date", "date", "MIS_END; null if the child has not returned."),
            RETURN_YEAR,
        ),
        key=("la_code", "child_id", "start_date"),
        sources=("ssda903",),
    ),
    Table(
        "oc2",
        "Outcomes of children looked after continuously for 12 months at 31 March (SSDA903 OC2).",
        _cols(
            LA,
            CHILD,
            Column(
                "collection_year",
                "int64",
                "Year ending 31 March the outcomes describe (2025 for 2024-25).",
                True,
            ),
            Column("sdq_score", "int64", "SDQ_SCORE: total difficulties score 0-40."),
            Column("sdq_reason", "string", "SDQ_REASON: why no score (SDQ1 ... SDQ5)."),
            Column("convicted", "boolean", "CONVICTED during the year."),
            Column("health_check", "boolean", "HEALTH_CHECK up to date."),
            Column("immunisations", "boolean", "IMMUNISATIONS up to date."),
            Column("teeth_check", "boolean", "TEETH_CHECK: dental check in the year."),
            Column("health_assessment", "boolean", "HEALTH_ASSESSMENT in the year."),
            Column("substance_misuse", "boolean", "SUBSTANCE_MISUSE problem identified."),
            Column("intervention_received", "boolean", "INTERVENTION_RECEIVED."),
            Column("intervention_offered", "boolean", "INTERVENTION_OFFERED."),
            RETURN_YEAR,
        ),
        key=("la_code", "child_id", "collection_year"),
        sources=("ssda903",),
    ),
    Table(
        "care_leavers",
        "Care leavers' circumstances around their birthday (SSDA903 OC3; Annex A list 9).",
        _cols(
            LA,
            CHILD,
            Column("collection_year", "int64", "Year ending 31 March of the return.", True),
            Column("in_touch", "string", "IN_TOUCH: YES, NO, DIED, REFU, NREQ, RHOM."),
            Column("activity", "string", "ACTIV: F1, P1, F2, P2, F4, P4, F5, P5, G4, G5, G6, 0."),
            Column(
                "accommodation",
                "string",
                "ACCOM: accommodation type and suitability "
                "(e.g. B1 suitable, B2 not suitable), 0 if not known.",
            ),
            RETURN_YEAR,
        ),
        key=("la_code", "child_id", "collection_year"),
        sources=("ssda903", "annex_a"),
    ),
    Table(
        "adoptions",
        "Adoption decisions and matching (SSDA903 AD1 and placed for adoption; Annex A list 10).",
        _cols(
            LA,
            CHILD,
            Column(
                "date_should_be_placed",
                "date",
                "DATE_PLACED: date of the decision that the "
                "child should be placed for adoption (placed_for_adoption).",
            ),
            Column(
                "date_placed_ceased",
                "date",
                "DATE_PLACED_CEASED: the decision reversed or the child adopted.",
            ),
            Column("reason_placed_ceased", "string", "REASON_PLACED_CEASED (RD1 ... RD4)."),
            Column(
                "date_int",
                "date",
                "DATE_INT: date the authority decided the child should be placed (AD1).",
            ),
            Column("date_match", "date", "DATE_MATCH: date matched with adopters (AD1)."),
            Column("foster_care", "boolean", "FOSTER_CARE: adopted by foster carer."),
            Column("number_of_adopters", "string", "NB_ADOPTR: L single, M couple."),
            Column("sex_of_adopters", "string", "SEX_ADOPTR: L0 ... M3."),
            Column("legal_status_of_adopters", "string", "LS_ADOPTR: L0, L11, L12, L2, L3, L4."),
            RETURN_YEAR,
        ),
        key=("la_code", "child_id"),
        sources=("ssda903", "annex_a"),
    ),
    Table(
        "previous_permanence",
        "Permanence before this period of care (SSDA903 previous_permanence).",
        _cols(
            LA,
            CHILD,
            Column(
                "prev_perm",
                "string",
                "PREV_PERM: P1 adoption, P2 SGO, P3 CAO/RO, Z1 none, Z... not known.",
            ),
            Column("la_perm", "string", "LA_PERM: the authority that made the order."),
            Column("date_perm", "string", "DATE_PERM as given (may be partial, e.g. zz/01/2018)."),
            RETURN_YEAR,
        ),
        key=("la_code", "child_id"),
        sources=("ssda903",),
    ),
    Table(
        "service_involvements",
        "Local services: one row per request for a service for a child (early help, "
        "projects, commissioned services).",
        _cols(
            LA,
            CHILD,
            Column(
                "involvement_id",
                "string",
                "Identifier of the request, unique within the authority.",
                True,
            ),
            Column(
                "service",
                "string",
                "Name of the service (e.g. Family Support, School Attendance Project).",
                True,
            ),
            Column("team", "string", "Team delivering it."),
            Column(
                "date_requested",
                "date",
                "Date the service was requested (the referral to it).",
                True,
            ),
            Column(
                "date_started",
                "date",
                "Date the service was first delivered; null if never started.",
            ),
            Column("date_ended", "date", "Date the involvement ended; null while open."),
            Column(
                "outcome", "string", "Outcome recorded at the end (free code list per service)."
            ),
        ),
        key=("la_code", "involvement_id"),
        sources=("local",),
    ),
    Table(
        "early_help_assessments",
        "Early help assessments (Annex A list 2): the door to early help, before any service.",
        _cols(
            LA,
            CHILD,
            Column(
                "assessment_id",
                "string",
                "Identifier of the assessment, derived from the child and the start date.",
                True,
            ),
            Column("start_date", "date", "Date the early help assessment started.", True),
            Column("completion_date", "date", "Date it was completed; null while open."),
            Column("organisation", "string", "Organisation completing the assessment."),
        ),
        key=("la_code", "assessment_id"),
        sources=("annex_a",),
    ),
    Table(
        "attendance",
        "School attendance per child and period (termly or monthly extracts).",
        _cols(
            LA,
            CHILD,
            Column(
                "period", "string", "Label of the period (e.g. 2023-24 Autumn, or 2024-03).", True
            ),
            Column("period_start", "date", "First day of the period.", True),
            Column("period_end", "date", "Last day of the period.", True),
            Column("sessions_possible", "int64", "Half-day sessions the child could attend.", True),
            Column("sessions_attended", "int64", "Half-day sessions attended.", True),
        ),
        key=("la_code", "child_id", "period_start"),
        sources=("local",),
    ),
    Table(
        "feedback",
        "Service-user feedback: one row per survey response.",
        _cols(
            LA,
            Column("response_id", "string", "Identifier of the response.", True),
            Column("service", "string", "Service the response is about.", True),
            Column("response_date", "date", "Date of the response.", True),
            Column("respondent_type", "string", "child, parent/carer, professional, other.", True),
            Column(
                "child_id", "string", "Pseudonymised child, when the response is linked to one."
            ),
            Column("free_text", "string", "What the respondent wrote, as given."),
        ),
        key=("la_code", "response_id"),
        sources=("local",),
    ),
    Table(
        "feedback_scores",
        "Likert answers of a feedback response: one row per question answered.",
        _cols(
            LA,
            Column("response_id", "string", "The response (feedback table).", True),
            Column("item", "string", "Question label, as the survey names it.", True),
            Column(
                "score",
                "int64",
                "Answer on a 1 (very poor) to 5 (very good) scale; the overall_rating_10 item "
                "is on a 1 to 10 scale.",
                True,
            ),
        ),
        key=("la_code", "response_id", "item"),
        sources=("local",),
    ),
    Table(
        "population",
        "Child population estimates (ONS mid-year estimates, Census 2021 by ethnicity, or a "
        "local file), as marginal totals: a blank dimension means all.",
        _cols(
            LA,
            Column("year", "int64", "Year of the mid-year estimate (2024 for mid-2024).", True),
            Column(
                "age_band",
                "string",
                "0-17 for all children, a DfE age band (Under 1, 1 to 4, 5 to 9, 10 to 15, "
                "16 to 17), or All ages (Census 2021 ethnic groups, all residents).",
                True,
            ),
            Column("sex", "string", "Male or Female; blank for both."),
            Column("ethnic_group", "string", "Major ethnic group; blank for all."),
            Column("ethnicity", "string", "Detailed DfE ethnicity code; blank for all."),
            Column("locality", "string", "The authority's locality; blank for the whole area."),
            Column("population", "float64", "Number of children.", True),
            Column("source", "string", "Where the estimate comes from."),
        ),
        key=("la_code", "year", "age_band", "sex", "ethnic_group", "ethnicity", "locality"),
        sources=("population",),
    ),
    Table(
        "published_values",
        "DfE's published figures for England, regions and every authority (Explore Education "
        "Statistics tables, ONS child population), one value per row, for benchmarking.",
        _cols(
            Column(
                "source", "string", "Published table, e.g. c1 or la_cla_placement_stability.", True
            ),
            Column("time_period", "string", "Period as published: 2025, or 202425.", True),
            Column(
                "year",
                "int64",
                "Year the period ends in: 2025 for the year to 31 March 2025 (or mid-2025 for "
                "a population estimate).",
                True,
            ),
            Column("geographic_level", "string", "National, Regional or Local authority.", True),
            Column(
                "area_code",
                "string",
                "E92000001 for England, the region's code, or the authority's ONS code (the "
                "current one for its old LA code).",
                True,
            ),
            Column("area_name", "string", "Name of the area as published."),
            Column("old_la_code", "string", "DfE's three-digit LA code, for authorities."),
            Column(
                "region_code", "string", "Region the row gives (E13... for inner/outer London)."
            ),
            Column("measure", "string", "Measure (column) name as published.", True),
            Column(
                "breakdown",
                "string",
                'The row\'s filter columns as a JSON object, e.g. {"care_leaver_age":"19 to 21 '
                'years"}; {} when the table has none.',
                True,
            ),
            Column("value", "float64", "The figure; null when DfE publishes a symbol instead."),
            Column(
                "symbol",
                "string",
                "DfE's symbol in place of the figure: c suppressed, z not applicable, x not "
                "available, k rounds to zero, u low reliability.",
            ),
        ),
        key=("source", "time_period", "area_code", "measure", "breakdown"),
        sources=("dfe_published",),
    ),
    Table(
        "statistical_neighbours",
        "Each authority's ten statistical neighbours in DfE's groupings (the 2025 model and the "
        "April 2021 groupings), in order of closeness.",
        _cols(
            Column("model", "string", "Which grouping: 2025 or 2021.", True),
            Column("la_code", "string", "ONS code of the authority (its old code if none).", True),
            Column("old_la_code", "string", "DfE's three-digit LA code of the authority.", True),
            Column("la_name", "string", "Name of the authority."),
            Column("rank", "int64", "1 for the closest neighbour ... 10.", True),
            Column("neighbour_code", "string", "ONS code of the neighbour.", True),
            Column("neighbour_old_code", "string", "Three-digit LA code of the neighbour.", True),
            Column("neighbour_name", "string", "Name of the neighbour."),
            Column(
                "closeness",
                "string",
                "DfE's band: Extremely close, Very close, Close, Somewhat close, Not close.",
            ),
        ),
        key=("model", "la_code", "rank"),
        sources=("dfe_published",),
    ),
    Table(
        "loads",
        "One row per ingest run: when, by which version, with what outcome.",
        _cols(
            Column("load_id", "string", "Identifier of the load.", True),
            Column("started_at", "timestamp", "When the load began (UTC).", True),
            Column("finished_at", "timestamp", "When it was committed (UTC).", True),
            Column("csc_insight_version", "string", "Version of csc-insight that loaded it.", True),
            Column("rows_read", "int64", "Rows read over all files.", True),
            Column("rows_loaded", "int64", "Rows written to canonical tables.", True),
            Column("rows_quarantined", "int64", "Rows set aside with a reason.", True),
        ),
        key=("load_id",),
        sources=(),
        lineage=False,
    ),
    Table(
        "load_files",
        "One row per file and table of a load: the reconciliation the ingest report prints.",
        _cols(
            Column("load_id", "string", "The load.", True),
            Column("source_file", "string", "File name.", True),
            Column("content_sha256", "string", "SHA-256 of the file's bytes.", True),
            Column("dataset", "string", "Detected dataset (e.g. ssda903.episodes).", True),
            Column("target_table", "string", "Canonical table written.", True),
            Column("collection_year", "int64", "Collection year the file describes, if known."),
            Column("rows_read", "int64", "Rows read.", True),
            Column("rows_loaded", "int64", "Rows loaded.", True),
            Column("rows_quarantined", "int64", "Rows quarantined.", True),
            Column(
                "rows_superseded",
                "int64",
                "Of the rows loaded, those that gave way to a record the warehouse already "
                "held from a newer return (for Annex A rows: from any return): they only "
                "filled its blanks, or, for an older return's episodes, referrals and the "
                "like, were not applied.",
            ),
        ),
        key=("load_id", "source_file", "dataset", "target_table"),
        sources=(),
        lineage=False,
    ),
    Table(
        "quarantine",
        "Rows that could not be loaded, with the reason; nothing read is ever silently dropped.",
        _cols(
            Column("load_id", "string", "The load.", True),
            Column("source_file", "string", "File name.", True),
            Column("source_row", "int64", "Row or element number in the file.", True),
            Column("target_table", "string", "Canonical table the row was meant for.", True),
            Column("column_name", "string", "The offending column, if one."),
            Column("reason", "string", "Plain-English reason, free of child identifiers.", True),
        ),
        key=("load_id", "source_file", "target_table", "source_row"),
        sources=(),
        lineage=False,
    ),
    Table(
        "validation_findings",
        "Rows that break a validation rule (DfE's 903 and CIN rules and csc-insight's own), "
        "from the latest validation run; the data-quality page and error reports read these.",
        _cols(
            Column("run_id", "string", "The validation run.", True),
            Column(
                "rule_code", "string", "Rule code, as DfE numbers it where it is a DfE rule.", True
            ),
            Column("severity", "string", "error, query or warning.", True),
            Column("target_table", "string", "Canonical table the row is in.", True),
            Column("la_code", "string", "Authority of the row."),
            Column("child_id", "string", "Pseudonymised child the row is about, if any."),
            Column("source_file", "string", "File the row was loaded from."),
            Column("source_row", "int64", "Row or element number in that file."),
            Column("fields", "string", "Comma-separated columns the rule looks at."),
            Column("message", "string", "What is wrong, in plain English.", True),
        ),
        key=("run_id", "rule_code", "target_table", "source_file", "source_row", "child_id"),
        sources=(),
        lineage=False,
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
FACT_TABLES: tuple[Table, ...] = tuple(t for t in TABLES if t.lineage)
META_TABLES: tuple[Table, ...] = tuple(t for t in TABLES if not t.lineage)


def table(name: str) -> Table:
    """The canonical table called ``name``."""
    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"no canonical table called {name!r}") from None


__all__ = [
    "FACT_TABLES",
    "LINEAGE",
    "META_TABLES",
    "RETURN_YEAR",
    "STATUTORY_SOURCES",
    "TABLES",
    "TABLES_BY_NAME",
    "Column",
    "Table",
    "table",
]
