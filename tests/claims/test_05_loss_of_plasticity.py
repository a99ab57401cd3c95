"""Notebook 05's claims hold over 5 seeds of its offline setting."""

import pytest

from cl_teach.lessons import plasticity


@pytest.fixture(scope="module")
def runs(claim_seeds):
    return plasticity.runs(plasticity.SETTING, claim_seeds), plasticity.small_step(
        plasticity.SETTING, claim_seeds
    )


def test_every_claim_holds(runs):
    claims = plasticity.claims(*runs)
    assert len(claims) == 7
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_the_claims_can_fail(runs):
    """Backprop in the fresh network's place (and the reverse) breaks every claim: the
    checks are not vacuous."""
    results, smaller = runs
    swapped = {"bp": results["retrain"], "retrain": results["bp"], "head_reset": results["bp"]}
    reversed_small = {"bp": smaller["retrain"], "retrain": smaller["bp"]}
    assert not any(c.holds for c in plasticity.claims(swapped, reversed_small))
