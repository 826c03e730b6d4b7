"""/api: the JSON API described for people (Swagger UI would need a CDN, so it is not used)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from csc_insight.web import context
from csc_insight.web.auth import Viewer

router = APIRouter(include_in_schema=False)


@router.get("/api")
def api_page(request: Request, user: Viewer) -> Response:
    schema = request.app.openapi()
    routes = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            routes.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "description": (op.get("description") or op.get("summary") or "").split("\n")[
                        0
                    ],
                    "admin": "admin" in op.get("tags", []),
                }
            )
    return context.render(request, "api.html", {"title": "API", "routes": routes})


@router.get("/api/openapi.json")
def openapi(request: Request, user: Viewer) -> Response:
    """The OpenAPI description of /api (for Power BI, Excel and code generators)."""
    return JSONResponse(request.app.openapi())
