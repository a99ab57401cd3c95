"""Notebook 01's claims hold over 5 seeds of its offline setting, each can fail, and the
claims about joint training fail when joint training stops keeping the past data."""

import copy

import pytest

from cl_teach.lessons import forgetting
from cl_teach.methods.joint import Joint


@pytest.fixture(scope="module")
def results(claim_seeds):
    return forgetting.runs(forgetting.SETTING, claim_seeds)


def test_every_claim_holds(results):
    claims = forgetting.claims(results)
    assert len(claims) == 4
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_each_claim_can_fail(results):
    slow = copy.deepcopy(results)  # each task learned to 0.8 only
    for r in slow["finetune"]:
        for i in range(len(r.accuracy_matrix)):
            r.accuracy_matrix[i][i] = 0.8
    assert not forgetting.claims(slow)[0].holds
    swapped = {"finetune": results["joint"], "joint": results["finetune"]}
    verdicts = [c.holds for c in forgetting.claims(swapped)]
    assert verdicts[1:] == [False, False, False]


def test_joint_training_without_its_past_data_breaks_its_claims(
    results, claim_seeds, fresh_cache, monkeypatch
):
    monkeypatch.setattr(Joint, "train_data", lambda self, task: task.train)
    mutant = forgetting.runs(forgetting.SETTING, claim_seeds)
    claims = forgetting.claims({**results, "joint": mutant["joint"]})
    assert not claims[2].holds and not claims[3].holds
