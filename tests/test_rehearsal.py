"""Replay, EWC and Dark Experience Replay on digits B0Inc2 (seed 0): what issue 3 asks of
them, the panels of notebooks 02a and 02b, and the methods' parts. Runs are shared through one
module-scoped fixture (and the result cache) to keep this file fast."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cl_teach import plots
from cl_teach.cli import main
from cl_teach.config import RunConfig
from cl_teach.data import Stream, load_dataset
from cl_teach.experiment import run, run_seeds
from cl_teach.lessons import regularization, rehearsal
from cl_teach.lessons.rehearsal import LABELS
from cl_teach.methods import method_class
from cl_teach.methods.ewc import empirical_fisher
from cl_teach.train import DivergedError, fit
from cl_teach.widgets.regularization import regularization_panel
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
    # a stored sample: its 64-byte image and 10 float32 logits (4 bytes each)
    assert r.selection == "reservoir" and r.memory_bytes["exemplars"] == 200 * (64 + 4 * 10)
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


@pytest.fixture(scope="module")
def lesson():
    """Notebook 02b's runs, short: two epochs per task on the digits, two seeds."""
    base = rehearsal.SETTING.replace(epochs=2)
    return base, rehearsal.runs(base, 2), rehearsal.one_pass(base, 2)


def test_the_notebooks_figures_read_on_a_projector(lesson):
    from cl_teach.widgets.rehearsal import draw_bias, draw_budgets, draw_logits

    _, results, passed_once = lesson
    for fig in (draw_budgets(results), draw_bias(results), draw_logits(results, passed_once)):
        assert not plots.too_small(fig)
        for ax in fig.axes:
            if ax.get_ylabel().startswith("final accuracy"):
                assert ax.get_ylim()[1] <= 1.0  # bands end where accuracy does
        plt.close(fig)


def test_the_one_pass_setting_compares_at_equal_samples_and_bytes(lesson):
    _, _, passed_once = lesson
    assert rehearsal.ONE_PASS.epochs == 1 and rehearsal.ONE_PASS.dataset == "mnist5k"
    assert sorted(passed_once["reservoir"]) == [50, 52]  # 50 x (784 + 40) // 784
    assert rehearsal.logit_share(rehearsal.ONE_PASS) == pytest.approx(40 / 784)
    assert rehearsal.logit_share(rehearsal.SETTING) == pytest.approx(40 / 64)
    gains = rehearsal.logits_vs_er(passed_once)
    assert list(gains) == ["Dark ER samples", "DER++ samples", "Dark ER bytes", "DER++ bytes"]
    assert all(d.n == 2 for d in gains.values())
    assert "MNIST, one pass, equal bytes" in rehearsal.gain_table(lesson[1], passed_once)


def test_the_rehearsal_panel(lesson):
    """The panel of notebook 02b waits for Run; its curves are the lesson's cached runs, a
    click trains only the chosen run, the budget axis is ticked at the budgets used."""
    base, results, _ = lesson
    panel = rehearsal_panel(base, seeds=2)
    assert panel.result is None and "press Run" in panel.status.value
    panel.button.click()
    assert panel.error is None
    chosen, grid = panel.result["chosen"], panel.result["grid"]
    assert [r.seed for r in chosen] == [0, 1]
    assert (chosen[0].method, chosen[0].selection, chosen[0].budget) == ("replay", "herding", 200)
    assert all(r.cached for r in chosen + grid["random"][20] + grid["reservoir"][325])
    ax = panel.figure.axes[0]
    herding = next(line for line in ax.get_lines() if line.get_label() == LABELS["herding"])
    assert list(herding.get_xdata()) == [20, 50, 200]
    means = [np.mean([r.final_accuracy for r in results["herding"][b]]) for b in (20, 50, 200)]
    np.testing.assert_allclose(herding.get_ydata(), means)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["20", "50", "200"]
    assert "your run" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert not plots.too_small(panel.figure)

    panel.controls["method"].value = "dark_er"
    panel.button.click()
    dark = panel.result["chosen"]
    assert dark[0].method == "dark_er" and dark[0].memory_bytes["exemplars"] == 200 * 104
    assert [r.final_accuracy for r in dark] == [r.final_accuracy for r in results["dark_er"][200]]


