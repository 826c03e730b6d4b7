"""csc-insight: children's social care data turned into insight for English local authorities."""

__version__ = "0.1.0"
