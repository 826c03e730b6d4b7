"""The registry: every rule is complete, documented, and listed in docs/validation.md."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import ibis
import pytest

from csc_insight.rules import REGISTRY, Rule, Severity, Source, Tables, rules_markdown
from csc_insight.rules.registry import register
from csc_insight.warehouse.model import TABLES_BY_NAME

ROOT = Path(__file__).parents[2]


def test_there_are_at_least_sixty_dfe_rules() -> None:
    dfe = [r for r in REGISTRY.values() if r.source in (Source.SSDA903, Source.CIN)]
    assert len(dfe) >= 60


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_every_rule_is_complete(code: str) -> None:
    rule = REGISTRY[code]
    assert rule.code == code
    assert isinstance(rule.source, Source)
    assert isinstance(rule.severity, Severity)
    assert rule.message.strip()
    assert rule.table in TABLES_BY_NAME
    assert rule.fields and all(f in TABLES_BY_NAME[rule.table].column_names for f in rule.fields)
    doc = (type(rule).__doc__ or "").strip()
    assert doc, f"rule {code} has no docstring"
    if rule.source is Source.LOCAL:
        assert code.startswith("LOC") and "csc-insight" in doc
    else:
        assert code in doc, f"rule {code}'s docstring should cite its DfE code"


def test_dfe_query_rules_are_queries() -> None:
    for code, rule in REGISTRY.items():
        if rule.source is Source.CIN and code.endswith("Q"):
            assert rule.severity is Severity.QUERY, code


def test_docs_page_matches_the_registry() -> None:
    page = (ROOT / "docs" / "validation.md").read_text()
    assert page == rules_markdown(), (
        "docs/validation.md is out of date: python -m csc_insight.rules > docs/validation.md"
    )
    for code in REGISTRY:
        assert f"| `{code}` |" in page


class _Probe(Rule):
    """A test rule."""

    source = Source.LOCAL
    message = "probe"
    severity = Severity.WARNING
    table = "children"
    fields: ClassVar[tuple[str, ...]] = ("sex",)

    def failing(self, t: Tables) -> ibis.Table:
        return t.children


def test_register_rejects_duplicates_and_incomplete_rules() -> None:
    duplicate = type("Duplicate", (_Probe,), {"code": "101", "__doc__": "Twice."})
    with pytest.raises(ValueError, match="twice"):
        register(duplicate)
    no_message = type("NoMessage", (_Probe,), {"code": "ZZ1", "message": "", "__doc__": "X."})
    with pytest.raises(ValueError, match="message"):
        register(no_message)
    no_doc = type("NoDoc", (_Probe,), {"code": "ZZ2", "__doc__": None})
    with pytest.raises(ValueError, match="docstring"):
        register(no_doc)
    bad_field = type("BadField", (_Probe,), {"code": "ZZ3", "fields": ("nope",), "__doc__": "X."})
    with pytest.raises(ValueError, match="nope"):
        register(bad_field)
    assert not {"ZZ1", "ZZ2", "ZZ3"} & set(REGISTRY)
