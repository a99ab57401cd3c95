"""The loss-of-plasticity experiment: its task sequences, its command line (one seed and
several), ResNet-18, its panel and the head reset."""

import json

import numpy as np
import pytest
import torch

from cl_teach.cli import main
from cl_teach.data import load_dataset
from cl_teach.plasticity import PlasticityConfig, last_fifth, run_plasticity
from cl_teach.plasticity.backprop import HeadReset
from cl_teach.plasticity.network import build_net
from cl_teach.plasticity.tasks import number_of_tasks, task_sequence
from cl_teach.presets import config, load, names
from cl_teach.train import SeedRandom, cross_entropy
from cl_teach.widgets.plasticity import problem_panel

FIELDS = {
    "method",
    "seed",
    "tasks",
    "new_task_accuracy",
    "units_replaced_per_task",
    "dormant_fraction",
    "dormant_fraction_per_site",
    "dormant_mask",
    "effective_rank",
    "stable_rank",
    "weight_magnitude",
    "units_replaced",
    "last_fifth_accuracy",
    "final_dormant_fraction",
    "unit_state",
    "seconds",
    "config",
}
PER_TASK = FIELDS - {"method", "seed", "tasks", "units_replaced", "seconds", "config", "unit_state"}
PER_TASK -= {"last_fifth_accuracy", "final_dormant_fraction"}
CPU = torch.device("cpu")


def test_json_of_one_seed_at_the_defaults(tmp_path):
    path = tmp_path / "bp.json"
    assert (
        main(["plasticity", "--method", "bp", "--device", "cpu", "--quiet", "--json", str(path)])
        == 0
    )
    run = json.loads(path.read_text())
    assert set(run) == FIELDS
    assert run["method"] == "bp" and run["seed"] == 0 and run["tasks"] == 30
    for key in PER_TASK:
        assert len(run[key]) == 30, key
    assert set(run["dormant_fraction_per_site"][-1]) == {
        "backbone.fc1.1",
        "backbone.fc2.1",
        "backbone.fc3.1",
    }
    assert run["last_fifth_accuracy"] == last_fifth(run["new_task_accuracy"])
    assert run["final_dormant_fraction"] == run["dormant_fraction"][-1]


