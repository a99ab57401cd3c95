"""Presets (the papers' settings), the reproduce command and stored results, on CIFAR-100
files the tests write in torchvision's on-disk format."""

import json
import shlex
from pathlib import Path

import pytest
import torch

from cl_teach.cli import main
from cl_teach.config import RunConfig
from cl_teach.presets import config, load, names
from cl_teach.reproduce import describe, run_preset, stored, table
from cl_teach.train import reproducible

RUN_PRESETS = names("run")


def test_presets_list_with_their_sources(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in names():
        assert name in out
    assert "PyCIL" in out and "mammoth" in out and "estimate" not in out.split("\n")[0]
    assert main(["presets", "--json", "-"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert set(listed) == set(names())
    assert all(p["source"] and p["estimate"] and p["version"] >= 1 for p in listed.values())


@pytest.mark.parametrize("name", RUN_PRESETS)
def test_every_run_preset_is_a_valid_cifar100_config(name):
    cfg = config(name)
    assert isinstance(cfg, RunConfig) and cfg.dataset == "cifar100"
    assert load(name)["name"] == name


def test_pycils_der_setting_is_exactly_the_papers():
    cfg = config("pycil-der-b0inc10")
    assert (cfg.backbone, cfg.budget, cfg.class_order_seed, cfg.batch_size) == (
        "resnet32",
        2000,
        1993,
        128,
    )
    assert cfg.schedule(0) == {"epochs": 200, "lr": 0.1, "milestones": (60, 120, 170),
                               "weight_decay": 5e-4}  # fmt: skip
    assert cfg.schedule(1) == {"epochs": 170, "lr": 0.1, "milestones": (80, 120, 150),
                               "weight_decay": 2e-4}  # fmt: skip
    assert config("pycil-memo-b0inc10-equal-memory").budget == 3312
    assert config("mammoth-derpp-seqcifar100").class_order_seed is None  # natural order


def test_explicit_options_override_the_preset_and_epochs_cover_the_first_task():
    from cl_teach.cli import _config_from, build_parser

    args = build_parser().parse_args(["run", "--preset", "pycil-der-b0inc10", "--epochs", "1",
                                      "--budget", "20"])  # fmt: skip
    cfg = _config_from(args, "run")
    assert (cfg.epochs, cfg.first_epochs, cfg.budget, cfg.lr) == (1, None, 20, 0.1)
    assert cfg.schedule(0)["epochs"] == 1
    args = build_parser().parse_args(["run", "--preset", "pycil-der-b0inc10", "--epochs", "2",
                                      "--first-epochs", "3"])  # fmt: skip
    assert _config_from(args, "run").schedule(0)["epochs"] == 3


def test_unknown_preset_is_a_clear_error(capsys):
    assert main(["run", "--preset", "pycil-der-b0inc11"]) == 2
    assert "unknown preset 'pycil-der-b0inc11'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("name", RUN_PRESETS)
def test_every_run_preset_runs_and_prints_its_resolved_config(
    name, cifar100, cifar100_cache, monkeypatch, capsys
):
    """The issue's command with tiny overrides (one epoch, one image per class, two
    tasks) on the CPU: the JSON carries the preset's config with the overrides applied."""
    monkeypatch.setenv("CL_TEACH_DATA", str(cifar100))
    monkeypatch.setenv("CL_TEACH_CACHE", str(cifar100_cache))
    argv = ["run", "--preset", name, "--epochs", "1", "--train-per-class", "1", "--scenario",
            "B0Inc50", "--device", "cpu", "--quiet", "--json", "-"]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    expected = config(name, epochs=1, train_per_class=1, scenario="B0Inc50", device="cpu")
    assert out["config"] == json.loads(json.dumps(expected.to_dict()))
    assert len(out["task_accuracy"]) == 2 and out["num_parameters"] > 0


@pytest.mark.slow
def test_reproduce_stores_results_with_machine_and_date_and_a_table(
    cifar100, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("CL_TEACH_DATA", str(cifar100))
    argv = ["reproduce", "pycil-b50inc10", "--epochs", "1", "--train-per-class", "1",
            "--scenario", "B50Inc50", "--device", "cpu", "--results", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    folder = tmp_path / "pycil-b50inc10"
    for name in ("pycil-der-b50inc10", "pycil-memo-b50inc10"):
        result = json.loads((folder / f"{name}.json").read_text())
        assert result["machine"]["torch"] == torch.__version__ and result["date"][:2] == "20"
        assert result["overrides"]["scenario"] == "B50Inc50"
        assert set(result["summary"]) == {"final_accuracy", "average_incremental_accuracy"}
        assert name in printed
    assert "0.7281" in (folder / "table.md").read_text()  # DER's official B50 10-step number


def test_a_plasticity_preset_reproduces_for_a_short_trial(cifar100, monkeypatch):
    monkeypatch.setenv("CL_TEACH_DATA", str(cifar100))
    trial = {"epochs": 1, "train_per_class": 1, "tasks": 2, "device": "cpu"}
    result = run_preset("dohare-cifar100-cbp", [0], trial, progress=False)
    assert result["config"]["backbone"] == "resnet18" and result["config"]["tasks"] == 2
    assert set(result["summary"]) == {"last_fifth_accuracy", "final_dormant_fraction"}
    assert len(result["per_seed"]) == 1


def test_an_override_a_setting_does_not_have_is_a_clear_error():
    with pytest.raises(ValueError, match="a run setting has no tasks; choose from method"):
        config("pycil-der-b0inc10", tasks=2)


def test_notebooks_find_stored_results_and_say_when_there_are_none(tmp_path, monkeypatch):
    assert "No stored paper-scale results" in describe(stored(["pycil-der-b0inc10"], tmp_path))
    result = {
        "preset": "pycil-der-b0inc10", "version": 1, "kind": "run", "config": {},
        "overrides": {}, "per_seed": [{}, {}, {}],
        "summary": {"final_accuracy": {"mean": 0.6412, "ci95": 0.0101, "std": 0.004, "n": 3}},
        "machine": {"platform": "Linux", "gpu": "a test GPU", "torch": "x", "python": "3"},
        "date": "2026-11-01T10:00:00+00:00",
    }  # fmt: skip
    (tmp_path / "pycil-b0inc10").mkdir()
    (tmp_path / "pycil-b0inc10" / "pycil-der-b0inc10.json").write_text(json.dumps(result))
    found = stored(["pycil-der-b0inc10", "pycil-memo-b0inc10"], tmp_path)
    assert len(found) == 1
    line = describe(found)
    assert "final accuracy 0.641 +- 0.010 over 3 seeds" in line and "a test GPU, 2026-11-01" in line
    assert "| pycil-der-b0inc10 | 3 | final accuracy 0.641" in table(found)

    from cl_teach.lessons import paper_scale  # what the notebooks print

    monkeypatch.setenv("CL_TEACH_RESULTS", str(tmp_path))
    shown = paper_scale("pycil-der-b0inc10", "pycil-der-b50inc10")
    assert shown.startswith("stored paper-scale result pycil-der-b0inc10")
    assert "final accuracy 0.6522" in shown  # the paper's number beside it
    monkeypatch.setenv("CL_TEACH_RESULTS", str(tmp_path / "none"))
    assert "No stored paper-scale results" in paper_scale("pycil-der-b0inc10")
    with pytest.raises(ValueError, match="pycil-der-b0inc11"):
        paper_scale("pycil-der-b0inc11")


def test_a_gpu_run_is_made_deterministic():
    before = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark,
              torch.are_deterministic_algorithms_enabled())  # fmt: skip
    try:
        reproducible(torch.device("cuda"))
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[:2]
        torch.use_deterministic_algorithms(before[2])


def test_the_cache_key_names_the_device_kind_the_torch_version_and_the_cpu_kernels(
    monkeypatch,
):
    from cl_teach import cache
    from cl_teach.experiment import _key

    cfg = RunConfig()
    assert _key(cfg)["device"] == "cpu"
    key = cache.key("run", _key(cfg))
    assert key != cache.key("run", {**_key(cfg), "device": "cuda"})
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    avx2 = cache.key("run", _key(cfg))
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "DEFAULT")
    assert cache.key("run", _key(cfg)) != avx2
    monkeypatch.setattr(torch, "__version__", "0.0.0")
    assert cache.key("run", _key(cfg)) not in (key, avx2)


def readme_gpu_commands() -> list[list[str]]:
    """The ``cl_teach`` commands of the README's GPU section, as argument lists."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Full CIFAR-100 on a GPU")[1].split("\n## ")[0]
    prefix = ".venv/bin/python -m cl_teach "
    lines = [line.split(" # ")[0] for line in section.splitlines() if line.startswith(prefix)]
    return [shlex.split(line)[3:] for line in lines if " download " not in line]


#: one epoch, one image per class, a shorter stream: what each command appends
TINY = {
    "run": ["--epochs", "1", "--train-per-class", "1", "--scenario", "B0Inc50"],
    "plasticity": ["--epochs", "1", "--train-per-class", "1", "--tasks", "2", "--seeds", "1"],
    "reproduce": ["--epochs", "1", "--train-per-class", "1", "--scenario", "B0Inc50"],
}


@pytest.mark.slow
@pytest.mark.parametrize("argv", readme_gpu_commands(), ids=" ".join)
def test_the_readmes_gpu_commands_run_on_the_cpu_with_tiny_overrides(
    argv, cifar100, tmp_path, monkeypatch, capsys
):
    assert "--device" in argv and argv[argv.index("--device") + 1] == "cuda"
    monkeypatch.setenv("CL_TEACH_DATA", str(cifar100))
    monkeypatch.setenv("CL_TEACH_RESULTS", str(tmp_path))
    argv = [a if a != "cuda" else "cpu" for a in argv]
    argv = [a if not a.endswith(".json") else str(tmp_path / a) for a in argv]
    argv += TINY[argv[0]] + (["--seeds", "1"] if argv[0] == "reproduce" else [])
    assert main(argv) == 0
    if argv[0] == "reproduce":
        assert (tmp_path / argv[1] / "table.md").exists()
    else:
        result = json.loads(next(tmp_path.glob("*.json")).read_text())
        preset = load(argv[argv.index("--preset") + 1])
        assert result["config"]["backbone"] == preset["config"]["backbone"]
