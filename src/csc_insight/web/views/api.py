"""/api/...: the same data as the pages, as JSON, with the same roles (OpenAPI at
/api/openapi.json; /api lists the routes for people).

Sign in with HTTP Basic (what Power BI's and Excel's "Web" connectors offer) or a browser
session. Viewers get small numbers suppressed: the figure is null and ``suppressed`` true.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from csc_insight.appstate import audit as audit_log
from csc_insight.appstate import users as user_store
from csc_insight.indicators import REGISTRY, IndicatorResult
from csc_insight.indicators.compute import dimensions_for
from csc_insight.web import auth, context
from csc_insight.web.auth import Admin, Analyst, Viewer
from csc_insight.web.formatting import Formatter
from csc_insight.web.service import Filters

router = APIRouter(prefix="/api", tags=["data"])

PeriodQuery = Query(
    None,
    description="2024-25, '2024-25 Q1', 2024-06 or '12m to 2024-06'; "
    "default: the latest financial year with data.",
)
TeamQuery = Query(None, description="Only this team.")
LocalityQuery = Query(None, description="Only this locality.")
ServiceQuery = Query(None, description="Only this local service.")


class Figure(BaseModel):
    """One indicator figure. Suppressed figures (viewers) have null value and parts."""

    id: str
    title: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str
    polarity: str
    suppressed: bool
    target: float | None = None
    status: str | None = None
    breakdown: dict[str, str] | None = None
    filters: dict[str, str] | None = None


class CatalogueEntry(BaseModel):
    id: str
    title: str
    definition: str
    unit: str
    polarity: str
    statistic: str
    child_level: bool
    tables: list[str]
    breakdowns: list[str]
    dfe_table: str | None
    owner: str | None
    target: float | None
    tolerance: float | None
    cadence: str | None


class TrendPoint(BaseModel):
    month: str
    figure: Figure | None


class Me(BaseModel):
    name: str
    role: str


def figure(result: IndicatorResult, fmt: Formatter, filters: Filters | None = None) -> Figure:
    row = fmt.indicator(result)
    hidden_num = row.numerator == "c"
    hidden_den = row.denominator == "c"
    return Figure(
        id=result.id,
        title=result.title,
        period=result.period,
        value=None if row.suppressed else result.value,
        numerator=None if hidden_num else result.numerator,
        denominator=None if hidden_den else result.denominator,
        unit=result.unit,
        polarity=result.polarity,
        suppressed=row.suppressed or hidden_num or hidden_den,
        target=result.target,
        status=None if row.suppressed else result.status,
        breakdown=result.breakdown,
        filters=(filters.values() or None) if filters else None,
    )


def _filters(request: Request) -> tuple[Filters, str]:
    chosen = context.filters(request)
    label = context.period_or_latest(request, chosen)
    if label is None:
        raise HTTPException(404, "No data is loaded.")
    return chosen, label


def _indicator_or_404(indicator_id: str) -> None:
    ind = REGISTRY.get(indicator_id)
    if ind is None or ind.child_level:
        raise HTTPException(404)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@router.get("/me", response_model=Me)
def me(user: Viewer) -> Me:
    """Who you are signed in as, and your role."""
    return Me(name=user.name, role=user.role)


@router.get("/indicators", response_model=list[Figure])
def indicators(
    request: Request,
    user: Viewer,
    period: str | None = PeriodQuery,
    team: str | None = TeamQuery,
    locality: str | None = LocalityQuery,
    service: str | None = ServiceQuery,
) -> list[Figure]:
    """Every headline indicator for a period (and filters), with target and status."""
    chosen, label = _filters(request)
    fmt = context.formatter(request, user)
    results = context.service(request).indicators(label, chosen, suppressed=fmt.suppresses)
    return [figure(r, fmt, chosen) for r in results]


@router.get("/indicators/{indicator_id}", response_model=list[Figure])
def indicator_breakdown(
    request: Request,
    indicator_id: str,
    user: Viewer,
    period: str | None = PeriodQuery,
    by: str | None = Query(
        None,
        description="Split by: sex, age_band, ethnic_group, ethnicity, "
        "disability, locality, team, referral_source, service, leaver_age.",
    ),
    team: str | None = TeamQuery,
    locality: str | None = LocalityQuery,
    service: str | None = ServiceQuery,
) -> list[Figure]:
    """One indicator; with ``by``, one figure per group (disclosure-controlled for viewers)."""
    _indicator_or_404(indicator_id)
    chosen, label = _filters(request)
    fmt = context.formatter(request, user)
    svc = context.service(request)
    if by is None:
        results = svc.indicators(label, chosen, suppressed=fmt.suppresses, ids=[indicator_id])
    else:
        if by not in dimensions_for(REGISTRY[indicator_id]):
            raise HTTPException(404, f"{indicator_id} cannot be split by {by}.")
        results = svc.breakdown(indicator_id, label, by, chosen, suppressed=fmt.suppresses)
    return [figure(r, fmt, chosen) for r in results]


@router.get("/indicators/{indicator_id}/trend", response_model=list[TrendPoint])
def indicator_trend(
    request: Request,
    indicator_id: str,
    user: Viewer,
    period: str | None = PeriodQuery,
    team: str | None = TeamQuery,
    locality: str | None = LocalityQuery,
    service: str | None = ServiceQuery,
) -> list[TrendPoint]:
    """Monthly figures over the 12 months to the end of the period."""
    _indicator_or_404(indicator_id)
    chosen, label = _filters(request)
    fmt = context.formatter(request, user)
    trends = context.service(request).trend(label, chosen, suppressed=fmt.suppresses, wait=True)
    assert trends is not None
    return [
        TrendPoint(month=m.label, figure=None if r is None else figure(r, fmt, chosen))
        for m, r in trends.get(indicator_id, [])
    ]


@router.get("/indicators/{indicator_id}/records")
def indicator_records(
    request: Request,
    indicator_id: str,
    user: Analyst,
    period: str | None = PeriodQuery,
    team: str | None = TeamQuery,
    locality: str | None = LocalityQuery,
    service: str | None = ServiceQuery,
) -> list[dict[str, Any]]:
    """Analysts: the child-level records behind a figure (pseudonymised). Audited."""
    _indicator_or_404(indicator_id)
    chosen, label = _filters(request)
    records = context.service(request).records(indicator_id, label, chosen)
    auth.audit(
        request,
        audit_log.CHILD_LEVEL_VIEW,
        target=request.url.path,
        detail=json.dumps(
            {
                "indicator": indicator_id,
                "period": label,
                **chosen.values(),
                "rows": records.num_rows,
                "api": True,
            }
        ),
    )
    return [{k: _plain(v) for k, v in row.items()} for row in records.to_pylist()]


@router.get("/catalogue", response_model=list[CatalogueEntry])
def catalogue(request: Request, user: Viewer) -> list[CatalogueEntry]:
    """Every indicator's definition, owner and target."""
    authority = context.service(request).authority()
    out = []
    for ind in REGISTRY.values():
        t = authority.targets.get(ind.id)
        out.append(
            CatalogueEntry(
                id=ind.id,
                title=ind.title,
                definition=ind.definition,
                unit=str(ind.unit),
                polarity=str(ind.polarity),
                statistic=str(ind.statistic),
                child_level=ind.child_level,
                tables=list(ind.tables),
                breakdowns=[] if ind.child_level else dimensions_for(ind),
                dfe_table=ind.dfe_table,
                owner=t.owner if t else None,
                target=t.target if t else None,
                tolerance=t.tolerance if t else None,
                cadence=t.cadence if t else None,
            )
        )
    return out


