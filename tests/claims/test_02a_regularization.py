"""Notebook 02a's claims hold over 5 seeds of its offline setting, each can fail, and the
claim about what EWC keeps fails when the code drops its penalty."""

import copy

import pytest

from cl_teach.lessons import regularization
from cl_teach.methods.ewc import EWC


@pytest.fixture(scope="module")
def results(claim_seeds):
    return regularization.runs(regularization.SETTING, claim_seeds)


def test_every_claim_holds(results):
    claims = regularization.claims(results)
    assert len(claims) == 6
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def with_runs(results, evaluation, method, runs):
    return {**results, evaluation: {**results[evaluation], method: runs}}


def shorter_new_rows(runs):
    """The runs with the newest classes' recorded row norms divided by 3."""
    runs = copy.deepcopy(runs)
    for r in runs:
        new = r.classes_per_task[-1]
        seen = sum(r.classes_per_task)
        r.classifier_norms[-1][seen - new : seen] = [
            n / 3 for n in r.classifier_norms[-1][seen - new : seen]
        ]
    return runs


def test_each_claim_can_fail(results):
    ft, ewc = results["class"]["finetune"], results["class"]["ewc"]
    ft_task, ewc_task = results["task"]["finetune"], results["task"]["ewc"]
    claims = regularization.claims
    assert not claims(with_runs(results, "class", "finetune", shorter_new_rows(ft)))[0].holds
    assert not claims(with_runs(results, "class", "finetune", ft_task))[1].holds
    assert not claims(with_runs(results, "task", "finetune", ewc_task))[2].holds
    swapped = {**results, "task": {"finetune": ewc_task, "ewc": ft_task}}
    assert not claims(swapped)[3].holds
    assert not claims(with_runs(results, "class", "ewc", ewc_task))[4].holds
    assert not claims(with_runs(results, "class", "ewc", shorter_new_rows(ewc)))[5].holds


def test_ewc_without_its_penalty_breaks_the_claim_on_what_it_keeps(
    results, claim_seeds, fresh_cache, monkeypatch
):
    monkeypatch.setattr(EWC, "penalty", lambda self: 0.0)
    mutant = regularization.runs(regularization.SETTING, claim_seeds, evals=("task",))
    claims = regularization.claims(with_runs(results, "task", "ewc", mutant["task"]["ewc"]))
    assert not claims[3].holds
