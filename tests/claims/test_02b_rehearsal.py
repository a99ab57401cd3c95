"""Notebook 02b's claims hold over 5 seeds of its offline setting."""

import pytest

from cl_teach.lessons import rehearsal


@pytest.fixture(scope="module")
def results(claim_seeds):
    return rehearsal.runs(rehearsal.SETTING, claim_seeds)


def test_every_claim_holds(results):
    claims = rehearsal.claims(results)
    assert len(claims) == 11
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_the_claims_can_fail(results):
    """Without a memory (every run replaced by fine-tuning) the claims about memory fail;
    with fine-tuning in ER's place, Dark ER and DER++ beat it at equal samples and bytes."""
    ft = results["finetune"]
    no_memory = {k: ft if k == "finetune" else {b: ft for b in v} for k, v in results.items()}
    claims = rehearsal.claims(no_memory)
    assert not any(claims[i].holds for i in (0, 1, 2, 3, 4, 7, 8))
    weak_er = {**results, "reservoir": {b: ft for b in results["reservoir"]}}
    assert not any(c.holds for c in rehearsal.claims(weak_er)[9:])
