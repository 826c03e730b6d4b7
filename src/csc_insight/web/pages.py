"""The page registry: every page in the navigation registers itself here.

A page is one module in ``csc_insight.web.views`` that defines ``router`` (its routes) and
registers a ``Page`` (where it sits in the navigation, who may open it, and whether it has
anything to show yet). ``create_app`` includes every module it finds in that package, so a
new page (Demand, Outcomes and impact, Voice, Characteristics and equal access, Benchmarks,
Actions) plugs in by adding one module; nothing else needs editing. Only pages that work are
shown: a page whose ``available`` check says there is nothing to show is left out of the
navigation (and its routes say so plainly), never shown as "coming soon".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from csc_insight.appstate.users import ADMIN, VIEWER, User

if TYPE_CHECKING:
    from csc_insight.web.service import DataService

# Navigation order. The analysis pages register themselves at 30 Demand, 50 Outcomes and
# impact, 60 Voice, 70 Characteristics and equal access, 80 Benchmarks, 90 Actions.
OVERVIEW, TIMELINESS, REPEAT_USE, DATA_QUALITY, CATALOGUE = 10, 20, 40, 100, 110
UPLOAD, USERS, AUDIT = 200, 210, 220


@dataclass(frozen=True)
class Page:
    """One page of the dashboard."""

    path: str
    title: str
    order: int
    role: str = VIEWER  # the least powerful role that may open it
    description: str = ""
    # False when the loaded data gives the page nothing to show (it is then not listed).
    available: Callable[[DataService], bool] | None = None

    @property
    def admin(self) -> bool:
        return self.role == ADMIN


_PAGES: dict[str, Page] = {}


def register(page: Page) -> Page:
    """Add a page to the navigation (a path may be registered once)."""
    existing = _PAGES.get(page.path)
    if existing is not None and existing != page:
        raise ValueError(f"two pages claim the path {page.path}")
    _PAGES[page.path] = page
    return page


def all_pages() -> list[Page]:
    return sorted(_PAGES.values(), key=lambda p: (p.order, p.path))


def visible(user: User | None, service: DataService | None) -> list[Page]:
    """The pages this user may open that have something to show, in navigation order."""
    if user is None:
        return []
    out = []
    for page in all_pages():
        if not user.can(page.role):
            continue
        if page.available is not None and service is not None and not page.available(service):
            continue
        out.append(page)
    return out


def current(path: str) -> Page | None:
    """The registered page a path belongs to (its own path or one beneath it)."""
    best: Page | None = None
    for page in _PAGES.values():
        inside = path == page.path or (page.path != "/" and path.startswith(page.path + "/"))
        if inside and (best is None or len(page.path) > len(best.path)):
            best = page
    return best