def test_json_of_several_seeds_has_each_seed_and_their_summary(capsys):
    argv = ["plasticity", "--method", "cbp", "--tasks", "3", "--epochs", "1", "--seeds", "3"]
    assert main([*argv, "--device", "cpu", "--quiet", "--json", "-"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["seeds"] == [0, 1, 2] and [r["seed"] for r in out["per_seed"]] == [0, 1, 2]
    for r in out["per_seed"]:
        assert set(r) == FIELDS and r["config"]["seed"] == r["seed"]
    for name in ("last_fifth_accuracy", "final_dormant_fraction"):
        values = [r[name] for r in out["per_seed"]]
        assert out["mean"][name] == pytest.approx(np.mean(values))
        assert out["std"][name] == pytest.approx(np.std(values, ddof=1))
        assert out["ci95"][name] > 0
    assert len({r["last_fifth_accuracy"] for r in out["per_seed"]}) > 1  # the seeds differ


def test_runs_are_deterministic_and_cached():
    cfg = PlasticityConfig(tasks=3, device="cpu")
    a = run_plasticity(cfg, use_cache=False)
    b = run_plasticity(cfg)
    c = run_plasticity(cfg)
    assert a["new_task_accuracy"] == b["new_task_accuracy"]
    assert a["dormant_mask"] == b["dormant_mask"]
    assert not b["cached"] and c["cached"]


def test_permuted_tasks_each_seed_its_own_pixel_permutation_labels_kept():
    digits = load_dataset("digits").train
    t0, t1 = task_sequence(PlasticityConfig(tasks=2), SeedRandom([0, 1]), CPU)
    assert t0.train.x.shape == (2, *digits.x.shape[1:])  # one copy per seed
    assert not torch.equal(t0.train.x[0], t0.train.x[1])
    assert not torch.equal(t0.train.x[0], t1.train.x[0])
    for x in (t0.train.x[0, 5], t1.train.x[1, 5]):  # the same image, pixels permuted
        assert sorted(x.flatten().tolist()) == sorted(digits.x[0, 5].flatten().tolist())
    assert torch.equal(t0.train.y, digits.y.expand(2, -1))  # labels kept
    assert t0.classes == t1.classes == 10


def test_shuffle_labels_permutes_the_classes_per_task():
    digits = load_dataset("digits").train
    (task,) = task_sequence(PlasticityConfig(tasks=1, shuffle_labels=True), SeedRandom([0]), CPU)
    old, new = digits.y[0], task.train.y[0]
    assert not torch.equal(old, new)
    mapping = {int(o): int(n) for o, n in zip(old, new, strict=True)}  # one label per class
    assert sorted(mapping.values()) == list(range(10))
    assert all(mapping[int(o)] == int(n) for o, n in zip(old, new, strict=True))


def test_incremental_tasks_are_shared_by_every_seed():
    def tasks(seeds, **options):
        cfg = PlasticityConfig(setting="incremental", **options)
        return list(task_sequence(cfg, SeedRandom(seeds), CPU))

    incremental = tasks([0, 1])
    assert [t.classes for t in incremental] == [2, 4, 6, 8, 10]
    sizes = [len(t.train) for t in incremental]
    assert sizes == sorted(sizes) and sizes[-1] == len(load_dataset("digits").train)  # all kept
    assert incremental[0].train.x.shape[0] == 1  # one copy for all seeds
    assert torch.equal(tasks([7])[0].train.y, incremental[0].train.y)
    assert not torch.equal(tasks([0], class_order_seed=1)[0].train.y, incremental[0].train.y)
    run = run_plasticity(PlasticityConfig(setting="incremental", tasks=2, epochs=1, device="cpu"))
    assert run["tasks"] == 2 and all(0 <= a <= 1 for a in run["new_task_accuracy"])


def test_resnet18_from_the_command_line(tmp_path):
    path = tmp_path / "resnet.json"
    argv = ["plasticity", "--backbone", "resnet18", "--method", "cbp", "--setting", "incremental"]
    argv += ["--tasks", "1", "--epochs", "1", "--replacement-rate", "0.01", "--maturity", "0"]
    assert main([*argv, "--device", "cpu", "--quiet", "--json", str(path)]) == 0
    run = json.loads(path.read_text())
    assert len(run["dormant_fraction_per_site"][0]) == 17
    assert sum(map(len, run["dormant_mask"][0].values())) == 3904
    assert run["units_replaced"] > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--method", "sgd"], "method"),
        (["--optimizer", "rmsprop"], "optimizer"),
        (["--backbone", "vgg"], "backbone"),
        (["--tasks", "0"], "tasks"),
        (["--lr", "0"], "lr"),
        (["--threshold", "1"], "threshold"),
        (["--replacement-rate", "2"], "replacement_rate"),
        (["--l2-weight-decay", "-1"], "l2_weight_decay"),
        (["--seeds", "0"], "seed"),
        (["--setting", "incremental", "--tasks", "9"], "only 5 tasks"),
    ],
)
def test_bad_input_is_a_clear_error(argv, message, capsys):
    assert main(["plasticity", *argv, "--quiet"]) == 2
    assert message in capsys.readouterr().err


