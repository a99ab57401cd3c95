"""Notebook 03's claims hold over 5 seeds of its offline setting, each can fail, and each
claim about a mechanism fails when the code switches that mechanism off."""

import copy

import pytest

from cl_teach.experiment import run_grid
from cl_teach.lessons import der
from cl_teach.methods import der as der_method
from cl_teach.methods.der import DER
from cl_teach.train import cross_entropy


@pytest.fixture(scope="module")
def results(claim_seeds):
    return der.runs(der.SETTING, claim_seeds)


def test_every_claim_holds(results):
    claims = der.claims(results)
    assert len(claims) == 6
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def der_again(seeds) -> list:
    """DER alone retrained at the setting (the mutation tests change DER's code only)."""
    return run_grid({"DER": der.SETTING}, seeds)["DER"]


def swapped(results, a, b):
    return {**results, a: results[b], b: results[a]}


def test_each_claim_can_fail(results):
    """Runs put in each other's place, or measurements perturbed, break each claim."""
    assert not der.claims(swapped(results, "DER", "old backbones trained"))[0].holds
    assert not der.claims(swapped(results, "DER", "no auxiliary head"))[1].holds
    shorter = copy.deepcopy(results)  # the new rows recorded half as long as they were
    for r in shorter["DER"]:
        for t, norms in enumerate(r.extras["classifier_norms_before_align"]):
            new = r.classes_per_task[t]
            norms[-new:] = [n / 2 for n in norms[-new:]]
    assert not der.claims(shorter)[2].holds
    unaligned = copy.deepcopy(results)  # the accuracy before aligning set to the one after
    for r in unaligned["DER"]:
        before = r.extras["per_class_accuracy_before_align"]
        for t in range(1, len(before)):
            before[t] = r.per_class_accuracy[t][: len(before[t])]
    assert not der.claims(unaligned)[3].holds
    assert not der.claims(swapped(results, "no exemplars", "DER"))[4].holds
    replay_first = swapped(results, "DER", "replay")  # at both budgets
    replay_first = swapped(replay_first, "DER, 30 exemplars", "replay, 30 exemplars")
    assert not der.claims(replay_first)[5].holds


def test_freezing_switched_off_in_the_code_breaks_its_claim(results, claim_seeds, fresh_cache,
                                                             monkeypatch):  # fmt: skip
    monkeypatch.setattr(DER, "frozen", lambda self: [])
    mutant = der_again(claim_seeds)
    assert not der.claims({**results, "DER": mutant})[0].holds


def test_the_auxiliary_loss_switched_off_in_the_code_breaks_its_claim(
    results, claim_seeds, fresh_cache, monkeypatch
):
    monkeypatch.setattr(DER, "loss", lambda self, batch, out: cross_entropy(out["logits"], batch.y))
    mutant = der_again(claim_seeds)
    assert not der.claims({**results, "DER": mutant})[1].holds


def test_aligning_switched_off_in_the_code_breaks_its_claim(
    results, claim_seeds, fresh_cache, monkeypatch
):
    """weight_align measures gamma but scales nothing: the claim on what aligning does then
    fails, while the claim that the new rows are the longer ones still holds."""

    def measure_only(fc, n_new):
        norms = fc.weight.norm(dim=-1)
        return (norms[:, :-n_new].mean(1) / norms[:, -n_new:].mean(1)).tolist()

    monkeypatch.setattr(der_method, "weight_align", measure_only)
    mutant = der_again(claim_seeds)
    claims = der.claims({**results, "DER": mutant})
    assert not claims[3].holds and claims[2].holds
