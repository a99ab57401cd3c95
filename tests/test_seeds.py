"""Seeds side by side: a seed gives bit-identical numbers alone or beside other seeds, and
the written-out optimizers make torch.optim's updates."""

import numpy as np
import pytest
import torch
from every_method import RUNS

from cl_teach.config import RunConfig
from cl_teach.experiment import run_seeds
from cl_teach.optim import SGD, Adam, lr_at

SMALL = RunConfig(epochs=2, budget=60)
FIELDS = ("accuracy_matrix", "per_class_accuracy", "classifier_norms", "task_accuracy")


@pytest.mark.parametrize(
    "method,change",
    [*RUNS, ("der", {"backbone": "resnet32", "train_per_class": 10, "epochs": 1})],
)
def test_a_seed_gives_the_same_numbers_alone_or_beside_others(method, change):
    cfg = SMALL.replace(method=method, **change)
    together = run_seeds(cfg, [0, 1, 2], use_cache=False, progress=False)
    alone = run_seeds(cfg, [2], use_cache=False, progress=False)[0]
    for name in FIELDS:
        assert np.array_equal(together[2].array(name), alone.array(name), equal_nan=True), name
    assert together[2].extras == alone.extras
    norms = [r.array("classifier_norms") for r in (together[0], alone)]
    assert not np.array_equal(*norms, equal_nan=True)  # another seed, other numbers


def _twins(seed=0):
    g = torch.Generator().manual_seed(seed)
    params = [torch.randn(3, 4, generator=g), torch.randn(5, generator=g)]
    return [p.clone().requires_grad_() for p in params], [
        p.clone().requires_grad_() for p in params
    ]


@pytest.mark.parametrize(
    "name,kw",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4}),
        ("SGD", {"lr": 0.05}),
        ("Adam", {"lr": 1e-2, "weight_decay": 1e-3}),
    ],
)
def test_the_optimizers_make_torch_optims_updates(name, kw):
    a, b = _twins()
    mine, ref = {"SGD": SGD, "Adam": Adam}[name](a, **kw), getattr(torch.optim, name)(b, **kw)
    g = torch.Generator().manual_seed(1)
    for _ in range(20):
        grads = [torch.randn(p.shape, generator=g) for p in a]
        for params, opt in ((a, mine), (b, ref)):
            for p, grad in zip(params, grads, strict=True):
                p.grad = grad.clone()
            opt.step()
    for p, q in zip(a, b, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_adam_reset_restarts_the_bias_correction_of_those_elements_only():
    """After ``reset``, an element's next Adam step is lr * sign(g), as on the very first
    step; with a shared step count its zeroed moments would be divided by ~1 instead."""
    p = _twins()[0][0]
    opt = Adam([p], lr=0.01)
    for _ in range(50):
        p.grad = torch.ones_like(p) * 0.3
        opt.step()
    opt.reset(p, (slice(None), 0))  # column 0
    before = p.detach().clone()
    p.grad = torch.ones_like(p) * 0.3
    opt.step()
    step = before - p.detach()
    torch.testing.assert_close(step[:, 0], torch.full((3,), 0.01), rtol=1e-4, atol=0)
    assert opt.state[p]["step"][0, 1] == 51 and opt.state[p]["step"][0, 0] == 1


def test_the_learning_rate_schedule_is_multistep():
    lrs = [lr_at(e, 0.1, (2, 4), 0.1) for e in range(6)]
    assert lrs == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_a_run_is_cached_by_the_settings_its_method_reads():
    """Fine-tuning never reads EWC's lambda or a budget: those runs are the same run."""
    first = run_seeds(SMALL.replace(method="finetune", ewc_lambda=1.0), [0], progress=False)[0]
    again = run_seeds(SMALL.replace(method="finetune", ewc_lambda=7.0), [0], progress=False)[0]
    assert again.cached and again.config["ewc_lambda"] == 7.0 and again.budget == 60
    assert np.array_equal(again.array("per_class_accuracy"), first.array("per_class_accuracy"),
                          equal_nan=True)  # fmt: skip
    ewc = run_seeds(SMALL.replace(method="ewc", ewc_lambda=7.0), [0], progress=False)[0]
    assert not ewc.cached