def test_the_rehearsal_panel_ranges_hold_the_given_values():
    panel = rehearsal_panel(rehearsal.SETTING.replace(budget=2000, alpha=0.3))
    budget, alpha = panel.controls["budget"], panel.controls["alpha"]
    assert budget.value == 2000 and budget.max >= 2000 and budget.step == 100
    assert alpha.value == pytest.approx(0.3) and alpha.min <= np.log10(0.3) <= alpha.max


def test_the_regularization_panel(monkeypatch, tmp_path):
    """The panel of notebook 02a: one evaluation at a time; a new lambda trains EWC only;
    a lambda too large for the step size says so in the status line. (An empty cache: a
    shared one may hold the new lambda's runs already.)"""
    monkeypatch.setenv("CL_TEACH_CACHE", str(tmp_path))
    base = regularization.SETTING.replace(epochs=2)
    panel = regularization_panel(base, seeds=2)
    panel.button.click()
    assert panel.error is None and list(panel.result) == ["class"]
    panel.controls["evaluation"].value = "task"
    panel.controls["ewc_lambda"].value = 10.0
    panel.button.click()
    ewc, finetune = panel.result["task"]["ewc"], panel.result["task"]["finetune"]
    assert ewc[0].config["ewc_lambda"] == 10.0 and not ewc[0].cached
    assert finetune[0].config["ewc_lambda"] == base.ewc_lambda
    panel.button.click()  # the same setting again: all cached
    assert all(r.cached for r in panel.result["task"]["ewc"])

    wild = regularization_panel(base.replace(ewc_lambda=1e6), seeds=2)
    assert wild.controls["ewc_lambda"].value == 1e6
    wild.button.click()
    assert "diverged" in wild.error and "--ewc-lambda" in wild.error and wild.figure is None


# --- the parts ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stream():
    return Stream(load_dataset("digits"), "B0Inc2")


def _method(name, stream, seeds=(0,), **kw):
    return method_class(name)(BASE.replace(method=name, **kw), stream, torch.device("cpu"), seeds)


def test_empirical_fisher_is_the_mean_squared_per_sample_gradient(stream):
    method = _method("ewc", stream, seeds=(0, 1))
    method.before_task(stream.tasks[0])
    data = stream.tasks[0].train.subset(torch.arange(12))
    fisher = empirical_fisher(method.model, data)
    expected = {n: torch.zeros_like(p) for n, p in method.model.named_parameters()}
    method.model.eval()
    for i in range(len(data)):
        method.model.zero_grad()
        x = data.to_float(data.x[:, i : i + 1]).expand(2, -1, -1, -1, -1)
        logits = method.model(x)["logits"]  # (2 seeds, 1, classes)
        F.cross_entropy(
            logits.flatten(0, 1), data.y[0, i : i + 1].repeat(2), reduction="sum"
        ).backward()
        for n, p in method.model.named_parameters():
            expected[n] += p.grad.pow(2) / len(data)
    for n in expected:
        torch.testing.assert_close(fisher[n], expected[n])


def test_ewc_penalty_zero_at_the_anchor_and_growing_classifier(stream):
    method = _method("ewc", stream)
    method.before_task(stream.tasks[0])
    method.after_task(stream.tasks[0])
    assert method.penalty() == 0
    method.before_task(stream.tasks[1])  # the classifier gains two rows
    assert method.penalty() == 0
    assert method.fisher["fc.weight"].shape == (1, 2, method.model.feature_dim)
    with torch.no_grad():
        method.model.fc.weight[:, 2:] += 1.0  # new rows: no penalty
        assert method.penalty() == 0
        method.model.fc.weight[:, :2] += 1.0
        assert method.penalty() > 0


