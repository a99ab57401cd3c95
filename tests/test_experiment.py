"""The issue's 'what must hold' for fine-tuning and joint training, through the CLI."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from cl_teach.cli import main

FIELDS = {
    "method",
    "dataset",
    "scenario",
    "seed",
    "classes_per_task",
    "accuracy_matrix",
    "per_class_accuracy",
    "final_accuracy",
    "average_incremental_accuracy",
    "forgetting",
    "num_parameters",
    "memory_bytes",
    "seconds",
}
BASE = ["run", "--dataset", "digits", "--scenario", "B0Inc2", "--seed", "0", "--quiet"]


def cli_json(capsys, *args):
    assert main([*BASE, *args, "--json", "-"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def finetune_and_joint():
    import io
    from contextlib import redirect_stdout

    out = {}
    for method in ("finetune", "joint"):
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert main([*BASE, "--method", method, "--json", "-"]) == 0
        out[method] = json.loads(buf.getvalue())
    return out


def test_finetune_forgets_everything_but_the_last_task(finetune_and_joint):
    r = finetune_and_joint["finetune"]
    assert FIELDS <= r.keys()
    assert r["final_accuracy"] <= 0.30
    last = np.array(r["per_class_accuracy"][-1], dtype=float)
    assert (last[8:] >= 0.8).all() and (last[:8] <= 0.2).all()
    assert r["classes_per_task"] == [2] * 5
    assert np.array(r["accuracy_matrix"], dtype=float).shape == (5, 5)
    assert r["memory_bytes"] == {"model": 4 * r["num_parameters"], "exemplars": 0}
    assert r["forgetting"] > 0.7


def test_joint_is_the_upper_bound(finetune_and_joint):
    r = finetune_and_joint["joint"]
    assert r["final_accuracy"] >= 0.90
    assert r["forgetting"] < 0.1


def test_unseen_classes_are_null_in_json(finetune_and_joint):
    first = finetune_and_joint["finetune"]["per_class_accuracy"][0]
    assert first[2:] == [None] * 8 and all(v is not None for v in first[:2])


def test_same_command_twice_is_identical_and_cached(capsys):
    args = ["--method", "finetune", "--epochs", "2", "--seed", "5"]
    first, second = cli_json(capsys, *args), cli_json(capsys, *args)
    assert first["cached"] is False and second["cached"] is True
    for key in ("accuracy_matrix", "per_class_accuracy", "final_accuracy"):
        assert first[key] == second[key]
    fresh = cli_json(capsys, *args, "--no-cache")
    assert fresh["cached"] is False and fresh["per_class_accuracy"] == first["per_class_accuracy"]


def test_task_incremental_evaluation_hides_the_class_bias(capsys):
    cls = cli_json(capsys, "--method", "finetune", "--epochs", "3")
    task = cli_json(capsys, "--method", "finetune", "--epochs", "3", "--eval", "task")
    assert task["final_accuracy"] > cls["final_accuracy"] + 0.3


@pytest.mark.parametrize(
    "args,message",
    [
        (["--method", "magic"], "unknown method 'magic'"),
        (["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
        (["--scenario", "B0Inc3"], "does not divide 10 classes"),
        (["--scenario", "2-per-task"], "bad scenario"),
        (["--epochs", "-1"], "epochs=-1: must be a positive whole number"),
        (["--lr", "-0.1"], "lr=-0.1: must be a finite number >= 0"),
        (["--budget", "-5"], "budget=-5"),
        (["--device", "tpu"], "choose auto, cpu or cuda"),
    ],
)
def test_bad_input_is_a_clear_error(capsys, args, message):
    assert main([*BASE, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_missing_dataset_offline_is_a_clear_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CL_TEACH_DATA", str(tmp_path))
    import torchvision

    def no_network(self):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "download", no_network)
    assert main(["run", "--dataset", "cifar10", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "cifar10" in err and "python -m cl_teach download cifar10" in err


def test_module_entry_point_prints_a_summary():
    out = subprocess.run(
        [sys.executable, "-m", "cl_teach", *BASE, "--method", "finetune", "--epochs", "1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "finetune on digits B0Inc2" in out and "final" in out
    assert not math.isnan(float(out.split("final ")[1].split()[0].rstrip(",")))


def test_switches_parse_to_the_config_fields():
    from cl_teach.cli import _config_from, build_parser

    def parse(*argv):
        return _config_from(build_parser().parse_args(["run", "--method", "memo", *argv]), "run")

    assert parse().train_base is True and parse("--train-base").train_base is True
    assert parse("--freeze-base").train_base is False
    off = parse("--no-freeze", "--no-aux", "--no-weight-align")
    assert (off.freeze_old, off.aux_loss, off.weight_align) == (False, False, False)
    assert parse("--milestones", "60", "120").milestones == (60, 120)
    assert parse("--class-order-seed", "none").class_order_seed is None


def test_seeds_report_each_seed_and_their_mean_and_spread(capsys):
    out = cli_json(capsys, "--method", "finetune", "--epochs", "1", "--seeds", "3")
    assert out["seeds"] == [0, 1, 2] and len(out["per_seed"]) == 3
    finals = [r["final_accuracy"] for r in out["per_seed"]]
    assert out["mean"]["final_accuracy"] == pytest.approx(np.mean(finals))
    assert out["std"]["final_accuracy"] == pytest.approx(np.std(finals, ddof=1))
    assert out["ci95"]["final_accuracy"] > 0
    assert [r["seed"] for r in out["per_seed"]] == [0, 1, 2]
    one = cli_json(capsys, "--method", "finetune", "--epochs", "1", "--seed", "1")
    assert one["cached"] is True  # seed 1 ran with the others and was cached on its own
    assert one["per_class_accuracy"] == out["per_seed"][1]["per_class_accuracy"]


def test_memo_switches_with_another_method_are_an_error(capsys):
    assert main([*BASE, "--method", "der", "--split", "1"]) == 2
    assert "--method memo" in capsys.readouterr().err


def test_seeds_take_a_range_reusing_the_seeds_already_run(capsys):
    block = cli_json(capsys, "--method", "finetune", "--epochs", "1", "--seeds", "1-2")
    assert block["seeds"] == [1, 2]
    counted = cli_json(capsys, "--method", "finetune", "--epochs", "1", "--seeds", "3")
    assert counted["per_seed"][1:] == [{**r, "cached": True} for r in block["per_seed"]]


@pytest.mark.parametrize("seeds", ["0", "-3", "5-2", "a-b", "1,1"])
def test_bad_seeds_are_a_clear_error(capsys, seeds):
    assert main([*BASE, "--method", "finetune", "--seeds", seeds]) == 2
    assert "--seeds" in capsys.readouterr().err
