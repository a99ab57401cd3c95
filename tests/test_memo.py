"""MEMO and the memory accounting: the invariants of issue 5."""

from __future__ import annotations

import json

import pytest
import torch
from test_der import drive

from cl_teach import plots
from cl_teach.cli import main
from cl_teach.config import RunConfig
from cl_teach.equal_memory import MemoryConfig, exemplars_at, final_parameters, memory_table
from cl_teach.experiment import run
from cl_teach.methods.expandable import ExpandableNet
from cl_teach.models import cnn, resnet32


def test_memory_command_prints_the_papers_numbers(tmp_path, capsys):
    path = tmp_path / "memory.json"
    argv = ["memory", "--backbone", "resnet32", "--dataset", "cifar100", "--scenario", "B0Inc10"]
    assert main([*argv, "--budget", "2000", "--json", str(path)]) == 0
    t = json.loads(path.read_text())
    assert t["backbone_parameters"] == 463_504
    assert (t["generalized_parameters"], t["specialized_parameters"]) == (112_016, 351_488)
    assert t["exemplars_per_model"] == 603
    assert (t["der_parameters"], t["memo_parameters"]) == (4_635_040, 3_626_896)
    assert t["memo_exemplars"] == 3312
    assert "603 exemplars" in capsys.readouterr().out  # the summary, without --json -
    assert main(["memory", "--json", "-"]) == 0  # the defaults are the paper's example
    assert json.loads(capsys.readouterr().out) == t


def test_resnet18_imagenet_split():
    t = memory_table(MemoryConfig(dataset="imagenet100", backbone="resnet18"))
    assert t["backbone_parameters"] == 11_176_512
    assert (t["generalized_parameters"], t["specialized_parameters"]) == (2_782_784, 8_393_728)
    assert t["exemplars_per_model_exact"] == pytest.approx(297, abs=0.01)


def test_run_accounting_counts_the_classifier():
    cfg = RunConfig(dataset="cifar100", scenario="B0Inc10")
    assert final_parameters(cfg.replace(method="der")) == 4_635_040 + 640 * 100 + 100
    assert final_parameters(cfg.replace(method="memo")) == 3_626_896 + 640 * 100 + 100
    assert final_parameters(cfg.replace(method="replay")) == 463_504 + 64 * 100 + 100


def test_split_is_validated(capsys):
    for bad in (3, 4, -1):  # cnn blocks: stem, stage1, stage2, pool
        with pytest.raises(ValueError, match="split"):
            ExpandableNet(cnn((1, 8, 8)), split=bad)
    with pytest.raises(ValueError, match="nothing|no parameters"):
        memory_table(MemoryConfig(split=4))  # ResNet-32: only the pooling would be left
    assert main(["run", "--method", "memo", "--split", "3", "--epochs", "1", "--quiet"]) == 2
    assert "no parameters to specialise" in capsys.readouterr().err
    assert len(ExpandableNet(resnet32(), split=None).generalized_blocks) == 3  # after stage 2


SMALL = RunConfig(method="memo", epochs=1, budget=40)


def state(states: dict, prefix: str) -> dict:
    return {n: v for n, v in states.items() if n.startswith(prefix)}


@pytest.fixture(scope="module")
def two_tasks():
    return {base: drive(SMALL.replace(train_base=base), 2)[1] for base in (True, False)}


def test_freeze_base_keeps_generalized_blocks_and_train_base_changes_them(two_tasks):
    for train_base, states in two_tasks.items():
        before, after = (state(s, "generalized_blocks.") for s in states)
        assert any("running_var" in n for n in before)
        same = all(torch.equal(before[n], after[n]) for n in before)
        assert same is not train_base
        old_before, old_after = (state(s, "specialized_blocks.0.") for s in states)
        assert all(torch.equal(old_before[n], old_after[n]) for n in old_before)


