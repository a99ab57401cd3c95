"""Shared by the claims tests: a throw-away result cache for mutation tests.

A mutation test switches a mechanism off in the code (monkeypatch) and reruns the runs a
claim rests on, to show that the claim then fails. The code's hash in the cache key does
not change under a monkeypatch, so those runs must never reach the shared cache."""

import pytest


@pytest.fixture
def fresh_cache(monkeypatch, tmp_path):
    """Point the result cache at an empty folder for this test."""
    monkeypatch.setenv("CL_TEACH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def pytest_collection_modifyitems(config, items):
    """Mark the mutation tests (those on a fresh cache): they show that a claim depends on its
    mechanism, a property of the code, so ``tasks.py test`` runs them on the first seed block
    only (``-m "not mutation"`` on the second)."""
    for item in items:
        if "fresh_cache" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.mutation)
