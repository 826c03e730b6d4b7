"""The authority's figures beside England, its region and its statistical neighbours.

For each local indicator with a published counterpart (``mapping.BENCHMARKS``): the local
value for the period, and for the matching published year England's value, the region's,
the mean and median of the ten statistical neighbours (2025 model by default), the rank
among all authorities (1 = the highest value, whatever the polarity), the quartile band (A
best ... D worst, as LAIT banded them; A = the highest values where neither direction is
better), the trend over the published years and the difference from each comparator. The
local value takes the authority's own place in the ranking; where there is none, its
published value does.

Published figures describe the year to 31 March: a local financial year 2024-25 is compared
with 2025. When the local year is newer than anything published, the latest published year
is used and ``local_newer`` says so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from csc_insight.benchmarks.mapping import (
    BENCHMARKS,
    BENCHMARKS_BY_ID,
    Benchmark,
    Series,
    median,
    published_series,
)
from csc_insight.benchmarks.published import (
    ENGLAND,
    LOCAL_AUTHORITY,
    NEIGHBOURS,
    PUBLISHED,
    SN_2025,
    SN_MODELS,
    SYMBOLS,
)
from csc_insight.datasets import la_codes
from csc_insight.errors import ConfigError
from csc_insight.indicators import REGISTRY, compute, latest_period
from csc_insight.indicators.periods import financial_year, financial_year_of, parse
from csc_insight.indicators.registry import IndicatorResult, Polarity
from csc_insight.warehouse.store import Warehouse

# London boroughs' rows name inner or outer London; their region is London.
LONDON = "E12000007"
_LONDON_PARTS = ("E13000001", "E13000002")
QUARTILES = "ABCD"


@dataclass(frozen=True)
class Neighbour:
    """One statistical neighbour and its published value for the year compared."""

    code: str
    name: str | None
    rank: int
    closeness: str | None
    value: float | None
    symbol: str | None


@dataclass
class Comparison:
    """One indicator of one authority against its comparators."""

    id: str
    title: str
    unit: str
    polarity: str
    la_code: str
    la_name: str | None
    period: str | None
    local: float | None
    published_year: int | None
    published_period: str | None
    local_newer: bool
    england: float | None
    region: float | None
    region_code: str | None
    region_name: str | None
    sn_mean: float | None
    sn_median: float | None
    sn_count: int
    sn_model: str
    la_published: float | None
    rank: int | None
    of: int | None
    rank_basis: str | None
    rank_order: str
    quartile: str | None
    quartile_meaning: str
    differences: dict[str, float | None]
    neighbours: list[Neighbour] = field(default_factory=list)
    trend: list[dict[str, Any]] = field(default_factory=list)
    symbols: dict[str, str] = field(default_factory=dict)
    local_breakdown: dict[str, str] | None = None
    source: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, numbers rounded to 3 decimal places."""
        return _rounded(asdict(self))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# --- the authority ------------------------------------------------------------------------


def authority_code(
    warehouse: Warehouse, home: Path | None = None, explicit: str | None = None
) -> str:
    """The authority's own ONS code: ``explicit`` (--la-code), else ``[authority] la_code``
    in authority.toml, else the one authority in the loaded data."""
    if explicit:
        return _checked(explicit, "--la-code")
    if home is not None:
        from csc_insight.indicators import targets

        configured = (targets.load(home).raw.get("authority") or {}).get("la_code")
        if configured:
            return _checked(str(configured), f"[authority] la_code in {targets.CONFIG_FILE}")
    codes = loaded_authorities(warehouse)
    if len(codes) == 1:
        return codes[0]
    if codes:
        raise ConfigError(
            f"The warehouse holds {len(codes)} authorities ({', '.join(codes[:5])}); say which "
            'is yours with --la-code or [authority] la_code = "E08000036" in authority.toml.'
        )
    raise ConfigError(
        "No authority is known: load your data, or give --la-code (e.g. E08000036 or 384), "
        'or set [authority] la_code = "E08000036" in authority.toml.'
    )


