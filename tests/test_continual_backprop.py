"""Continual backprop and Shrink & Perturb: the replacement invariants and the default runs."""

import copy

import pytest
import torch
import torch.nn.functional as F

from cl_teach.plasticity import PlasticityConfig, last_fifth, run_plasticity
from cl_teach.plasticity.continual_backprop import ContinualBackprop, unit_layers
from cl_teach.plasticity.experiment import build_net
from cl_teach.plasticity.shrink_perturb import ShrinkPerturb
from cl_teach.widgets.plasticity import remedies_panel

SAME = (
    "new_task_accuracy",
    "dormant_fraction",
    "dormant_fraction_per_layer",
    "dormant_mask",
    "effective_rank",
    "stable_rank",
    "weight_magnitude",
)


@pytest.fixture(autouse=True)
def one_thread():
    """These networks are tiny: one thread is faster than two competing ones."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _learner(backbone="mlp", optimizer="sgd", **cbp):
    torch.manual_seed(0)
    cfg = PlasticityConfig(
        backbone=backbone, width=8 if backbone == "cnn" else 16, optimizer=optimizer, lr=0.01, **cbp
    )
    return ContinualBackprop(cfg, build_net(cfg))


def _batch(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def _step(learner, seed):
    """One training step, without ``after_step``."""
    x, y = _batch(seed=seed)
    learner.model.train()
    loss = F.cross_entropy(learner.model(x)["logits"], y)
    learner.optimizer.zero_grad()
    loss.backward()
    learner.optimizer.step()


def _make_dead(learner, fraction=0.25):
    """The first ``fraction`` of the units of every layer never fire (by construction)."""
    with torch.no_grad():
        for layer in learner.layers:
            n = int(fraction * layer.inp.weight.shape[0])
            if layer.bn is None:
                layer.inp.bias[:n] = -100.0
            else:
                layer.bn.weight[:n], layer.bn.bias[:n] = 0.0, -1.0
            yield n


@pytest.mark.parametrize("backbone", ["mlp", "cnn"])
def test_outputs_unchanged_right_after_replacing_the_lowest_utility_units(backbone):
    learner = _learner(backbone, replacement_rate=0.25, maturity=0)
    dead = list(_make_dead(learner))
    x, _ = _batch(seed=0)
    _step(learner, 0)
    learner.model.train()  # BatchNorm on batch statistics: silent means silent on x
    before = learner.model(x)["logits"].detach()  # also the batch the utility is measured on
    learner.after_step()
    for k, units in enumerate(learner.replaced_last):
        assert units.numel() == dead[k]  # rate x units, all mature
        assert learner.activations[k][:, units].abs().sum() == 0  # the lowest utility: silent
    torch.testing.assert_close(learner.model(x)["logits"], before, rtol=0, atol=1e-6)


@pytest.mark.parametrize("backbone", ["mlp", "cnn"])
def test_a_new_unit_adds_nothing(backbone):
    """Whatever units go, the new network computes what the old one computes without
    them: the fresh units' zero outgoing weights silence them."""
    learner = _learner(backbone, replacement_rate=0.3, maturity=0)
    x, _ = _batch(200, seed=99)
    for step in range(3):
        _step(learner, step)
        old = copy.deepcopy(learner.model)
        learner.after_step()
        assert sum(u.numel() for u in learner.replaced_last) > 0
        with torch.no_grad():
            for layer, units in zip(unit_layers(old), learner.replaced_last, strict=True):
                layer.out.weight[:, units] = 0.0
        old.eval(), learner.model.eval()
        torch.testing.assert_close(learner.model(x)["logits"], old(x)["logits"])


def test_replaced_count_matches_rate_times_mature_units_and_immature_are_immune():
    rate, maturity = 0.03, 30
    learner = _learner(replacement_rate=rate, maturity=maturity)
    expected = [0.0] * len(learner.layers)
    for step in range(300):
        _step(learner, step)
        ages = [a.clone() + 1 for a in learner.age]  # ages as after_step sees them
        for k, age in enumerate(ages):
            expected[k] += rate * int((age > maturity).sum())
        learner.after_step()
        for k, units in enumerate(learner.replaced_last):
            assert bool((ages[k][units] > maturity).all()), "an immature unit was replaced"
            assert bool((learner.age[k][units] == 0).all())
    total_expected = sum(int(e) for e in expected)
    assert abs(learner.units_replaced - total_expected) <= len(learner.layers)
    assert learner.units_replaced > 100


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_optimizer_state_of_replaced_weights_is_zero(optimizer):
    learner = _learner(optimizer=optimizer, replacement_rate=0.0, maturity=0)
    for step in range(3):
        _step(learner, step)
        learner.after_step()
    units = torch.tensor([1, 4])
    layer = learner.layers[1]
    learner.replace(1, units)
    state = learner.optimizer.state
    names = ["momentum_buffer"] if optimizer == "sgd" else ["exp_avg", "exp_avg_sq"]
    for name in names:
        assert state[layer.inp.weight][name][units].abs().sum() == 0
        assert state[layer.inp.bias][name][units].abs().sum() == 0
        assert state[layer.out.weight][name][:, units].abs().sum() == 0
        assert state[layer.inp.weight][name][0].abs().sum() > 0  # the others are kept
    assert layer.out.weight[:, units].abs().sum() == 0 and layer.inp.bias[units].abs().sum() == 0
    assert (learner.age[1][units] == 0).all() and (learner.utility[1][units] == 0).all()


