"""``python -m csc_insight.rules > docs/validation.md`` regenerates the rule catalogue page."""

from csc_insight.rules import rules_markdown

print(rules_markdown(), end="")
