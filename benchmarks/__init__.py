"""Benchmarks: speed is measured here (`make bench`), never by timed assertions in tests."""
