"""Pages in docs/ that are generated from code must match the code."""

from pathlib import Path

from csc_insight import settings
from csc_insight.warehouse.model import TABLES
from csc_insight.warehouse.model_doc import data_model_markdown

ROOT = Path(__file__).parents[1]


def test_data_model_page_matches_the_code() -> None:
    page = (ROOT / "docs" / "data-model.md").read_text()
    assert page == data_model_markdown(), (
        "docs/data-model.md is out of date: "
        "python -m csc_insight.warehouse.model_doc > docs/data-model.md"
    )
    for t in TABLES:
        assert f"### `{t.name}`" in page


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme[: readme.index("\n## ", readme.index("## Quick start") + 1)]
    assert "make demo" in quick_start and "make test" in quick_start


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for setting in settings.SETTINGS:
        assert setting.env in readme, f"{setting.env} is not documented in README.md"