def test_panel_runs_over_seeds_and_plots_what_it_computed():
    base = PlasticityConfig(tasks=4, epochs=1, device="cpu")
    panel = problem_panel(base, seeds=3)
    assert panel.values() == {"optimizer": "sgd", "lr": base.lr, "tasks": 4, "width": 32,
                              "seeds": 3}  # fmt: skip
    panel.controls["width"].value = 16
    panel.controls["optimizer"].value = "adam"
    panel.controls["lr"].value = 1e-3
    panel.button.click()
    assert panel.error is None and panel.bar.value == panel.bar.max
    assert set(panel.result) == {"bp", "retrain"}
    bp = panel.result["bp"]
    assert [r["seed"] for r in bp] == [0, 1, 2]
    assert bp[0]["config"]["width"] == 16 and bp[0]["config"]["optimizer"] == "adam"
    line = panel.figure.axes[0].lines[0]  # the mean over seeds, with its band
    assert line.get_label() == "backprop"
    assert np.allclose(line.get_ydata(), np.mean([r["new_task_accuracy"] for r in bp], 0))
    ranks = panel.figure.axes[2].lines  # effective ranks, per method
    assert np.allclose(ranks[0].get_ydata(), np.mean([r["effective_rank"] for r in bp], 0))
    weights = panel.figure.axes[3].lines
    assert np.allclose(weights[0].get_ydata(), np.mean([r["weight_magnitude"] for r in bp], 0))
    assert len(panel.figure.axes) == 4
    panel.controls["lr"].value = 0.0001
    panel.controls["tasks"].value = 5
    panel.controls["seeds"].value = 1
    panel.button.click()
    assert len(panel.result["bp"]) == 1 and panel.result["bp"][0]["tasks"] == 5


def test_panel_starts_where_it_is_told():
    base = PlasticityConfig(tasks=4, epochs=1, device="cpu")
    panel = problem_panel(base, seeds=1, start={"lr": 0.01, "width": 16})
    assert panel.values()["lr"] == 0.01 and panel.values()["width"] == 16
    panel.button.click()
    assert panel.result["bp"][0]["config"]["lr"] == 0.01


def test_label_noise_replaces_that_fraction_of_the_training_labels_only():
    digits = load_dataset("digits")
    clean = PlasticityConfig(tasks=1)
    noisy = clean.replace(label_noise=0.3)
    (task,) = task_sequence(noisy, SeedRandom([0, 1]), CPU)
    (plain,) = task_sequence(clean, SeedRandom([0, 1]), CPU)
    changed = (task.train.y != digits.train.y.expand(2, -1)).float().mean(1)
    assert all(0.2 < c < 0.3 for c in changed.tolist())  # 30% redrawn, a tenth of them unchanged
    assert not torch.equal(task.train.y[0], task.train.y[1])  # each seed its own noise
    assert torch.equal(task.test.y, plain.test.y)  # test labels stay clean
    assert torch.equal(task.train.x, plain.train.x)  # the same images and permutation
    with pytest.raises(ValueError, match="permuted tasks only"):
        PlasticityConfig(setting="incremental", label_noise=0.1)
    with pytest.raises(ValueError, match="fraction"):
        PlasticityConfig(label_noise=1.0)


def test_panel_holds_a_presets_values_and_its_task_range():
    from cl_teach.presets import config

    base = config("dohare-cifar100-bp", "plasticity")
    panel = problem_panel(base, seeds=1)
    assert panel.values() == {"optimizer": "sgd", "lr": 0.1, "tasks": 20, "seeds": 1}
    assert panel.controls["tasks"].max == 20  # the stream has 20 tasks: no more to choose


def test_train_per_class_keeps_that_many_images_of_each_class():
    cfg = PlasticityConfig(tasks=1, train_per_class=3)
    (task,) = task_sequence(cfg, SeedRandom([0]), CPU)
    assert len(task.train) == 30 and torch.bincount(task.train.y[0]).tolist() == [3] * 10
    inc = PlasticityConfig(setting="incremental", tasks=2, train_per_class=2)
    assert [len(t.train) for t in task_sequence(inc, SeedRandom([0]), CPU)] == [4, 8]
    with pytest.raises(ValueError, match="train_per_class"):
        PlasticityConfig(train_per_class=0)