def test_memo_measures_how_far_the_first_tasks_features_drift():
    """Frozen generalized blocks keep the first task's features exactly; trained ones move
    them. The measurement changes nothing: the same run with and without it."""
    cfg = RunConfig(method="memo", epochs=1, budget=40)
    trained, frozen = (
        run(cfg.replace(train_base=t), use_cache=False, progress=False) for t in (True, False)
    )
    assert len(trained.extras["first_task_drift"]) == len(trained.classes_per_task)
    assert trained.extras["first_task_drift"][0] == 0.0
    assert min(trained.extras["first_task_drift"][1:]) > 0.05
    assert frozen.extras["first_task_drift"] == [0.0] * len(frozen.classes_per_task)
    der = run(cfg.replace(method="der", budget=40), use_cache=False, progress=False)
    assert "first_task_drift" not in der.extras


def test_split_zero_is_der():
    memo = drive(SMALL.replace(split=0), 2)[1][-1]
    der = drive(SMALL.replace(method="der"), 2)[1][-1]
    assert memo.keys() == der.keys()
    assert all(torch.equal(memo[n], der[n]) for n in memo)


def test_memory_budget_sets_the_exemplars():
    cfg = RunConfig(method="memo", memory_budget=138_120)
    assert exemplars_at(cfg) == (138_120 - 4 * 26_242) // 64
    with pytest.raises(ValueError, match="model alone"):
        exemplars_at(cfg.replace(memory_budget=50_000))
    with pytest.raises(ValueError, match="not both"):
        exemplars_at(cfg.replace(budget=10))


def test_memo_matches_der_at_equal_memory():
    """Digits B0Inc2, seed 0: DER with 200 exemplars; MEMO at DER's total memory."""
    der = run(RunConfig(method="der", budget=200), progress=False)
    total = sum(der.memory_bytes.values())
    memo = run(RunConfig(method="memo", memory_budget=total), progress=False)
    assert memo.num_parameters < der.num_parameters
    assert memo.budget == exemplars_at(RunConfig(method="memo", memory_budget=total)) > 200
    assert sum(memo.memory_bytes.values()) <= total
    assert memo.final_accuracy >= der.final_accuracy - 0.02


def test_memo_panel_gives_every_method_ders_memory():
    from cl_teach.lessons.memo import SETTING
    from cl_teach.widgets.memo import memo_panel

    panel = memo_panel(SETTING.replace(epochs=1), seeds=1)
    panel.controls["split"].value = 0
    panel.button.click()
    assert panel.error is None
    memo, der, replay = (panel.result[m][0] for m in ("MEMO", "DER", "replay"))
    assert memo.num_parameters_per_task == der.num_parameters_per_task  # split 0 is DER
    assert der.budget == panel.controls["budget"].value == 10
    total = sum(der.memory_bytes.values())
    for r in (memo, replay):
        assert r.config["memory_budget"] >= total - 64 * der.budget  # DER's model + images
        assert sum(r.memory_bytes.values()) <= r.config["memory_budget"]
    labels = [t.get_text() for t in panel.figure.axes[3].texts]
    assert labels == [str(r.extras["exemplars"]) for r in (memo, der, replay)]
    assert not plots.too_small(panel.figure)


def test_the_notebooks_figures_read_on_a_projector():
    """Notebook 04's figures from short runs (one epoch per task, two seeds): readable text,
    at most four panels, accuracy intervals inside 0..1."""
    from cl_teach.lessons import memo
    from cl_teach.widgets.memo import draw_curve, draw_freezing, draw_networks, draw_similarity

    base = memo.SETTING.replace(epochs=1)
    results = memo.runs(base, 2)
    curve = results["curve"]
    figures = [draw_curve(curve), draw_similarity(curve[100]["DER"], base),
               draw_freezing(results["table"], "B4Inc2"), draw_networks(base)]  # fmt: skip
    for fig in figures:
        assert not plots.too_small(fig)
    for bars in figures[0].axes[0].containers:  # error bars end inside the accuracy range
        for segment in bars.lines[2][0].get_segments():
            assert 0 <= segment[:, 1].min() and segment[:, 1].max() <= 1
    assert [t.get_text() for t in figures[0].axes[0].get_xticklabels()][1].endswith("DER 10")
    cells = figures[2].axes[1].collections[0]
    assert cells.norm.vmin > 0 or cells.norm.vmax < 1  # the table's own colour range


