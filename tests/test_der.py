"""DER (Dynamically Expandable Representation): the invariants of issue 4."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from cl_teach.cli import main
from cl_teach.config import RunConfig
from cl_teach.data import Stream, load_dataset
from cl_teach.experiment import Result
from cl_teach.layers import Linear
from cl_teach.methods import method_class
from cl_teach.methods.der import aux_targets
from cl_teach.methods.expandable import ExpandableNet, weight_align
from cl_teach.models import count_parameters, make_backbone, one_seed, resnet32
from cl_teach.train import Batch, fit


def make(cfg: RunConfig, scenario=None, seeds=(0,)):
    stream = Stream(load_dataset(cfg.dataset), scenario or cfg.scenario, cfg.class_order_seed)
    return method_class(cfg.method)(cfg, stream, torch.device("cpu"), list(seeds)), stream


def drive(cfg: RunConfig, tasks: int, seeds=(0,)):
    """Train ``tasks`` tasks by hand; the model's state after each task."""
    method, stream = make(cfg, seeds=seeds)
    states = []
    for task in stream.tasks[:tasks]:
        method.before_task(task)
        method.optimizer = method.make_optimizer(cfg.weight_decay)
        data = method.train_data(task)
        fit(method, data, method.random, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr)
        method.after_task(task)
        states.append(copy.deepcopy(method.model.state_dict()))
    return method, states


def block_state(state: dict, k: int) -> dict:
    prefix = f"specialized_blocks.{k}."
    return {n: v for n, v in state.items() if n.startswith(prefix)}


SMALL = RunConfig(method="der", epochs=2, budget=40)


@pytest.fixture(scope="module")
def three_tasks():
    return {freeze: drive(SMALL.replace(freeze_old=freeze), 3) for freeze in (True, False)}


def test_old_backbones_are_bit_identical_after_new_tasks(three_tasks):
    _, states = three_tasks[True]
    for k, since in ((0, 0), (1, 1)):
        before = block_state(states[since], k)
        assert any("running_mean" in n for n in before)  # BatchNorm buffers are checked too
        for later in states[since + 1 :]:
            after = block_state(later, k)
            assert before.keys() == after.keys()
            for name in before:
                assert torch.equal(before[name], after[name]), name


def test_without_freezing_old_backbones_change(three_tasks):
    _, states = three_tasks[False]
    before, after = block_state(states[0], 0), block_state(states[1], 0)
    changed = [n for n in before if not torch.equal(before[n], after[n])]
    assert any("running_mean" in n for n in changed) and any("weight" in n for n in changed)


def test_frozen_blocks_stay_in_eval_mode_and_without_gradient(three_tasks):
    method, _ = three_tasks[True]
    method.train_mode()
    old, new = method.model.specialized_blocks[:-1], method.model.specialized_blocks[-1]
    assert all(not m.training for block in old for m in block.modules())
    assert all(m.training for m in new.modules())
    assert not any(p.requires_grad for p in old.parameters())
    trainable = {id(p) for p in method.optimizer.params}
    assert not trainable & {id(p) for p in old.parameters()}


def test_auxiliary_head_has_new_plus_one_outputs():
    cfg = SMALL.replace(epochs=1, scenario="B4Inc3")
    method, stream = make(cfg)
    method.before_task(stream.tasks[0])
    assert method.model.auxiliary_head is None  # no auxiliary loss in the first task
    method.after_task(stream.tasks[0])
    method.before_task(stream.tasks[1])
    head = method.model.auxiliary_head
    assert (head.in_features, head.out_features) == (method.model.out_dim, 3 + 1)
    assert (head.bias == 0).all()  # PyCIL's SimpleLinear: zero bias
    x = stream.train.to_float(stream.tasks[1].train.x[:, :5])
    assert method.model(x)["aux_logits"].shape == (1, 5, 4)
    y = torch.tensor([[0, 3, 4, 5, 6]])
    out = {"logits": torch.zeros(1, 5, 7), "aux_logits": torch.zeros(1, 5, 4)}
    # with uniform logits both terms are log(#outputs): the aux term has |new| + 1 classes
    assert float(method.loss(Batch(x, y, x), out)) == pytest.approx(np.log(7) + np.log(4))
    no_aux, _ = make(cfg.replace(aux_loss=False))
    no_aux.before_task(stream.tasks[0])
    no_aux.before_task(stream.tasks[1])
    assert no_aux.model.auxiliary_head is None


