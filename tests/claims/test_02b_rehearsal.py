"""Notebook 02b's claims hold over 5 seeds of its two offline settings, each can fail, and
each claim about a mechanism (herding, the stored logits) fails when the code switches that
mechanism off."""

import pytest

from cl_teach.experiment import run_grid
from cl_teach.lessons import rehearsal
from cl_teach.memory import ExemplarMemory
from cl_teach.methods.dark_er import DarkER


@pytest.fixture(scope="module")
def results(claim_seeds):
    return rehearsal.runs(rehearsal.SETTING, claim_seeds)


@pytest.fixture(scope="module")
def passed_once(claim_seeds):
    return rehearsal.one_pass(rehearsal.SETTING, claim_seeds)


def test_every_claim_holds(results, passed_once):
    claims = rehearsal.claims(results, passed_once)
    assert len(claims) == 12
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def replaced(results, name, budget, runs):
    """``results`` with the runs of ``name`` at ``budget`` (or ``name`` itself) replaced."""
    if budget is None:
        return {**results, name: runs}
    return {**results, name: {**results[name], budget: runs}}


def test_each_claim_can_fail(results, passed_once):
    """Runs put in each other's place break each claim."""
    ft, h, rnd, er = (results[k] for k in ("finetune", "herding", "random", "reservoir"))
    small, b, eq = min(h), max(h), max(er)
    once_b, once_eq = max(passed_once["dark_er"]), max(passed_once["reservoir"])
    broken = {
        0: replaced(replaced(results, "herding", b, h[small]), "herding", small, h[b]),
        1: replaced(results, "herding", small, ft),
        2: replaced(replaced(results, "herding", small, rnd[small]), "random", small, h[small]),
        3: replaced(results, "reservoir", small, rnd[small]),
        4: replaced(results, "reservoir", b, er[small]),
        5: replaced(results, "random", b, rnd[small]),
        6: replaced(results, "herding", small, h[b]),
        7: replaced(results, "herding", b, ft),
        8: replaced(results, "dark_er", b, er[b]),
        9: replaced(results, "reservoir", eq, ft),
    }
    for index, res in broken.items():
        assert not rehearsal.claims(res, passed_once)[index].holds, index
    no_logits = replaced(passed_once, "dark_er", once_b, passed_once["reservoir"][once_b])
    assert not rehearsal.claims(results, no_logits)[10].holds
    more_images = replaced(passed_once, "reservoir", once_eq, passed_once["dark_er"][once_b])
    assert not rehearsal.claims(results, more_images)[11].holds


def test_herding_switched_off_in_the_code_breaks_its_claim(
    results, passed_once, claim_seeds, fresh_cache, monkeypatch
):
    """Herding's memory draws its exemplars as random selection does: the herding runs then
    equal the random ones, and the claim that herding beats random fails."""
    select = ExemplarMemory._select

    def without_herding(self, images, m, features):
        self.selection = "random"
        return select(self, images, m, features)

    monkeypatch.setattr(ExemplarMemory, "_select", without_herding)
    small = min(results["herding"])
    cfg = rehearsal.configs(rehearsal.SETTING)[f"herding {small}"]
    mutant = run_grid({"herding": cfg}, claim_seeds)["herding"]
    assert [r.final_accuracy for r in mutant] == [
        r.final_accuracy for r in results["random"][small]
    ]
    assert not rehearsal.claims(replaced(results, "herding", small, mutant), passed_once)[2].holds


def test_logit_matching_switched_off_in_the_code_breaks_its_claim(
    results, passed_once, claim_seeds, fresh_cache, monkeypatch
):
    """Dark ER and DER++ without the logit term: the claim that the logits pay fails."""
    monkeypatch.setattr(DarkER, "logit_matching", lambda self: 0.0)
    configs = rehearsal.comparison_configs(rehearsal.ONE_PASS)
    dark = {k: c for k, c in configs.items() if c.method in rehearsal.DARK}
    mutant = rehearsal.nest(run_grid(dark, claim_seeds))
    assert not rehearsal.claims(results, {**passed_once, **mutant})[10].holds