def test_memo_panel_shows_a_presets_values():
    """PyCIL's memory is sized to CIFAR-100: DER's budget slider holds the preset's value and
    the split list the ResNet-32's blocks, the default after stage 2."""
    from cl_teach.lessons.memo import levels
    from cl_teach.presets import config
    from cl_teach.widgets.memo import memo_panel

    base = config("pycil-memo-b0inc10")
    panel = memo_panel(base)
    assert panel.controls["budget"].value == levels(base)[1] == base.budget == 2000
    assert panel.controls["budget"].max >= 10_000
    assert panel.controls["split"].value == 3
    assert [v for _, v in panel.controls["split"].options] == [0, 1, 2, 3]


def test_lesson_runs_share_one_stream_and_ders_memory():
    from cl_teach.lessons import memo

    base = memo.SETTING
    assert memo.pretraining_scenario(base) == "B4Inc2"  # already a large first task
    assert memo.pretraining_scenario(base.replace(scenario="B0Inc2")) == "B4Inc2"
    cifar = RunConfig(method="memo", dataset="cifar100", scenario="B0Inc10", budget=2000)
    assert memo.pretraining_scenario(cifar) == "B50Inc10"
    assert memo.levels(base) == (0, 10, 20, 50, 100) and memo.starved(base) == 10
    assert memo.levels(cifar) == (0, 2000, 4000, 10000, 20000)
    assert memo.ample(memo.levels(base), 10) == [50, 100]
    runs = memo.equal_memory(base, 10)
    assert runs["DER"].budget == 10 and runs["DER"].memory_budget is None
    der_bytes = 4 * final_parameters(runs["DER"]) + 10 * 64
    assert runs["MEMO"].memory_budget == runs["replay"].memory_budget == der_bytes
    table = memo.table_configs(base, 10)
    assert {c.scenario for c in table.values()} == {"B4Inc2"}  # the same stream in every cell
    assert table[(True, False)] == runs["MEMO"]  # shared with the memory curve
    for (pretrained, freeze), cfg in table.items():
        assert cfg.train_base is not freeze
        assert cfg.first_epochs == (None if pretrained else 1)


def test_linear_cka_is_invariant_to_rotation_scale_and_shift():
    from cl_teach.similarity import linear_cka

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 300, 8, generator=g)  # two seeds
    q, _ = torch.linalg.qr(torch.randn(8, 8, generator=g))
    assert torch.allclose(linear_cka(x, 2.5 * x @ q + 3.0), torch.ones(2), atol=1e-5)
    noise = linear_cka(x, torch.randn(2, 300, 5, generator=g))
    assert (noise < 0.1).all()
    half = linear_cka(x, x[..., :4])
    assert ((noise < half) & (half < 1)).all()


def test_linear_cka_is_the_same_from_gram_matrices_when_features_outnumber_inputs():
    """Wide blocks (more features than inputs) go through the n x n Gram matrices: the
    value is that of the feature-space formula."""
    from cl_teach.similarity import linear_cka

    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(2, 20, 300, generator=g), torch.randn(2, 20, 50, generator=g)
    y = y + x[..., :50]  # related features

    def by_features(a, b):
        a, b = (t.double() - t.double().mean(-2, keepdim=True) for t in (a, b))
        cross = (b.mT @ a).square().sum((-1, -2))
        return (
            cross / ((a.mT @ a).square().sum((-1, -2)) * (b.mT @ b).square().sum((-1, -2))).sqrt()
        )

    assert torch.allclose(linear_cka(x, y).double(), by_features(x, y), atol=1e-6)
    assert (linear_cka(x, y) > 0.2).all()
