"""Notebook 06's claims hold over a block of 5 seeds of its offline settings; each one can
fail, and each claim about a mechanism (the utility, maturity, the utility's running
average, Shrink & Perturb's noise) fails when that mechanism is switched off in the code."""

import copy

import pytest

from cl_teach.lessons import remedies
from cl_teach.plasticity import regression, run_plasticity_grid
from cl_teach.plasticity.continual_backprop import ContinualBackprop

CLAIMS = 14
UTILITY, MATURITY, NOISE, AVERAGE = 5, 6, 12, 13  # the mechanism claims


@pytest.fixture(scope="module")
def runs(claim_seeds):
    setting = remedies.SETTING
    results = remedies.runs(setting, claim_seeds)
    return (
        results,
        remedies.ablations(setting, claim_seeds),
        remedies.free_lunch(setting, claim_seeds, results=results),
        remedies.regression(claim_seeds),
    )


def verdicts(results, switched_off, sweep, regressed) -> list[bool]:
    return [c.holds for c in remedies.claims(results, switched_off, sweep, regressed)]


def test_every_claim_holds(runs):
    claims = remedies.claims(*runs)
    assert len(claims) == CLAIMS
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_each_claim_can_fail(runs):
    """Each claim fails when the runs it reads are put in each other's place (or continual
    backprop replaces five times as many units): the checks are not vacuous."""
    results, off, sweep, regressed = runs

    def fails(index, results=results, off=off, sweep=sweep, regressed=regressed):
        return not verdicts(results, off, sweep, regressed)[index]

    assert fails(0, results={**results, "bp": results["retrain"], "retrain": results["bp"]})
    assert fails(0, results={**results, "head_reset": results["retrain"]})
    assert fails(1, results={**results, "cbp": results["bp"]})
    assert fails(2, results={**results, "cbp": results["bp"]})
    assert fails(3, results={**results, "snp": results["bp"]})
    assert fails(4, results={**results, "snp": results["bp"]})
    assert fails(UTILITY, off={**off, "random units": off["cbp"]})
    assert fails(MATURITY, off={**off, "no maturity": off["cbp"]})
    many = copy.deepcopy(results)
    for r in many["cbp"]:
        r["units_replaced_per_task"] = [5 * n for n in r["units_replaced_per_task"]]
    assert fails(7, results=many)
    base, *hard = sweep
    low, high = remedies.rates(remedies.SETTING)
    free = {**sweep, base: {**sweep[base], "bp": sweep[base][high], high: sweep[base]["bp"]}}
    assert fails(8, sweep=free)
    assert fails(9, sweep={base: sweep[hard[0]], hard[0]: sweep[base], hard[1]: sweep[hard[1]]})
    assert fails(9, sweep={**sweep, hard[1]: sweep[hard[0]]})  # the harder task's bound
    swap = {**regressed, "bp": regressed["retrain"], "retrain": regressed["bp"]}
    assert fails(10, regressed=swap)
    assert fails(11, regressed={**regressed, "cbp": regressed["snp"], "snp": regressed["cbp"]})
    assert fails(NOISE, regressed={**regressed, "snp": regressed["l2"]})
    assert fails(AVERAGE, regressed={**regressed, "no running average": regressed["cbp"]})


@pytest.fixture
def fresh_cache(monkeypatch, tmp_path):
    """Runs of mutated code go to a cache of their own."""
    monkeypatch.setenv("CL_TEACH_CACHE", str(tmp_path))


def _cbp_again(seeds) -> list:
    config = remedies.SETTING.replace(method="cbp")
    return run_plasticity_grid({"cbp": config}, seeds)["cbp"]


def test_the_utility_claim_needs_the_utility(runs, claim_seeds, monkeypatch, fresh_cache):
    """Continual backprop choosing random mature units in place of the lowest utility."""
    monkeypatch.setattr(ContinualBackprop, "lowest_utility", ContinualBackprop.random_mature)
    results, off, sweep, regressed = runs
    mutated = {**off, "cbp": _cbp_again(claim_seeds)}
    assert not verdicts(results, mutated, sweep, regressed)[UTILITY]


def test_the_maturity_claim_needs_maturity(runs, claim_seeds, monkeypatch, fresh_cache):
    """Every unit mature from its first step: no immunity."""
    monkeypatch.setattr(ContinualBackprop, "mature_mask", lambda self, k: self.age[k] >= 0)
    results, off, sweep, regressed = runs
    mutated = {**off, "cbp": _cbp_again(claim_seeds)}
    assert not verdicts(results, mutated, sweep, regressed)[MATURITY]


def test_the_regression_claims_need_the_noise_and_the_average(
    runs, claim_seeds, monkeypatch, fresh_cache
):
    """Shrink & Perturb's noise drawn but never added (L2 alone), and continual backprop's
    utility as the last step's contribution alone, whatever the decay. Each switch touches
    only its own method's lanes, so one pass retrains both, and each claim reads only its
    own method's mutated runs."""
    monkeypatch.setattr(regression.Lanes, "perturb", lambda self, eps: None)
    monkeypatch.setattr(regression, "running_utility", lambda u, h, w, eta: h * w)
    results, off, sweep, regressed = runs
    configs = {m: remedies.REGRESSION.replace(method=m) for m in ("snp", "cbp")}
    mutated = regression.run_regression_grid(configs, claim_seeds)
    noiseless = verdicts(results, off, sweep, {**regressed, "snp": mutated["snp"]})
    unaveraged = verdicts(results, off, sweep, {**regressed, "cbp": mutated["cbp"]})
    assert not noiseless[NOISE] and not unaveraged[AVERAGE]
