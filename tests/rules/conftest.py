"""One warehouse per rule test module: the module's hand-built ROWS, validated once."""

from __future__ import annotations

from pathlib import Path

import pytest
from rulecheck import YEAR, Checked, load

from csc_insight.rules import REGISTRY, run
from csc_insight.warehouse.store import Warehouse


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Checked:
    """The module's ROWS loaded and validated with the module's FAMILY of rules."""
    folder: Path = tmp_path_factory.mktemp("rules")
    warehouse = Warehouse.connect(f"duckdb://{folder / 'warehouse.duckdb'}")
    load(warehouse, request.module.ROWS)
    family = getattr(request.module, "FAMILY", None)
    codes = [c for c, r in REGISTRY.items() if family is None or r.family == family]
    return Checked(warehouse, run(warehouse, rules=codes, collection_year=YEAR))
