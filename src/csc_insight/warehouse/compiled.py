"""Engine SQL compiled from Ibis expressions once, kept on disk for the next process.

Building and compiling the Ibis expressions of every validation rule costs about a second of
Python for a few milliseconds of DuckDB work, and it gives the same SQL every time until the
code, the libraries or the query's inputs change. So the SQL is kept in the user's cache
folder under a key made of all of those. The SQL holds no data: only table and column names,
code lists and dates.

In-memory tables an expression joins (the working-day calendar) must be available under a
known when cached SQL runs without its expression: they are made with ``named_table``,
which records the function that gives their data.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import ibis
import ibis.expr.operations as ops
import pyarrow as pa

import csc_insight
from csc_insight import settings

# The name Ibis gave each declared table in this process (it differs between processes) ->
# the declared name, "module:function" of the function returning its data.
_DECLARED_AS: dict[str, str] = {}


def named_table(data: Callable[[], pa.Table]) -> ibis.Table:
    """An in-memory table from a csc-insight function, so SQL compiled in one process runs in
    another: the cached SQL records which function gives the table's data."""
    declared = f"{data.__module__}:{data.__qualname__}"
    if not declared.startswith("csc_insight."):
        raise ValueError(f"{declared} is not part of csc-insight")
    expr = ibis.memtable(data())
    _DECLARED_AS[expr.op().name] = declared
    return expr


def in_memory_tables(expr: ibis.Table) -> dict[str, str] | None:
    """The in-memory tables ``expr`` uses, as {name in the SQL: declared name}.

    None if one of them was not declared with ``named_table``.
    """
    used = {op.name for op in expr.op().find(ops.InMemoryTable)}
    if not used <= _DECLARED_AS.keys():
        return None
    return {sql_name: _DECLARED_AS[sql_name] for sql_name in sorted(used)}


def named_table_data(declared: str) -> pa.Table:
    """The data of the in-memory table declared as ``declared`` ("module:function")."""
    module, _, function = declared.partition(":")
    if not module.startswith("csc_insight.") or not function.isidentifier():
        raise ValueError(f"{declared} is not a csc-insight table function")
    data = getattr(importlib.import_module(module), function)()
    if not isinstance(data, pa.Table):
        raise ValueError(f"{declared} did not give a table")
    return data


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of csc-insight's source and the versions of the libraries that compile SQL."""
    h = hashlib.sha256()
    for lib in ("ibis-framework", "sqlglot", "duckdb"):
        h.update(f"{lib}={version(lib)}\n".encode())
    package = Path(csc_insight.__file__).parent
    for path in sorted(package.rglob("*.py")):
        h.update(str(path.relative_to(package)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_folder() -> Path:
    """Where compiled SQL is kept: the sql_cache setting, else the user's cache folder."""
    explicit = settings.get("sql_cache")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "csc-insight" / "sql"


class SqlCache:
    """Compiled SQL for one purpose (e.g. validation), keyed by code and inputs.

    Entries map a name (a rule code) to ``{"sql": ..., "tables": {name in the SQL: declared
    in-memory table}}``.
    The cache is an optimisation: if the folder cannot be read or written, everything is
    compiled again and nothing fails.
    """

    def __init__(self, purpose: str, *inputs: object) -> None:
        key = hashlib.sha256(json.dumps([code_digest(), *map(str, inputs)]).encode())
        self.purpose = purpose
        self.path = cache_folder() / f"{purpose}-{key.hexdigest()[:32]}.json"
        self.entries: dict[str, dict[str, object]] = self._read()
        self._changed = False

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, name: str) -> tuple[str, dict[str, str]] | None:
        """The cached SQL for ``name`` and the in-memory tables it needs, if cached."""
        entry = self.entries.get(name)
        if not isinstance(entry, dict):
            return None
        tables = entry.get("tables")
        sql = entry.get("sql")
        if not isinstance(sql, str) or not isinstance(tables, dict):
            return None
        return sql, {str(k): str(v) for k, v in tables.items()}

    def put(self, name: str, sql: str, tables: dict[str, str]) -> None:
        """Remember the SQL for ``name``."""
        self.entries[name] = {"sql": sql, "tables": tables}
        self._changed = True

    def save(self) -> None:
        """Write the entries (atomically) and drop this purpose's stale cache files."""
        if not self._changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=self.path.parent, delete=False, suffix=".tmp", encoding="utf-8"
            ) as out:
                json.dump(self.entries, out)
            os.replace(out.name, self.path)
            for old in self.path.parent.glob(f"{self.purpose}-*.json"):
                if old != self.path:
                    old.unlink(missing_ok=True)
        except OSError:
            return
        self._changed = False
