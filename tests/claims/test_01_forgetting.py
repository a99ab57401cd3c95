"""Notebook 01's claims hold over 5 seeds of its offline setting."""

import pytest

from cl_teach.lessons import forgetting


@pytest.fixture(scope="module")
def results(claim_seeds):
    return forgetting.runs(forgetting.SETTING, claim_seeds)


def test_every_claim_holds(results):
    claims = forgetting.claims(results)
    assert len(claims) == 3
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_the_claims_can_fail(results):
    """Swapping the methods must break the claims: the checks are not vacuous."""
    swapped = {"finetune": results["joint"], "joint": results["finetune"]}
    assert not any(c.holds for c in forgetting.claims(swapped)[1:])
