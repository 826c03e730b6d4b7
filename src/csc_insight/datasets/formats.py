"""The file formats local authorities actually hold, declared once as data.

The synthetic generator writes these layouts and the readers recognise them, so both
sides share one definition. Sources: the DfE SSDA903 and CIN census specifications,
Ofsted's Annex A (ILACS) template, and csc-insight's own contract for local extracts.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- SSDA903 (children looked after) -------------------------------------------------
# Column sets as DfE's CSV exports and the sector's 903 validator name them.
SSDA903_CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "header": ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"),
    "episodes": (
        "CHILD",
        "DECOM",
        "RNE",
        "LS",
        "CIN",
        "PLACE",
        "PLACE_PROVIDER",
        "DEC",
        "REC",
        "REASON_PLACE_CHANGE",
        "HOME_POST",
        "PL_POST",
        "URN",
    ),
    "reviews": ("CHILD", "DOB", "REVIEW", "REVIEW_CODE"),
    "uasc": ("CHILD", "SEX", "DOB", "DUC"),
    "oc2": (
        "CHILD",
        "DOB",
        "SDQ_SCORE",
        "SDQ_REASON",
        "CONVICTED",
        "HEALTH_CHECK",
        "IMMUNISATIONS",
        "TEETH_CHECK",
        "HEALTH_ASSESSMENT",
        "SUBSTANCE_MISUSE",
        "INTERVENTION_RECEIVED",
        "INTERVENTION_OFFERED",
    ),
    "oc3": ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"),
    "ad1": (
        "CHILD",
        "DOB",
        "DATE_INT",
        "DATE_MATCH",
        "FOSTER_CARE",
        "NB_ADOPTR",
        "SEX_ADOPTR",
        "LS_ADOPTR",
    ),
    "placed_for_adoption": (
        "CHILD",
        "DOB",
        "DATE_PLACED",
        "DATE_PLACED_CEASED",
        "REASON_PLACED_CEASED",
    ),
    "previous_permanence": ("CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"),
    "missing": ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"),
    "sw_episodes": ("CHILD", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"),
}
SSDA903_DATE_FORMAT = "%d/%m/%Y"

# The same return as DfE's XML (the layout the sector's 903 validator reads): a root
# <EXPSSDA903>, optionally a return-level <HEADER> (LA, collection year), then one <CHILD>
# per child (optionally wrapped in <CHILDREN>). Each CHILD holds a <HEADER> with the child's
# own fields (CHILDID, SEX, DOB, ...; UASC/DUC; the OC3 and AD1 fields) and its repeating
# records (AREVIEW, AMISSING, OC2, PERMANENCE, AD_PLACED), then one <EPISODE> per episode
# (optionally wrapped in <EPISODES>). Element names are the CSV column names except:
SSDA903_XML_ROOT = "EXPSSDA903"
SSDA903_XML_RENAMES: dict[str, str] = {"CHILDID": "CHILD", "PL": "PLACE"}
# Repeating record element -> the CSV table its fields form.
SSDA903_XML_RECORDS: dict[str, str] = {
    "EPISODE": "episodes",
    "AREVIEW": "reviews",
    "AMISSING": "missing",
    "OC2": "oc2",
    "PERMANENCE": "previous_permanence",
    "AD_PLACED": "placed_for_adoption",
    "SW_EPISODE": "sw_episodes",
}
# Tables made from the child's own fields: a child has a row when any marker field is filled
# (UASC only when it says yes: 1, Y, true).
SSDA903_XML_CHILD_TABLES: dict[str, tuple[str, ...]] = {
    "uasc": ("UASC", "DUC"),
    "oc3": ("IN_TOUCH",),
    "ad1": ("DATE_INT",),
}
# Fields of a return-level header that name the authority and the collection year.
SSDA903_XML_LA_FIELDS = ("LA", "LEA", "LA_CODE", "LACODE")
SSDA903_XML_YEAR_FIELDS = ("YEAR", "COLLECTION_YEAR", "COLLECTIONYEAR")

# --- CIN census (children in need) ---------------------------------------------------
# Element names of the DfE CIN census XML (Message/Header/Children/Child/...).
CIN_ROOT = "Message"
CIN_HEADER_ELEMENTS = (
    "Header",
    "CollectionDetails",
    "Collection",
    "Year",
    "ReferenceDate",
    "Source",
    "SourceLevel",
    "LEA",
    "SoftwareCode",
    "Release",
    "SerialNo",
    "DateTime",
)
CIN_CHILD_ELEMENTS = (
    "Child",
    "ChildIdentifiers",
    "LAchildID",
    "UPN",
    "FormerUPN",
    "UPNunknown",
    "PersonBirthDate",
    "ExpectedPersonBirthDate",
    "GenderCurrent",
    "PersonDeathDate",
    "ChildCharacteristics",
    "Ethnicity",
    "Disabilities",
    "Disability",
    "CINdetails",
    "CINreferralDate",
    "ReferralSource",
    "PrimaryNeedCode",
    "CINclosureDate",
    "ReasonForClosure",
    "DateOfInitialCPC",
    "ReferralNFA",
    "Assessments",
    "AssessmentActualStartDate",
    "AssessmentInternalReviewDate",
    "AssessmentAuthorisationDate",
    "FactorsIdentifiedAtAssessment",
    "AssessmentFactors",
    "CINPlanDates",
    "CINPlanStartDate",
    "CINPlanEndDate",
    "Section47",
    "S47ActualStartDate",
    "InitialCPCtarget",
    "ICPCnotRequired",
    "ChildProtectionPlans",
    "CPPstartDate",
    "CPPendDate",
    "InitialCategoryOfAbuse",
    "LatestCategoryOfAbuse",
    "NumberOfPreviousCPP",
    "Reviews",
    "CPPreviewDate",
)
CIN_DATE_FORMAT = "%Y-%m-%d"


# --- Annex A (Ofsted ILACS) ------------------------------------------------------------
@dataclass(frozen=True)
class AnnexAList:
    """One list (sheet) of the Annex A workbook: its usual sheet name and column headers."""

    number: int
    sheet: str
    columns: tuple[str, ...]


_PERSON = ("Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)")

ANNEX_A_LISTS: tuple[AnnexAList, ...] = (
    AnnexAList(1, "List 1 - Contacts", (*_PERSON, "Date of Contact", "Contact Source")),
    AnnexAList(
        2,
        "List 2 - Early Help",
        (
            *_PERSON,
            "Assessment Start Date",
            "Assessment Completion Date",
            "Organisation Completing Assessment",
        ),
    ),
    AnnexAList(
        3,
        "List 3 - Referrals",
        (
            *_PERSON,
            "Date of Referral",
            "Referral Source",
            "Referral NFA?",
            "Number of Referrals in Last 12 Months",
            "Allocated Team",
            "Allocated Worker",
        ),
    ),
    AnnexAList(
        4,
        "List 4 - Assessments",
        (
            *_PERSON,
            "Disability",
            "Continuous Assessment Start Date",
            "Continuous Assessment Date of Authorisation",
            "Was the child assessed as requiring LA children's social care support?",
            "Allocated Team",
            "Allocated Worker",
        ),
    ),
    AnnexAList(
        5,
        "List 5 - Section 47",
        (
            *_PERSON,
            "Disability",
            "Strategy discussion initiating Section 47 Enquiry Start Date",
            "Was an Initial Child Protection Conference deemed unnecessary?",
            "Date of Initial Child Protection Conference",
            "Did the Initial Child Protection Conference Result in a Child Protection Plan",
            "Allocated Team",
            "Allocated Worker",
        ),
    ),
    AnnexAList(
        6,
        "List 6 - Children in Need",
        (
            *_PERSON,
            "Disability",
            "Case Status",
            "CIN Plan Start Date",
            "CIN Plan End Date",
            "Allocated Team",
            "Allocated Worker",
        ),
    ),
    AnnexAList(
        7,
        "List 7 - Child Protection",
        (
            *_PERSON,
            "Disability",
            "Child Protection Plan Start Date",
            "Initial Category of Abuse",
            "Latest Category of Abuse",
            "Date of Last Review",
            "Date Child Was Last Seen",
            "Number of Previous Child Protection Plans",
            "Allocated Team",
            "Allocated Worker",
        ),
    ),
    AnnexAList(
        8,
        "List 8 - Children in Care",
        (
            *_PERSON,
            "Disability",
            "UASC",
            "Date Started to be Looked After",
            "Legal Status",
            "Category of Need",
            "Number of Placements in Last 12 Months",
            "Placement Start Date",
            "Placement Type",
            "Placement Provider",
            "Placement Postcode District",
            "Placement Distance (Miles)",
            "Date of Latest Statutory Visit",
            "Allocated Team",
            "Allocated Worker",
        ),
    ),
    AnnexAList(
        9,
        "List 9 - Care Leavers",
        (
            *_PERSON,
            "In Touch",
            "Latest Date of Contact",
            "Type of Accommodation",
            "Suitability of Accommodation",
            "Activity Status",
            "Allocated Team",
            "Allocated Worker",
        ),
    ),
    AnnexAList(
        10,
        "List 10 - Adoption",
        (
            *_PERSON,
            "Date Entered Care",
            "Date of Decision that Child Should be Placed for Adoption",
            "Date of Placement Order",
            "Date of Matching",
            "Date Placed for Adoption",
            "Date of Adoption Order",
            "Date of Decision that Child Should No Longer be Placed",
            "Reason No Longer Placed",
        ),
    ),
    AnnexAList(
        11,
        "List 11 - Adopters",
        (
            "Adopter ID",
            "Adopter Gender",
            "Adopter Ethnicity",
            "Date of Initial Enquiry",
            "Date Stage 1 Started",
            "Date Stage 1 Ended",
            "Date Stage 2 Started",
            "Date Stage 2 Ended",
            "Date of Approval",
            "Date Matched",
            "Date Placed",
            "Number of Children Placed",
        ),
    ),
)


# --- Local extracts (csc-insight's column contract) -------------------------------------
@dataclass(frozen=True)
class LocalContract:
    """Columns a local extract must (required) and may (optional) have."""

    name: str
    description: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


# Child characteristics a local extract may carry, so service users who never reached
# social care still count in the equal-access analysis.
CHILD_OPTIONAL = ("sex", "date_of_birth", "ethnicity", "disability", "locality")

LOCAL_CONTRACTS: dict[str, LocalContract] = {
    "service_involvements": LocalContract(
        "service_involvements",
        "One row per request for a local service for a child.",
        ("involvement_id", "child_id", "service", "date_requested"),
        ("team", "date_started", "date_ended", "outcome", *CHILD_OPTIONAL),
    ),
    "attendance": LocalContract(
        "attendance",
        "School attendance per child per term or month.",
        (
            "child_id",
            "period",
            "period_start",
            "period_end",
            "sessions_possible",
            "sessions_attended",
        ),
        (),
    ),
    "feedback": LocalContract(
        "feedback",
        "Survey responses; every column starting q_ is a Likert item scored 1 to 5.",
        ("response_id", "service", "response_date", "respondent_type"),
        ("child_id", "free_text"),
    ),
}
LIKERT_PREFIX = "q_"
# Overall rating columns (optional, read like the q_ columns) -> the feedback_scores item they
# become and the top of their scale; the scale is said by the column name, never guessed.
FEEDBACK_RATINGS: dict[str, tuple[str, int]] = {
    "overall_rating": ("Overall rating (1-5)", 5),
    "overall_rating_10": ("Overall rating (1-10)", 10),
}
LOCAL_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


# --- Child population ---------------------------------------------------------------------
# ONS mid-year estimates as DfE republishes them (one row per area, year and age group).
ONS_MID_YEAR_COLUMNS = (
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "old_la_code",
    "new_la_code",
    "la_name",
    "age_group",
    "population_estimate",
)
ONS_MID_YEAR_REQUIRED = (
    "time_period",
    "geographic_level",
    "new_la_code",
    "age_group",
    "population_estimate",
)
ONS_CHILDREN_AGE_GROUP = "Children aged 0 to 17 years"
# A local population file: marginal totals, a blank dimension meaning "all".
LOCAL_POPULATION = LocalContract(
    "population",
    "Child population by year, as marginal totals: give a row per value of one dimension "
    "(age band, sex, ethnic group, ethnicity or locality) with the others left blank.",
    ("year", "age_band", "population"),
    ("la_code", "sex", "ethnic_group", "ethnicity", "locality", "source"),
)