def loaded_authorities(warehouse: Warehouse) -> list[str]:
    """The LA codes of the children in the loaded data."""
    children = warehouse.table("children")
    found = children.select("la_code").distinct().to_pyarrow().column("la_code").to_pylist()
    return sorted(str(c) for c in found if c)


def _checked(code: str, where: str) -> str:
    ons = la_codes.ons_code(code)
    if not la_codes.is_ons_code(ons):
        raise ConfigError(
            f"{where}: {code!r} is not an English authority's ONS code (E06/E08/E09/E10 and six "
            "digits) or a known three-digit DfE LA code."
        )
    return ons


def neighbours_of(warehouse: Warehouse, la_code: str, model: str = SN_2025) -> list[dict[str, Any]]:
    """The authority's statistical neighbours in a model, closest first."""
    if model not in SN_MODELS:
        raise ConfigError(f"Statistical neighbours: use model {' or '.join(SN_MODELS)}.")
    t = warehouse.table(NEIGHBOURS)
    t = t.filter((t.model == model) & (t.la_code == la_code)).order_by("rank")
    columns = ("rank", "neighbour_code", "neighbour_name", "closeness", "la_name")
    rows: list[dict[str, Any]] = t.select(*columns).to_pyarrow().to_pylist()
    return rows


# --- ranking ------------------------------------------------------------------------------


def rank_and_quartile(
    value: float | None, others: list[float], polarity: str
) -> tuple[int | None, int, str | None]:
    """(rank with 1 = highest, how many ranked, quartile band A best .. D worst)."""
    if value is None:
        return None, len(others), None
    of = len(others) + 1
    rank = 1 + sum(1 for o in others if o > value)
    position = (
        1 + sum(1 for o in others if o < value) if polarity == Polarity.LOWER_IS_BETTER else rank
    )
    band = QUARTILES[min(3, max(0, math.ceil(4 * position / of) - 1))]
    return rank, of, band


def quartile_meaning(polarity: str) -> str:
    """What band A means for an indicator."""
    if polarity == Polarity.HIGHER_IS_BETTER:
        return "A = the best quarter of authorities (higher is better) ... D = the worst"
    if polarity == Polarity.LOWER_IS_BETTER:
        return "A = the best quarter of authorities (lower is better) ... D = the worst"
    return "A = the highest quarter of values ... D = the lowest (neither direction is better)"


def _rank_order(polarity: str) -> str:
    better = {
        Polarity.HIGHER_IS_BETTER: "higher is better",
        Polarity.LOWER_IS_BETTER: "lower is better",
    }.get(Polarity(polarity), "neither direction is better")
    return f"1 = the highest value; {better}"


# --- comparing ----------------------------------------------------------------------------


def _local_values(
    warehouse: Warehouse, label: str | None, chosen: list[Benchmark]
) -> dict[str, float | None]:
    if label is None:
        return {}
    values: dict[str, float | None] = {}
    plain = [b.indicator for b in chosen if not b.local_breakdown]
    if plain:
        for r in compute(warehouse, label, ids=plain):
            values[r.id] = r.value
    for b in chosen:
        if not b.local_breakdown:
            continue
        results: list[IndicatorResult] = compute(
            warehouse, label, ids=[b.indicator], breakdown=list(b.local_breakdown)
        )
        wanted = dict(b.local_breakdown)
        values[b.indicator] = next((r.value for r in results if r.breakdown == wanted), None)
    return values


def _value_at(series: Series, year: int, code: str | None) -> tuple[float | None, str | None]:
    point = series.get((year, code)) if code is not None else None
    return (None, None) if point is None else (point.value, point.symbol)


def _latest(series: Series, code: str | None, attribute: str) -> str | None:
    found = [p for p in series.values() if p.area_code == code and getattr(p, attribute)]
    return getattr(max(found, key=lambda p: p.year), attribute) if found else None


