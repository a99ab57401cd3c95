"""Executors without Slurm: submitit's DebugExecutor (the jobs run in this process), the
local executor's throttle and GPU pinning, the sweep's grid, and the command line's
--status, --collect and --no-wait."""

import json

import pytest

from cl_teach import executors
from cl_teach.cli import build_parser, main
from cl_teach.config import RunConfig
from cl_teach.executors import Executor, Run, RunsFailed
from cl_teach.experiment import run_seeds
from cl_teach.reproduce import reproduce, runs

TINY = RunConfig(epochs=1, train_per_class=5, scenario="B0Inc5", device="cpu")
TINY_OPTIONS = ["--epochs", "1", "--train-per-class", "5", "--scenario", "B0Inc5"]


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CL_TEACH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def grid(base=TINY, **settings) -> list[Run]:
    """Runs of seeds 0 and 1 at each value of each setting."""
    return [
        Run("run", base.replace(**{k: v}, seed=s), f"{k}={v}")
        for k, values in settings.items()
        for v in values
        for s in (0, 1)
    ]


def test_debug_jobs_cache_what_inline_runs_give():
    todo = grid(TINY.replace(method="replay"), budget=[20, 200])
    jobs = Executor("debug").run(todo)
    assert len(jobs) == 4 and all(run.cached() for run in todo)
    for run in todo:
        cached = run_seeds(run.config, [run.seed], progress=False)[0]
        inline = run_seeds(run.config, [run.seed], use_cache=False, progress=False)[0]
        assert cached.cached
        assert {**cached.to_json(), "seconds": 0, "cached": 0} == {
            **inline.to_json(),
            "seconds": 0,
            "cached": 0,
        }
    assert Executor("debug").run(todo) == []  # cached: nothing is submitted again


def test_the_same_run_is_submitted_once():
    """Fine-tuning never reads the budget: two budgets are one run."""
    jobs = Executor("debug").run(grid(budget=[20, 200]))
    assert len(jobs) == 2


def test_a_failed_run_names_itself_its_seed_and_its_log(own_cache):
    todo = grid(lr=[0.05, 1e30])  # 1e30 diverges
    with pytest.raises(RunsFailed) as err:
        Executor("debug").run(todo)
    message = str(err.value)
    for seed in (0, 1):
        assert f"lr=1e+30 seed {seed} failed: training diverged" in message
    assert message.count("log: ") == 2 and str(own_cache / "jobs") in message
    assert "2 other run(s) finished and are cached" in message
    assert [run.cached() for run in todo] == [True, True, False, False]


def job_times(jobs) -> list[dict]:
    return [job.result() for _, job in jobs]


def overlap(a: dict, b: dict) -> bool:
    return a["started"] < b["ended"] and b["started"] < a["ended"]


def test_local_jobs_run_one_at_a_time_without_a_gpu(monkeypatch):
    monkeypatch.setattr(executors, "gpus", lambda: [])
    first, second = job_times(Executor("local").run(grid(lr=[0.05])))
    assert first["cuda_visible_devices"] == second["cuda_visible_devices"] == ""
    assert not overlap(first, second)


def test_local_jobs_run_one_per_gpu_each_pinned_to_its_own(monkeypatch):
    """Three runs on two (pretended) GPUs: two at once, each on its own GPU; the third
    waits for a free one. Runs of about 2 s, so that two started together overlap."""
    monkeypatch.setattr(executors, "gpus", lambda: [0, 1])  # torch finds none: the CPU
    longer = TINY.replace(epochs=8, train_per_class=None)
    done = job_times(Executor("local").run(grid(longer, lr=[0.05, 0.1])[:3]))
    assert sorted(d["cuda_visible_devices"] for d in done) == ["0", "0", "1"]
    assert overlap(done[0], done[1])
    assert done[0]["cuda_visible_devices"] != done[1]["cuda_visible_devices"]
    same_gpu = [d for d in done[:2] if d["cuda_visible_devices"] == done[2]["cuda_visible_devices"]]
    assert not overlap(same_gpu[0], done[2])


def test_sweep_options_make_a_grid():
    from cl_teach.sweep import points, varied

    args = build_parser().parse_args(["sweep", "run", "--budget", "20,50", "--lr", "0.1,0.01",
                                      "--method", "replay", "--milestones", "2", "3"])  # fmt: skip
    given = {k: v for k, v in vars(args).items() if k in RunConfig.__dataclass_fields__}
    assert given["budget"] == [20, 50] and given["milestones"] == (2, 3)
    assert varied(given) == ["budget", "lr"]
    assert len(points(given)) == 4
    assert {p["lr"] for p in points(given)} == {0.1, 0.01}


def test_a_sweep_writes_a_point_per_setting_with_intervals(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    argv = ["sweep", "run", "--method", "replay", "--budget", "20,200", "--seeds", "2"]
    assert main([*argv, *TINY_OPTIONS, "--json", str(out)]) == 0
    table = json.loads(out.read_text())
    assert [p["settings"] for p in table["points"]] == [{"budget": 20}, {"budget": 200}]
    for point in table["points"]:
        assert point["seeds"] == [0, 1] and point["ci95"]["final_accuracy"] > 0
        cfg = RunConfig(**{**point["config"], "milestones": tuple(point["config"]["milestones"])})
        again = run_seeds(cfg, [0, 1], progress=False)  # the same cache keys as `run`
        assert all(r.cached for r in again)
        assert [r.final_accuracy for r in again] == point["per_seed"]["final_accuracy"]
    assert "| budget | seeds | final accuracy" in capsys.readouterr().out


def test_status_collect_and_no_wait_on_the_command_line(capsys):
    argv = ["sweep", "run", "--lr", "0.05,0.1", "--seeds", "2", *TINY_OPTIONS]
    assert main([*argv, "--status"]) == 0
    assert "lr=0.05 seed 1: not submitted" in capsys.readouterr().out
    assert main([*argv, "--collect"]) == 2
    assert "not every run is done yet" in capsys.readouterr().err
    assert main([*argv, "--no-wait"]) == 2
    assert "--no-wait needs --executor slurm" in capsys.readouterr().err
    assert main(argv) == 0  # inline
    capsys.readouterr()
    assert main([*argv, "--status"]) == 0
    assert "4 of 4 runs done" in capsys.readouterr().out
    assert main([*argv, "--collect"]) == 0


def test_reproduce_reads_what_the_jobs_cached(tmp_path, cifar100, monkeypatch):
    """After an executor ran a group's runs, ``reproduce`` trains nothing. (The group cut
    to one preset, to stay quick.)"""
    import cl_teach.experiment
    import cl_teach.reproduce

    monkeypatch.setenv("CL_TEACH_DATA", str(cifar100))
    presets = ["pycil-finetune-b0inc10"]
    monkeypatch.setattr(cl_teach.reproduce, "group", lambda name: presets)
    overrides = {"epochs": 1, "train_per_class": 1, "scenario": "B0Inc50", "device": "cpu"}
    group = runs("pycil-b0inc10", [0, 1], overrides)
    assert [str(r) for r in group] == [f"{p} seed {s}" for p in presets for s in (0, 1)]
    Executor("debug").run(group)
    monkeypatch.setattr(cl_teach.experiment, "_train", None)  # any training would fail
    text = reproduce("pycil-b0inc10", [0, 1], overrides, tmp_path / "results")
    assert all(f"| {p} | 2 |" in text for p in presets)
