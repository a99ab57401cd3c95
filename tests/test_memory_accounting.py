"""Every byte a method keeps between tasks is counted in its ``memory_bytes``: the model,
the exemplars (Dark ER: with their logits), joint training's past data, EWC's Fisher and
anchor; DER's and MEMO's old backbones are part of their model."""

import pytest

from cl_teach.config import RunConfig
from cl_teach.experiment import run

# digits, two tasks of two classes, 5 training images per class, one epoch
TINY = RunConfig(dataset="digits", scenario="B0Inc2", epochs=1, train_per_class=5)
IMAGE = 64  # a digit: 1 x 8 x 8 uint8


@pytest.fixture(scope="module")
def runs():
    cfg = TINY.replace(scenario="B6Inc2")  # three tasks: 6, 2 and 2 classes
    methods = {"finetune": 0, "joint": 0, "ewc": 0, "replay": 20, "dark_er": 20, "der": 20,
               "memo": 20}  # fmt: skip
    return {m: run(cfg.replace(method=m, budget=b), progress=False) for m, b in methods.items()}


def model(r) -> int:
    return 4 * r.num_parameters


def test_finetune_keeps_its_model_only(runs):
    assert runs["finetune"].memory_bytes == {"model": model(runs["finetune"]), "exemplars": 0}


def test_joint_training_counts_every_past_image(runs):
    r = runs["joint"]
    assert r.memory_bytes == {"model": model(r), "exemplars": 0, "past_data": 10 * 5 * IMAGE}


def test_ewc_counts_its_fisher_and_anchor(runs):
    """Two float32 numbers per parameter of the network after the last task."""
    r = runs["ewc"]
    assert r.memory_bytes == {"model": model(r), "exemplars": 0, "fisher_and_anchor": 2 * model(r)}


def test_rehearsal_counts_its_images_and_dark_er_its_logits(runs):
    assert runs["replay"].memory_bytes["exemplars"] == 20 * IMAGE
    assert runs["dark_er"].memory_bytes["exemplars"] == 20 * (IMAGE + 4 * 10)


@pytest.mark.parametrize("method", ["der", "memo"])
def test_expandable_models_count_every_backbone(runs, method):
    r = runs[method]
    assert r.memory_bytes == {"model": model(r), "exemplars": 20 * IMAGE}
    assert r.num_parameters_per_task[-1] > r.num_parameters_per_task[0]  # old backbones kept


def test_the_total_orders_the_methods_by_what_they_keep(runs):
    total = {m: sum(r.memory_bytes.values()) for m, r in runs.items()}
    assert total["joint"] > total["finetune"] and total["ewc"] == 3 * model(runs["ewc"])
