"""Notebook 07's claims hold over 5 seeds of its offline setting, each can fail, and the
claim on rehearsal fails when the exemplar memory keeps nothing."""

import pytest

from cl_teach.experiment import run_grid
from cl_teach.lessons import summary
from cl_teach.memory import ExemplarMemory


@pytest.fixture(scope="module")
def results(claim_seeds):
    return summary.runs(summary.SETTING, claim_seeds)


def test_every_claim_holds(results):
    claims = summary.claims(results)
    assert len(claims) == 4
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_each_claim_can_fail(results):
    ft = results["finetune"]
    assert not summary.claims({**results, "replay": ft})[0].holds
    assert not summary.claims({**results, "ewc": results["replay"]})[1].holds
    assert not summary.claims({**results, "joint": ft})[2].holds
    assert not summary.claims({**results, "der": results["joint"]})[3].holds


def test_a_memory_that_keeps_nothing_breaks_the_rehearsal_claim(
    results, claim_seeds, fresh_cache, monkeypatch
):
    monkeypatch.setattr(ExemplarMemory, "update", lambda self, *args, **kwargs: None)
    cfg = summary.SETTING.replace(method="replay")
    mutant = run_grid({"replay": cfg}, claim_seeds)["replay"]
    assert not summary.claims({**results, "replay": mutant})[0].holds
