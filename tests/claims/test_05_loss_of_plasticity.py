"""Notebook 05's claims hold over a block of 5 seeds of its offline setting; each one can
fail, and the head-reset claim fails when the reset is switched off in the code."""

import pytest

from cl_teach.lessons import plasticity
from cl_teach.plasticity.backprop import Backprop, HeadReset

CLAIMS = 8


@pytest.fixture(scope="module")
def runs(claim_seeds):
    setting = plasticity.SETTING
    return (
        plasticity.runs(setting, claim_seeds),
        plasticity.small_step(setting, claim_seeds),
        plasticity.growing(claim_seeds),
    )


def verdicts(results, smaller, grown) -> list[bool]:
    return [c.holds for c in plasticity.claims(results, smaller, grown)]


def test_every_claim_holds(runs):
    claims = plasticity.claims(*runs)
    assert len(claims) == CLAIMS
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_each_claim_can_fail(runs):
    """Each claim fails when the runs it reads are put in each other's place: the checks
    are not vacuous."""
    results, smaller, grown = runs
    swapped = {**results, "bp": results["retrain"], "retrain": results["bp"]}
    assert verdicts(swapped, smaller, grown)[:4] == [False] * 4
    assert not verdicts({**results, "head_reset": results["bp"]}, smaller, grown)[4]
    assert not verdicts({**results, "head_reset": results["retrain"]}, smaller, grown)[5]
    small_swapped = {"bp": smaller["retrain"], "retrain": smaller["bp"]}
    assert not verdicts(results, small_swapped, grown)[6]
    # the permuted stream's collapse in the growing stream's place is no "small loss"
    collapsed = {"bp": results["bp"], "retrain": results["retrain"]}
    assert not verdicts(results, smaller, collapsed)[7]


def test_the_head_reset_claim_needs_the_reset(runs, claim_seeds, fresh_cache, monkeypatch):
    """With the reset switched off in the code, the head reset is backprop, and its claims
    (it stays plastic; so weight growth alone does not cost plasticity) fail."""
    monkeypatch.setattr(HeadReset, "start_task", Backprop.start_task)
    results, smaller, grown = runs
    mutated = plasticity.runs(plasticity.SETTING, claim_seeds, methods=("head_reset",))
    assert verdicts({**results, **mutated}, smaller, grown)[4:6] == [False, False]