@router.get("/escalation")
def escalation(
    request: Request, user: Analyst, period: str | None = PeriodQuery
) -> list[dict[str, Any]]:
    """Analysts: children who may need more intensive support (pseudonymised). Audited."""
    _, label = _filters(request)
    rows = context.service(request).escalation(label)
    auth.audit(
        request,
        audit_log.CHILD_LEVEL_VIEW,
        target=request.url.path,
        detail=json.dumps({"list": "escalation", "period": label, "rows": len(rows), "api": True}),
    )
    return [{k: _plain(v) for k, v in r.items()} for r in rows]


@router.get("/data-quality/rules")
def findings_by_rule(request: Request, user: Viewer) -> list[dict[str, Any]]:
    """Validation findings counted by rule (small counts suppressed for viewers)."""
    fmt = context.formatter(request, user)
    out = []
    for r in context.service(request).findings_by_rule():
        row = {k: _plain(v) for k, v in r.items()}
        for key in ("findings", "children"):
            if fmt.hides(r[key]):
                row[key] = None
                row["suppressed"] = True
        out.append(row)
    return out


@router.get("/data-quality/findings")
def findings(request: Request, user: Analyst, rule: str | None = None) -> list[dict[str, Any]]:
    """Analysts: every finding (child-level, pseudonymised), optionally of one rule. Audited."""
    found = context.service(request).findings(rule, limit=100_000)
    auth.audit(
        request,
        audit_log.CHILD_LEVEL_VIEW,
        target=request.url.path,
        detail=json.dumps(
            {"list": "validation findings", "rule": rule, "rows": found.num_rows, "api": True}
        ),
    )
    return [{k: _plain(v) for k, v in row.items()} for row in found.to_pylist()]


@router.get("/loads")
def loads(request: Request, user: Viewer) -> list[dict[str, Any]]:
    """Every load, newest first, with each file's reconciliation (rows read, loaded, set aside)."""
    svc = context.service(request)
    files: dict[str, list[dict[str, Any]]] = {}
    for f in svc.load_files():
        files.setdefault(str(f["load_id"]), []).append({k: _plain(v) for k, v in f.items()})
    return [
        {**{k: _plain(v) for k, v in load.items()}, "files": files.get(str(load["load_id"]), [])}
        for load in svc.loads()
    ]


@router.get("/audit", tags=["admin"])
def audit_entries(
    request: Request,
    user: Admin,
    who: str | None = None,
    action: str | None = None,
    limit: int = Query(200, ge=1, le=5000),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    """Admins: the audit log, newest first."""
    return [
        {**e.__dict__, "at": e.at.isoformat()}
        for e in audit_log.entries(
            context.appstate(request), user=who, action=action, limit=limit, offset=offset
        )
    ]


@router.get("/users", tags=["admin"])
def users(request: Request, user: Admin) -> list[dict[str, Any]]:
    """Admins: every account (never a password hash)."""
    return [
        {
            "name": u.name,
            "role": u.role,
            "disabled": u.disabled,
            "password": u.has_password,
            "created_at": _plain(u.created_at),
        }
        for u in user_store.all_users(context.appstate(request))
    ]
