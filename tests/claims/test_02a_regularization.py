"""Notebook 02a's claims hold over 5 seeds of its offline setting."""

import pytest

from cl_teach.lessons import regularization


@pytest.fixture(scope="module")
def results(claim_seeds):
    return regularization.runs(regularization.SETTING, claim_seeds)


def test_every_claim_holds(results):
    claims = regularization.claims(results)
    assert len(claims) == 6
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_the_claims_can_fail(results):
    """Swapping the evaluations breaks the claims about them; swapping the methods breaks
    EWC's task-incremental lead: the checks are not vacuous."""
    swapped = {"class": results["task"], "task": results["class"]}
    assert not any(c.holds for c in regularization.claims(swapped)[1:5])
    methods = {e: {"finetune": r["ewc"], "ewc": r["finetune"]} for e, r in results.items()}
    assert not regularization.claims(methods)[3].holds
