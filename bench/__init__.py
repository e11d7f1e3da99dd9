"""Benchmarks: each module prints its figures and the machine it ran on; none asserts a time."""
