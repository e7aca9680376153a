"""Benchmarks with in-run baselines (``make bench``)."""
