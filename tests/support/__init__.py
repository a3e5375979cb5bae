"""Helpers for the tests, importable by worker processes (`from support.slow_verifiers import ...`)."""
