"""Benchmarks of Tesla Resilient against the local simulator (DESIGN.md §8).

``scripts/bench day|outage|scale [--json]``; results and definitions in BENCHMARKS.md.
"""
