"""Each authority's owners, targets and tolerances, from its own TOML file.

A project lead owns each measure and decides how it is collected and reported, so these
live with the authority (``authority.toml`` in the workspace), not in the code:

    [indicators."cin.assessment_45wd_pct"]
    owner = "Head of Assessment"
    target = 90
    tolerance = 5          # within 5 points of the target counts as "near target"
    cadence = "monthly"

    [escalation]
    referrals = 3
    service_requests = 2
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csc_insight.errors import ConfigError
from csc_insight.indicators.escalation import EscalationThresholds
from csc_insight.indicators.registry import REGISTRY, IndicatorResult, Polarity

CONFIG_FILE = "authority.toml"
ON_TARGET = "on target"
NEAR_TARGET = "near target"
OFF_TARGET = "off target"


@dataclass(frozen=True)
class Target:
    """Who owns a measure, what it aims for and how often it is reported."""

    owner: str | None = None
    target: float | None = None
    tolerance: float = 0.0
    cadence: str | None = None


@dataclass(frozen=True)
class AuthorityConfig:
    """Everything an authority sets for its indicators."""

    targets: dict[str, Target]
    escalation: EscalationThresholds
    raw: dict[str, Any]


def load(home: Path) -> AuthorityConfig:
    """The authority's configuration; defaults when it has no file."""
    path = home / CONFIG_FILE
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    targets: dict[str, Target] = {}
    for indicator_id, values in (raw.get("indicators") or {}).items():
        if indicator_id not in REGISTRY:
            raise ConfigError(
                f"{path} sets a target for {indicator_id!r}, which is not an "
                "indicator (see csc-insight indicators --list)."
            )
        try:
            targets[indicator_id] = Target(
                owner=values.get("owner"),
                target=None if values.get("target") is None else float(values["target"]),
                tolerance=float(values.get("tolerance", 0)),
                cadence=values.get("cadence"),
            )
        except (TypeError, ValueError):
            raise ConfigError(
                f"{path}: target and tolerance of {indicator_id} must be numbers."
            ) from None
    esc = raw.get("escalation") or {}
    thresholds = EscalationThresholds(
        referrals=int(esc.get("referrals", EscalationThresholds.referrals)),
        service_requests=int(esc.get("service_requests", EscalationThresholds.service_requests)),
        months=int(esc.get("months", EscalationThresholds.months)),
    )
    return AuthorityConfig(targets, thresholds, raw)


def status(value: float | None, target: Target, polarity: str) -> str | None:
    """On, near or off target, given which direction is better."""
    if value is None or target.target is None or polarity == Polarity.NEITHER:
        return None
    gap = value - target.target
    if polarity == Polarity.LOWER_IS_BETTER:
        gap = -gap
    if gap >= 0:
        return ON_TARGET
    return NEAR_TARGET if -gap <= target.tolerance else OFF_TARGET


def apply(results: list[IndicatorResult], config: AuthorityConfig) -> list[IndicatorResult]:
    """Results with each headline figure's target and status filled in."""
    from dataclasses import replace

    out = []
    for r in results:
        target = config.targets.get(r.id)
        if target is None or r.breakdown:
            out.append(r)
            continue
        out.append(replace(r, target=target.target, status=status(r.value, target, r.polarity)))
    return out
