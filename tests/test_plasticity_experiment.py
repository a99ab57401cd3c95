"""The loss-of-plasticity experiment at its defaults (seed 0, CPU), its CLI and its panel."""

import json

import numpy as np
import pytest

from cl_teach.cli import main
from cl_teach.plasticity import PlasticityConfig, last_fifth, run_plasticity
from cl_teach.plasticity.experiment import task_sequence
from cl_teach.widgets.plasticity import problem_panel

FIELDS = {
    "method",
    "tasks",
    "new_task_accuracy",
    "dormant_fraction",
    "dormant_fraction_per_layer",
    "effective_rank",
    "stable_rank",
    "weight_magnitude",
    "seconds",
    "units_replaced",
}


@pytest.fixture(scope="module")
def default_runs(tmp_path_factory):
    """bp and retrain at the defaults, through the command line."""
    runs = {}
    for method in ("bp", "retrain"):
        path = tmp_path_factory.mktemp("json") / f"{method}.json"
        assert main(["plasticity", "--method", method, "--device", "cpu", "--json", str(path)]) == 0
        runs[method] = json.loads(path.read_text())
    return runs


def test_json_has_the_documented_fields(default_runs):
    for method, run in default_runs.items():
        assert FIELDS <= set(run)
        assert run["method"] == method and run["tasks"] == 30
        for key in (
            "new_task_accuracy",
            "dormant_fraction",
            "effective_rank",
            "stable_rank",
            "weight_magnitude",
            "dormant_fraction_per_layer",
        ):
            assert len(run[key]) == 30
        assert set(run["dormant_fraction_per_layer"][-1]) == {
            "backbone.fc1.1",
            "backbone.fc2.1",
            "backbone.fc3.1",
        }


def test_backprop_loses_plasticity_a_fresh_network_does_not(default_runs):
    bp, retrain = default_runs["bp"], default_runs["retrain"]
    assert last_fifth(bp["new_task_accuracy"]) <= last_fifth(retrain["new_task_accuracy"]) - 0.10
    assert bp["new_task_accuracy"][0] > 0.8  # it learnt the first task well
    assert bp["dormant_fraction"][-1] >= 0.30
    assert retrain["dormant_fraction"][-1] <= 0.15
    assert bp["weight_magnitude"][-1] > 2 * retrain["weight_magnitude"][-1]
    for run in (bp, retrain):
        assert run["seconds"] <= 60


def test_runs_are_deterministic_and_cached():
    cfg = PlasticityConfig(tasks=3, device="cpu")
    a = run_plasticity(cfg, use_cache=False)
    b = run_plasticity(cfg)
    c = run_plasticity(cfg)
    assert (
        a["new_task_accuracy"] == b["new_task_accuracy"] and a["dormant_mask"] == b["dormant_mask"]
    )
    assert not b["cached"] and c["cached"]


def test_task_sequences():
    import torch

    permuted = task_sequence(PlasticityConfig(tasks=2), torch.device("cpu"))
    assert not torch.equal(permuted[0].train.x, permuted[1].train.x)
    assert sorted(permuted[0].train.x[0].flatten().tolist()) == sorted(
        permuted[1].train.x[0].flatten().tolist()
    )  # the same image, pixels permuted
    incremental = task_sequence(PlasticityConfig(setting="incremental"), torch.device("cpu"))
    assert [t.classes for t in incremental] == [2, 4, 6, 8, 10]
    sizes = [len(t.train) for t in incremental]
    assert sizes == sorted(sizes) and sizes[-1] == 1437  # all seen data stays
    run = run_plasticity(PlasticityConfig(setting="incremental", tasks=2, epochs=1, device="cpu"))
    assert run["tasks"] == 2 and all(0 <= a <= 1 for a in run["new_task_accuracy"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--method", "sgd"], "method"),
        (["--optimizer", "rmsprop"], "optimizer"),
        (["--tasks", "0"], "tasks"),
        (["--lr", "0"], "lr"),
        (["--threshold", "1"], "threshold"),
        (["--replacement-rate", "2"], "replacement_rate"),
        (["--setting", "incremental", "--tasks", "9"], "only 5 tasks"),
    ],
)
def test_bad_input_is_a_clear_error(argv, message, capsys):
    assert main(["plasticity", *argv]) == 2
    assert message in capsys.readouterr().err


def test_panel_runs_and_plots_what_it_computed():
    panel = problem_panel(tasks=4, device="cpu", epochs=1)
    panel.controls["width"].value = 16
    panel.controls["optimizer"].value = "adam"
    panel.controls["lr"].value = 1e-3
    panel.button.click()
    assert panel.error is None
    assert set(panel.result) == {"bp", "retrain"}
    assert panel.result["bp"]["config"]["width"] == 16
    assert panel.result["bp"]["config"]["optimizer"] == "adam"
    line = panel.figure.axes[0].lines[0]
    assert np.allclose(line.get_ydata(), panel.result["bp"]["new_task_accuracy"])
    panel.controls["lr"].value = 0.0001
    panel.controls["tasks"].value = 5
    panel.button.click()
    assert len(panel.result["bp"]["new_task_accuracy"]) == 5


def test_head_reset_reinitialises_the_output_layer_and_its_optimizer_state():
    import torch

    from cl_teach.plasticity.experiment import HeadReset, build_net

    cfg = PlasticityConfig(method="head_reset")
    learner = HeadReset(cfg, build_net(cfg))
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,))
    torch.nn.functional.cross_entropy(learner.model(x)["logits"], y).backward()
    learner.optimizer.step()
    head, body = learner.model.head.weight.detach().clone(), learner.model.backbone.fc1[0].weight
    body_before = body.detach().clone()
    learner.start_task(1)
    assert not torch.equal(learner.model.head.weight, head)
    assert torch.equal(body, body_before)
    assert learner.model.head.weight not in learner.optimizer.state
    assert body in learner.optimizer.state
