"""Notebook 06's claims hold over 5 seeds of its offline setting."""

import copy

import pytest

from cl_teach.lessons import remedies


@pytest.fixture(scope="module")
def runs(claim_seeds):
    setting = remedies.SETTING
    return remedies.runs(setting, claim_seeds), remedies.free_lunch(setting, claim_seeds)


def test_every_claim_holds(runs):
    claims = remedies.claims(*runs)
    assert len(claims) == 8
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_the_claims_can_fail(runs):
    """Runs put in each other's place, or continual backprop replacing five times as many
    units, break each claim: the checks are not vacuous."""
    results, sweep = runs
    swapped = {**results, "bp": results["retrain"], "retrain": results["bp"],
               "snp": results["bp"]}  # fmt: skip
    many = copy.deepcopy(results)
    for r in many["cbp"]:
        r["units_replaced_per_task"] = [5 * n for n in r["units_replaced_per_task"]]
    wide, narrow = sweep
    low, high = remedies.rates(remedies.SETTING)
    no_cost = {
        **sweep,
        wide: {**sweep[wide], "retrain": sweep[wide][high], high: sweep[wide]["retrain"]},
    }
    widths_swapped = {wide: sweep[narrow], narrow: sweep[wide]}
    verdicts = [
        [c.holds for c in remedies.claims(r, s)]
        for r, s in ((swapped, sweep), (many, sweep), (results, no_cost), (results, widths_swapped))
    ]
    assert verdicts[0][:6] == [False, True, True, False, False, False]
    assert verdicts[1][1] is False
    assert verdicts[2][6] is False
    assert verdicts[3][7] is False
    reset_worse = {**results, "head_reset": results["bp"]}
    assert remedies.claims(reset_worse, sweep)[2].holds is False
