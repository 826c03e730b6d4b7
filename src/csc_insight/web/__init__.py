"""The web dashboard: FastAPI pages styled with GOV.UK Frontend (see docs/web.md)."""
