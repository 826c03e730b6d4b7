"""/healthz: a liveness check for load balancers and monitoring (no sign-in needed)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Always ok while the process serves requests; it does not open the warehouse."""
    return {"status": "ok"}