def _region_of(series: Series, la_code: str) -> str | None:
    code = _latest(series, la_code, "region_code")
    return LONDON if code in _LONDON_PARTS else code


def _difference(local: float | None, other: float | None) -> float | None:
    return None if local is None or other is None else local - other


def compare_one(
    warehouse: Warehouse,
    benchmark: Benchmark,
    la_code: str,
    label: str | None,
    local: float | None,
    neighbours: list[dict[str, Any]],
    model: str = SN_2025,
    notes: list[str] | None = None,
) -> Comparison:
    """One indicator of one authority against England, its region and its neighbours."""
    indicator = REGISTRY[benchmark.indicator]
    polarity = str(indicator.polarity)
    series = published_series(warehouse, benchmark)
    years = sorted({year for year, _ in series})
    local_year = financial_year_of(parse(label).end).end.year if label else None
    notes = list(notes or [])
    if not years:
        published_year = None
        notes.append(
            f"No rows of {benchmark.source} are loaded: import it with "
            "`csc-insight benchmarks import FILE`."
        )
    elif local_year is None:
        published_year = years[-1]
    else:
        published_year = max((y for y in years if y <= local_year), default=years[0])
    local_newer = bool(local_year and published_year and local_year > published_year)
    if local_newer and published_year is not None:
        notes.append(
            f"The local figure is for {label}; the latest published year is "
            f"{financial_year(published_year - 1).label} (to 31 March {published_year})."
        )
    if local_year and published_year and local_year < published_year:
        notes.append(
            f"The local figure is for {label}, before the first published year "
            f"({financial_year(published_year - 1).label}), which is compared instead."
        )
    if benchmark.difference:
        notes.append(benchmark.difference)

    symbols: dict[str, str] = {}
    year = published_year or 0
    england, sym = _value_at(series, year, ENGLAND)
    if sym:
        symbols["england"] = sym
    la_published, sym = _value_at(series, year, la_code)
    if sym:
        symbols["la_published"] = sym
    region_code = None if benchmark.national_only else _region_of(series, la_code)
    region, sym = _value_at(series, year, region_code)
    if sym:
        symbols["region"] = sym

    sn: list[Neighbour] = []
    if not benchmark.national_only:
        for n in neighbours:
            code = str(n["neighbour_code"])
            value, sym = _value_at(series, year, code)
            sn.append(
                Neighbour(
                    code,
                    _text(n["neighbour_name"]) or _latest(series, code, "area_name"),
                    int(n["rank"]),
                    _text(n["closeness"]),
                    value,
                    sym,
                )
            )
    sn_values = [n.value for n in sn if n.value is not None]
    sn_mean = sum(sn_values) / len(sn_values) if sn_values else None
    sn_median = median(sn_values)
    if not benchmark.national_only and not neighbours:
        notes.append(
            f"No statistical neighbours of {la_code} in the {model} groupings are loaded: "
            "import the neighbour file with `csc-insight benchmarks import`."
        )

    rank = of = quartile = None
    basis = None
    if not benchmark.national_only and published_year is not None:
        others = [
            p.value
            for p in series.values()
            if p.year == year
            and p.geographic_level == LOCAL_AUTHORITY
            and p.area_code != la_code
            and p.value is not None
        ]
        mine = local if local is not None else la_published
        basis = "local" if local is not None else ("published" if mine is not None else None)
        rank, of, quartile = rank_and_quartile(mine, others, polarity)

    trend = _trend(series, years, la_code, region_code, sn)
    if local is not None and local_year is not None:
        point = next((t for t in trend if t["year"] == local_year), None)
        if point is None:
            point = {"year": local_year, "la": None, "england": None, "region": None}
            point["sn_mean"] = None
            trend.append(point)
        point["local"] = local

    return Comparison(
        id=indicator.id,
        title=indicator.title,
        unit=str(indicator.unit),
        polarity=polarity,
        la_code=la_code,
        la_name=_latest(series, la_code, "area_name") or _first_name(neighbours),
        period=label,
        local=local,
        published_year=published_year,
        published_period=financial_year(published_year - 1).label if published_year else None,
        local_newer=local_newer,
        england=england,
        region=region,
        region_code=region_code,
        region_name=_latest(series, region_code, "area_name"),
        sn_mean=sn_mean,
        sn_median=sn_median,
        sn_count=len(sn_values),
        sn_model=model,
        la_published=la_published,
        rank=rank,
        of=of,
        rank_basis=basis,
        rank_order=_rank_order(polarity),
        quartile=quartile,
        quartile_meaning=quartile_meaning(polarity),
        differences={
            "england": _difference(local, england),
            "region": _difference(local, region),
            "sn_mean": _difference(local, sn_mean),
            "sn_median": _difference(local, sn_median),
            "la_published": _difference(local, la_published),
        },
        neighbours=sn,
        trend=trend,
        symbols={k: f"{v}: {SYMBOLS.get(v, 'not a number')}" for k, v in symbols.items()},
        local_breakdown=dict(benchmark.local_breakdown) or None,
        source=benchmark.describe(),
        notes=notes,
    )


