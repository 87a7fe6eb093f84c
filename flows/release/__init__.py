"""Benchmark releases: frozen, checksummed exports of reviewed items in the layouts evaluation harnesses read."""
