"""The on-disk cache of compiled SQL: keyed by code and inputs, never a cause of failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from csc_insight.indicators.workdays import calendar, calendar_arrow
from csc_insight.warehouse.compiled import SqlCache, in_memory_tables, named_table_data


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CSC_INSIGHT_SQL_CACHE", str(tmp_path))
    return tmp_path


def test_entries_survive_into_a_new_process_with_the_same_inputs(folder: Path) -> None:
    cache = SqlCache("validation", "duckdb", 2025)
    assert cache.get("101") is None
    cache.put("101", "SELECT 1", {"ibis_memtable_x": "csc_insight.indicators.workdays:x"})
    cache.save()
    again = SqlCache("validation", "duckdb", 2025)
    assert again.get("101") == (
        "SELECT 1",
        {"ibis_memtable_x": "csc_insight.indicators.workdays:x"},
    )


def test_other_inputs_use_another_entry_and_replace_the_stale_file(folder: Path) -> None:
    first = SqlCache("validation", "duckdb", 2025)
    first.put("101", "SELECT 1", {})
    first.save()
    other = SqlCache("validation", "duckdb", 2024)
    assert other.get("101") is None
    other.put("101", "SELECT 2", {})
    other.save()
    assert [p.name for p in folder.glob("validation-*.json")] == [other.path.name]


def test_a_damaged_cache_file_is_ignored(folder: Path) -> None:
    cache = SqlCache("validation", "duckdb")
    cache.path.write_text('{"101": {"sql": 5}, "102": "not an entry"')
    assert SqlCache("validation", "duckdb").get("101") is None
    cache.path.write_text('{"101": "not an entry"}')
    assert SqlCache("validation", "duckdb").get("101") is None
    cache.path.write_text('{"101": {"sql": 5, "tables": []}}')
    assert SqlCache("validation", "duckdb").get("101") is None


def test_the_working_day_calendar_can_be_found_again_by_its_declared_name() -> None:
    tables = in_memory_tables(calendar())
    assert tables is not None and list(tables.values()) == [
        "csc_insight.indicators.workdays:calendar_arrow"
    ]
    assert named_table_data(next(iter(tables.values()))).equals(calendar_arrow())


def test_only_csc_insight_functions_can_be_named_in_a_cache_file() -> None:
    with pytest.raises(ValueError, match="not a csc-insight table function"):
        named_table_data("os:getcwd")