def test_conv_batchnorm_replacement_resets_the_channel():
    learner = _learner("cnn", replacement_rate=0.0)
    layer = learner.layers[1]
    with torch.no_grad():
        for t in (layer.bn.weight, layer.bn.bias, layer.bn.running_mean):
            t.uniform_(0.5, 2.0)
        layer.bn.running_var.uniform_(2.0, 3.0)
    old = layer.inp.weight[3].clone()
    learner.replace(1, torch.tensor([3]))
    assert layer.bn.weight[3] == 1 and layer.bn.bias[3] == 0
    assert layer.bn.running_mean[3] == 0 and layer.bn.running_var[3] == 1
    assert layer.bn.weight[2] != 1  # only that channel
    assert layer.out.weight[:, 3].abs().sum() == 0
    assert not torch.equal(layer.inp.weight[3], old)
    bound = 1 / layer.inp.weight[0].numel() ** 0.5
    assert layer.inp.weight[3].abs().max() <= bound  # the layer's initial distribution


def test_rate_zero_is_backprop_exactly():
    small = PlasticityConfig(tasks=4, epochs=2, device="cpu")
    bp = run_plasticity(small.replace(method="bp"), use_cache=False)
    cbp = run_plasticity(small.replace(method="cbp", replacement_rate=0.0), use_cache=False)
    for key in SAME:
        assert cbp[key] == bp[key], key
    assert cbp["units_replaced"] == 0


def test_shrink_perturb_boundary_form_shrinks_towards_a_fresh_network():
    torch.manual_seed(0)
    cfg = PlasticityConfig(method="snp", snp_form="boundary", shrink=0.5, noise_std=0.0)
    learner = ShrinkPerturb(cfg, build_net(cfg))
    before = [p.detach().clone() for p in learner.model.parameters()]
    learner.start_task(0)  # no boundary before the first task
    learner.after_step()  # no per-step noise in this form
    assert all(torch.equal(p, q) for p, q in zip(learner.model.parameters(), before, strict=True))
    learner.start_task(1)
    for p, q in zip(learner.model.parameters(), before, strict=True):
        torch.testing.assert_close(p.detach(), 0.5 * q)


@pytest.fixture(scope="module")
def default_runs():
    cpu = PlasticityConfig(device="cpu")
    return {m: run_plasticity(cpu.replace(method=m)) for m in ("bp", "retrain", "snp", "cbp")}


def test_remedies_at_their_defaults(default_runs):
    fifth = {m: last_fifth(r["new_task_accuracy"]) for m, r in default_runs.items()}
    assert fifth["cbp"] >= fifth["retrain"] - 0.05
    assert default_runs["cbp"]["dormant_fraction"][-1] <= 0.15
    assert default_runs["cbp"]["units_replaced"] > 0
    assert fifth["snp"] >= fifth["bp"] + 0.20
    for run in default_runs.values():
        assert run["seconds"] <= 60


def test_remedies_panel_runs_and_plots_what_it_computed():
    panel = remedies_panel(tasks=3, epochs=1, device="cpu")
    panel.controls["replacement_rate"].value = 1e-2
    panel.controls["maturity"].value = 20
    panel.button.click()
    assert panel.error is None
    assert set(panel.result) == {"bp", "snp", "cbp", "retrain"}
    assert panel.result["cbp"]["config"]["replacement_rate"] == 1e-2
    assert panel.result["cbp"]["units_replaced"] > 0
    lines = {line.get_label(): line for line in panel.figure.axes[1].lines}
    assert list(lines["continual backprop"].get_ydata()) == panel.result["cbp"]["dormant_fraction"]
    panel.controls["replacement_rate"].value = 0.0
    panel.button.click()
    assert panel.result["cbp"]["new_task_accuracy"] == panel.result["bp"]["new_task_accuracy"]