def test_auxiliary_targets_map_old_classes_to_0_and_new_class_c_to_c_minus_first_plus_1():
    """Checked on non-uniform logits, where a wrong mapping changes the loss."""
    y = torch.tensor([0, 1, 3, 4, 5, 6])  # first new class: 4 (old: 0..3; new: 4, 5, 6)
    assert aux_targets(y, 4).tolist() == [0, 0, 0, 1, 2, 3]
    cfg = SMALL.replace(epochs=1, scenario="B4Inc3")
    method, stream = make(cfg)
    method.before_task(stream.tasks[0])
    method.after_task(stream.tasks[0])
    method.before_task(stream.tasks[1])
    g = torch.Generator().manual_seed(0)
    aux = torch.randn(1, 6, 4, generator=g)
    out = {"logits": torch.zeros(1, 6, 7), "aux_logits": aux}
    loss = float(method.loss(Batch(None, y[None], None), out))
    expected = np.log(7) + float(
        torch.nn.functional.cross_entropy(aux[0], torch.tensor([0, 0, 0, 1, 2, 3]))
    )
    assert loss == pytest.approx(expected, rel=1e-6)
    wrong = float(torch.nn.functional.cross_entropy(aux[0], torch.tensor([0, 1, 3, 1, 2, 3])))
    assert abs(np.log(7) + wrong - loss) > 1e-3  # the check tells a wrong mapping apart


def test_weight_align_equalises_mean_norms_per_seed():
    g = torch.Generator().manual_seed(0)
    fc = Linear(8, 6, [torch.Generator().manual_seed(s) for s in range(2)])
    scale = torch.tensor([[1, 1, 1, 1, 3, 5.0], [1, 1, 1, 1, 0.5, 0.2]])
    with torch.no_grad():
        fc.weight.copy_(torch.randn(2, 6, 8, generator=g) * scale[..., None])
        bias = fc.bias.clone()
    gamma = weight_align(fc, 2)
    norms = fc.weight.detach().norm(dim=-1)
    assert gamma[0] < 1 < gamma[1]  # each seed by its own gamma
    for s in range(2):
        assert float(norms[s, :4].mean()) == pytest.approx(float(norms[s, 4:].mean()), rel=1e-6)
    assert torch.equal(fc.bias, bias)  # biases untouched, as PyCIL
    with pytest.raises(ValueError, match="old and new"):
        weight_align(fc, 6)


def test_weight_aligning_is_not_applied_after_the_first_task():
    method, states = drive(SMALL.replace(epochs=1), 2)
    assert method.gamma[0] is None and method.gamma[1] is not None
    before = np.asarray(method.norms_before_align[0][0])
    assert np.allclose(states[0]["fc.weight"][0].norm(dim=-1).numpy(), before)


def test_herding_selects_on_the_concatenated_features_of_all_backbones():
    method, _ = drive(SMALL.replace(epochs=1), 2)
    images = method.stream.tasks[0].train.x[:, :10]
    features = method.features(images)
    assert features.shape == (1, 10, 2 * method.model.out_dim)  # two backbones
    calls = []
    method.memory.update = lambda data, classes, features: calls.append(features(images))
    method.after_task(method.stream.tasks[1])
    assert calls[0].shape[-1] == 2 * method.model.out_dim


def test_ten_resnet32_backbones_hold_4635040_parameters():
    net = ExpandableNet(resnet32(), split=0, auxiliary=False)
    for _ in range(10):
        net.add_classes(10, one_seed())
    assert len(net.specialized_blocks) == 10
    assert count_parameters(net.specialized_blocks) == 4_635_040


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """The issue's command: der and replay, budget 200, digits B0Inc2, seed 0."""
    out = {}
    for method in ("der", "replay"):
        path = tmp_path_factory.mktemp("runs") / f"{method}.json"
        argv = ["run", "--method", method, "--budget", "200", "--dataset", "digits"]
        argv += ["--scenario", "B0Inc2", "--seed", "0", "--quiet", "--json", str(path)]
        assert main(argv) == 0
        out[method] = Result.from_json(json.loads(path.read_text()))
    return out