def test_a_diverging_run_stops_with_a_clear_message_and_caches_nothing():
    from cl_teach import cache
    from cl_teach.experiment import _key

    cfg = BASE.replace(method="ewc", ewc_lambda=1e6, epochs=2)
    with pytest.raises(DivergedError, match=r"seed 0 .*task 2, epoch \d.*--ewc-lambda"):
        run(cfg, progress=False)
    assert cache.load("run", _key(cfg)) is None
    assert main(["run", "--method", "ewc", "--ewc-lambda", "1e6", "--epochs", "2", "--quiet"]) == 2


@pytest.mark.parametrize("epochs", [5, 10])
def test_ewc_defaults_are_stable_on_seeds_0_to_9(epochs):
    results = run_seeds(BASE.replace(method="ewc", epochs=epochs), range(10), progress=False)
    assert all(np.isfinite(r.array("accuracy_matrix")).sum() == 15 for r in results)
    assert min(r.final_accuracy for r in results) > 0.15  # never collapsed to chance (0.1)


def test_reservoir_stores_raw_images_and_the_logits_of_the_augmented_view():
    """On CIFAR the loop augments; the buffer must keep the un-augmented uint8 image (as
    mammoth's not_aug_inputs) and the logits the network gave the augmented view."""
    cifar = _fake_cifar()
    stream = Stream(cifar, "B0Inc5", 0)
    method = method_class("dark_er")(
        BASE.replace(method="dark_er", dataset="cifar10", budget=1000, backbone="cnn"),
        stream, torch.device("cpu"), [0],
    )  # fmt: skip
    method.before_task(stream.tasks[0])
    method.optimizer = method.make_optimizer(0.0)
    seen = []
    original = method.model.forward
    method.model.forward = lambda x: seen.append(x) or original(x)
    fit(method, stream.tasks[0].train, method.random, epochs=1, batch_size=8, lr=0.0,
        augment=True)  # fmt: skip
    stored = method.memory.x[0, : len(method.memory)]
    train = stream.tasks[0].train.x[0]
    assert all(any(torch.equal(img, t) for t in train) for img in stored)  # exact raw images
    first = seen[0]  # the first stream batch fills slots 0..7 (the buffer was empty)
    assert not torch.allclose(first[0], stream.train.to_float(stored[:8]))  # augmented views
    with torch.no_grad():  # lr 0: the same network, in train mode on the same batch
        z = original(first)["logits"][0]
    torch.testing.assert_close(method.memory.logits[0, :8], z)


def _fake_cifar(n=40):
    from cl_teach.data import DATASETS, _make

    g = np.random.default_rng(0)
    x = g.integers(0, 256, (n, 3, 32, 32)).astype(np.uint8)
    y = np.arange(n) % 10
    return _make(DATASETS["cifar10"], x, y, x[:10], y[:10])


def test_replay_forwards_current_and_memory_samples_in_one_batch(stream):
    """As mammoth's ER: one forward pass over [current; memory], so BatchNorm normalises
    old and new samples together."""
    method = _method("replay", stream, budget=40, batch_size=16)
    shapes, original = [], method.model.forward
    for task in stream.tasks[:2]:
        shapes.clear()
        method.before_task(task)
        method.optimizer = method.make_optimizer(0.0)
        method.model.forward = lambda x: shapes.append(tuple(x.shape)) or original(x)
        fit(method, task.train, method.random, epochs=1, batch_size=16, lr=0.01)
        method.model.forward = original
        method.after_task(task)
    assert shapes[0] == (1, 32, 1, 8, 8)  # 16 current + 16 replayed, one pass
    assert len(shapes) == -(-len(stream.tasks[1].train) // 16)  # one forward per step
