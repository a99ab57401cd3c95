"""Replay, EWC and Dark Experience Replay on digits B0Inc2 (seed 0): what issue 3 asks of
them, the panel of notebook 02, and the methods' parts. Runs are shared through one
module-scoped fixture (and the result cache) to keep this file fast."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cl_teach.cli import main
from cl_teach.config import RunConfig
from cl_teach.data import Stream, load_dataset
from cl_teach.experiment import run
from cl_teach.methods import method_class
from cl_teach.methods.ewc import empirical_fisher
from cl_teach.widgets.rehearsal import rehearsal_panel

BASE = RunConfig(dataset="digits", scenario="B0Inc2", seed=0)


@pytest.fixture(scope="module")
def cli_replay(tmp_path_factory):
    path = tmp_path_factory.mktemp("json") / "replay.json"
    argv = "run --method replay --budget 200 --selection herding --dataset digits"
    argv += f" --scenario B0Inc2 --seed 0 --quiet --json {path}"
    assert main(argv.split()) == 0
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def runs(cli_replay):
    """The runs the checks below compare (cached: the panel test reuses them)."""

    def one(method, **kw):
        return run(BASE.replace(method=method, **kw), progress=False)

    return {
        "replay20": one("replay", budget=20),
        "replay200": one("replay", budget=200),
        "finetune": one("finetune"),
        "finetune_task": one("finetune", eval="task"),
        "ewc": one("ewc"),
        "ewc_task": one("ewc", eval="task"),
        "dark_er": one("dark_er", budget=200),
        "dark_er_pp": one("dark_er_pp", budget=200),
    }


def test_cli_replay_herding_200(cli_replay):
    assert cli_replay["final_accuracy"] >= 0.85
    assert cli_replay["memory_bytes"]["exemplars"] == 200 * 64  # 200 digits of 1x8x8 uint8
    assert cli_replay["budget"] == 200 and cli_replay["selection"] == "herding"
    assert cli_replay["extras"]["exemplars_per_class"] == [20] * 10


def test_replay_rises_with_the_budget(runs):
    assert runs["replay200"].final_accuracy - runs["replay20"].final_accuracy >= 0.1
    assert runs["replay20"].memory_bytes["exemplars"] == 20 * 64


def test_ewc_fails_class_incremental_but_helps_task_incremental(runs):
    assert runs["ewc"].final_accuracy <= runs["finetune"].final_accuracy + 0.10
    assert runs["ewc_task"].final_accuracy > runs["finetune_task"].final_accuracy
    assert runs["ewc"].memory_bytes["exemplars"] == 0


@pytest.mark.parametrize("method", ["dark_er", "dark_er_pp"])
def test_dark_experience_replay_at_budget_200(runs, method):
    r = runs[method]
    assert r.final_accuracy >= 0.85
    assert r.selection == "reservoir" and r.memory_bytes["exemplars"] == 200 * 64
    # one head over all classes, but evaluated and plotted on the seen classes only
    assert np.isfinite(r.array("classifier_norms")[0]).sum() == 2
    assert np.isnan(r.array("per_class_accuracy")[0, 2:]).all()


def test_a_run_is_deterministic(runs):
    again = run(BASE.replace(method="ewc", eval="task"), use_cache=False, progress=False)
    np.testing.assert_array_equal(
        again.array("accuracy_matrix"), runs["ewc_task"].array("accuracy_matrix")
    )


def test_reservoir_replay_has_no_per_class_budget():
    with pytest.raises(ValueError, match="per-class"):
        run(BASE.replace(method="replay", selection="reservoir", per_class=True, budget=10))


def test_the_panel(runs):
    panel = rehearsal_panel(budgets=(20, 200))
    panel.button.click()
    assert panel.error is None
    chosen, grid = panel.result["chosen"], panel.result["grid"]
    assert chosen.method == "replay" and chosen.budget == 200
    assert chosen.final_accuracy == runs["replay200"].final_accuracy
    ax = panel.figure.axes[0]  # accuracy vs budget
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["replay"].get_xdata()) == [20, 200]
    assert list(lines["replay"].get_ydata()) == [
        grid["replay"][b].final_accuracy for b in (20, 200)
    ]
    assert lines["your run"].get_ydata()[0] == chosen.final_accuracy
    assert lines["DER++"].get_ydata()[1] == runs["dark_er_pp"].final_accuracy

    panel.controls["method"].value = "ewc"
    panel.button.click()
    assert panel.result["chosen"].method == "ewc" and panel.result["chosen"].budget == 0
    assert panel.result["chosen"].final_accuracy == runs["ewc"].final_accuracy


# --- the parts ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stream():
    return Stream(load_dataset("digits"), "B0Inc2")


def test_empirical_fisher_is_the_mean_squared_per_sample_gradient(stream):
    torch.manual_seed(0)
    method = method_class("ewc")(BASE.replace(method="ewc"), stream, torch.device("cpu"))
    method.before_task(stream.tasks[0])
    data = stream.tasks[0].train.subset(torch.arange(12))
    fisher = empirical_fisher(method.model, data)
    expected = {n: torch.zeros_like(p) for n, p in method.model.named_parameters()}
    method.model.eval()
    for i in range(len(data)):
        method.model.zero_grad()
        x = data.to_float(data.x[i : i + 1])
        F.cross_entropy(method.model(x)["logits"], data.y[i : i + 1]).backward()
        for n, p in method.model.named_parameters():
            expected[n] += p.grad.pow(2) / len(data)
    for n in expected:
        torch.testing.assert_close(fisher[n], expected[n])


def test_ewc_penalty_zero_at_the_anchor_and_growing_classifier(stream):
    method = method_class("ewc")(BASE.replace(method="ewc"), stream, torch.device("cpu"))
    method.before_task(stream.tasks[0])
    method.after_task(stream.tasks[0])
    assert method.penalty() == 0
    method.before_task(stream.tasks[1])  # the classifier gains two rows
    assert method.penalty() == 0
    assert method.fisher["fc.weight"].shape == (2, method.model.feature_dim)
    with torch.no_grad():
        method.model.fc.weight[2:] += 1.0  # new rows: no penalty
        assert method.penalty() == 0
        method.model.fc.weight[:2] += 1.0
        assert method.penalty() > 0