def test_der_at_budget_200_beats_the_floor_and_replay(cli_runs):
    der, replay = cli_runs["der"], cli_runs["replay"]
    assert der.final_accuracy >= 0.85
    assert der.final_accuracy >= replay.final_accuracy - 0.02
    assert der.memory_bytes == {"model": 4 * der.num_parameters, "exemplars": 200 * 64}


def test_parameters_grow_by_one_backbone_per_task(cli_runs):
    der = cli_runs["der"]
    backbone = count_parameters(make_backbone("cnn", (1, 8, 8)))
    n = der.num_parameters_per_task
    assert len(n) == 5 and n[-1] == der.num_parameters
    for t in range(1, 5):
        # classifier over 32 (t+1) features for 2 (t+1) classes, with biases
        fc = lambda k: 32 * k * 2 * k + 2 * k  # noqa: E731
        assert n[t] - n[t - 1] == backbone + fc(t + 1) - fc(t)


def test_aligned_rows_have_equal_mean_norms_in_the_run(cli_runs):
    der = cli_runs["der"]
    norms = der.array("classifier_norms")
    for t in range(1, 5):
        seen, new = 2 * (t + 1), 2
        row = norms[t, :seen]
        assert row[: seen - new].mean() == pytest.approx(row[seen - new :].mean(), rel=1e-5)
        before = np.asarray(der.extras["classifier_norms_before_align"][t])
        gamma = before[: seen - new].mean() / before[seen - new :].mean()
        assert der.extras["weight_align_gamma"][t] == pytest.approx(gamma, rel=1e-5)


def test_der_panel_runs_and_plots_what_it_computed():
    from cl_teach.lessons.der import SETTING
    from cl_teach.widgets.der import der_panel

    panel = der_panel(SETTING.replace(epochs=1, budget=40), seeds=1)
    panel.controls["freeze_old"].value = False
    panel.controls["weight_align"].value = False
    panel.button.click()
    assert panel.error is None
    der, replay = panel.result["DER"][0], panel.result["replay"][0]
    assert der.config["freeze_old"] is False and der.config["weight_align"] is False
    assert replay.budget == der.budget == 40
    assert replay.config["freeze_old"] is True  # replay's config carries no DER switch
    growth = panel.figure.axes[3]  # parameters per task: DER, then the single network
    assert list(growth.lines[0].get_ydata()) == der.num_parameters_per_task
    assert list(growth.lines[1].get_ydata()) == replay.num_parameters_per_task


def test_der_panel_shows_a_presets_values():
    """PyCIL's 2000 exemplars and weight decay 2e-4 are on the controls, not clamped."""
    from cl_teach.presets import config
    from cl_teach.widgets.der import der_panel

    panel = der_panel(config("pycil-der-b0inc10"))
    budget = panel.controls["budget"]
    assert budget.value == 2000 and budget.max >= 2000 and budget.min == 0
    assert panel.controls["weight_decay"].value == 2e-4
    assert panel.controls["seeds"].value == 5


def test_block_similarity_compares_the_first_backbone_with_the_newest():
    """DER records linear CKA per block between backbone 1 and the newest after each task
    from the second on; with no training since the copy the two are the same network."""
    cfg = SMALL.replace(epochs=1)
    method, _ = drive(cfg, 2, seeds=(0, 1))
    sims = method.extras(1)["block_similarity"]
    assert len(sims) == 1 and list(sims[0]) == ["stem", "stage1", "stage2", "pool"]
    assert all(0 <= v <= 1 + 1e-6 for v in sims[0].values())
    task = method.stream.tasks[1]
    method.model.specialized_blocks[1].load_state_dict(
        method.model.specialized_blocks[0].state_dict()
    )
    same = method.similarity_to_first(task)
    assert all(v == pytest.approx(1, abs=1e-5) for s in same for v in s.values())
