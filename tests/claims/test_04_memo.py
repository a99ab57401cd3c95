"""Notebook 04's claims hold over 5 seeds of its offline setting."""

import pytest

from cl_teach.lessons import memo


@pytest.fixture(scope="module")
def results(claim_seeds):
    return memo.runs(memo.SETTING, claim_seeds)


def test_every_claim_holds(results):
    claims = memo.claims(results)
    assert len(claims) == 6
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_the_claims_can_fail(results):
    """Swapping what each claim compares must break it."""
    curve, table = results["curve"], results["table"]
    low, high = sorted(curve)

    def with_curve(level, a, b):
        runs = {**curve[level], a: curve[level][b], b: curve[level][a]}
        return {"curve": {**curve, level: runs}, "table": table}

    assert not memo.claims(with_curve(low, "MEMO", "DER"))[1].holds
    flipped = memo.claims({"curve": curve, "table": {(p, f): table[(p, not f)] for p, f in table}})
    assert not flipped[4].holds and not flipped[5].holds
