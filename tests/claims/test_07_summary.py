"""Notebook 07's claims hold over 5 seeds of its offline setting."""

import pytest

from cl_teach.exercises.summary import check_ranking
from cl_teach.lessons import summary


@pytest.fixture(scope="module")
def results(claim_seeds):
    return summary.runs(summary.SETTING, claim_seeds)


def test_every_claim_holds(results):
    claims = summary.claims(results)
    failing = [str(c) for c in claims if not c.holds]
    assert not failing, "\n".join(failing)


def test_the_claims_can_fail(results):
    """With fine-tuning's runs in replay's place, the first claim must fail."""
    broken = {**results, "replay": results["finetune"]}
    assert not summary.claims(broken)[0].holds


def test_the_table_has_one_row_per_method_with_its_memory(results):
    rows = summary.table(results)
    assert [r["method"] for r in rows] == list(summary.METHODS.values())
    assert {r["exemplars"] for r in rows if r["method"] in ("replay (herding)", "DER")} == {200}


def test_the_ranking_checker(results, capsys):
    mean = {m: sum(r.final_accuracy for r in runs) for m, runs in results.items()}
    top = max((m for m in results if m != "joint"), key=mean.get)
    assert check_ranking(top, "finetune", results)
    assert not check_ranking("finetune", "joint", results)
    assert not check_ranking("joint", "finetune", results)
    assert not check_ranking("no such method", 3, results)
    assert check_ranking(None, None, results) is False