def _first_name(neighbours: list[dict[str, Any]]) -> str | None:
    return _text(neighbours[0]["la_name"]) if neighbours else None


def _trend(
    series: Series,
    years: list[int],
    la_code: str,
    region_code: str | None,
    sn: list[Neighbour],
) -> list[dict[str, Any]]:
    out = []
    for year in years:
        values = [v for n in sn if (v := _value_at(series, year, n.code)[0]) is not None]
        out.append(
            {
                "year": year,
                "la": _value_at(series, year, la_code)[0],
                "england": _value_at(series, year, ENGLAND)[0],
                "region": _value_at(series, year, region_code)[0],
                "sn_mean": sum(values) / len(values) if values else None,
            }
        )
    return out


def compare(
    warehouse: Warehouse,
    la_code: str,
    period: str | None = None,
    ids: list[str] | None = None,
    neighbours: str = SN_2025,
) -> list[Comparison]:
    """Every indicator with a published counterpart (or those in ``ids``), for one authority.

    ``period`` defaults to the latest loaded; with no local data the comparisons still show
    the authority's published figures beside its comparators.
    """
    unknown = [i for i in ids or [] if i not in BENCHMARKS_BY_ID]
    if unknown:
        raise ConfigError(
            f"{', '.join(unknown)} has no published counterpart; benchmarked indicators are: "
            f"{', '.join(BENCHMARKS_BY_ID)}."
        )
    if warehouse.count(PUBLISHED) == 0:
        raise ConfigError(
            "No published figures are loaded: download DfE's tables (see docs/benchmarking.md) "
            "and load them with `csc-insight benchmarks import FILE...`."
        )
    code = _checked(la_code, "LA code")
    chosen = [BENCHMARKS_BY_ID[i] for i in ids] if ids else list(BENCHMARKS)
    label = parse(period).label if period else latest_period(warehouse)
    loaded = loaded_authorities(warehouse)
    notes = []
    if label is not None and loaded != [code]:
        # Indicators are computed over all loaded data, which is not this authority's alone.
        notes.append(
            f"The loaded data is for {', '.join(loaded) or 'no authority'}, not {code} alone: "
            "no local values are shown, only published ones."
        )
        label = None
    locals_ = _local_values(warehouse, label, chosen)
    sn = neighbours_of(warehouse, code, neighbours)
    return [
        compare_one(warehouse, b, code, label, locals_.get(b.indicator), sn, neighbours, notes)
        for b in chosen
    ]


__all__ = [
    "Comparison",
    "Neighbour",
    "authority_code",
    "compare",
    "compare_one",
    "loaded_authorities",
    "neighbours_of",
    "quartile_meaning",
    "rank_and_quartile",
]