def test_grid_reports_progress_run_by_run():
    from cl_teach.plasticity import run_plasticity_grid

    calls = []
    cfg = PlasticityConfig(tasks=2, epochs=1, device="cpu")
    grid = run_plasticity_grid(
        {"bp": cfg, "cbp": cfg.replace(method="cbp")}, [0, 1], progress=lambda *a: calls.append(a)
    )
    assert list(grid) == ["bp", "cbp"] and [r["seed"] for r in grid["cbp"]] == [0, 1]
    assert (0, 2, 1, 2) in calls and (1, 2, 2, 2) in calls and calls[-1] == (2, 2, 0, 0)
    layers = grid["cbp"][0]["unit_state"]  # continual backprop's units at the end
    assert [len(layer["utility"]) for layer in layers] == [32, 32, 32]
    assert grid["bp"][0]["unit_state"] == []


def test_head_reset_reinitialises_the_output_layer_and_its_optimizer_state():
    cfg = PlasticityConfig(method="head_reset")
    random = SeedRandom([0, 1])
    learner = HeadReset(cfg, build_net(cfg, random("init")), random)
    x, y = torch.randn(2, 16, 1, 8, 8), torch.randint(0, 10, (2, 16))
    cross_entropy(learner.model(x)["logits"], y).sum().backward()
    learner.optimizer.step()
    head, body = learner.model.head.weight, learner.model.backbone.fc1[0].weight
    head_before, body_before = head.detach().clone(), body.detach().clone()
    learner.start_task(1)
    assert not torch.equal(head[0], head_before[0]) and not torch.equal(head[1], head_before[1])
    assert not torch.equal(head[0], head[1])  # each seed its own fresh head
    assert torch.equal(body, body_before)
    assert learner.optimizer.state[head]["momentum_buffer"].abs().sum() == 0
    assert learner.optimizer.state[body]["momentum_buffer"].abs().sum() > 0


PLASTICITY_PRESETS = names("plasticity")


def test_the_papers_presets_differ_in_the_method_alone_and_quote_its_numbers():
    assert {config(n, "plasticity").method for n in PLASTICITY_PRESETS} == {
        "bp", "retrain", "snp", "cbp"
    }  # fmt: skip
    base = config("dohare-cifar100-bp", "plasticity")
    assert (base.dataset, base.setting, base.classes_per_task, number_of_tasks(base)) == (
        "cifar100", "incremental", 5, 20
    )  # fmt: skip
    assert (base.backbone, base.lr, base.momentum, base.weight_decay, base.batch_size) == (
        "resnet18", 0.1, 0.9, 5e-4, 90
    )  # fmt: skip
    assert (base.epochs, base.milestones, base.lr_decay) == (200, (60, 120, 160), 0.2)
    assert (base.replacement_rate, base.maturity, base.decay) == (1e-5, 1000, 0.99)
    assert (base.noise_std, base.l2_weight_decay, base.snp_form) == (1e-5, 0.0, "step")
    for name in PLASTICITY_PRESETS:
        preset = load(name)
        assert preset["groups"] == ["dohare-cifar100"] and "not measured" in preset["estimate"]
        assert config(name, "plasticity") == base.replace(method=preset["config"]["method"])
        assert 0.7 <= preset["paper"]["accuracy_at_100_classes"] <= 0.77
    assert load("dohare-cifar100-cbp")["paper"]["dormant_fraction"] == 0.015


@pytest.mark.slow
@pytest.mark.parametrize("name", PLASTICITY_PRESETS)
def test_every_plasticity_preset_runs_on_cifar_files(name, cifar100, monkeypatch, capsys):
    """The preset with tiny overrides (one epoch, two images per class, and two of its 20
    tasks: a ResNet-18 on the CPU takes minutes for all 20) on CIFAR-100 files written
    by the tests; the JSON carries the preset's config with the overrides applied."""
    monkeypatch.setenv("CL_TEACH_DATA", str(cifar100))
    argv = ["plasticity", "--preset", name, "--epochs", "1", "--train-per-class", "2",
            "--tasks", "2", "--device", "cpu", "--quiet", "--json", "-"]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    expected = config(name, "plasticity", epochs=1, train_per_class=2, tasks=2, device="cpu")
    assert out["config"] == json.loads(json.dumps(expected.to_dict()))
    assert out["tasks"] == 2 and len(out["dormant_fraction_per_site"][0]) == 17
