"""Notebook 04's claims hold over 5 seeds of its offline setting, each can fail, and each
claim about a mechanism (MEMO's shared generalized blocks, freezing them) fails when the
code switches that mechanism off."""

import copy

import pytest

from cl_teach.experiment import run_grid
from cl_teach.lessons import memo
from cl_teach.methods.der import DER
from cl_teach.methods.memo import MEMO


@pytest.fixture(scope="module")
def results(claim_seeds):
    return memo.runs(memo.SETTING, claim_seeds)


def test_every_claim_holds(results):
    claims = memo.claims(results)
    assert len(claims) == 7
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def with_curve(results, budget, **runs):
    """``results`` with the curve's runs at ``budget`` replaced by ``runs``."""
    curve = {**results["curve"], budget: {**results["curve"][budget], **runs}}
    return {**results, "curve": curve}


def poorer(runs, by=0.1):
    """The runs with every class's accuracy ``by`` lower."""
    out = copy.deepcopy(runs)
    for r in out:
        r.per_class_accuracy = [[a - by for a in row] for row in r.per_class_accuracy]
    return out


def test_each_claim_can_fail(results):
    """Runs put in each other's place, or measurements perturbed, break each claim."""
    curve, table = results["curve"], results["table"]
    low = memo.starved(memo.SETTING)
    cfg = memo.SETTING
    swapped_cka = copy.deepcopy(results)  # the copied blocks given the shared blocks' CKA
    shared, copied = memo.blocks(cfg)
    for r in swapped_cka["curve"][max(curve)]["DER"]:
        for task in r.extras["block_similarity"]:
            for a, b in zip(shared, copied, strict=False):
                task[a], task[b] = task[b], task[a]
    assert not memo.claims(swapped_cka)[0].holds
    swap = {"MEMO": curve[low]["DER"], "DER": curve[low]["MEMO"]}
    assert not memo.claims(with_curve(results, low, **swap))[1].holds
    swap = {"replay": curve[low]["DER"], "DER": curve[low]["replay"]}
    assert not memo.claims(with_curve(results, low, **swap))[2].holds
    starved_der = results
    for b in memo.ample(curve, cfg.num_classes()):
        starved_der = with_curve(starved_der, b, DER=curve[low]["DER"])
    assert not memo.claims(starved_der)[3].holds
    trained, frozen = table[(True, False)], table[(True, True)]
    assert not memo.claims({**results, "table": {**table, (True, True): trained}})[4].holds
    still = copy.deepcopy(trained)  # the trained blocks recorded as if they had not moved
    for r in still:
        r.extras["first_task_drift"] = [0.0] * len(r.extras["first_task_drift"])
    assert not memo.claims({**results, "table": {**table, (True, False): still}})[4].holds
    assert not memo.claims({**results, "table": {**table, (True, True): poorer(frozen)}})[5].holds
    costly = {**table, (False, True): poorer(table[(False, True)])}
    assert not memo.claims({**results, "table": costly})[6].holds


def test_sharing_switched_off_in_the_code_breaks_its_claim(
    results, claim_seeds, fresh_cache, monkeypatch
):
    """MEMO sharing no block is DER: its edge where memory is starved is then gone."""
    monkeypatch.setattr(MEMO, "split_of", staticmethod(lambda cfg: 0))
    low = memo.starved(memo.SETTING)
    mutant = run_grid({"MEMO": memo.equal_memory(memo.SETTING, low)["MEMO"]}, claim_seeds)
    assert [r.final_accuracy for r in mutant["MEMO"]] == [
        r.final_accuracy for r in results["curve"][low]["DER"]
    ]
    assert not memo.claims(with_curve(results, low, **mutant))[1].holds


def test_freezing_switched_off_in_the_code_breaks_its_claim(
    results, claim_seeds, fresh_cache, monkeypatch
):
    """``--freeze-base`` that freezes nothing: the first task's features then drift."""
    monkeypatch.setattr(MEMO, "frozen", DER.frozen)
    cfg = memo.table_configs(memo.SETTING, memo.starved(memo.SETTING))[(True, True)]
    mutant = run_grid({"frozen": cfg}, claim_seeds)["frozen"]
    table = {**results["table"], (True, True): mutant}
    assert not memo.claims({**results, "table": table})[4].holds
