"""Continual backprop, L2 and Shrink & Perturb: the replacement invariants (MLP, CNN,
ResNet-18), the optimizer reset, the shared weight decay, and the remedies panel."""

import copy

import numpy as np
import pytest
import torch

from cl_teach.models import resnet18
from cl_teach.plasticity import PlasticityConfig, run_plasticity
from cl_teach.plasticity.backprop import Backprop
from cl_teach.plasticity.continual_backprop import ContinualBackprop, _touched, unit_layers
from cl_teach.plasticity.network import PlasticityNet, build_net
from cl_teach.plasticity.shrink_perturb import L2, ShrinkPerturb
from cl_teach.train import SeedRandom, cross_entropy
from cl_teach.widgets.plasticity import remedies_panel

SEEDS = (0, 1)
SHAPE = {"mlp": (1, 8, 8), "cnn": (1, 8, 8), "resnet18": (3, 16, 16)}  # digits; small RGB
SAME = (
    "new_task_accuracy",
    "dormant_fraction",
    "dormant_fraction_per_site",
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


def _learner(backbone="mlp", optimizer="sgd", cls=ContinualBackprop, **options):
    """A learner of two seeds; ResNet-18 (CIFAR stem) on 3x16x16 images."""
    options = {"width": 8 if backbone == "cnn" else 16, "lr": 0.01, **options}
    cfg = PlasticityConfig(backbone=backbone, optimizer=optimizer, **options)
    random = SeedRandom(SEEDS)
    gens = random("init")
    if backbone == "resnet18":
        model = PlasticityNet(resnet18(SHAPE["resnet18"], gens), 10, gens)
    else:
        model = build_net(cfg, gens)
    return cls(cfg, model, random)


def _batch(learner, seed=0):
    """Each seed's own batch: 64 images (8 for ResNet-18) and labels."""
    g = torch.Generator().manual_seed(seed)
    n = 8 if learner.cfg.backbone == "resnet18" else 64
    shape = SHAPE[learner.cfg.backbone]
    return torch.randn(len(SEEDS), n, *shape, generator=g), torch.randint(
        0, 10, (2, n), generator=g
    )


def _step(learner, seed):
    """One training step, without ``after_step``."""
    x, y = _batch(learner, seed)
    learner.model.train()
    loss = cross_entropy(learner.model(x)["logits"], y).sum()
    learner.optimizer.zero_grad()
    loss.backward()
    learner.optimizer.step()


def _make_dead(learner, fraction=0.25):
    """The first ``fraction`` of the units of every layer never fire (by construction)."""
    with torch.no_grad():
        for layer in learner.layers:
            n = int(fraction * layer.units)
            if layer.bn is None:
                layer.inp.bias[:, :n] = -100.0
            else:
                layer.bn.weight[:, :n], layer.bn.bias[:, :n] = 0.0, -1.0
            yield n


@pytest.mark.parametrize("backbone", ["mlp", "cnn", "resnet18"])
def test_outputs_unchanged_right_after_replacing_the_lowest_utility_units(backbone):
    learner = _learner(backbone, replacement_rate=0.25, maturity=0)
    dead = list(_make_dead(learner))
    x, _ = _batch(learner, seed=0)
    _step(learner, 0)
    learner.model.train()  # BatchNorm on batch statistics: silent means silent on x
    before = learner.model(x)["logits"].detach()  # also the batch the utility is measured on
    magnitudes = learner.sites.values()
    learner.after_step()
    for k, per_seed in enumerate(learner.replaced_last):
        for s, units in enumerate(per_seed):
            assert units.numel() == dead[k]  # rate x units, all mature
            assert magnitudes[learner.layers[k].site][s, units].sum() == 0  # the silent ones
    torch.testing.assert_close(learner.model(x)["logits"], before, rtol=0, atol=1e-5)


@pytest.mark.parametrize("backbone", ["mlp", "cnn"])
def test_a_new_unit_adds_nothing(backbone):
    """Whatever units go, the new network computes what the old one computes without
    them: the fresh units' zero outgoing weights silence them."""
    learner = _learner(backbone, replacement_rate=0.3, maturity=0)
    x, _ = _batch(learner, seed=99)
    for step in range(3):
        _step(learner, step)
        old = copy.deepcopy(learner.model)
        learner.after_step()
        with torch.no_grad():
            for layer, per_seed in zip(unit_layers(old), learner.replaced_last, strict=True):
                for s, units in enumerate(per_seed):
                    assert units.numel() > 0
                    layer.out.weight[s, :, units] = 0.0
        old.eval(), learner.model.eval()
        torch.testing.assert_close(learner.model(x)["logits"], old(x)["logits"])


def test_replaced_count_matches_rate_times_mature_units_and_immature_are_immune():
    rate, maturity = 0.03, 30
    learner = _learner(replacement_rate=rate, maturity=maturity)
    expected = [[0.0] * len(SEEDS) for _ in learner.layers]
    for step in range(300):
        _step(learner, step)
        ages = [a.clone() + 1 for a in learner.age]  # ages as after_step sees them
        for k, age in enumerate(ages):
            for s in range(len(SEEDS)):
                expected[k][s] += rate * int((age[s] > maturity).sum())
        learner.after_step()
        for k, per_seed in enumerate(learner.replaced_last):
            for s, units in enumerate(per_seed):
                assert bool((ages[k][s, units] > maturity).all()), "an immature unit was replaced"
                assert bool((learner.age[k][s, units] == 0).all())
    for s in range(len(SEEDS)):
        total_expected = sum(int(e[s]) for e in expected)
        assert abs(learner.units_replaced[s] - total_expected) <= len(learner.layers)
        assert learner.units_replaced[s] > 100


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_optimizer_state_of_replaced_weights_is_forgotten(optimizer):
    learner = _learner(optimizer=optimizer, replacement_rate=0.0, maturity=0)
    for step in range(3):
        _step(learner, step)
        learner.after_step()
    units, s = torch.tensor([1, 4]), 1
    layer = learner.layers[1]
    learner.replace(1, s, units)
    state = learner.optimizer.state
    names = ["momentum_buffer"] if optimizer == "sgd" else ["exp_avg", "exp_avg_sq", "step"]
    for name in names:
        assert state[layer.inp.weight][name][s, units].abs().sum() == 0
        assert state[layer.inp.bias][name][s, units].abs().sum() == 0
        assert state[layer.out.weight][name][s, :, units].abs().sum() == 0
        assert state[layer.inp.weight][name][s, 0].abs().sum() > 0  # the other units keep theirs
        assert state[layer.inp.weight][name][0, units].abs().sum() > 0  # and the other seed
    assert layer.out.weight[s, :, units].abs().sum() == 0
    assert layer.inp.bias[s, units].abs().sum() == 0
    assert (learner.age[1][s, units] == 0).all() and (learner.utility[1][s, units] == 0).all()


def test_adam_moves_a_replaced_weight_by_at_most_lr_as_in_a_fresh_network():
    """With the step count t kept, Adam's bias correction would scale the zeroed moments'
    first update to (1 - b1) / (1 - b1^t) / sqrt((1 - b2) / (1 - b2^t)) x lr: 2.5 x lr after
    1000 steps, 3.2 x in the limit. With the per-element step reset, a new weight's first
    update with a gradient is lr (0.74 lr when the step before had none). At the first
    step only the outgoing weights get a gradient (the new unit is not read yet); at the
    second the input weights too."""
    learner = _learner(optimizer="adam", lr=1e-3, replacement_rate=0.0, maturity=0)
    for step in range(1000):  # long enough for 1 - b2^t to be near 1
        _step(learner, step)
        learner.after_step()
    layer, units, s = learner.layers[0], torch.tensor([2, 5]), 0
    learner.replace(0, s, units)
    touched = list(_touched(layer, s, units))  # input rows, bias, outgoing columns
    lr, state = learner.optimizer.lr, learner.optimizer.state
    moved = []
    for t in (1, 2):
        before = [p[index].detach().clone() for p, index in touched]
        _step(learner, 1000 + t)
        moved.append(
            [(p[index] - old).abs() / lr for (p, index), old in zip(touched, before, strict=True)]
        )
    inputs, bias, outgoing = moved[0]
    assert inputs.max() == 0 and bias.max() == 0
    assert outgoing.max() <= 1.001 and (outgoing > 0.99).sum() >= 8  # those with a gradient
    inputs, bias, _ = moved[1]
    assert inputs.max() <= 0.75 and inputs.median() > 0.7 and 0.7 < bias.max() <= 0.75
    for p, index in touched:
        assert (state[p]["step"][index] == 2).all()
    assert state[layer.inp.weight]["step"][s, 0].min() == 1002  # the other units count on


@pytest.mark.parametrize("backbone", ["cnn", "resnet18"])
def test_conv_replacement_resets_the_batchnorm_channel(backbone):
    learner = _learner(backbone, replacement_rate=0.0)
    k, s = 1, 1
    layer = learner.layers[k]
    with torch.no_grad():
        for t in (layer.bn.weight, layer.bn.bias, layer.bn.running_mean):
            t.uniform_(0.5, 2.0)
        layer.bn.running_var.uniform_(2.0, 3.0)
    old = layer.inp.weight[s, 3].clone()
    learner.replace(k, s, torch.tensor([3]))
    assert layer.bn.weight[s, 3] == 1 and layer.bn.bias[s, 3] == 0
    assert layer.bn.running_mean[s, 3] == 0 and layer.bn.running_var[s, 3] == 1
    assert layer.bn.weight[s, 2] != 1 and layer.bn.weight[0, 3] != 1  # only that channel
    assert layer.out.weight[s, :, 3].abs().sum() == 0
    assert not torch.equal(layer.inp.weight[s, 3], old)
    if backbone == "cnn":  # PyTorch's default initialisation
        bound = 1 / layer.inp.weight[0, 0].numel() ** 0.5
        assert layer.inp.weight[s, 3].abs().max() <= bound
    else:  # kaiming normal, std sqrt(2 / fan_out), as models.resnet18
        fan_out = layer.inp.weight.shape[1] * 9
        std = float(layer.inp.weight[s, 3].detach().std())
        assert 0.8 < std / (2 / fan_out) ** 0.5 < 1.2


def test_resnet18_renews_the_inner_units_of_each_block_only():
    """A block's output units also feed the next identity path, which no weight controls:
    they (and the stem) are not replaceable."""
    learner = _learner("resnet18")
    blocks = [f"layer{i}.{j}" for i in range(1, 5) for j in (0, 1)]
    assert [layer.site for layer in learner.layers] == [f"backbone.{b}.relu#1" for b in blocks]
    for layer, b in zip(learner.layers, blocks, strict=True):
        block = learner.model.backbone.get_submodule(b)
        assert (layer.inp, layer.bn, layer.out) == (block.conv1, block.bn1, block.conv2)


def test_resnet18_replacing_silent_units_leaves_the_function_unchanged():
    learner = _learner("resnet18", replacement_rate=0.0)
    x, _ = _batch(learner, seed=3)
    layer, units, s = learner.layers[2], torch.tensor([3, 7]), 1  # layer2.0's inner units
    with torch.no_grad():
        layer.bn.weight[s, units], layer.bn.bias[s, units] = 0.0, -1.0  # silent
    model = learner.model

    def outputs():  # train mode on a copy: its BatchNorm statistics update is thrown away
        return model.eval()(x)["logits"], copy.deepcopy(model).train()(x)["logits"]

    with torch.no_grad():
        before = outputs()
        learner.replace(2, s, units)
        after = outputs()
    assert layer.out.weight[s, :, units].abs().sum() == 0
    for a, b in zip(after, before, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_random_replacement_takes_mature_units_the_utility_would_not():
    """``replacement="random"`` replaces as many mature units as the utility would, drawn
    at random: not only the silent ones the utility picks."""
    silent = {}
    for replacement in ("utility", "random"):
        learner = _learner(replacement_rate=0.25, maturity=0, replacement=replacement)
        dead = list(_make_dead(learner))
        _step(learner, 0)
        magnitudes = learner.sites.values()
        learner.after_step()
        silent[replacement] = []
        for k, per_seed in enumerate(learner.replaced_last):
            for s, units in enumerate(per_seed):
                assert units.numel() == dead[k]
                silent[replacement].append(
                    bool(magnitudes[learner.layers[k].site][s, units].sum() == 0)
                )
    assert all(silent["utility"]) and not all(silent["random"])


def test_the_utility_is_a_running_average_of_the_contribution():
    """One step of the utility, by hand: u <- eta u + (1 - eta) mean|h| sum|w_out|."""
    learner = _learner(replacement_rate=0.0, decay=0.9)
    x, _ = _batch(learner, seed=3)
    before = [u.clone() for u in learner.utility]
    _step(learner, 3)
    learner.model.train()
    learner.model(x)  # the step's forward pass, as after_step reads it
    h = {site: m for site, m in learner.sites.values().items()}
    learner.after_step()
    for k, layer in enumerate(learner.layers):
        w_out = layer.out.weight.abs().sum(1)  # (S, units)
        expected = 0.9 * before[k] + 0.1 * h[layer.site] * w_out
        torch.testing.assert_close(learner.utility[k], expected)


def test_rate_zero_is_backprop_exactly():
    small = PlasticityConfig(tasks=4, epochs=2, device="cpu")
    bp = run_plasticity(small.replace(method="bp"), use_cache=False)
    cbp = run_plasticity(small.replace(method="cbp", replacement_rate=0.0), use_cache=False)
    for key in SAME:
        assert cbp[key] == bp[key], key
    assert cbp["units_replaced"] == 0


def test_l2_and_shrink_perturb_add_their_weight_decay_to_the_shared_one():
    options = {"weight_decay": 1e-3, "l2_weight_decay": 1e-2}
    assert _learner(cls=Backprop, **options).optimizer.weight_decay == 1e-3
    for cls in (L2, ShrinkPerturb):
        assert _learner(cls=cls, **options).optimizer.weight_decay == pytest.approx(1.1e-2)


def test_shrink_perturb_is_l2_plus_noise_and_l2_is_bp_plus_weight_decay():
    small = PlasticityConfig(tasks=3, epochs=1, device="cpu", weight_decay=1e-3)
    l2 = run_plasticity(small.replace(method="l2"), use_cache=False)
    snp = run_plasticity(small.replace(method="snp", noise_std=0.0), use_cache=False)
    for key in SAME:
        assert snp[key] == l2[key], key
    bp = run_plasticity(small.replace(method="bp"), use_cache=False)
    l2_off = run_plasticity(small.replace(method="l2", l2_weight_decay=0.0), use_cache=False)
    assert l2_off["new_task_accuracy"] == bp["new_task_accuracy"]
    assert l2["weight_magnitude"][-1] < bp["weight_magnitude"][-1]


def test_shrink_perturb_adds_noise_of_scale_sigma_after_every_step_each_seed_its_own():
    learner = _learner(cls=ShrinkPerturb, noise_std=0.1)
    weight = learner.model.backbone.fc1[0].weight
    before = weight.detach().clone()
    learner.after_step()
    noise = weight.detach() - before
    for s in range(len(SEEDS)):
        assert 0.09 < float(noise[s].std()) < 0.11 and abs(float(noise[s].mean())) < 0.01
    assert not torch.equal(noise[0], noise[1])


def test_shrink_perturb_boundary_form_shrinks_towards_a_fresh_network():
    learner = _learner(cls=ShrinkPerturb, snp_form="boundary", shrink=0.5, noise_std=0.0)
    before = [p.detach().clone() for p in learner.model.parameters()]
    learner.start_task(0)  # no boundary before the first task
    learner.after_step()  # no per-step noise in this form
    assert all(torch.equal(p, q) for p, q in zip(learner.model.parameters(), before, strict=True))
    learner.start_task(1)
    for p, q in zip(learner.model.parameters(), before, strict=True):
        torch.testing.assert_close(p.detach(), 0.5 * q)


def test_remedies_panel_runs_and_plots_what_it_computed():
    panel = remedies_panel(PlasticityConfig(tasks=3, epochs=1, device="cpu"), seeds=2)
    panel.controls["replacement_rate"].value = 1e-2
    panel.controls["maturity"].value = 20
    panel.button.click()
    assert panel.error is None
    result = panel.result
    assert list(result) == ["bp", "l2", "snp", "cbp", "head_reset", "retrain"]
    assert all(len(runs) == 2 for runs in result.values())
    assert result["cbp"][0]["config"]["replacement_rate"] == 1e-2
    assert result["cbp"][0]["config"]["maturity"] == 20 and result["cbp"][0]["units_replaced"] > 0
    lines = {line.get_label(): line for line in panel.figure.axes[1].lines}
    dormant = np.mean([r["dormant_fraction"] for r in result["cbp"]], 0)
    assert np.allclose(lines["continual backprop"].get_ydata(), dormant)
    assert "L2 (weight decay)" in lines and "Shrink & Perturb" in lines
    replaced = panel.figure.axes[3].lines[0]  # units replaced per task, shown live
    per_task = np.mean([r["units_replaced_per_task"] for r in result["cbp"]], 0)
    assert np.allclose(replaced.get_ydata(), per_task)
    panel.controls["replacement_rate"].value = 0.0
    panel.button.click()
    for cbp, bp in zip(panel.result["cbp"], panel.result["bp"], strict=True):
        assert cbp["new_task_accuracy"] == bp["new_task_accuracy"]


@pytest.mark.parametrize("name", ["dohare-cifar100-bp", "dohare-cifar100-cbp"])
def test_remedies_panel_shows_exactly_a_presets_values(name):
    from cl_teach.presets import config

    base = config(name, "plasticity")
    values = remedies_panel(base, seeds=1).values()
    assert values == {
        "replacement_rate": 1e-5,
        "replacement": "utility",
        "maturity": 1000,
        "decay": 0.99,
        "noise_std": 1e-5,
        "l2_weight_decay": 0.0,
        "snp_form": "step",
        "shrink": base.shrink,
        "seeds": 1,
    }
    for field, value in values.items():  # nothing the panel sends differs from the preset
        assert field == "seeds" or getattr(base, field) == value, field
