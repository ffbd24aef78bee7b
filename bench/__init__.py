"""Benchmarks: `make bench` writes BENCHMARKS.md (see bench/run.py)."""
