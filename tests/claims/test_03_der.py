"""Notebook 03's claims hold over 5 seeds of its offline setting."""

import pytest

from cl_teach.lessons import der


@pytest.fixture(scope="module")
def results(claim_seeds):
    return der.runs(der.SETTING, claim_seeds)


def test_every_claim_holds(results):
    claims = der.claims(results)
    assert len(claims) == 5
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_the_claims_can_fail(results):
    """Swapping DER with each of its variants must break the claim about that variant."""

    def swapped(a, b):
        return {**results, a: results[b], b: results[a]}

    assert not der.claims(swapped("DER", "old backbones trained"))[0].holds
    assert not der.claims(swapped("DER", "no weight aligning"))[2].holds
    assert not der.claims(swapped("no exemplars", "DER"))[3].holds
    assert not der.claims(swapped("DER", "replay"))[4].holds
    # runs that never aligned record no gamma: the claim about gamma then fails
    assert not der.claims({**results, "DER": results["no weight aligning"]})[1].holds
